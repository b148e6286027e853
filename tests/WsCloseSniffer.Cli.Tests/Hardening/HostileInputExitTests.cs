using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Hardening;

/// <summary>
/// Each hostile input, run through the command line, ends with exit 0 or 2, a message where
/// the file is damaged, and the real sessions still reported. Memory bounds for the same inputs are measured in
/// WsCloseSniffer.Core.Tests (Hardening/ResourceBoundTests), where the allocation can be attributed.
/// </summary>
public sealed class HostileInputExitTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("wsclosesniffer-hostile-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static SessionPacketBuilder RealConnection => ClosedSessions.Connection("example.test", "/chat", "x-a", "x-b", 1001, "bye"u8.ToArray());

    private static byte[] RealSession => SessionPacketBuilder.ToPcap(RealConnection);

    [Fact]
    public void Analyze_300000SynsAroundOneSession_ExitZeroSessionReportedEvictionsCounted()
    {
        var file = Write("flood.pcap", SessionPacketBuilder.SynFloodAround(300_000, 1_800_000_000, RealConnection));

        var result = CliRunner.Run("analyze", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Error);
        Assert.Contains("1 WebSocket session in 1 capture file (300010 packets, 300001 TCP connections)", result.Out, StringComparison.Ordinal);
        Assert.Contains("going_away", result.Out, StringComparison.Ordinal);
        Assert.Contains("connections evicted by the connection cap", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_GzipOfTwoGigabytesOfZeros_ExitTwoNotACapture()
    {
        var file = Write("bomb.pcap.gz", CaptureBytes.GzipMembers(new byte[64 * 1024 * 1024], 32));

        var result = CliRunner.Run("analyze", file, "--csv", "-", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("wsclosesniffer: bomb.pcap.gz: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("its decompressed content starts with 00000000", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("none", 2, "not a capture file")]
    [InlineData("pcap", 2, "damaged capture at byte offset")]
    [InlineData("pcapng", 2, "damaged capture at byte offset")]
    [InlineData("session+random", 2, "damaged capture at byte offset")]
    public void Analyze_RandomBytes_ExitTwoWithMessage(string prefix, int exitCode, string message)
    {
        var random = new byte[256 * 1024];
        new Random(prefix.Length).NextBytes(random);
        random[0] = 0x00; // never a magic number by chance
        var head = prefix switch
        {
            "pcap" => RealSession[..24],
            "pcapng" => new PcapNgFileBuilder().Section().ToArray(),
            "session+random" => RealSession,
            _ => [],
        };

        var result = CliRunner.Run("analyze", Write("random.pcap", [.. head, .. random]), "--csv", "-", "--quiet");

        Assert.Equal(exitCode, result.ExitCode);
        Assert.StartsWith("wsclosesniffer: random.pcap: ", result.Error, StringComparison.Ordinal);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        var sessions = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(prefix == "session+random" ? 1 : 0, sessions.Count);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_temp, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
