using System.Buffers.Binary;

namespace WsCloseSniffer.Capture;

/// <summary>
/// Streaming reader of pcapng files (draft-ietf-opsawg-pcapng): several sections, each with its own
/// byte order; several interfaces with their own link type, if_tsresol and if_tsoffset; enhanced,
/// simple and obsolete packet blocks; every other block is skipped. Nothing allocated per packet.
/// </summary>
public sealed class PcapNgReader : CaptureFileReader
{
    internal const uint SectionHeaderBlockType = 0x0A0D0D0A;
    internal const uint InterfaceDescriptionBlockType = 0x00000001;
    internal const uint ObsoletePacketBlockType = 0x00000002;
    internal const uint SimplePacketBlockType = 0x00000003;
    internal const uint EnhancedPacketBlockType = 0x00000006;
    internal const uint ByteOrderMagic = 0x1A2B3C4D;

    private const int BlockHeaderBytes = 8;
    private const int MinBlockBytes = 12;
    private const int MinSectionHeaderBytes = 28;
    private const int MinInterfaceDescriptionBytes = 20;
    private const int MinPacketBlockBytes = 32;
    private const int MinSimplePacketBytes = 16;
    private const ushort OptionEndOfOptions = 0;
    private const ushort OptionTimestampResolution = 9;
    private const ushort OptionTimestampOffset = 14;

    private readonly List<InterfaceDescription> _interfaces = [];
    private int _sectionCount;

    /// <summary>Reads an uncompressed pcapng stream positioned at its section header; the reader owns the stream.</summary>
    public PcapNgReader(Stream stream, string name)
        : this(CaptureFile.CreateBuffer(stream, compressed: false), name)
    {
    }

    internal PcapNgReader(CaptureBuffer input, string name)
        : base(input, name)
    {
    }

    /// <summary>Section header blocks read so far.</summary>
    public int SectionCount => _sectionCount;

    /// <summary>Interfaces of the current section.</summary>
    public int InterfaceCount => _interfaces.Count;

    public override bool TryReadNext(out CapturedPacket packet)
    {
        packet = default;
        while (!_finished)
        {
            long blockOffset = _input.Position;
            if (!_input.Ensure(BlockHeaderBytes))
            {
                int available = _input.Available;
                if (available == 0 && _input.StreamError is null && _sectionCount > 0)
                {
                    _finished = true;
                    return false;
                }

                return Fail(blockOffset, Truncation(available, BlockHeaderBytes, "block header"));
            }

            var head = _input.Peek(BlockHeaderBytes);
            uint blockType = ReadUInt32(head);
            if (blockType == SectionHeaderBlockType)
            {
                // The byte-order magic follows the length: the section's byte order decides how the length reads.
                if (!_input.Ensure(MinBlockBytes))
                {
                    return Fail(blockOffset, Truncation(_input.Available, MinBlockBytes, "section header"));
                }

                uint bom = BinaryPrimitives.ReadUInt32LittleEndian(_input.Peek(MinBlockBytes)[8..]);
                if (bom == ByteOrderMagic)
                {
                    _bigEndian = false;
                }
                else if (BinaryPrimitives.ReverseEndianness(bom) == ByteOrderMagic)
                {
                    _bigEndian = true;
                }
                else
                {
                    return Fail(blockOffset, $"section header has an invalid byte-order magic 0x{bom:X8}");
                }

                head = _input.Peek(BlockHeaderBytes);
            }
            else if (_sectionCount == 0)
            {
                return Fail(blockOffset, $"file does not start with a section header block (block type 0x{blockType:X8})");
            }

            uint blockLength = ReadUInt32(head[4..]);
            if (blockLength < MinBlockBytes || (blockLength % 4) != 0 || blockLength > CaptureBuffer.MaxRecordBytes)
            {
                return Fail(blockOffset, $"impossible block length {blockLength} for block type 0x{blockType:X8} (must be a multiple of 4, at least {MinBlockBytes} and at most {CaptureBuffer.MaxRecordBytes})");
            }

            int length = (int)blockLength;
            bool known = blockType is SectionHeaderBlockType or InterfaceDescriptionBlockType
                or EnhancedPacketBlockType or SimplePacketBlockType or ObsoletePacketBlockType;
            if (!known)
            {
                if (!SkipBlock(blockOffset, blockType, length))
                {
                    return false;
                }

                continue;
            }

            if (!_input.Ensure(length))
            {
                return Fail(blockOffset, Truncation(_input.Available, length, $"block (type 0x{blockType:X8})"));
            }

            var block = _input.Peek(length);
            uint trailer = ReadUInt32(block[(length - 4)..]);
            if (trailer != blockLength)
            {
                return Fail(blockOffset, $"block length {blockLength} does not match the trailing block length {trailer} (block type 0x{blockType:X8})");
            }

            switch (blockType)
            {
                case SectionHeaderBlockType:
                    if (!ReadSectionHeader(blockOffset, block))
                    {
                        return false;
                    }

                    break;
                case InterfaceDescriptionBlockType:
                    if (!ReadInterfaceDescription(blockOffset, block))
                    {
                        return false;
                    }

                    break;
                default:
                    if (!TryReadPacketBlock(blockOffset, blockType, block, out packet))
                    {
                        return false;
                    }

                    _input.Advance(length);
                    return true;
            }

            _input.Advance(length);
        }

        return false;
    }

