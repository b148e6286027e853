using WsCloseSniffer.Capture;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>
/// The captures in samples/pcaps through the CLI, compared byte for byte with checked-in baselines.
/// After an intended change of output, regenerate with UPDATE_BASELINES=1 and review the diff.
/// </summary>
public sealed class SampleBaselineTests
{
    /// <summary>Sessions in the samples' CSV baseline: what any run over samples/pcaps must report.</summary>
    internal static int BaselineSessionCount =>
        File.ReadAllLines(Path.Combine(BaselineDirectory, "samples.csv")).Count(line => line.Length > 0) - 1;

    private static string BaselineDirectory => Path.Combine(RepositoryPaths.Root, "tests", "WsCloseSniffer.Cli.Tests", "Baselines");

    [Theory]
    [InlineData("samples.csv", "--csv")]
    [InlineData("samples.jsonl", "--json")]
    public void Analyze_Samples_MatchesBaseline(string baseline, string option)
    {
        var result = CliRunner.Run("analyze", RepositoryPaths.Samples, option, "-", "--quiet");

        Assert.True(result.ExitCode == 0, result.Error);
        AssertMatchesBaseline(baseline, result.Out);
    }

    [Fact]
    public void Analyze_SamplesWithoutReportOption_PrintsSummaryBaseline()
    {
        var result = CliRunner.Run("analyze", RepositoryPaths.Samples, "--quiet");

        Assert.Equal(0, result.ExitCode);

        // The one warning: 14-snaplen-96-1000.pcap was captured with a 96-byte snap length.
        var warning = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("wsclosesniffer: packets were cut to 96 bytes by the capture's snap length: ", warning, StringComparison.Ordinal);
        AssertMatchesBaseline("samples-summary.txt", result.Out);
    }

    [Fact]
    public void Analyze_SameInputTwice_GivesByteIdenticalReports()
    {
        var first = CliRunner.Run("analyze", RepositoryPaths.Samples, "--csv", "-", "--quiet");
        var second = CliRunner.Run("analyze", RepositoryPaths.Samples, "--csv", "-", "--quiet");

        Assert.Equal(first.Out, second.Out);
    }

    /// <summary>
    /// The baselines hold <c>{capture_set}</c> where a run writes its capture_set: that id hashes the absolute paths of
    /// the inputs, which differ between checkouts.
    /// </summary>
    private static void AssertMatchesBaseline(string name, string actual)
    {
        var captureSet = ReportColumns.CaptureSetOf(CaptureInputs.Expand([RepositoryPaths.Samples]).Select(i => i.Path));
        Assert.True(name.EndsWith(".txt", StringComparison.Ordinal) || actual.Contains(captureSet, StringComparison.Ordinal), $"the report does not carry the run's capture_set {captureSet}");
        actual = actual.Replace(captureSet, "{capture_set}", StringComparison.Ordinal);
        var path = Path.Combine(BaselineDirectory, name);
        if (Environment.GetEnvironmentVariable("UPDATE_BASELINES") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"baseline {path} is missing: run the tests once with UPDATE_BASELINES=1 and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
