using WsCloseSniffer.Capture;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.Tests.Capture.CaptureTestSupport;

namespace WsCloseSniffer.Tests.Capture;

public class PcapNgReaderTests
{
    private const long Epoch = 1_700_000_000;

    // Block sizes without options: section header 28, interface description 20, packet blocks 32 + padded data.
    private const int SectionHeaderBytes = 28;
    private const int InterfaceBytes = 20;

    [Fact]
    public void Read_TwoInterfacesWithDifferentLinkTypesAndResolutions_ConvertsEachPacket()
    {
        var ethernet = CaptureBytes.Frame(60, 1);
        var raw = CaptureBytes.Frame(41, 2);
        var bytes = new PcapNgFileBuilder()
            .Section()
            .Interface(1, snapLength: 65535)                                 // default if_tsresol: microseconds
            .Interface(101, tsResolution: 9, tsOffsetSeconds: 100)           // nanoseconds, offset 100 s
            .EnhancedPacket(0, ((ulong)Epoch * 1_000_000) + 123_456, ethernet)
            .EnhancedPacket(1, ((ulong)Epoch * 1_000_000_000) + 987_654_321, raw, originalLength: 1500)
            .ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Null(damage);
        Assert.Equal(2, packets.Count);
        Assert.Equal(LinkType.Ethernet, packets[0].LinkType);
        Assert.Equal(Nanoseconds(Epoch, 123_456_000), packets[0].Timestamp.UnixNanoseconds);
        Assert.Equal(ethernet, packets[0].Data);
        Assert.Equal(60, packets[0].OriginalLength);
        Assert.Equal(LinkType.Raw, packets[1].LinkType);
        Assert.Equal(Nanoseconds(Epoch + 100, 987_654_321), packets[1].Timestamp.UnixNanoseconds);
        Assert.Equal(raw, packets[1].Data);
        Assert.Equal(1500, packets[1].OriginalLength);
        Assert.Equal([1L, 2L], packets.Select(p => p.PacketNumber));
    }

    [Theory]
    [InlineData(0x03, 1_000UL, 250UL, 250_000_000L)]               // milliseconds
    [InlineData(0x00, 1UL, 0UL, 0L)]                                // whole seconds
    [InlineData(0x0C, 1_000_000_000_000UL, 1_500UL, 1L)]          // picoseconds: floor to nanoseconds
    [InlineData(0x80 | 20, 1UL << 20, 1UL << 19, 500_000_000L)]   // 2^-20 s: half a second
    [InlineData(0x80 | 10, 1UL << 10, 1UL, 976_562L)]             // 2^-10 s = 976562.5 ns, floored
    public void Read_IfTsresol_ConvertsToNanoseconds(byte resolution, ulong unitsPerSecond, ulong fraction, long expectedNanoseconds)
    {
        ulong units = (42 * unitsPerSecond) + fraction;
        var bytes = new PcapNgFileBuilder().Section().Interface(1, tsResolution: resolution).EnhancedPacket(0, units, [1, 2, 3, 4]).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Null(damage);
        Assert.Equal(Nanoseconds(42, expectedNanoseconds), Assert.Single(packets).Timestamp.UnixNanoseconds);
    }

    [Fact]
    public void Read_NegativeTsOffset_IsAddedInSeconds()
    {
        var bytes = new PcapNgFileBuilder().Section().Interface(1, tsOffsetSeconds: -10).EnhancedPacket(0, 50_000_001, [1]).ToArray();

        var (packets, _) = ReadAll(bytes);

        Assert.Equal(Nanoseconds(40, 1_000), Assert.Single(packets).Timestamp.UnixNanoseconds);
    }

