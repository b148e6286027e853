using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>One packet of a built capture: its time and its Ethernet frame.</summary>
internal sealed record BuiltPacket(Timestamp Time, byte[] Frame);

/// <summary>
/// Builds one TCP connection's packets (Ethernet/IPv4/TCP by PacketDotNet, via <see cref="PacketFrames"/>):
/// handshake, data segments with correct sequence and acknowledgment numbers, lost bytes, FIN and RST.
/// Each packet is one millisecond after the previous one.
/// </summary>
internal sealed class SessionPacketBuilder
{
    private readonly List<BuiltPacket> _packets = [];
    private readonly string _clientIp;
    private readonly string _serverIp;
    private readonly ushort _clientPort;
    private readonly ushort _serverPort;
    private uint _clientNext;
    private uint _serverNext;
    private long _timeNanoseconds;

    public SessionPacketBuilder(
        string clientIp = "192.0.2.10",
        ushort clientPort = 51000,
        string serverIp = "198.51.100.20",
        ushort serverPort = 8080,
        uint clientIsn = 1000,
        uint serverIsn = 700_000,
        long startUnixSeconds = 1_800_000_000)
    {
        _clientIp = clientIp;
        _serverIp = serverIp;
        _clientPort = clientPort;
        _serverPort = serverPort;
        _clientNext = clientIsn;
        _serverNext = serverIsn;
        _timeNanoseconds = startUnixSeconds * Timestamp.NanosecondsPerSecond;
    }

    public IReadOnlyList<BuiltPacket> Packets => _packets;

    public Timestamp FirstTime => _packets[0].Time;

    /// <summary>The three-way handshake; with <paramref name="serverSendsSyn"/> the server is the originator.</summary>
    public SessionPacketBuilder Connect(bool serverSendsSyn = false)
    {
        if (serverSendsSyn)
        {
            Add(fromClient: false, TcpFlags.Syn, [], _serverNext, 0);
            _serverNext++;
            Add(fromClient: true, TcpFlags.Syn | TcpFlags.Ack, [], _clientNext, _serverNext);
            _clientNext++;
            Add(fromClient: false, TcpFlags.Ack, [], _serverNext, _clientNext);
        }
        else
        {
            Add(fromClient: true, TcpFlags.Syn, [], _clientNext, 0);
            _clientNext++;
            Add(fromClient: false, TcpFlags.Syn | TcpFlags.Ack, [], _serverNext, _clientNext);
            _serverNext++;
            Add(fromClient: true, TcpFlags.Ack, [], _clientNext, _serverNext);
        }

        return this;
    }

    public SessionPacketBuilder Client(byte[] payload)
    {
        Add(fromClient: true, TcpFlags.Psh | TcpFlags.Ack, payload, _clientNext, _serverNext);
        _clientNext += (uint)payload.Length;
        return this;
    }

    public SessionPacketBuilder Server(byte[] payload)
    {
        Add(fromClient: false, TcpFlags.Psh | TcpFlags.Ack, payload, _serverNext, _clientNext);
        _serverNext += (uint)payload.Length;
        return this;
    }

    /// <summary>
    /// A segment from the client's address and port whose sequence number is <paramref name="distance"/> away from
    /// the client's next byte (forged, or from an old connection on the same ports): the stream does not move on.
    /// Its acknowledgment number is as far off in the server's sequence space.
    /// </summary>
    public SessionPacketBuilder ClientForged(long distance, byte[] payload)
    {
        Add(fromClient: true, TcpFlags.Psh | TcpFlags.Ack, payload, unchecked(_clientNext + (uint)distance), unchecked(_serverNext + (uint)distance));
        return this;
    }

    /// <summary>The client sent <paramref name="count"/> bytes that the capture missed (no packet).</summary>
    public SessionPacketBuilder ClientLoses(int count)
    {
        _clientNext += (uint)count;
        return this;
    }

    public SessionPacketBuilder ServerLoses(int count)
    {
        _serverNext += (uint)count;
        return this;
    }

    /// <summary>Lets <paramref name="seconds"/> pass before the next packet (packet times of a built capture are free).</summary>
    public SessionPacketBuilder Wait(double seconds)
    {
        _timeNanoseconds += (long)Math.Round(seconds * Timestamp.NanosecondsPerSecond);
        return this;
    }

    /// <summary>A pure ACK from the server acknowledging all client bytes (lost ones too).</summary>
    public SessionPacketBuilder ServerAck()
    {
        Add(fromClient: false, TcpFlags.Ack, [], _serverNext, _clientNext);
        return this;
    }

