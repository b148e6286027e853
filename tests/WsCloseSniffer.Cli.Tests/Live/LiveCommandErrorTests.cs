using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Live;

/// <summary>The one-line errors of <c>live</c> and the <c>interfaces</c> listing; need libpcap, not root.</summary>
public sealed class LiveCommandErrorTests
{
    [SkippableFact]
    public void Live_UnknownInterface_ExitsTwoListingTheRealInterfaces()
    {
        LivePrerequisites.RequireLibpcap();

        var result = CliRunner.Run("live", "--interface", "nosuchif0", "--duration", "1");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("wsclosesniffer: no capture interface named 'nosuchif0'; the interfaces are: ", line, StringComparison.Ordinal);
        foreach (var real in WsCloseSniffer.Pcap.CaptureInterface.List())
        {
            Assert.Contains(real.Name, line, StringComparison.Ordinal);
        }

        Assert.Equal(string.Empty, result.Out);
    }

    [Fact]
    public void Live_BothReportsOnStdout_IsUsageError()
    {
        var result = CliRunner.Run("live", "--interface", "lo", "--csv", "-", "--json", "-");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot both write to stdout", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public void Live_NonPositiveDuration_IsUsageError(string duration)
    {
        var result = CliRunner.Run("live", "--interface", "lo", "--duration", duration);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--duration must be a positive number of seconds", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Live_WithoutInterface_IsUsageError()
    {
        var result = CliRunner.Run("live");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--interface", result.Error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Interfaces_ListsLoopbackLikeTcpdump()
    {
        LivePrerequisites.RequireLibpcap();
        Skip.IfNot(OperatingSystem.IsLinux(), "the loopback interface is named lo on Linux");

        var result = CliRunner.Run("interfaces");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int lo = Array.FindIndex(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\d+\.lo \[Up, Running, Loopback\]$"));
        Assert.True(lo >= 0, result.Out);
        Assert.Contains("127.0.0.1", lines[lo + 1], StringComparison.Ordinal);
        Assert.StartsWith("1.", lines[0], StringComparison.Ordinal);
    }
}
