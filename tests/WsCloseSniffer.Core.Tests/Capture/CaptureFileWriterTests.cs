using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Tests.Capture;

/// <summary>--write-pcap's files read back by our capture reader (checked itself against libpcap elsewhere).</summary>
public sealed class CaptureFileWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("wsclosesniffer-writer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("out.pcap")]
    [InlineData("out.pcapng")]
    [InlineData("OUT.PCAPNG")]
    public void Write_ThenRead_GivesSameFramesTimesAndLengths(string name)
    {
        string path = Path.Combine(_directory, name);
        var frames = new[]
        {
            (Time: Timestamp.FromSeconds(1_764_000_000, 123_456_000), Data: TcpFrame(1), Original: 0),
            (Time: Timestamp.FromSeconds(1_764_000_001, 999_999_000), Data: TcpFrame(3), Original: 1514),
            (Time: Timestamp.FromSeconds(1_764_000_002, 0), Data: new byte[] { 0xde, 0xad, 0xbe }, Original: 3),
        };
        using (var writer = CaptureFileWriter.Create(path, LinkType.Ethernet, 262144, "lo"))
        {
            foreach (var frame in frames)
            {
                writer.Write(frame.Time, frame.Data, frame.Original);
            }

            Assert.Equal(3, writer.Frames);
        }

        using var source = CaptureFile.Open(path);
        var read = new List<(long, byte[], int, LinkType)>();
        while (source.TryReadNext(out var packet))
        {
            read.Add((packet.Timestamp.UnixNanoseconds, packet.Data.ToArray(), packet.OriginalLength, packet.LinkType));
        }

        Assert.Equal(
            frames.Select(f => (f.Time.UnixNanoseconds, f.Data, Math.Max(f.Original, f.Data.Length), LinkType.Ethernet)),
            read);
    }

    [Fact]
    public void Create_PcapNgName_WritesPcapNgMagic()
    {
        string path = Path.Combine(_directory, "x.pcapng");
        using (CaptureFileWriter.Create(path, LinkType.Ethernet, 65535))
        {
        }

        Assert.Equal(new byte[] { 0x0a, 0x0d, 0x0d, 0x0a }, File.ReadAllBytes(path)[..4]);
    }

    [Fact]
    public void Create_PcapName_WritesWhatTheTestBuilderWritesFieldByField()
    {
        string path = Path.Combine(_directory, "x.pcap");
        var first = TcpFrame(5);
        var second = TcpFrame(0);
        using (var writer = CaptureFileWriter.Create(path, LinkType.Ethernet, 262144))
        {
            writer.Write(Timestamp.FromSeconds(1_764_000_000, 123_456_789), first, 0);
            writer.Write(Timestamp.FromSeconds(1_764_000_001, 0), second, 1514);
        }

        var expected = new PcapFileBuilder(snapLength: 262144)
            .Packet(1_764_000_000, 123_456, first)
            .Packet(1_764_000_001, 0, second, originalLength: 1514)
            .ToArray();
        Assert.Equal(PacketFrames.ToHex(expected), PacketFrames.ToHex(File.ReadAllBytes(path)));
    }

    private static byte[] TcpFrame(int payloadBytes) =>
        PacketFrames.EthernetIPv4Tcp(TcpSpec.Default() with { SourcePort = 50000, DestinationPort = 8080, Payload = new byte[payloadBytes] }, "127.0.0.1", "127.0.0.1");
}
