using System.Buffers.Binary;

namespace WsCloseSniffer.Bench.Generator;

[Flags]
internal enum Tcp : byte
{
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
}

/// <summary>One side of a TCP connection: its addresses and its send state.</summary>
internal sealed class Endpoint(byte[] mac, byte[] address, ushort port, uint initialSequence, uint timestampBase)
{
    public byte[] Mac { get; } = mac;

    /// <summary>4 bytes (IPv4) or 16 (IPv6), network order.</summary>
    public byte[] Address { get; } = address;

    public ushort Port { get; } = port;

    /// <summary>Next sequence number this side sends (SND.NXT).</summary>
    public uint Sequence { get; set; } = initialSequence;

    public ushort IpId { get; set; } = (ushort)initialSequence;

    public uint TimestampBase { get; } = timestampBase;

    /// <summary>Last TSval seen from this side, echoed by the peer (RFC 7323 TSecr).</summary>
    public uint LastTimestamp { get; set; }

    public bool IsIPv6 => Address.Length == 16;
}

/// <summary>
/// Writes a classic pcap (LINKTYPE_ETHERNET, microseconds) by hand into one large buffer: Ethernet,
/// IPv4 (valid header checksum) or IPv6, TCP with options and a valid checksum. No allocation per packet.
/// </summary>
internal sealed class PcapWriter : IDisposable
{
    public const int SnapLength = 262_144;
    public const int MaxSegmentIPv4 = 1448; // 1500 - 20 (IPv4) - 32 (TCP with timestamps)
    public const int MaxSegmentIPv6 = 1428; // 1500 - 40 (IPv6) - 32

    private const int BufferBytes = 4 << 20;
    private const int RecordHeaderBytes = 16;
    private const int EthernetBytes = 14;
    private const int TcpBaseBytes = 20;
    private const int TimestampOptionBytes = 12; // NOP NOP TS(10)
    private const int SynOptionBytes = 20;       // MSS(4) SACK_PERM(2) TS(10) NOP(1) WS(3)

    private readonly Stream _output;
    private readonly byte[] _buffer = new byte[BufferBytes];
    private int _used;

    public PcapWriter(Stream output)
    {
        _output = output;
        var header = _buffer.AsSpan(0, 24);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);
        _used = 24;
        BytesWritten = 24;
    }

    public long BytesWritten { get; private set; }

    public long Packets { get; private set; }

    public void WriteTcp(long timeMicroseconds, Endpoint from, Endpoint to, Tcp flags, ReadOnlySpan<byte> payload)
    {
        var ipv6 = from.IsIPv6;
        var ipBytes = ipv6 ? 40 : 20;
        var tcpBytes = TcpBaseBytes + ((flags & Tcp.Syn) != 0 ? SynOptionBytes : TimestampOptionBytes);
        var frameBytes = EthernetBytes + ipBytes + tcpBytes + payload.Length;
        if (_used + RecordHeaderBytes + frameBytes > _buffer.Length)
        {
            Flush();
        }

        var record = _buffer.AsSpan(_used, RecordHeaderBytes + frameBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(timeMicroseconds / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(timeMicroseconds % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frameBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)frameBytes);

        var frame = record[RecordHeaderBytes..];
        to.Mac.CopyTo(frame);
        from.Mac.CopyTo(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], ipv6 ? (ushort)0x86DD : (ushort)0x0800);

        var ip = frame.Slice(EthernetBytes, ipBytes);
        var tcpLength = tcpBytes + payload.Length;
        if (ipv6)
        {
            BinaryPrimitives.WriteUInt32BigEndian(ip, 0x6000_0000);
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)tcpLength);
            ip[6] = 6;
            ip[7] = 64;
            from.Address.CopyTo(ip[8..]);
            to.Address.CopyTo(ip[24..]);
        }
        else
        {
            ip[0] = 0x45;
            ip[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(ipBytes + tcpLength));
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], from.IpId++);
            BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF
            ip[8] = 64;
            ip[9] = 6;
            ip[10] = 0;
            ip[11] = 0;
            from.Address.CopyTo(ip[12..]);
            to.Address.CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Fold(Sum(ip, 0)));
        }

        var tcp = frame.Slice(EthernetBytes + ipBytes, tcpLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, from.Port);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], to.Port);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], from.Sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], (flags & Tcp.Ack) != 0 ? to.Sequence : 0);
        tcp[12] = (byte)((tcpBytes / 4) << 4);
        tcp[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], (flags & Tcp.Syn) != 0 ? (ushort)64240 : (ushort)501);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[16..], 0); // checksum, urgent pointer

        var tsval = from.TimestampBase + (uint)(timeMicroseconds / 1000);
        from.LastTimestamp = tsval;
        var tsecr = (flags & Tcp.Ack) != 0 ? to.LastTimestamp : 0;
        var options = tcp[TcpBaseBytes..tcpBytes];
        if ((flags & Tcp.Syn) != 0)
        {
            options[0] = 2; // MSS
            options[1] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(options[2..], ipv6 ? (ushort)(MaxSegmentIPv6 + 12) : (ushort)(MaxSegmentIPv4 + 12));
            options[4] = 4; // SACK permitted
            options[5] = 2;
            options[6] = 8; // timestamps
            options[7] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(options[8..], tsval);
            BinaryPrimitives.WriteUInt32BigEndian(options[12..], tsecr);
            options[16] = 1; // NOP
            options[17] = 3; // window scale
            options[18] = 3;
            options[19] = 7;
        }
        else
        {
            options[0] = 1;
            options[1] = 1;
            options[2] = 8;
            options[3] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(options[4..], tsval);
            BinaryPrimitives.WriteUInt32BigEndian(options[8..], tsecr);
        }

        payload.CopyTo(tcp[tcpBytes..]);

        // RFC 9293 3.1 / RFC 8200 8.1: the checksum covers a pseudo-header of addresses, protocol and length.
        ulong sum = Sum(from.Address, 0) + Sum(to.Address, 0) + 6u + (uint)tcpLength;
        sum = Sum(tcp, sum);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Fold(sum));

        from.Sequence += (uint)payload.Length + ((flags & (Tcp.Syn | Tcp.Fin)) != 0 ? 1u : 0u);
        _used += RecordHeaderBytes + frameBytes;
        BytesWritten += RecordHeaderBytes + frameBytes;
        Packets++;
    }

    public void Flush()
    {
        _output.Write(_buffer, 0, _used);
        _used = 0;
    }

    public void Dispose()
    {
        Flush();
        _output.Flush();
    }

    /// <summary>One's-complement sum of big-endian 16-bit words (odd tail padded with zero), not yet folded.</summary>
    private static ulong Sum(ReadOnlySpan<byte> data, ulong sum)
    {
        var i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
        }

        for (; i + 2 <= data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (ulong)data[i] << 8;
        }

        return sum;
    }

    private static ushort Fold(ulong sum)
    {
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