    [Fact]
    public void Read_SimpleObsoleteAndUnknownBlocks_ReturnsPacketsAndSkipsUnknown()
    {
        var simple = CaptureBytes.Frame(70, 3);
        var obsolete = CaptureBytes.Frame(45, 4);
        var bytes = new PcapNgFileBuilder()
            .Section()
            .Interface(1, snapLength: 64)
            .Interface(113)
            .Block(0x0000_0BAD, CaptureBytes.Frame(13 * 4, 0))  // custom block
            .Block(0x0000_0005, CaptureBytes.Frame(24, 0))      // interface statistics
            .SimplePacket(simple)
            .Block(0x1234_5678, [])                              // unknown, empty body
            .ObsoletePacket(1, (7 * 1_000_000UL) + 5, obsolete, originalLength: 99)
            .ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Null(damage);
        Assert.Equal(2, packets.Count);
        Assert.Equal(LinkType.Ethernet, packets[0].LinkType);
        Assert.Equal(simple.AsSpan(0, 64).ToArray(), packets[0].Data);    // cut to interface 0's snaplen
        Assert.Equal(70, packets[0].OriginalLength);
        Assert.Equal(Timestamp.Zero, packets[0].Timestamp);               // a simple packet has no timestamp
        Assert.Equal(LinkType.LinuxSll, packets[1].LinkType);
        Assert.Equal(obsolete, packets[1].Data);
        Assert.Equal(99, packets[1].OriginalLength);
        Assert.Equal(Nanoseconds(7, 5_000), packets[1].Timestamp.UnixNanoseconds);
        Assert.Equal([1L, 2L], packets.Select(p => p.PacketNumber));
    }

    [Fact]
    public void Read_TwoSectionsWithDifferentByteOrder_ResetsInterfacesPerSection()
    {
        var bytes = new PcapNgFileBuilder()
            .Section(bigEndian: false)
            .Interface(1)
            .Interface(113, tsResolution: 9)
            .EnhancedPacket(1, 5_000_000_007, [0xAA])
            .Section(bigEndian: true)
            .Interface(101, tsResolution: 3)
            .EnhancedPacket(0, 8_001, [0xBB, 0xCC])
            .ToArray();

        using var source = Open(bytes);
        var packets = ReadAll(source);

        Assert.Null(source.Damage);
        Assert.Equal(2, packets.Count);
        Assert.Equal(LinkType.LinuxSll, packets[0].LinkType);
        Assert.Equal(Nanoseconds(5, 7), packets[0].Timestamp.UnixNanoseconds);
        Assert.Equal(LinkType.Raw, packets[1].LinkType);
        Assert.Equal(Nanoseconds(8, 1_000_000), packets[1].Timestamp.UnixNanoseconds);
        Assert.Equal([0xBB, 0xCC], packets[1].Data);
        var reader = Assert.IsType<PcapNgReader>(source);
        Assert.Equal(2, reader.SectionCount);
        Assert.Equal(1, reader.InterfaceCount);
    }

    [Fact]
    public void Read_BigEndianFirstSection_IsRecognisedFromItsByteOrderMagic()
    {
        var bytes = new PcapNgFileBuilder().Section(bigEndian: true).Interface(1).EnhancedPacket(0, 3_000_002, [1, 2, 3]).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Null(damage);
        Assert.Equal(Nanoseconds(3, 2_000), Assert.Single(packets).Timestamp.UnixNanoseconds);
    }

    [Fact]
    public void Read_PacketForUnknownInterface_ReportsDamageAtThatBlock()
    {
        var builder = new PcapNgFileBuilder().Section().Interface(1).EnhancedPacket(0, 1, [1, 2, 3, 4]);
        long offset = builder.Length;
        var bytes = builder.EnhancedPacket(2, 1, [5]).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Single(packets);
        Assert.Equal(SectionHeaderBytes + InterfaceBytes + 36, offset);
        Assert.Equal(new CaptureDamage(offset, 2, "packet block refers to interface 2, but the section defines 1 interface(s)"), damage);
    }

    [Fact]
    public void Read_LinkTypeWeDoNotDecode_IsStillReturned()
    {
        var bytes = new PcapNgFileBuilder().Section().Interface(147).EnhancedPacket(0, 1, [1, 2]).ToArray();

        var (packets, _) = ReadAll(bytes);

        Assert.Equal((LinkType)147, Assert.Single(packets).LinkType);
    }

