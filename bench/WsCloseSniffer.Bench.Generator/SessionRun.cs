using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace WsCloseSniffer.Bench.Generator;

/// <summary>Packet time shared by all sessions; the scheduler moves it forward.</summary>
internal sealed class Clock
{
    public long NowMicroseconds { get; set; }
}

/// <summary>
/// Plays one session packet by packet. Each step writes exactly one packet and yields the delay (microseconds)
/// to the next, so the scheduler can interleave sessions with timestamps that never go backwards.
/// </summary>
internal sealed class SessionRun : IDisposable
{
    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int MaxFrameHeaderBytes = 14;
    private const int StreamBufferBytes = 65_536 + (8 * MaxFrameHeaderBytes) + 64;

    private readonly SessionPlan _plan;
    private readonly PcapWriter _writer;
    private readonly Clock _clock;
    private readonly SplitMix64 _random;
    private readonly ReadOnlyMemory<byte> _corpus;
    private readonly Endpoint _client;
    private readonly Endpoint _server;
    private readonly int _maxSegment;
    private readonly IEnumerator<int> _steps;
    private byte[] _stream;

    public SessionRun(SessionPlan plan, PcapWriter writer, Clock clock, SplitMix64 random, ReadOnlyMemory<byte> corpus)
    {
        _plan = plan;
        _writer = writer;
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
            _maxSegment = PcapWriter.MaxSegmentIPv6;
        }
        else
        {
            // One client address per session index: every 4-tuple in a capture is unique.
            clientAddress = [10, (byte)(16 + ((index >> 16) & 0x7F)), (byte)(index >> 8), (byte)index];
            serverAddress = [198, 51, 100, (byte)(10 + plan.Server)];
            _maxSegment = PcapWriter.MaxSegmentIPv4;
        }

