using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;

using WsCloseSniffer.TestSupport;

namespace WsCloseSniffer.Bench.Generator;

/// <summary>Packet time shared by all sessions; the scheduler moves it forward.</summary>
internal sealed class Clock
{
    public long NowMicroseconds { get; set; }
}

/// <summary>
/// Plays one session packet by packet. Each step writes exactly one packet and yields the delay (microseconds)
/// to the next, so the scheduler can interleave sessions with timestamps that never go backwards. Frames, upgrade
/// heads and packets come from the tests' builder (WsCloseSniffer.TestSupport); what is decided here is the
/// traffic's shape: timing, segment sizes, delayed ACKs, TCP options as Linux sends them.
/// </summary>
internal sealed class SessionRun : IDisposable
{
    public const int MaxSegmentIPv4 = 1448; // 1500 - 20 (IPv4) - 32 (TCP with timestamps)
    public const int MaxSegmentIPv6 = 1428; // 1500 - 40 (IPv6) - 32

    private const int MaxFrameHeaderBytes = 14;
    private const int StreamBufferBytes = 65_536 + (8 * MaxFrameHeaderBytes) + 64;
    private const ushort SynWindow = 64_240;
    private const ushort Window = 501;
    private const byte WindowScale = 7;
    private const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

    private readonly SessionPlan _plan;
    private readonly PcapFileBuilder _capture;
    private readonly Clock _clock;
    private readonly SplitMix64 _random;
    private readonly ReadOnlyMemory<byte> _corpus;
    private readonly TcpConversation _connection;
    private readonly Dictionary<TcpPeer, TimestampClock> _timestamps;
    private readonly int _maxSegment;
    private readonly IEnumerator<int> _steps;
    private byte[] _stream;

    public SessionRun(SessionPlan plan, PcapFileBuilder capture, Clock clock, SplitMix64 random, ReadOnlyMemory<byte> corpus)
    {
        _plan = plan;
        _capture = capture;
        _clock = clock;
        _random = random;
        _corpus = corpus;
        _stream = ArrayPool<byte>.Shared.Rent(StreamBufferBytes);

        var index = plan.Index;
        byte[] clientAddress, serverAddress;
        if (plan.IPv6)
        {
            clientAddress = new byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(clientAddress, 0x2001_0DB8_0064_0000UL);
            BinaryPrimitives.WriteUInt64BigEndian(clientAddress.AsSpan(8), 0x1000_0000UL + (ulong)index);
            serverAddress = new byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(serverAddress, 0x2001_0DB8_0001_0000UL);
            BinaryPrimitives.WriteUInt64BigEndian(serverAddress.AsSpan(8), 0x10UL + (ulong)plan.Server);
            _maxSegment = MaxSegmentIPv6;
        }
        else
        {
            // One client address per session index: every 4-tuple in a capture is unique.
            clientAddress = [10, (byte)(16 + ((index >> 16) & 0x7F)), (byte)(index >> 8), (byte)index];
            serverAddress = [198, 51, 100, (byte)(10 + plan.Server)];
            _maxSegment = MaxSegmentIPv4;
        }

        byte[] clientMac = [0x02, 0x42, clientAddress[^4], clientAddress[^3], clientAddress[^2], clientAddress[^1]];
        byte[] serverMac = [0x00, 0x16, 0x3E, 0x00, 0x00, (byte)(plan.Server + 1)];
        var clientPort = (ushort)random.Next(32768, 61000);
        var clientIsn = random.NextUInt32();
        var client = new TcpPeer(new PhysicalAddress(clientMac), new IPAddress(clientAddress), clientPort, clientIsn, (ushort)clientIsn);
        var clientClock = new TimestampClock(random.NextUInt32());
        var serverIsn = random.NextUInt32();
        var server = new TcpPeer(new PhysicalAddress(serverMac), new IPAddress(serverAddress), 80, serverIsn, (ushort)serverIsn);
        var serverClock = new TimestampClock(random.NextUInt32());
        _connection = new TcpConversation(client, server, dontFragment: true);
        _timestamps = new Dictionary<TcpPeer, TimestampClock> { [client] = clientClock, [server] = serverClock };
        _steps = Steps().GetEnumerator();
    }

    public SessionPlan Plan => _plan;

    public TcpPeer Client => _connection.Client;

    public TcpPeer Server => _connection.Server;

    public long ClientFrames { get; private set; }

    public long ServerFrames { get; private set; }

    public long ClientPayloadBytes { get; private set; }

    public long ServerPayloadBytes { get; private set; }

    /// <summary>After a true <see cref="Step"/>: microseconds until the next packet.</summary>
    public int Delay { get; private set; }

