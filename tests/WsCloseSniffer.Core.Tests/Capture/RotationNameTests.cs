using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Tests.Capture;

public sealed class RotationNameTests
{
    private static readonly HashSet<string> s_noBases = new(StringComparer.Ordinal);

    [Theory]
    [InlineData("trace.pcap1", RotationNaming.TcpdumpCount, "trace.pcap")]
    [InlineData("trace.pcap12", RotationNaming.TcpdumpCount, "trace.pcap")]
    [InlineData("trace.pcap07", RotationNaming.TcpdumpCount, "trace.pcap")]
    [InlineData("trace.pcap3.gz", RotationNaming.TcpdumpCount, "trace.pcap.gz")]
    [InlineData("ring_00001_20261203101500.pcapng", RotationNaming.DumpcapRing, "ring_#_#.pcapng")]
    [InlineData("ring_00002_20261203101612.pcap", RotationNaming.DumpcapRing, "ring_#_#.pcap")]
    [InlineData("trace-20261203-101500.pcap", RotationNaming.TcpdumpTime, "trace-########-######.pcap")]
    [InlineData("host_2026-12-03_10:15.pcap", RotationNaming.TcpdumpTime, "host_####-##-##_##:##.pcap")]
    [InlineData("trace-1764756900.pcap", RotationNaming.TcpdumpTime, "trace-##########.pcap")]
    public void TryParse_ToolsRotationNames_StemAndScheme(string fileName, RotationNaming naming, string stem)
    {
        Assert.True(RotationName.TryParse(fileName, s_noBases, out var name));

        Assert.Equal(naming, name.Naming);
        Assert.Equal(stem, name.Stem);
    }

    [Theory]
    [InlineData("web1.pcap")]
    [InlineData("capture.pcap")]
    [InlineData("07-ipv6-going-away-1001.pcap")]
    [InlineData("20-wss-tls13-aes128gcm-1000.pcap")]
    [InlineData("host-20261340-1015.pcap")]
    [InlineData("trace-0123456789.pcap")]
    [InlineData("cap-20261203-1015-eth0.pcap")]
    public void TryParse_OtherNames_NotARotation(string fileName)
    {
        Assert.False(RotationName.TryParse(fileName, s_noBases, out _));
    }

    [Fact]
    public void TryParse_UnnumberedFirstFileOfACountedRotation_SortsFirst()
    {
        var bases = new HashSet<string>(["trace.pcap"], StringComparer.Ordinal);

        Assert.True(RotationName.TryParse("trace.pcap", bases, out var first));
        Assert.True(RotationName.TryParse("trace.pcap1", bases, out var second));
        Assert.True(RotationName.TryParse("trace.pcap10", bases, out var tenth));
        Assert.True(RotationName.TryParse("trace.pcap2", bases, out var third));

        Assert.Equal(first.Stem, second.Stem);
        Assert.Equal(
            ["trace.pcap", "trace.pcap1", "trace.pcap2", "trace.pcap10"],
            new[] { (first, "trace.pcap"), (tenth, "trace.pcap10"), (third, "trace.pcap2"), (second, "trace.pcap1") }
                .OrderBy(n => n.Item1.Sequence, StringComparer.Ordinal).Select(n => n.Item2));
    }
}
