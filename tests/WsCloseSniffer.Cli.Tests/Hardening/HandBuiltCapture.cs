using System.Buffers.Binary;
using System.Text;

namespace WsCloseSniffer.Tests.Hardening;

/// <summary>
/// Writes one WebSocket session as a little-endian microsecond pcap, Ethernet / IPv4 / TCP laid out byte by byte
/// (RFC 791, RFC 9293), independent of the decoder under test. Checksums are left zero: the decoder, like
/// Wireshark by default, does not verify them.
/// </summary>
internal sealed class HandBuiltCapture
{
    private const uint ClientIsn = 1000;
    private const uint ServerIsn = 500_000;
    private readonly List<byte> _file = [];
    private uint _clientNext = ClientIsn;
    private uint _serverNext = ServerIsn;
    private uint _micros;

    public HandBuiltCapture()
    {
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 262_144);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);
        _file.AddRange(header);
    }

    /// <summary>Handshake, upgrade request and response, a client close and the server's reply, both FINs.</summary>
    public static byte[] Session(string host, string path, string offered, string accepted, int closeCode, byte[] reason)
    {
        var request = Encoding.Latin1.GetBytes(
            $"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
            $"Sec-WebSocket-Extensions: {offered}\r\n\r\n");
        var response = Encoding.Latin1.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: {accepted}\r\n\r\n");
        var capture = new HandBuiltCapture();
        capture.Segment(fromClient: true, 0x02, []);
        capture.Segment(fromClient: false, 0x12, []);
        capture.Segment(fromClient: true, 0x10, []);
        capture.Segment(fromClient: true, 0x18, request);
        capture.Segment(fromClient: false, 0x18, response);
        capture.Segment(fromClient: true, 0x18, CloseFrame(closeCode, reason, masked: true));
        capture.Segment(fromClient: false, 0x18, CloseFrame(closeCode, [], masked: false));
        capture.Segment(fromClient: false, 0x11, []);
        capture.Segment(fromClient: true, 0x11, []);
        capture.Segment(fromClient: false, 0x10, []);
        return capture._file.ToArray();
    }

    /// <summary>
    /// <paramref name="syns"/> SYNs from 10.0.N.M to 10.255.0.1:80 (all different connections) with the records of
    /// <paramref name="sessionPcap"/> (a file from <see cref="Session"/>) in the middle.
    /// </summary>
    public static byte[] SynFloodAround(byte[] sessionPcap, int syns)
    {
        var file = new MemoryStream();
        file.Write(sessionPcap.AsSpan(0, 24));
        var record = new byte[16 + 54];
        BinaryPrimitives.WriteUInt32LittleEndian(record, 1_800_000_000);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), 54);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), 54);
        var frame = record.AsSpan(16);
        frame[..12].Fill(0x02);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], 0x0800);
        frame[14] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(frame[16..], 40);
        frame[22] = 64;
        frame[23] = 6;
        frame[26] = 10;
        frame[30] = 10;
        frame[31] = 255;
        frame[33] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(frame[36..], 80);
        frame[46] = 0x50;
        frame[47] = 0x02;
        for (var i = 0; i < syns; i++)
        {
            if (i == syns / 2)
            {
                file.Write(sessionPcap.AsSpan(24));
            }

            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), (uint)(i % 1_000_000));
            BinaryPrimitives.WriteUInt16BigEndian(frame[28..], (ushort)(i >> 8));
            frame[29] = (byte)i;
            BinaryPrimitives.WriteUInt16BigEndian(frame[34..], (ushort)(1024 + (i % 50_000)));
            file.Write(record);
        }

        return file.ToArray();
    }

    /// <summary>An RFC 6455 close frame (payload at most 125 bytes); client frames masked with a fixed key.</summary>
    public static byte[] CloseFrame(int code, byte[] reason, bool masked)
    {
        var payload = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reason.CopyTo(payload, 2);
        byte[] key = [0x11, 0x22, 0x33, 0x44];
        var frame = new List<byte> { 0x88, (byte)((masked ? 0x80 : 0) | payload.Length) };
        if (masked)
        {
            frame.AddRange(key);
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] ^= key[i % 4];
            }
        }

        frame.AddRange(payload);
        return [.. frame];
    }

    private void Segment(bool fromClient, byte flags, byte[] payload)
    {
        var frame = new byte[14 + 20 + 20 + payload.Length];
        var span = frame.AsSpan();
        span[..6].Fill(0x02);
        span[6..12].Fill(0x04);
        BinaryPrimitives.WriteUInt16BigEndian(span[12..], 0x0800);
        var ip = span[14..];
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(40 + payload.Length));
        ip[8] = 64;
        ip[9] = 6;
        byte[] client = [192, 0, 2, 7];
        byte[] server = [198, 51, 100, 8];
        (fromClient ? client : server).CopyTo(ip[12..]);
        (fromClient ? server : client).CopyTo(ip[16..]);
        var tcp = ip[20..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, fromClient ? (ushort)50_123 : (ushort)8080);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], fromClient ? (ushort)8080 : (ushort)50_123);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], fromClient ? _clientNext : _serverNext);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], (flags & 0x10) != 0 ? (fromClient ? _serverNext : _clientNext) : 0);
        tcp[12] = 0x50;
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65_535);
        payload.CopyTo(tcp[20..]);

        // SYN and FIN each take one sequence number (RFC 9293 section 3.4).
        var advance = (uint)payload.Length + ((flags & 0x03) != 0 ? 1u : 0u);
        if (fromClient)
        {
            _clientNext += advance;
        }
        else
        {
            _serverNext += advance;
        }

        Span<byte> record = stackalloc byte[16];
        _micros += 1000;
        BinaryPrimitives.WriteUInt32LittleEndian(record, 1_800_000_000);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], _micros);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)frame.Length);
        _file.AddRange(record);
        _file.AddRange(frame);
    }
}