    public SessionPacketBuilder ClientAck()
    {
        Add(fromClient: true, TcpFlags.Ack, [], _clientNext, _serverNext);
        return this;
    }

    public SessionPacketBuilder ClientFin()
    {
        Add(fromClient: true, TcpFlags.Fin | TcpFlags.Ack, [], _clientNext, _serverNext);
        _clientNext++;
        return this;
    }

    public SessionPacketBuilder ServerFin()
    {
        Add(fromClient: false, TcpFlags.Fin | TcpFlags.Ack, [], _serverNext, _clientNext);
        _serverNext++;
        return this;
    }

    public SessionPacketBuilder ClientRst()
    {
        Add(fromClient: true, TcpFlags.Rst | TcpFlags.Ack, [], _clientNext, _serverNext);
        return this;
    }

    public SessionPacketBuilder ServerRst()
    {
        Add(fromClient: false, TcpFlags.Rst | TcpFlags.Ack, [], _serverNext, _clientNext);
        return this;
    }

    /// <summary>Both FINs, server first, each acknowledged (as Kestrel and ClientWebSocket end a session).</summary>
    public SessionPacketBuilder CloseTcp() => ServerFin().ClientAck().ClientFin().ServerAck();

    /// <summary>Feeds the connections' packets, merged in time order, through a <see cref="CaptureAnalyzer"/>.</summary>
    public static List<SessionRecord> Analyze(params SessionPacketBuilder[] connections) => Analyze(out _, connections);

    public static List<SessionRecord> Analyze(out AnalysisStatistics statistics, params SessionPacketBuilder[] connections) =>
        Analyze(int.MaxValue, out statistics, connections);

    /// <summary>
    /// As <see cref="Analyze(SessionPacketBuilder[])"/>, each frame cut to its first <paramref name="snapLengthBytes"/>
    /// bytes as a capture with that snap length keeps it (the original length stays the frame's).
    /// </summary>
    public static List<SessionRecord> Analyze(int snapLengthBytes, out AnalysisStatistics statistics, params SessionPacketBuilder[] connections)
    {
        var records = new List<SessionRecord>();
        var packets = connections.SelectMany(c => c.Packets).OrderBy(p => p.Time.UnixNanoseconds).ToList();
        using var analyzer = new CaptureAnalyzer("built.pcap", new AnalyzerOptions(), records.Add);
        long number = 0;
        foreach (var packet in packets)
        {
            var kept = packet.Frame.AsSpan(0, Math.Min(packet.Frame.Length, snapLengthBytes));
            var captured = new CapturedPacket(packet.Time, LinkType.Ethernet, kept, packet.Frame.Length, ++number);
            analyzer.Process(captured, DecodedTcp.Decode(captured));
        }

        analyzer.Finish();
        statistics = analyzer.Statistics;
        return records;
    }

    /// <summary>The connections' packets, merged in time order (ties keep argument order), as a nanosecond pcap file.</summary>
    public static byte[] ToPcap(params SessionPacketBuilder[] connections)
    {
        var pcap = new PcapFileBuilder(nanosecond: true, snapLength: 262_144);
        foreach (var packet in connections.SelectMany(c => c.Packets).OrderBy(p => p.Time.UnixNanoseconds))
        {
            pcap.Packet(
                (uint)(packet.Time.UnixNanoseconds / Timestamp.NanosecondsPerSecond),
                (uint)(packet.Time.UnixNanoseconds % Timestamp.NanosecondsPerSecond),
                packet.Frame);
        }

        return pcap.ToArray();
    }

    private void Add(bool fromClient, TcpFlags flags, byte[] payload, uint sequence, uint acknowledgment)
    {
        var spec = new TcpSpec(
            SourcePort: fromClient ? _clientPort : _serverPort,
            DestinationPort: fromClient ? _serverPort : _clientPort,
            Sequence: sequence,
            Acknowledgment: (flags & TcpFlags.Ack) != 0 ? acknowledgment : 0,
            Flags: flags,
            Window: 65535,
            Payload: payload,
            Options: []);
        var frame = fromClient
            ? PacketFrames.EthernetIPv4Tcp(spec, _clientIp, _serverIp)
            : PacketFrames.EthernetIPv4Tcp(spec, _serverIp, _clientIp);
        _packets.Add(new BuiltPacket(new Timestamp(_timeNanoseconds), frame));
        _timeNanoseconds += 1_000_000;
    }
}
