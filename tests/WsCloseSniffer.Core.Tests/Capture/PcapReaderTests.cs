using WsCloseSniffer.Capture;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.Tests.Capture.CaptureTestSupport;

namespace WsCloseSniffer.Tests.Capture;

public class PcapReaderTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Read_EachByteOrderAndResolution_ReturnsPacketsTimestampsAndBytes(bool bigEndian, bool nanosecond)
    {
        var first = CaptureBytes.Frame(60, 1);
        var second = CaptureBytes.Frame(1514, 7);
        var bytes = new PcapFileBuilder(bigEndian, nanosecond, linkType: 113)
            .Packet(1_700_000_000, 123_456, first)
            .Packet(1_700_000_001, 999_999, second, originalLength: 4000)
            .ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Null(damage);
        Assert.Equal(2, packets.Count);
        long scale = nanosecond ? 1 : 1000;
        Assert.Equal(Nanoseconds(1_700_000_000, 123_456 * scale), packets[0].Timestamp.UnixNanoseconds);
        Assert.Equal(Nanoseconds(1_700_000_001, 999_999 * scale), packets[1].Timestamp.UnixNanoseconds);
        Assert.All(packets, p => Assert.Equal(LinkType.LinuxSll, p.LinkType));
        Assert.Equal(first, packets[0].Data);
        Assert.Equal(second, packets[1].Data);
        Assert.Equal(60, packets[0].OriginalLength);
        Assert.Equal(4000, packets[1].OriginalLength);
        Assert.Equal([1L, 2L], packets.Select(p => p.PacketNumber));
    }

    [Fact]
    public void Open_PcapStream_ReportsReaderTypeAndHeaderFields()
    {
        var bytes = new PcapFileBuilder(bigEndian: true, nanosecond: true, snapLength: 262144, linkType: 101).ToArray();

        using var source = Open(bytes);

        var reader = Assert.IsType<PcapReader>(source);
        Assert.True(reader.IsBigEndian);
        Assert.True(reader.IsNanosecond);
        Assert.Equal(262144u, reader.SnapLength);
        Assert.Equal(LinkType.Raw, reader.LinkType);
        Assert.False(reader.TryReadNext(out _));
        Assert.Null(reader.Damage);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_ModifiedFormat_SkipsTheEightExtraRecordHeaderBytes(bool bigEndian)
    {
        var first = CaptureBytes.Frame(60, 1);
        var second = CaptureBytes.Frame(1514, 7);
        var bytes = new PcapFileBuilder(bigEndian, linkType: 1, modified: true)
            .Packet(1_700_000_000, 123_456, first)
            .Packet(1_700_000_001, 999_999, second, originalLength: 4000)
            .ToArray();

        using var source = Open(bytes);
        var reader = Assert.IsType<PcapReader>(source);
        var packets = ReadAll(source);

        Assert.True(reader.IsModifiedFormat);
        Assert.False(reader.IsNanosecond);
        Assert.Equal(bigEndian, reader.IsBigEndian);
        Assert.Null(source.Damage);
        Assert.Equal(2, packets.Count);
        Assert.Equal(Nanoseconds(1_700_000_000, 123_456_000), packets[0].Timestamp.UnixNanoseconds);
        Assert.Equal(Nanoseconds(1_700_000_001, 999_999_000), packets[1].Timestamp.UnixNanoseconds);
        Assert.Equal(first, packets[0].Data);
        Assert.Equal(second, packets[1].Data);
        Assert.Equal(4000, packets[1].OriginalLength);
        Assert.Equal(24 + 24 + 60 + 24 + 1514, bytes.Length);
        Assert.Equal(bytes.Length, source.BytesRead);
    }

    [Fact]
    public void Read_ModifiedFormatTruncatedRecordHeader_NamesThe24ByteHeader()
    {
        var bytes = new PcapFileBuilder(modified: true).Packet(10, 0, CaptureBytes.Frame(60, 0)).Raw([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Single(packets);
        Assert.Equal(new CaptureDamage(24 + 24 + 60, 2, "file ends 18 bytes into a 24-byte record header"), damage);
    }

    [Fact]
    public void Open_GzipModifiedFormat_IsRecognisedFromTheDecompressedMagic()
    {
        var pcap = new PcapFileBuilder(modified: true).Packet(5, 6, CaptureBytes.Frame(80, 9)).ToArray();
        var (packets, damage) = ReadAll(CaptureBytes.Gzip(pcap));

        Assert.Null(damage);
        Assert.Equal(CaptureBytes.Frame(80, 9), Assert.Single(packets).Data);
    }

    [Fact]
    public void Read_LinkTypeFieldWithFcsBits_UsesLow16BitsAsLinkType()
    {
        // pcap draft section 4: bits 28-31 give the FCS length, bit 26 says it is present.
        var bytes = new PcapFileBuilder(linkType: 0x4400_0001).Packet(1, 0, [1, 2, 3]).ToArray();

        var (packets, _) = ReadAll(bytes);

        Assert.Equal(LinkType.Ethernet, Assert.Single(packets).LinkType);
    }

    [Fact]
    public void Read_TruncatedRecordBody_ReturnsEarlierPacketsThenDamageAtRecordOffset()
    {
        var builder = new PcapFileBuilder().Packet(10, 0, CaptureBytes.Frame(60, 0));
        long secondRecordOffset = builder.Length;
        var bytes = builder.Packet(11, 0, CaptureBytes.Frame(1514, 0)).ToArray().AsSpan(0, (int)secondRecordOffset + 16 + 37).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Single(packets);
        Assert.NotNull(damage);
        Assert.Equal(100, secondRecordOffset);
        Assert.Equal(100, damage.ByteOffset);
        Assert.Equal(2, damage.PacketNumber);
        Assert.Equal("file ends 37 bytes into a 1514-byte record", damage.Problem);
    }

    [Fact]
    public void Read_TruncatedRecordHeader_ReportsHeaderTruncation()
    {
        var bytes = new PcapFileBuilder().Packet(10, 0, CaptureBytes.Frame(60, 0)).Raw([1, 2, 3, 4, 5, 6, 7]).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Single(packets);
        Assert.Equal(new CaptureDamage(100, 2, "file ends 7 bytes into a 16-byte record header"), damage);
    }

    [Theory]
    [InlineData(65535u, 262145u)]
    [InlineData(65535u, 0x7FFF_FFFFu)]
    [InlineData(0xFFFF_FFFFu, 0x0100_0001u)]
    public void Read_ImpossibleCapturedLength_ReportsDamageWithoutAllocating(uint snapLength, uint capturedLength)
    {
        var bytes = new PcapFileBuilder(snapLength: snapLength)
            .Packet(1, 0, CaptureBytes.Frame(20, 0))
            .Packet(2, 0, CaptureBytes.Frame(20, 0), capturedLength: capturedLength)
            .ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Single(packets);
        Assert.NotNull(damage);
        Assert.Equal(24 + 16 + 20, damage.ByteOffset);
        Assert.Equal(2, damage.PacketNumber);
        Assert.StartsWith($"impossible captured length {capturedLength}", damage.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RecordLargerThanDefaultLimitButWithinSnapLength_IsReturned()
    {
        var big = CaptureBytes.Frame(2 * 1024 * 1024, 3);
        var bytes = new PcapFileBuilder(snapLength: 4 * 1024 * 1024).Packet(1, 0, [9]).Packet(2, 0, big).Packet(3, 0, [8]).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Null(damage);
        Assert.Equal(3, packets.Count);
        Assert.Equal(big, packets[1].Data);
        Assert.Equal([8], packets[2].Data);
    }

    [Fact]
    public void Read_TruncatedFileHeader_ReportsDamageAtOffsetZero()
    {
        var bytes = new PcapFileBuilder().ToArray().AsSpan(0, 10).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Empty(packets);
        Assert.Equal(new CaptureDamage(0, 1, "file ends 10 bytes into a 24-byte file header"), damage);
    }

    [Fact]
    public void Read_ManyPacketsAcrossBufferRefills_ReturnsEveryPacketIntact()
    {
        const int count = 30_000;
        var builder = new PcapFileBuilder();
        for (int i = 0; i < count; i++)
        {
            builder.Packet((uint)i, (uint)(i % 1_000_000), CaptureBytes.Frame(40 + (i % 97), (byte)i));
        }

        var bytes = builder.ToArray();
        using var source = Open(bytes);
        long number = 0;
        while (source.TryReadNext(out var packet))
        {
            int i = (int)number;
            number++;
            Assert.Equal(number, packet.PacketNumber);
            Assert.Equal(40 + (i % 97), packet.Data.Length);
            Assert.Equal((byte)i, packet.Data[0]);
            Assert.Equal((byte)(i + packet.Data.Length - 1), packet.Data[^1]);
            Assert.Equal(Nanoseconds(i, (i % 1_000_000) * 1000L), packet.Timestamp.UnixNanoseconds);
        }

        Assert.Null(source.Damage);
        Assert.Equal(count, number);
        Assert.Equal(bytes.Length, source.BytesRead);
        Assert.Equal(bytes.Length, source.TotalBytes);
    }

    [Fact]
    public void Read_NonSeekableStreamDeliveringFewBytesPerRead_ReturnsSamePackets()
    {
        var builder = new PcapFileBuilder(nanosecond: true);
        for (int i = 0; i < 50; i++)
        {
            builder.Packet((uint)i, (uint)i, CaptureBytes.Frame(33 + i, (byte)i));
        }

        var bytes = builder.ToArray();
        using var source = CaptureFile.Open(new CaptureTrickleStream(bytes, 3), "pipe");
        var packets = ReadAll(source);

        Assert.Null(source.Damage);
        Assert.Null(source.TotalBytes);
        Assert.Equal(50, packets.Count);
        Assert.Equal(CaptureBytes.Frame(33 + 49, 49), packets[49].Data);
        Assert.Equal(Nanoseconds(49, 49), packets[49].Timestamp.UnixNanoseconds);
        Assert.Equal(bytes.Length, source.BytesRead);
    }
}
