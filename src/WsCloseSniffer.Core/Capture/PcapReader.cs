using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace WsCloseSniffer.Capture;

/// <summary>
/// Streaming reader of classic pcap files (either byte order; microsecond magic a1b2c3d4 and
/// nanosecond magic a1b23c4d). One reusable buffer, nothing allocated per packet.
/// </summary>
public sealed class PcapReader : CaptureFileReader
{
    public const int FileHeaderBytes = 24;
    public const int RecordHeaderBytes = 16;

    /// <summary>libpcap's MAXIMUM_SNAPLEN: records up to this are accepted whatever the file's snaplen says.</summary>
    public const int DefaultMaxCapturedBytes = 256 * 1024;

    internal const uint MicrosecondMagic = 0xA1B2C3D4;
    internal const uint NanosecondMagic = 0xA1B23C4D;

    private bool _nanosecond;
    private int _maxCapturedBytes;

    /// <summary>Reads an uncompressed pcap stream positioned at its magic number; the reader owns the stream.</summary>
    public PcapReader(Stream stream, string name)
        : this(CaptureFile.CreateBuffer(stream, compressed: false), name)
    {
    }

    internal PcapReader(CaptureBuffer input, string name)
        : base(input, name)
    {
        ReadFileHeader();
    }

    public LinkType LinkType { get; private set; }

    /// <summary>The snapshot length from the file header.</summary>
    public uint SnapLength { get; private set; }

    public bool IsNanosecond => _nanosecond;

    public bool IsBigEndian => _bigEndian;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override bool TryReadNext(out CapturedPacket packet)
    {
        packet = default;
        if (_finished)
        {
            return false;
        }

        long recordOffset = _input.Position;
        if (!_input.Ensure(RecordHeaderBytes))
        {
            int available = _input.Available;
            if (available == 0 && _input.StreamError is null)
            {
                _finished = true;
                return false;
            }

            return Fail(recordOffset, Truncation(available, RecordHeaderBytes, "record header"));
        }

        var header = _input.Peek(RecordHeaderBytes);
        uint seconds = ReadUInt32(header);
        uint fraction = ReadUInt32(header[4..]);
        uint capturedLength = ReadUInt32(header[8..]);
        uint originalLength = ReadUInt32(header[12..]);

        if (capturedLength > (uint)_maxCapturedBytes)
        {
            return Fail(recordOffset, $"impossible captured length {capturedLength} (the file's snaplen is {SnapLength}, the limit {_maxCapturedBytes} bytes)");
        }

        int recordBytes = RecordHeaderBytes + (int)capturedLength;
        if (!_input.Ensure(recordBytes))
        {
            return Fail(recordOffset, Truncation(_input.Available - RecordHeaderBytes, (int)capturedLength, "record"));
        }

        var data = _input.Peek(recordBytes)[RecordHeaderBytes..];
        _input.Advance(recordBytes);
        _packetsRead++;

        long nanoseconds = _nanosecond ? fraction : fraction * 1000L;
        packet = new CapturedPacket(
            Timestamp.FromSeconds(seconds, nanoseconds),
            LinkType,
            data,
            originalLength > int.MaxValue ? int.MaxValue : (int)originalLength,
            _packetsRead);
        return true;
    }

    private void ReadFileHeader()
    {
        if (!_input.Ensure(FileHeaderBytes))
        {
            int available = _input.Available;
            if (available < 4 && _input.StreamError is null)
            {
                throw new CaptureFormatException($"'{Name}' is not a pcap file: it is only {available} bytes long");
            }

            Fail(0, Truncation(available, FileHeaderBytes, "file header"));
            return;
        }

        var header = _input.Peek(FileHeaderBytes);
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(header);
        uint swapped = BinaryPrimitives.ReverseEndianness(magic);
        if (magic is MicrosecondMagic or NanosecondMagic)
        {
            _bigEndian = true;
            _nanosecond = magic == NanosecondMagic;
        }
        else if (swapped is MicrosecondMagic or NanosecondMagic)
        {
            _bigEndian = false;
            _nanosecond = swapped == NanosecondMagic;
        }
        else
        {
            throw new CaptureFormatException($"'{Name}' is not a pcap file: magic bytes {Convert.ToHexString(header[..4])}");
        }

        SnapLength = ReadUInt32(header[16..]);

        // The upper bits of the link-type field carry FCS information (pcap draft section 4); the type is the low 16.
        LinkType = (LinkType)(ReadUInt32(header[20..]) & 0xFFFF);
        _maxCapturedBytes = (int)Math.Min(Math.Max(SnapLength, DefaultMaxCapturedBytes), CaptureBuffer.MaxRecordBytes);
        _input.Advance(FileHeaderBytes);
    }

}
