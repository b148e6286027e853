using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace WsCloseSniffer.TestSupport;

/// <summary>
/// Writes classic pcap bytes field by field (pcap draft, sections 4 and 5), independent of our reader and of
/// our writer: into memory (<see cref="ToArray"/>), or streamed to <c>output</c> for captures too large to hold.
/// </summary>
public sealed class PcapFileBuilder
{
    private readonly EndianByteWriter _bytes;
    private readonly bool _modified;

    /// <param name="modified">the modified (Kuznetsov) format: magic a1b2cd34 and 24-byte record headers that add
    /// ifindex (4), protocol (2), pkt_type (1) and a pad byte.</param>
    /// <param name="output">where the bytes go; null keeps them in memory.</param>
    public PcapFileBuilder(bool bigEndian = false, bool nanosecond = false, uint snapLength = 65535, uint linkType = 1, bool modified = false, Stream? output = null)
    {
        _modified = modified;
        _bytes = new EndianByteWriter(bigEndian, output);
        _bytes.UInt32(modified ? 0xA1B2CD34u : nanosecond ? 0xA1B23C4Du : 0xA1B2C3D4u);
        _bytes.UInt16(2);
        _bytes.UInt16(4);
        _bytes.UInt32(0);
        _bytes.UInt32(0);
        _bytes.UInt32(snapLength);
        _bytes.UInt32(linkType);
    }

    /// <summary>Length of the bytes written so far: the offset the next record starts at.</summary>
    public long Length => _bytes.Length;

    /// <summary>Records written so far.</summary>
    public long Packets { get; private set; }

    public PcapFileBuilder Packet(uint seconds, uint fraction, ReadOnlySpan<byte> data, uint? originalLength = null, uint? capturedLength = null)
    {
        _bytes.UInt32(seconds);
        _bytes.UInt32(fraction);
        _bytes.UInt32(capturedLength ?? (uint)data.Length);
        _bytes.UInt32(originalLength ?? (uint)data.Length);
        if (_modified)
        {
            _bytes.UInt32(3);
            _bytes.UInt16(0x0800);
            _bytes.Raw([4, 0]);
        }

        _bytes.Raw(data);
        Packets++;
        return this;
    }

    public PcapFileBuilder Raw(ReadOnlySpan<byte> bytes)
    {
        _bytes.Raw(bytes);
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();
}

/// <summary>Writes pcapng blocks field by field (draft-ietf-opsawg-pcapng), independent of our reader and of our writer.</summary>
public sealed class PcapNgFileBuilder
{
    private readonly EndianByteWriter _bytes = new(bigEndian: false);
    private bool _bigEndian;

    public long Length => _bytes.Length;

    /// <summary>Starts a section (section header block) in the given byte order; later blocks use it.</summary>
    public PcapNgFileBuilder Section(bool bigEndian = false, ushort major = 1)
    {
        _bigEndian = bigEndian;
        var body = new EndianByteWriter(bigEndian);
        body.UInt32(0x1A2B3C4D);
        body.UInt16(major);
        body.UInt16(0);
        body.UInt64(ulong.MaxValue);
        return Block(0x0A0D0D0A, body.ToArray());
    }

    /// <summary>Interface description block; <paramref name="tsResolution"/> is the raw if_tsresol byte.</summary>
    public PcapNgFileBuilder Interface(ushort linkType, uint snapLength = 0, byte? tsResolution = null, long? tsOffsetSeconds = null, string? name = null)
    {
        var body = new EndianByteWriter(_bigEndian);
        body.UInt16(linkType);
        body.UInt16(0);
        body.UInt32(snapLength);
        if (name is not null)
        {
            body.Option(2, System.Text.Encoding.UTF8.GetBytes(name));
        }

        if (tsResolution is { } resolution)
        {
            body.Option(9, [resolution]);
        }

        if (tsOffsetSeconds is { } offset)
        {
            var value = new EndianByteWriter(_bigEndian);
            value.UInt64((ulong)offset);
            body.Option(14, value.ToArray());
        }

        if (name is not null || tsResolution is not null || tsOffsetSeconds is not null)
        {
            body.UInt32(0); // opt_endofopt
        }

        return Block(1, body.ToArray());
    }

    public PcapNgFileBuilder EnhancedPacket(uint interfaceId, ulong timestampUnits, byte[] data, uint? originalLength = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var body = new EndianByteWriter(_bigEndian);
        body.UInt32(interfaceId);
        body.UInt32((uint)(timestampUnits >> 32));
        body.UInt32((uint)timestampUnits);
        body.UInt32((uint)data.Length);
        body.UInt32(originalLength ?? (uint)data.Length);
        body.Padded(data);
        return Block(6, body.ToArray());
    }