    private bool SkipBlock(long blockOffset, uint blockType, int length)
    {
        // Blocks we do not read (statistics, name resolution, custom...) are skipped without buffering them whole.
        if (!_input.Skip(length - 4))
        {
            long reached = _input.Position - blockOffset;
            return Fail(blockOffset, Truncation((int)reached, length, $"block (type 0x{blockType:X8})"));
        }

        if (!_input.Ensure(4))
        {
            return Fail(blockOffset, Truncation(length - 4 + _input.Available, length, $"block (type 0x{blockType:X8})"));
        }

        uint trailer = ReadUInt32(_input.Peek(4));
        if (trailer != (uint)length)
        {
            return Fail(blockOffset, $"block length {length} does not match the trailing block length {trailer} (block type 0x{blockType:X8})");
        }

        _input.Advance(4);
        return true;
    }

    private bool ReadSectionHeader(long blockOffset, ReadOnlySpan<byte> block)
    {
        if (block.Length < MinSectionHeaderBytes)
        {
            return Fail(blockOffset, $"section header block of {block.Length} bytes is shorter than the minimum {MinSectionHeaderBytes}");
        }

        ushort major = ReadUInt16(block[12..]);
        ushort minor = ReadUInt16(block[14..]);
        if (major != 1)
        {
            return Fail(blockOffset, $"unsupported pcapng version {major}.{minor}");
        }

        // Interface ids are per section (pcapng section 4.2): a new section starts with none.
        _interfaces.Clear();
        _sectionCount++;
        return true;
    }

    private bool ReadInterfaceDescription(long blockOffset, ReadOnlySpan<byte> block)
    {
        if (block.Length < MinInterfaceDescriptionBytes)
        {
            return Fail(blockOffset, $"interface description block of {block.Length} bytes is shorter than the minimum {MinInterfaceDescriptionBytes}");
        }

        var linkType = (LinkType)ReadUInt16(block[8..]);
        uint snapLength = ReadUInt32(block[12..]);
        byte resolution = 6;
        long offsetSeconds = 0;

        var options = block[16..^4];
        while (options.Length >= 4)
        {
            ushort code = ReadUInt16(options);
            ushort optionLength = ReadUInt16(options[2..]);
            if (code == OptionEndOfOptions || 4 + optionLength > options.Length)
            {
                break;
            }

            var value = options.Slice(4, optionLength);
            if (code == OptionTimestampResolution && optionLength >= 1)
            {
                resolution = value[0];
            }
            else if (code == OptionTimestampOffset && optionLength >= 8)
            {
                offsetSeconds = _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(value) : BinaryPrimitives.ReadInt64LittleEndian(value);
            }

            int padded = 4 + ((optionLength + 3) & ~3);
            if (padded >= options.Length)
            {
                break;
            }

            options = options[padded..];
        }

        if (!InterfaceDescription.TryCreate(linkType, snapLength, resolution, offsetSeconds, out var description))
        {
            return Fail(blockOffset, $"interface {_interfaces.Count} has an unsupported if_tsresol 0x{resolution:X2}");
        }

        _interfaces.Add(description);
        return true;
    }

