using System.Buffers.Binary;
using System.Text;

namespace WsCloseSniffer.Capture;

/// <summary>
/// Writes captured frames to a file that tcpdump, Wireshark and <c>wsclosesniffer analyze</c> read:
/// pcapng when the name ends in <c>.pcapng</c>, classic pcap otherwise (like <c>tcpdump -w</c>).
/// Timestamps are written with microsecond resolution, the resolution libpcap captures with by default.
/// Nothing is allocated per frame.
/// </summary>
public abstract class CaptureFileWriter : IDisposable
{
    private readonly Stream _stream;
    private bool _disposed;

    private protected CaptureFileWriter(Stream stream)
    {
        _stream = stream;
    }

    /// <summary>Frames written so far.</summary>
    public long Frames { get; private set; }

    /// <summary>Creates <paramref name="path"/> (replacing it) and writes the file header.</summary>
    public static CaptureFileWriter Create(string path, LinkType linkType, int snapLengthBytes, string? interfaceName = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
        try
        {
            return path.EndsWith(".pcapng", StringComparison.OrdinalIgnoreCase)
                ? new PcapNgFileWriter(stream, linkType, snapLengthBytes, interfaceName)
                : new PcapFileWriter(stream, linkType, snapLengthBytes);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public void Write(Timestamp time, ReadOnlySpan<byte> frame, int originalLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WriteFrame(_stream, time, frame, Math.Max(originalLength, frame.Length));
        Frames++;
    }

    /// <summary>Pushes buffered frames to the file, so a killed process leaves a readable capture.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _stream.Flush();
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _stream.Dispose();
        }

        _disposed = true;
    }

    private protected abstract void WriteFrame(Stream stream, Timestamp time, ReadOnlySpan<byte> frame, int originalLength);

    private protected static long Microseconds(Timestamp time) => time.UnixNanoseconds / 1000;
}

/// <summary>Classic pcap (the tcpdump.org format): microsecond magic, host byte order as libpcap writes it.</summary>
internal sealed class PcapFileWriter : CaptureFileWriter
{
    private const uint MicrosecondMagic = 0xA1B2C3D4;
    private const int FileHeaderBytes = 24;
    private const int RecordHeaderBytes = 16;

    private readonly byte[] _recordHeader = new byte[RecordHeaderBytes];

    public PcapFileWriter(Stream stream, LinkType linkType, int snapLengthBytes)
        : base(stream)
    {
        Span<byte> header = stackalloc byte[FileHeaderBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(header, MicrosecondMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], snapLengthBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)linkType);
        stream.Write(header);
    }

    private protected override void WriteFrame(Stream stream, Timestamp time, ReadOnlySpan<byte> frame, int originalLength)
    {
        long microseconds = Microseconds(time);
        var header = _recordHeader.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(microseconds / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(microseconds % 1_000_000));
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], frame.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], originalLength);
        stream.Write(header);
        stream.Write(frame);
    }
}

/// <summary>
/// pcapng (draft-ietf-opsawg-pcapng): one section header, one interface description with the
/// interface name and if_tsresol = 6 (microseconds), then one enhanced packet block per frame.
/// </summary>
internal sealed class PcapNgFileWriter : CaptureFileWriter
{
    private const uint SectionHeaderBlockType = 0x0A0D0D0A;
    private const uint InterfaceDescriptionBlockType = 1;
    private const uint EnhancedPacketBlockType = 6;
    private const uint ByteOrderMagic = 0x1A2B3C4D;
    private const ushort OptionEndOfOptions = 0;
    private const ushort OptionShbUserApplication = 4;
    private const ushort OptionIfName = 2;
    private const ushort OptionIfTimestampResolution = 9;
    private const byte MicrosecondResolution = 6;
    private const int EnhancedPacketFixedBytes = 32;

    private readonly byte[] _blockHeader = new byte[28];
    private readonly byte[] _trailer = new byte[8];

    public PcapNgFileWriter(Stream stream, LinkType linkType, int snapLengthBytes, string? interfaceName)
        : base(stream)
    {
        var block = new List<byte>();
        AddUInt32(block, ByteOrderMagic);
        AddUInt16(block, 1);
        AddUInt16(block, 0);
        AddUInt32(block, uint.MaxValue);
        AddUInt32(block, uint.MaxValue);
        AddOption(block, OptionShbUserApplication, Encoding.UTF8.GetBytes("wsclosesniffer"));
        AddOption(block, OptionEndOfOptions, []);
        WriteBlock(stream, SectionHeaderBlockType, block);

        block.Clear();
        AddUInt16(block, checked((ushort)linkType));
        AddUInt16(block, 0);
        AddUInt32(block, (uint)snapLengthBytes);
        if (!string.IsNullOrEmpty(interfaceName))
        {
            AddOption(block, OptionIfName, Encoding.UTF8.GetBytes(interfaceName));
        }

        AddOption(block, OptionIfTimestampResolution, [MicrosecondResolution]);
        AddOption(block, OptionEndOfOptions, []);
        WriteBlock(stream, InterfaceDescriptionBlockType, block);
    }

    private protected override void WriteFrame(Stream stream, Timestamp time, ReadOnlySpan<byte> frame, int originalLength)
    {
        int padding = Pad(frame.Length);
        uint totalLength = (uint)(EnhancedPacketFixedBytes + frame.Length + padding);
        ulong microseconds = (ulong)Microseconds(time);
        var header = _blockHeader.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(header, EnhancedPacketBlockType);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], totalLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)(microseconds >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)microseconds);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], frame.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], originalLength);
        stream.Write(header);
        stream.Write(frame);

        // Padding bytes (zero) and the repeated block length share one small write.
        var trailer = _trailer.AsSpan(0, padding + 4);
        trailer[..padding].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[padding..], totalLength);
        stream.Write(trailer);
    }

    private static int Pad(int length) => (4 - (length % 4)) % 4;

    private static void AddUInt16(List<byte> block, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        block.AddRange(bytes);
    }

    private static void AddUInt32(List<byte> block, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        block.AddRange(bytes);
    }

    private static void AddOption(List<byte> block, ushort code, byte[] value)
    {
        AddUInt16(block, code);
        AddUInt16(block, checked((ushort)value.Length));
        block.AddRange(value);
        for (int i = 0; i < Pad(value.Length); i++)
        {
            block.Add(0);
        }
    }

    private static void WriteBlock(Stream stream, uint type, List<byte> body)
    {
        uint totalLength = (uint)(12 + body.Count);
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(word, type);
        stream.Write(word);
        BinaryPrimitives.WriteUInt32LittleEndian(word, totalLength);
        stream.Write(word);
        stream.Write(body.ToArray());
        stream.Write(word);
    }
}