    public PcapNgFileBuilder SimplePacket(byte[] data, uint? originalLength = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var body = new EndianByteWriter(_bigEndian);
        body.UInt32(originalLength ?? (uint)data.Length);
        body.Padded(data);
        return Block(3, body.ToArray());
    }

    public PcapNgFileBuilder ObsoletePacket(ushort interfaceId, ulong timestampUnits, byte[] data, uint? originalLength = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var body = new EndianByteWriter(_bigEndian);
        body.UInt16(interfaceId);
        body.UInt16(0);
        body.UInt32((uint)(timestampUnits >> 32));
        body.UInt32((uint)timestampUnits);
        body.UInt32((uint)data.Length);
        body.UInt32(originalLength ?? (uint)data.Length);
        body.Padded(data);
        return Block(2, body.ToArray());
    }

    /// <summary>Any block with a correct length and trailer (e.g. an unknown or statistics block).</summary>
    public PcapNgFileBuilder Block(uint type, byte[] body, uint? lengthOverride = null, uint? trailerOverride = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        var writer = new EndianByteWriter(_bigEndian);
        uint length = (uint)(12 + body.Length);
        writer.UInt32(type);
        writer.UInt32(lengthOverride ?? length);
        writer.Raw(body);
        writer.UInt32(trailerOverride ?? lengthOverride ?? length);
        _bytes.Raw(writer.ToArray());
        return this;
    }

    public PcapNgFileBuilder Raw(byte[] bytes)
    {
        _bytes.Raw(bytes);
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();
}

/// <summary>Bytes appended field by field in one byte order, for the capture builders.</summary>
internal sealed class EndianByteWriter(bool bigEndian, Stream? output = null)
{
    private readonly Stream _output = output ?? new MemoryStream();

    public long Length { get; private set; }

    // Swapped when the file's byte order is not this machine's, then written as the value's own bytes.
    public void UInt16(ushort value) => Fixed(bigEndian == BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    public void UInt32(uint value) => Fixed(bigEndian == BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    public void UInt64(ulong value) => Fixed(bigEndian == BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value);

    public void Raw(ReadOnlySpan<byte> bytes)
    {
        _output.Write(bytes);
        Length += bytes.Length;
    }

    public void Padded(ReadOnlySpan<byte> bytes)
    {
        Raw(bytes);
        Span<byte> padding = stackalloc byte[3];
        padding.Clear();
        Raw(padding[..((4 - (bytes.Length % 4)) % 4)]);
    }

    public void Option(ushort code, ReadOnlySpan<byte> value)
    {
        UInt16(code);
        UInt16((ushort)value.Length);
        Padded(value);
    }

    /// <summary>The bytes written so far; only when they were kept in memory.</summary>
    public byte[] ToArray() => _output is MemoryStream memory
        ? memory.ToArray()
        : throw new InvalidOperationException("the bytes were streamed to the output, not kept");

    private void Fixed<T>(T value)
        where T : unmanaged => Raw(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));
}

public static class CaptureBytes
{
    public static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return output.ToArray();
    }

    /// <summary>
    /// A gzip stream made of <paramref name="members"/> identical gzip members (RFC 1952 section 2.2 allows
    /// several), each the compression of <paramref name="memberContent"/>: gigabytes of output from a small input.
    /// </summary>
    public static byte[] GzipMembers(byte[] memberContent, int members)
    {
        using var one = new MemoryStream();
        using (var gzip = new GZipStream(one, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(memberContent);
        }

        var member = one.ToArray();
        var all = new byte[member.Length * members];
        for (var i = 0; i < members; i++)
        {
            member.CopyTo(all, i * member.Length);
        }

        return all;
    }

    /// <summary>A classic little-endian pcap of <paramref name="count"/> records of varied sizes (60-1459 bytes), each filled with its number.</summary>
    public static byte[] NumberedPcap(int count)
    {
        var pcap = new PcapFileBuilder(snapLength: 262144);
        for (var i = 0; i < count; i++)
        {
            pcap.Packet((uint)(1_700_000_000 + i), (uint)(i % 1_000_000), Enumerable.Repeat((byte)i, 60 + (i * 37 % 1400)).ToArray());
        }

        return pcap.ToArray();
    }

    /// <summary>A frame whose bytes say which packet it is, so a test can tell frames apart.</summary>
    public static byte[] Frame(int length, byte seed)
    {
        var frame = new byte[length];
        for (int i = 0; i < length; i++)
        {
            frame[i] = (byte)(seed + i);
        }

        return frame;
    }
}
