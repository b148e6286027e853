using WsCloseSniffer.Capture;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.Tests.Capture.CaptureTestSupport;

namespace WsCloseSniffer.Tests.Capture;

public class CaptureFileTests
{
    private const int CaptureBufferReadBytes = 64 * 1024;

    public static TheoryData<string, bool> Formats => new()
    {
        { "pcap-le-micro", false }, { "pcap-be-micro", false }, { "pcap-le-nano", false }, { "pcap-be-nano", false },
        { "pcap-le-modified", false }, { "pcap-be-modified", false },
        { "pcapng-two-sections", false }, { "pcapng-two-le-sections", false },
        { "pcap-le-micro", true }, { "pcap-be-micro", true }, { "pcap-le-nano", true }, { "pcap-be-nano", true },
        { "pcap-le-modified", true }, { "pcap-be-modified", true },
        { "pcapng-two-sections", true }, { "pcapng-two-le-sections", true },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Open_EachFormatPlainOrGzip_RecognisedByContentNotName(string format, bool gzip)
    {
        var content = Build(format);
        var bytes = gzip ? CaptureBytes.Gzip(content) : content;

        using var source = CaptureFile.Open(new MemoryStream(bytes), "misleading-name.txt");
        var packets = ReadAll(source);

        Assert.Null(source.Damage);
        Assert.Equal("misleading-name.txt", source.Name);
        Assert.Equal(3, packets.Count);
        Assert.Equal(CaptureBytes.Frame(60, 1), packets[0].Data);
        Assert.Equal(CaptureBytes.Frame(61, 2), packets[1].Data);
        Assert.Equal(CaptureBytes.Frame(62, 3), packets[2].Data);
        Assert.Equal(Nanoseconds(1_700_000_000, 1_000), packets[0].Timestamp.UnixNanoseconds);
        Assert.Equal(Nanoseconds(1_700_000_002, 3_000), packets[2].Timestamp.UnixNanoseconds);
        Assert.Equal(bytes.Length, source.BytesRead);
        Assert.Equal(bytes.Length, source.TotalBytes);
        Assert.IsType(format.StartsWith("pcapng", StringComparison.Ordinal) ? typeof(PcapNgReader) : typeof(PcapReader), source);
    }

    [Fact]
    public void Open_MultiMemberGzip_ReadsAcrossMembers()
    {
        var first = new PcapFileBuilder().Packet(1, 0, [1, 1]).ToArray();
        var second = new PcapFileBuilder().Packet(2, 0, [2, 2]).ToArray()[24..];
        var bytes = CaptureBytes.Gzip(first).Concat(CaptureBytes.Gzip(second)).ToArray();

        var (packets, damage) = ReadAll(bytes);

        Assert.Null(damage);
        Assert.Equal([[1, 1], [2, 2]], packets.Select(p => p.Data));
    }

    [Fact]
    public void Open_GzipWithCorruptTrailer_ReturnsPacketsThenGzipDamageAtARecordBoundary()
    {
        // 4000 records of 16 + 100 bytes: far more than one 64 KiB decompression read.
        var builder = new PcapFileBuilder();
        for (int i = 0; i < 4000; i++)
        {
            builder.Packet((uint)i, 0, CaptureBytes.Frame(100, (byte)i));
        }

        var bytes = CaptureBytes.Gzip(builder.ToArray());
        bytes[^8] ^= 0xFF; // CRC-32 of the member (RFC 1952 section 2.3)

        var (packets, damage) = ReadAll(bytes);

        Assert.NotNull(damage);
        Assert.InRange(packets.Count, 4000 - (CaptureBufferReadBytes / 116) - 1, 3999);
        Assert.Equal(CaptureBytes.Frame(100, (byte)(packets.Count - 1)), packets[^1].Data);
        Assert.Equal(24 + (packets.Count * 116L), damage.ByteOffset);
        Assert.Equal(packets.Count + 1, damage.PacketNumber);
        Assert.StartsWith("gzip data is corrupt", damage.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_GzipWithCorruptDeflateData_NeverThrows()
    {
        var builder = new PcapFileBuilder();
        for (int i = 0; i < 2000; i++)
        {
            builder.Packet((uint)i, 0, CaptureBytes.Frame(100, (byte)(i * 7)));
        }

        var bytes = CaptureBytes.Gzip(builder.ToArray());
        for (int i = bytes.Length / 2; i < (bytes.Length / 2) + 64; i++)
        {
            bytes[i] = 0xFF;
        }

        var (packets, damage) = ReadAll(bytes);

        Assert.NotNull(damage);
        Assert.InRange(packets.Count, 1, 1999);
        Assert.Equal(packets.Count + 1, damage.PacketNumber);
    }

    [Fact]
    public void Open_UnknownMagic_ThrowsNamingFileAndBytes()
    {
        var ex = Assert.Throws<CaptureFormatException>(() => Open("GIF89a..."u8.ToArray(), "picture.pcap"));

        Assert.Contains("picture.pcap", ex.Message, StringComparison.Ordinal);
        Assert.Contains("47494638", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_GzipOfSomethingElse_ThrowsNamingDecompressedBytes()
    {
        var ex = Assert.Throws<CaptureFormatException>(() => Open(CaptureBytes.Gzip("hello world"u8.ToArray()), "notes.gz"));

        Assert.Contains("notes.gz", ex.Message, StringComparison.Ordinal);
        Assert.Contains("68656C6C", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_EmptyFile_ThrowsSayingEmpty()
    {
        var ex = Assert.Throws<CaptureFormatException>(() => Open([], "empty.pcap"));

        Assert.Contains("empty.pcap", ex.Message, StringComparison.Ordinal);
        Assert.Contains("empty", ex.Message.Replace("empty.pcap", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ShorterThanMagic_ThrowsWithBytesFound()
    {
        var ex = Assert.Throws<CaptureFormatException>(() => Open([0xD4, 0xC3], "short.pcap"));

        Assert.Contains("D4C3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MissingFile_ThrowsFileNotFound()
    {
        string path = Path.Combine(Path.GetTempPath(), "wscs-" + Guid.NewGuid().ToString("N") + ".pcap");

        Assert.Throws<FileNotFoundException>(() => CaptureFile.Open(path));
    }

    [Fact]
    public void Open_PathOnDisk_NamesSourceByFileNameAndReportsSize()
    {
        string path = Path.Combine(Path.GetTempPath(), "wscs-" + Guid.NewGuid().ToString("N") + ".bin");
        var bytes = CaptureBytes.Gzip(Build("pcapng-two-sections"));
        File.WriteAllBytes(path, bytes);
        try
        {
            using var source = CaptureFile.Open(path);
            int count = ReadAll(source).Count;

            Assert.Equal(3, count);
            Assert.Equal(Path.GetFileName(path), source.Name);
            Assert.Equal(bytes.Length, source.TotalBytes);
            Assert.Equal(bytes.Length, source.BytesRead);
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static byte[] Build(string format)
    {
        var frames = new[] { CaptureBytes.Frame(60, 1), CaptureBytes.Frame(61, 2), CaptureBytes.Frame(62, 3) };
        if (format == "pcapng-two-le-sections")
        {
            return new PcapNgFileBuilder()
                .Section()
                .Interface(1)
                .EnhancedPacket(0, 1_700_000_000_000_001, frames[0])
                .EnhancedPacket(0, 1_700_000_001_000_002, frames[1])
                .Section()
                .Interface(1, tsResolution: 9, tsOffsetSeconds: 1)
                .EnhancedPacket(0, 1_700_000_001_000_003_000, frames[2])
                .ToArray();
        }

        if (format.StartsWith("pcapng", StringComparison.Ordinal))
        {
            return new PcapNgFileBuilder()
                .Section(bigEndian: false)
                .Interface(1)
                .EnhancedPacket(0, 1_700_000_000_000_001, frames[0])
                .EnhancedPacket(0, 1_700_000_001_000_002, frames[1])
                .Section(bigEndian: true)
                .Interface(1, tsResolution: 9)
                .EnhancedPacket(0, 1_700_000_002_000_003_000, frames[2])
                .ToArray();
        }

        bool bigEndian = format.Contains("-be-", StringComparison.Ordinal);
        bool nano = format.EndsWith("nano", StringComparison.Ordinal);
        uint scale = nano ? 1000u : 1u;
        bool modified = format.EndsWith("modified", StringComparison.Ordinal);
        return new PcapFileBuilder(bigEndian, nano, modified: modified)
            .Packet(1_700_000_000, 1 * scale, frames[0])
            .Packet(1_700_000_001, 2 * scale, frames[1])
            .Packet(1_700_000_002, 3 * scale, frames[2])
            .ToArray();
    }
}