        byte[] clientMac = [0x02, 0x42, clientAddress[^4], clientAddress[^3], clientAddress[^2], clientAddress[^1]];
        byte[] serverMac = [0x00, 0x16, 0x3E, 0x00, 0x00, (byte)(plan.Server + 1)];
        _client = new Endpoint(clientMac, clientAddress, (ushort)random.Next(32768, 61000), random.NextUInt32(), random.NextUInt32());
        _server = new Endpoint(serverMac, serverAddress, 80, random.NextUInt32(), random.NextUInt32());
        _steps = Steps().GetEnumerator();
    }

    public SessionPlan Plan => _plan;

    public Endpoint Client => _client;

    public Endpoint Server => _server;

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

    private void Send(Endpoint from, Tcp flags, int offset = 0, int length = 0) =>
        _writer.WriteTcp(_clock.NowMicroseconds, from, from == _client ? _server : _client, flags, _stream.AsSpan(offset, length));

    private int RoundTrip() => _random.Next(150, 2500);

    private IEnumerable<int> Steps()
    {
        // RFC 9293 3.5: three-way handshake.
        Send(_client, Tcp.Syn);
        yield return RoundTrip();
        Send(_server, Tcp.Syn | Tcp.Ack);
        yield return RoundTrip();
        Send(_client, Tcp.Ack);
        yield return _random.Next(5, 200);

        // RFC 6455 4.1/4.2: the upgrade.
        var key = new byte[16];
        _random.Fill(key);
        var keyText = Convert.ToBase64String(key);
        var length = WriteAscii(BuildRequest(keyText));
        Send(_client, Tcp.Psh | Tcp.Ack, 0, length);
        yield return _random.Next(200, 3000);
        length = WriteAscii(BuildResponse(keyText));
        Send(_server, Tcp.Psh | Tcp.Ack, 0, length);
        yield return RoundTrip();
        Send(_client, Tcp.Ack);
        yield return _random.Next(1000, 20_000);

        foreach (var message in _plan.Messages)
        {
            if (message.PingFirst)
            {
                // Keep-alive from either side; the peer answers with the same application data (RFC 6455 5.5.3).
                var pinger = message.FromClient ? _server : _client;
                var token = _random.Next(0, 2) == 0 ? 0 : 8;
                var tokenBytes = new byte[token];
                _random.Fill(tokenBytes);
                length = WriteFrame(0, pinger == _client, 0x9, fin: true, rsv1: false, tokenBytes);
                Send(pinger, Tcp.Psh | Tcp.Ack, 0, length);
                yield return RoundTrip();
                var ponger = pinger == _client ? _server : _client;
                length = WriteFrame(0, ponger == _client, 0xA, fin: true, rsv1: false, tokenBytes);
                Send(ponger, Tcp.Psh | Tcp.Ack, 0, length);
                yield return _random.Next(100, 5000);
            }

            var sender = message.FromClient ? _client : _server;
            var receiver = message.FromClient ? _server : _client;
            var total = WriteMessage(message);
            var segments = 0;
            for (var offset = 0; offset < total; offset += _maxSegment)
            {
                var take = Math.Min(_maxSegment, total - offset);
                var last = offset + take == total;
                Send(sender, last ? Tcp.Psh | Tcp.Ack : Tcp.Ack, offset, take);
                segments++;

                // Delayed ACK (RFC 9293 3.8.6.3): every second full segment, and the end of the message.
                if (segments % 2 == 0 || last)
                {
                    yield return _random.Next(5, 60);
                    Send(receiver, Tcp.Ack);
                }

                yield return _random.Next(5, 80);
            }

            yield return _random.Exponential(8_000);
        }

        switch (_plan.Ending)
        {
            case Ending.CloseFrames:
            {
                var closer = _plan.ClientEnds ? _client : _server;
                var replier = _plan.ClientEnds ? _server : _client;
                length = WriteClose(closer, _plan.CloseCode, _plan.CloseReason);
                Send(closer, Tcp.Psh | Tcp.Ack, 0, length);
                yield return RoundTrip();
                length = WriteClose(replier, _plan.CloseCode, "");
                Send(replier, Tcp.Psh | Tcp.Ack, 0, length);
                yield return _random.Next(20, 500);

                // RFC 6455 7.1.1: the server closes the TCP connection first.
                Send(_server, Tcp.Fin | Tcp.Ack);
                yield return RoundTrip();
                Send(_client, Tcp.Fin | Tcp.Ack);
                yield return RoundTrip();
                Send(_server, Tcp.Ack);
                break;
            }

            case Ending.FinWithoutClose:
            {
                var first = _plan.ClientEnds ? _client : _server;
                var second = _plan.ClientEnds ? _server : _client;
                Send(first, Tcp.Fin | Tcp.Ack);
                yield return RoundTrip();
                Send(second, Tcp.Fin | Tcp.Ack);
                yield return RoundTrip();
                Send(first, Tcp.Ack);
                break;
            }

            default:
                Send(_plan.ClientEnds ? _client : _server, Tcp.Rst | Tcp.Ack);
                break;
        }
    }

    private string BuildRequest(string key)
    {
        var text = new StringBuilder()
            .Append("GET ").Append(_plan.Path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(_plan.Host).Append("\r\n")
            .Append("User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n")
            .Append("Upgrade: websocket\r\n")
            .Append("Connection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n")
            .Append("Origin: https://").Append(_plan.Host).Append("\r\n");
        if (_plan.Extensions != ExtensionMode.None)
        {
            text.Append("Sec-WebSocket-Extensions: ").Append(SessionPlan.OfferedExtensions).Append("\r\n");
        }

        return text.Append("\r\n").ToString();
    }

    private string BuildResponse(string key)
    {
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + WebSocketGuid)));
        var text = new StringBuilder()
            .Append("HTTP/1.1 101 Switching Protocols\r\n")
            .Append("Upgrade: websocket\r\n")
            .Append("Connection: Upgrade\r\n")
            .Append("Sec-WebSocket-Accept: ").Append(accept).Append("\r\n");
        if (_plan.Extensions == ExtensionMode.OfferedAccepted)
        {
            text.Append("Sec-WebSocket-Extensions: ").Append(SessionPlan.AcceptedExtensions).Append("\r\n");
        }

        return text.Append("\r\n").ToString();
    }

    private int WriteAscii(string text) => Encoding.ASCII.GetBytes(text, _stream);

    private int WriteClose(Endpoint from, int code, string reason)
    {
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return WriteFrame(0, from == _client, 0x8, fin: true, rsv1: false, payload);
    }

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

    /// <summary>RFC 6455 5.2: one frame at <paramref name="offset"/> of the stream buffer; client frames masked.</summary>
    private int WriteFrame(int offset, bool fromClient, byte opcode, bool fin, bool rsv1, ReadOnlySpan<byte> payload)
    {
        var frame = _stream.AsSpan(offset);
        frame[0] = (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
        var maskBit = fromClient ? 0x80 : 0;
        int header;
        if (payload.Length < 126)
        {
            frame[1] = (byte)(maskBit | payload.Length);
            header = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)payload.Length);
            header = 4;
        }
        else
        {
            frame[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)payload.Length);
            header = 10;
        }

        var data = frame.Slice(header + (fromClient ? 4 : 0), payload.Length);
        payload.CopyTo(data);
        if (fromClient)
        {
            Span<byte> mask = stackalloc byte[4];
            _random.Fill(mask);
            mask.CopyTo(frame[header..]);
            for (var i = 0; i < data.Length; i++)
            {
                data[i] ^= mask[i & 3];
            }

            ClientFrames++;
            ClientPayloadBytes += payload.Length;
            header += 4;
        }
        else
        {
            ServerFrames++;
            ServerPayloadBytes += payload.Length;
        }

        return header + payload.Length;
    }
}
