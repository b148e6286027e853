using System.Net;

namespace WsCloseSniffer.TestSupport;

/// <summary>One packet of a built capture: its time (nanoseconds since the Unix epoch) and its Ethernet frame.</summary>
public sealed record BuiltPacket(long UnixNanoseconds, byte[] Frame);

/// <summary>
/// Builds one TCP connection's packets in order, on a <see cref="TcpConversation"/>: handshake, data segments
/// with correct sequence and acknowledgment numbers, lost bytes, forged segments, FIN and RST. Each packet is
/// one millisecond after the previous one. Payloads come from <see cref="SessionHandshake"/> and
/// <see cref="FrameBuilder"/>.
/// </summary>
public sealed class SessionPacketBuilder
{
    public const long NanosecondsPerSecond = 1_000_000_000;
    private const long PacketSpacingNanoseconds = 1_000_000;

    private readonly List<BuiltPacket> _packets = [];
    private readonly TcpConversation _connection;
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
        _connection = new TcpConversation(
            new TcpPeer(PacketFrames.SourceMac, IPAddress.Parse(clientIp), clientPort, clientIsn),
            new TcpPeer(PacketFrames.DestinationMac, IPAddress.Parse(serverIp), serverPort, serverIsn));
        _timeNanoseconds = startUnixSeconds * NanosecondsPerSecond;
    }

    public IReadOnlyList<BuiltPacket> Packets => _packets;

    public long FirstUnixNanoseconds => _packets[0].UnixNanoseconds;

    private TcpPeer ClientSide => _connection.Client;

    private TcpPeer ServerSide => _connection.Server;

    /// <summary>The three-way handshake; with <paramref name="serverSendsSyn"/> the server is the originator.</summary>
    public SessionPacketBuilder Connect(bool serverSendsSyn = false)
    {
        var (first, second) = serverSendsSyn ? (ServerSide, ClientSide) : (ClientSide, ServerSide);
        Add(first, TcpControl.Syn, []);
        Add(second, TcpControl.Syn | TcpControl.Ack, []);
        return Add(first, TcpControl.Ack, []);
    }

    public SessionPacketBuilder Client(byte[] payload) => Add(ClientSide, TcpControl.Psh | TcpControl.Ack, payload);

    public SessionPacketBuilder Server(byte[] payload) => Add(ServerSide, TcpControl.Psh | TcpControl.Ack, payload);

    /// <summary>
    /// A segment from the client's address and port whose sequence number is <paramref name="distance"/> away from
    /// the client's next byte (forged, or from an old connection on the same ports): the stream does not move on.
    /// Its acknowledgment number is as far off in the server's sequence space.
    /// </summary>
    public SessionPacketBuilder ClientForged(long distance, byte[] payload)
    {
        var frame = _connection.SegmentAt(
            ClientSide,
            unchecked(ClientSide.NextSequence + (uint)distance),
            unchecked(ServerSide.NextSequence + (uint)distance),
            TcpControl.Psh | TcpControl.Ack,
            payload);
        return Record(frame);
    }

    /// <summary>The client sent <paramref name="count"/> bytes that the capture missed (no packet).</summary>
    public SessionPacketBuilder ClientLoses(int count)
    {
        ClientSide.NextSequence += (uint)count;
        return this;
    }

    public SessionPacketBuilder ServerLoses(int count)
    {
        ServerSide.NextSequence += (uint)count;
        return this;
    }

    /// <summary>Lets <paramref name="seconds"/> pass before the next packet (packet times of a built capture are free).</summary>
    public SessionPacketBuilder Wait(double seconds)
    {
        _timeNanoseconds += (long)Math.Round(seconds * NanosecondsPerSecond);
        return this;
    }

    /// <summary>A pure ACK from the server acknowledging all client bytes (lost ones too).</summary>
    public SessionPacketBuilder ServerAck() => Add(ServerSide, TcpControl.Ack, []);

    public SessionPacketBuilder ClientAck() => Add(ClientSide, TcpControl.Ack, []);

    public SessionPacketBuilder ClientFin() => Add(ClientSide, TcpControl.Fin | TcpControl.Ack, []);

    public SessionPacketBuilder ServerFin() => Add(ServerSide, TcpControl.Fin | TcpControl.Ack, []);

    public SessionPacketBuilder ClientRst() => Add(ClientSide, TcpControl.Rst | TcpControl.Ack, []);

    public SessionPacketBuilder ServerRst() => Add(ServerSide, TcpControl.Rst | TcpControl.Ack, []);

    /// <summary>Both FINs, server first, each acknowledged (as Kestrel and ClientWebSocket end a session).</summary>
    public SessionPacketBuilder CloseTcp() => ServerFin().ClientAck().ClientFin().ServerAck();

    /// <summary>The connections' packets, merged in time order (ties keep argument order).</summary>
    public static IEnumerable<BuiltPacket> Merge(params SessionPacketBuilder[] connections) =>
        connections.SelectMany(c => c.Packets).OrderBy(p => p.UnixNanoseconds);

    /// <summary>The connections' packets, merged in time order (ties keep argument order), as a nanosecond pcap file.</summary>
    public static byte[] ToPcap(params SessionPacketBuilder[] connections)
    {
        var pcap = new PcapFileBuilder(nanosecond: true, snapLength: 262_144);
        foreach (var packet in Merge(connections))
        {
            pcap.Packet(
                (uint)(packet.UnixNanoseconds / NanosecondsPerSecond),
                (uint)(packet.UnixNanoseconds % NanosecondsPerSecond),
                packet.Frame);
        }

        return pcap.ToArray();
    }

    /// <summary>
    /// A microsecond pcap of <paramref name="syns"/> flood SYNs (<see cref="PacketFrames.FloodSyn"/>, the i-th at
    /// <paramref name="startUnixSeconds"/> plus i mod 10^6 microseconds) with the connections' packets after the
    /// first half of them.
    /// </summary>
    public static byte[] SynFloodAround(int syns, long startUnixSeconds, params SessionPacketBuilder[] connections)
    {
        var pcap = new PcapFileBuilder(snapLength: 262_144);
        for (var i = 0; i < syns; i++)
        {
            if (i == syns / 2)
            {
                foreach (var packet in Merge(connections))
                {
                    pcap.Packet(
                        (uint)(packet.UnixNanoseconds / NanosecondsPerSecond),
                        (uint)(packet.UnixNanoseconds % NanosecondsPerSecond / 1000),
                        packet.Frame);
                }
            }

            pcap.Packet((uint)startUnixSeconds, (uint)(i % 1_000_000), PacketFrames.FloodSyn(i));
        }

        return pcap.ToArray();
    }

    private SessionPacketBuilder Add(TcpPeer from, TcpControl flags, byte[] payload) => Record(_connection.Segment(from, flags, payload));

    private SessionPacketBuilder Record(byte[] frame)
    {
        _packets.Add(new BuiltPacket(_timeNanoseconds, frame));
        _timeNanoseconds += PacketSpacingNanoseconds;
        return this;
    }
}