    /// <summary>Writes the next packet; false once the session wrote its last one.</summary>
    public bool Step()
    {
        if (!_steps.MoveNext())
        {
            return false;
        }

        Delay = Math.Max(1, _steps.Current);
        return true;
    }

    public void Dispose()
    {
        _steps.Dispose();
        if (_stream.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_stream);
            _stream = [];
        }
    }

    /// <summary>One segment from <paramref name="from"/> with the stream buffer's bytes at offset, now.</summary>
    private void Send(TcpPeer from, TcpControl flags, int offset = 0, int length = 0)
    {
        var now = _clock.NowMicroseconds;
        var to = _connection.PeerOf(from);
        var syn = (flags & TcpControl.Syn) != 0;

        // RFC 7323 section 4.3: the clock ticks in milliseconds; TSecr echoes the peer's latest TSval once it acknowledges.
        var value = _timestamps[from].Base + (uint)(now / 1000);
        _timestamps[from].Last = value;
        var echo = (flags & TcpControl.Ack) != 0 ? _timestamps[to].Last : 0;
        var options = syn
            ? TcpOptions.Syn((ushort)((from.IsIPv6 ? MaxSegmentIPv6 : MaxSegmentIPv4) + 12), value, echo, WindowScale)
            : TcpOptions.Timestamps(value, echo);
        var frame = _connection.Segment(from, flags, _stream.AsSpan(offset, length), syn ? SynWindow : Window, options);
        _capture.Packet((uint)(now / 1_000_000), (uint)(now % 1_000_000), frame);
    }

    private int RoundTrip() => _random.Next(150, 2500);

    private IEnumerable<int> Steps()
    {
        // RFC 9293 3.5: three-way handshake.
        Send(Client, TcpControl.Syn);
        yield return RoundTrip();
        Send(Server, TcpControl.Syn | TcpControl.Ack);
        yield return RoundTrip();
        Send(Client, TcpControl.Ack);
        yield return _random.Next(5, 200);

        // RFC 6455 4.1/4.2: the upgrade.
        var key = new byte[16];
        _random.Fill(key);
        var keyText = Convert.ToBase64String(key);
        var length = WriteBytes(BuildRequest(keyText));
        Send(Client, TcpControl.Psh | TcpControl.Ack, 0, length);
        yield return _random.Next(200, 3000);
        length = WriteBytes(BuildResponse(keyText));
        Send(Server, TcpControl.Psh | TcpControl.Ack, 0, length);
        yield return RoundTrip();
        Send(Client, TcpControl.Ack);
        yield return _random.Next(1000, 20_000);

        foreach (var message in _plan.Messages)
        {
            if (message.PingFirst)
            {
                // Keep-alive from either side; the peer answers with the same application data (RFC 6455 5.5.3).
                var pinger = message.FromClient ? Server : Client;
                var token = _random.Next(0, 2) == 0 ? 0 : 8;
                var tokenBytes = new byte[token];
                _random.Fill(tokenBytes);
                length = WriteFrame(0, pinger == Client, FrameBuilder.Ping, fin: true, rsv1: false, tokenBytes);
                Send(pinger, TcpControl.Psh | TcpControl.Ack, 0, length);
                yield return RoundTrip();
                var ponger = pinger == Client ? Server : Client;
                length = WriteFrame(0, ponger == Client, FrameBuilder.Pong, fin: true, rsv1: false, tokenBytes);
                Send(ponger, TcpControl.Psh | TcpControl.Ack, 0, length);
                yield return _random.Next(100, 5000);
            }

            var sender = message.FromClient ? Client : Server;
            var receiver = message.FromClient ? Server : Client;
            var total = WriteMessage(message);
            var segments = 0;
            for (var offset = 0; offset < total; offset += _maxSegment)
            {
                var take = Math.Min(_maxSegment, total - offset);
                var last = offset + take == total;
                Send(sender, last ? TcpControl.Psh | TcpControl.Ack : TcpControl.Ack, offset, take);
                segments++;

                // Delayed ACK (RFC 9293 3.8.6.3): every second full segment, and the end of the message.
                if (segments % 2 == 0 || last)
                {
                    yield return _random.Next(5, 60);
                    Send(receiver, TcpControl.Ack);
                }

                yield return _random.Next(5, 80);
            }

            yield return _random.Exponential(8_000);
        }

        switch (_plan.Ending)
        {
            case Ending.CloseFrames:
            {
                var closer = _plan.ClientEnds ? Client : Server;
                var replier = _plan.ClientEnds ? Server : Client;
                length = WriteClose(closer, _plan.CloseCode, _plan.CloseReason);
                Send(closer, TcpControl.Psh | TcpControl.Ack, 0, length);
                yield return RoundTrip();
                length = WriteClose(replier, _plan.CloseCode, "");
                Send(replier, TcpControl.Psh | TcpControl.Ack, 0, length);
                yield return _random.Next(20, 500);

                // RFC 6455 7.1.1: the server closes the TCP connection first.
                Send(Server, TcpControl.Fin | TcpControl.Ack);
                yield return RoundTrip();
                Send(Client, TcpControl.Fin | TcpControl.Ack);
                yield return RoundTrip();
                Send(Server, TcpControl.Ack);
                break;
            }

            case Ending.FinWithoutClose:
            {
                var first = _plan.ClientEnds ? Client : Server;
                var second = _plan.ClientEnds ? Server : Client;
                Send(first, TcpControl.Fin | TcpControl.Ack);
                yield return RoundTrip();
                Send(second, TcpControl.Fin | TcpControl.Ack);
                yield return RoundTrip();
                Send(first, TcpControl.Ack);
                break;
            }

            default:
                Send(_plan.ClientEnds ? Client : Server, TcpControl.Rst | TcpControl.Ack);
                break;
        }
    }

    private byte[] BuildRequest(string key) =>
        SessionHandshake.Request(
            _plan.Path,
            _plan.Host,
            key,
            UserAgent,
            "https://" + _plan.Host,
            _plan.Extensions != ExtensionMode.None ? [SessionPlan.OfferedExtensions] : []);

    private byte[] BuildResponse(string key) =>
        SessionHandshake.SwitchingProtocols(
            _plan.Extensions == ExtensionMode.OfferedAccepted ? SessionPlan.AcceptedExtensions : null,
            SessionHandshake.AcceptFor(key));

    private int WriteBytes(byte[] bytes)
    {
        bytes.CopyTo(_stream, 0);
        return bytes.Length;
    }

    private int WriteClose(TcpPeer from, int code, string reason) =>
        WriteFrame(0, from == Client, FrameBuilder.Close, fin: true, rsv1: false, FrameBuilder.ClosePayload(code, reason));

    /// <summary>Writes a message's frames into the stream buffer; returns their total length.</summary>
    private int WriteMessage(PlannedMessage message)
    {
        var corpus = _corpus.Span;
        var text = corpus.Slice(_random.Next(0, corpus.Length - message.Length), message.Length);
        Span<byte> body = default;
        byte[]? rented = null;
        var deflate = _plan.Extensions == ExtensionMode.OfferedAccepted;
        if (deflate)
        {
            // RFC 7692 7.2.1 with a stored (uncompressed) DEFLATE block: valid for any inflater, and cheap to
            // write. The sync flush's empty stored block 00 00 00 FF FF loses its last four bytes on the wire.
            rented = ArrayPool<byte>.Shared.Rent(message.Length + 6);
            body = rented.AsSpan(0, message.Length + 6);
            body[0] = 0x00;
            BinaryPrimitives.WriteUInt16LittleEndian(body[1..], (ushort)message.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(body[3..], (ushort)~message.Length);
            text.CopyTo(body[5..]);
            body[^1] = 0x00;
        }

        var payload = deflate ? (ReadOnlySpan<byte>)body : text;
        var opcode = message.Binary ? (byte)0x2 : (byte)0x1;
        var written = 0;
        var pieces = message.Fragments;
        var pieceLength = (payload.Length + pieces - 1) / pieces;
        for (var i = 0; i < pieces; i++)
        {
            var piece = payload.Slice(i * pieceLength, Math.Min(pieceLength, payload.Length - (i * pieceLength)));
            written += WriteFrame(written, message.FromClient, i == 0 ? opcode : (byte)0x0, fin: i == pieces - 1, rsv1: deflate && i == 0, piece);
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return written;
    }

    /// <summary>RFC 6455 5.2: one frame at <paramref name="offset"/> of the stream buffer; client frames masked with a fresh key.</summary>
    private int WriteFrame(int offset, bool fromClient, byte opcode, bool fin, bool rsv1, ReadOnlySpan<byte> payload)
    {
        byte[]? mask = null;
        if (fromClient)
        {
            mask = new byte[4];
            _random.Fill(mask);
            ClientFrames++;
            ClientPayloadBytes += payload.Length;
        }
        else
        {
            ServerFrames++;
            ServerPayloadBytes += payload.Length;
        }

        var frame = FrameBuilder.Frame(opcode, payload, fin, mask, rsv1);
        frame.CopyTo(_stream, offset);
        return frame.Length;
    }

    /// <summary>One side's RFC 7323 timestamp clock: its random base and the last value it sent.</summary>
    private sealed class TimestampClock(uint timestampBase)
    {
        public uint Base { get; } = timestampBase;

        public uint Last { get; set; }
    }
}