    private bool TryReadPacketBlock(long blockOffset, uint blockType, ReadOnlySpan<byte> block, out CapturedPacket packet)
    {
        packet = default;
        int interfaceId;
        ulong units;
        uint capturedLength;
        uint originalLength;
        int dataOffset;
        bool hasTimestamp = true;

        if (blockType == SimplePacketBlockType)
        {
            if (block.Length < MinSimplePacketBytes)
            {
                return Fail(blockOffset, $"simple packet block of {block.Length} bytes is shorter than the minimum {MinSimplePacketBytes}");
            }

            interfaceId = 0;
            originalLength = ReadUInt32(block[8..]);
            dataOffset = 12;
            units = 0;
            hasTimestamp = false;

            // The captured length of a simple packet is implied (pcapng section 4.4): the smaller of the original
            // length, the interface's snaplen and the space in the block.
            capturedLength = Math.Min(originalLength, (uint)(block.Length - MinSimplePacketBytes));
            if (_interfaces.Count > 0 && _interfaces[0].SnapLength != 0)
            {
                capturedLength = Math.Min(capturedLength, _interfaces[0].SnapLength);
            }
        }
        else
        {
            if (block.Length < MinPacketBlockBytes)
            {
                return Fail(blockOffset, $"packet block of {block.Length} bytes is shorter than the minimum {MinPacketBlockBytes}");
            }

            interfaceId = blockType == ObsoletePacketBlockType ? ReadUInt16(block[8..]) : (int)Math.Min(ReadUInt32(block[8..]), int.MaxValue);
            units = ((ulong)ReadUInt32(block[12..]) << 32) | ReadUInt32(block[16..]);
            capturedLength = ReadUInt32(block[20..]);
            originalLength = ReadUInt32(block[24..]);
            dataOffset = 28;
            if (capturedLength > (uint)(block.Length - MinPacketBlockBytes))
            {
                return Fail(blockOffset, $"captured length {capturedLength} does not fit in the {block.Length}-byte packet block");
            }
        }

        if (interfaceId >= _interfaces.Count)
        {
            return Fail(blockOffset, $"packet block refers to interface {interfaceId}, but the section defines {_interfaces.Count} interface(s)");
        }

        var description = _interfaces[interfaceId];
        _packetsRead++;
        packet = new CapturedPacket(
            hasTimestamp ? description.ToTimestamp(units) : Timestamp.Zero,
            description.LinkType,
            block.Slice(dataOffset, (int)capturedLength),
            originalLength > int.MaxValue ? int.MaxValue : (int)originalLength,
            _packetsRead);
        return true;
    }

    /// <summary>One interface of the current section and how its timestamps convert to nanoseconds.</summary>
    private readonly struct InterfaceDescription
    {
        private readonly ulong _unitsPerSecond;
        private readonly long _nanosecondsPerUnit;
        private readonly int _binaryExponent;
        private readonly long _offsetSeconds;

        private InterfaceDescription(LinkType linkType, uint snapLength, ulong unitsPerSecond, long nanosecondsPerUnit, int binaryExponent, long offsetSeconds)
        {
            LinkType = linkType;
            SnapLength = snapLength;
            _unitsPerSecond = unitsPerSecond;
            _nanosecondsPerUnit = nanosecondsPerUnit;
            _binaryExponent = binaryExponent;
            _offsetSeconds = offsetSeconds;
        }

        public LinkType LinkType { get; }

        public uint SnapLength { get; }

        public static bool TryCreate(LinkType linkType, uint snapLength, byte resolution, long offsetSeconds, out InterfaceDescription description)
        {
            int exponent = resolution & 0x7F;
            if ((resolution & 0x80) != 0)
            {
                // if_tsresol with the high bit set is a power of two (pcapng section 4.2).
                if (exponent > 63)
                {
                    description = default;
                    return false;
                }

                description = new InterfaceDescription(linkType, snapLength, 1UL << exponent, 0, exponent, offsetSeconds);
                return true;
            }

            if (exponent > 19)
            {
                description = default;
                return false;
            }

            ulong unitsPerSecond = 1;
            for (int i = 0; i < exponent; i++)
            {
                unitsPerSecond *= 10;
            }

            long nanosecondsPerUnit = exponent <= 9 ? (long)(1_000_000_000UL / unitsPerSecond) : 0;
            description = new InterfaceDescription(linkType, snapLength, unitsPerSecond, nanosecondsPerUnit, -1, offsetSeconds);
            return true;
        }

        public Timestamp ToTimestamp(ulong units)
        {
            ulong seconds;
            ulong fraction;
            long nanoseconds;
            if (_binaryExponent >= 0)
            {
                seconds = units >> _binaryExponent;
                fraction = units & (_unitsPerSecond - 1);
                nanoseconds = (long)(((UInt128)fraction * 1_000_000_000UL) >> _binaryExponent);
            }
            else
            {
                seconds = units / _unitsPerSecond;
                fraction = units - (seconds * _unitsPerSecond);
                nanoseconds = _nanosecondsPerUnit != 0
                    ? (long)fraction * _nanosecondsPerUnit
                    : (long)((UInt128)fraction * 1_000_000_000UL / _unitsPerSecond);
            }

            return Timestamp.FromSeconds(unchecked((long)seconds + _offsetSeconds), nanoseconds);
        }
    }
}