    [Theory]
    [InlineData(0x0000_0006u, 30u, null, "impossible block length 30")]                      // not a multiple of 4
    [InlineData(0x0000_0006u, 8u, null, "impossible block length 8")]                        // shorter than 12
    [InlineData(0x0000_0006u, 0xFFFF_FFF0u, null, "impossible block length 4294967280")]     // claims 4 GB
    [InlineData(0x1234_5678u, 0xFFFF_FFF0u, null, "impossible block length 4294967280")]     // unknown block too
    [InlineData(0x0000_0006u, null, 40u, "block length 44 does not match the trailing block length 40")]
    [InlineData(0x1234_5678u, null, 40u, "block length 44 does not match the trailing block length 40")]
    public void Read_ImpossibleBlockLengths_ReportDamageAtBlockOffset(uint type, uint? length, uint? trailer, string problemStart)
    {
        var builder = new PcapNgFileBuilder().Section().Interface(1).EnhancedPacket(0, 1, [1, 2, 3, 4]);
        long offset = builder.Length;
        var body = new byte[32];
        var bytes = builder.Block(type, body, length, trailer).EnhancedPacket(0, 2, [5]).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Single(packets);
        Assert.NotNull(damage);
        Assert.Equal(offset, damage.ByteOffset);
        Assert.Equal(2, damage.PacketNumber);
        Assert.StartsWith(problemStart, damage.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CapturedLengthBeyondBlock_ReportsDamage()
    {
        var builder = new PcapNgFileBuilder().Section().Interface(1);
        long offset = builder.Length;
        var body = new byte[24];
        body[12] = 200; // caplen (little-endian) 200 in a 36-byte block
        var bytes = builder.Block(6, body).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Empty(packets);
        Assert.Equal(new CaptureDamage(offset, 1, "captured length 200 does not fit in the 36-byte packet block"), damage);
    }

    [Fact]
    public void Read_FileEndsInsidePacketBlock_ReportsTruncation()
    {
        var builder = new PcapNgFileBuilder().Section().Interface(1).EnhancedPacket(0, 1, [1, 2, 3, 4]);
        long offset = builder.Length;
        var full = builder.EnhancedPacket(0, 2, CaptureBytes.Frame(1514, 0)).ToArray();
        var bytes = full.AsSpan(0, (int)offset + 37).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Single(packets);
        Assert.Equal(new CaptureDamage(offset, 2, "file ends 37 bytes into a 1548-byte block (type 0x00000006)"), damage);
    }

    [Fact]
    public void Read_FileEndsInsideUnknownBlock_ReportsTruncation()
    {
        var builder = new PcapNgFileBuilder().Section();
        long offset = builder.Length;
        var full = builder.Block(0x0000_0BAD, new byte[2000]).ToArray();
        var bytes = full.AsSpan(0, (int)offset + 1000).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Empty(packets);
        Assert.Equal(new CaptureDamage(offset, 1, "file ends 1000 bytes into a 2012-byte block (type 0x00000BAD)"), damage);
    }

    [Fact]
    public void Read_FileEndsInsideBlockHeader_ReportsTruncation()
    {
        var bytes = new PcapNgFileBuilder().Section().Interface(1).Raw([6, 0, 0]).ToArray();

        var (_, damage) = ReadAll(bytes);

        Assert.Equal(new CaptureDamage(SectionHeaderBytes + InterfaceBytes, 1, "file ends 3 bytes into a 8-byte block header"), damage);
    }

    [Fact]
    public void Read_UnsupportedMajorVersion_ReportsDamage()
    {
        var bytes = new PcapNgFileBuilder().Section(major: 2).ToArray();

        var (_, damage) = ReadAll(bytes);

        Assert.Equal(new CaptureDamage(0, 1, "unsupported pcapng version 2.0"), damage);
    }

    [Fact]
    public void Read_InvalidByteOrderMagic_ReportsDamage()
    {
        var bytes = new PcapNgFileBuilder().Section().ToArray();
        bytes[8] = 0x00;

        var (_, damage) = ReadAll(bytes);

        Assert.Equal(new CaptureDamage(0, 1, "section header has an invalid byte-order magic 0x1A2B3C00"), damage);
    }

    [Fact]
    public void Read_BlockLargerThanReadBuffer_IsReturned()
    {
        var big = CaptureBytes.Frame(3 * 1024 * 1024, 5);
        var bytes = new PcapNgFileBuilder().Section().Interface(1).EnhancedPacket(0, 1, big).EnhancedPacket(0, 2, [7]).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Null(damage);
        Assert.Equal(2, packets.Count);
        Assert.Equal(big, packets[0].Data);
    }
}
