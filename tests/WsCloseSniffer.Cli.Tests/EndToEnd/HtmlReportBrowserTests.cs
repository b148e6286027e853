using System.Diagnostics;
using System.Text.RegularExpressions;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>
/// The HTML report of samples/pcaps opened from disk in headless Chromium: the script runs to its end without an
/// error, the table has one row per session, filtering from the address hides the right rows, and a screenshot is
/// saved under the test output (html-report/samples.png). Skipped where no chromium is installed (.ci/run installs it).
/// </summary>
public sealed class HtmlReportBrowserTests
{
    private static readonly TimeSpan s_browserTimeout = TimeSpan.FromSeconds(90);

    private static string? Chromium =>
        new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);

    [SkippableFact]
    public void HtmlReport_OfSamples_RendersOneRowPerSessionAndFilters()
    {
        Skip.If(Chromium is null, "no chromium on PATH (apt-get install chromium; .ci/run does): the page cannot be opened in a browser here");
        var output = Path.Combine(AppContext.BaseDirectory, "html-report");
        Directory.CreateDirectory(output);
        var page = Path.Combine(output, "samples.html");
        var csv = CliRunner.Run("analyze", RepositoryPaths.Samples, "--csv", "-", "--quiet");
        var run = CliRunner.Run("analyze", RepositoryPaths.Samples, "--html", page, "--quiet");
        Assert.True(run.ExitCode == 0, run.Error);
        var sessions = csv.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1;
        var goingAway = csv.Out.Split('\n').Count(line => line.Contains(",going_away,", StringComparison.Ordinal));
        Assert.Equal(SampleBaselineTests.BaselineSessionCount, sessions);
        Assert.Equal(2, goingAway);

        var uri = new Uri(page).AbsoluteUri;
        var (all, allErrors) = Browse("--dump-dom", uri);
        Assert.Contains("data-ready=\"yes\"", all, StringComparison.Ordinal);
        Assert.DoesNotContain("Uncaught", allErrors, StringComparison.Ordinal);
        Assert.Equal(sessions, VisibleRows(all));
        Assert.Equal(0, HiddenRows(all));
        Assert.Contains($"{sessions} of {sessions} sessions shown", all, StringComparison.Ordinal);

        var (byClass, _) = Browse("--dump-dom", uri + "#class=going_away");
        Assert.Equal(goingAway, VisibleRows(byClass));
        Assert.Equal(sessions - goingAway, HiddenRows(byClass));
        Assert.Contains($"{goingAway} of {sessions} sessions shown", byClass, StringComparison.Ordinal);

        var (byText, _) = Browse("--dump-dom", uri + "#filter=FORBIDDEN");
        Assert.Equal(1, VisibleRows(byText));
        Assert.Matches("<tr data-class=\"handshake_rejected\">", byText);

        var screenshot = Path.Combine(output, "samples.png");
        File.Delete(screenshot);
        Browse($"--screenshot={screenshot}", uri);
        Assert.True(new FileInfo(screenshot).Length > 10_000, $"no screenshot at {screenshot}");
    }

    private static int VisibleRows(string dom) => Regex.Count(dom, "<tr data-class=\"[a-z_]+\">");

    private static int HiddenRows(string dom) => Regex.Count(dom, "<tr data-class=\"[a-z_]+\" hidden=\"\">");

    private static (string Out, string Error) Browse(string action, string uri)
    {
        var profile = Directory.CreateTempSubdirectory("wscs-chromium-");
        try
        {
            var start = new ProcessStartInfo(Chromium!)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
                "--enable-logging=stderr", "--window-size=1400,1500", $"--user-data-dir={profile.FullName}", action, uri,
            })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(s_browserTimeout))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"chromium did not finish {action} within {s_browserTimeout.TotalSeconds} s");
            }

            process.WaitForExit();
            return (stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
