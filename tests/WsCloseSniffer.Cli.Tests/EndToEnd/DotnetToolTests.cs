using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>
/// The Cli project packed as a .NET tool, installed into a temporary --tool-path and run on samples/pcaps: the same
/// report as in-process, the packed runtimeconfig keeps the measured performance settings, and the package carries its
/// licence and source revision. Packing is slow, so one test packs and checks all of it.
/// </summary>
public sealed class DotnetToolTests
{
    [Fact]
    public void PackedTool_Installed_GivesTheSameReportAndKeepsThePerformanceSettings()
    {
        var work = Directory.CreateTempSubdirectory("wscs-tool-");
        try
        {
            var packages = Path.Combine(work.FullName, "nupkg");
            var tools = Path.Combine(work.FullName, "tools");
            Run("dotnet", TimeSpan.FromMinutes(6), "pack", Path.Combine(RepositoryPaths.Root, "src", "WsCloseSniffer.Cli"), "-o", packages, "--nologo");
            var package = Assert.Single(Directory.GetFiles(packages, "WsCloseSniffer.*.nupkg"));

            using (var zip = ZipFile.OpenRead(package))
            {
                Assert.NotNull(zip.GetEntry("README.md"));
                Assert.Contains(zip.Entries, entry => entry.FullName.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
                var config = zip.Entries.Single(entry => entry.FullName.EndsWith("/wsclosesniffer.runtimeconfig.json", StringComparison.Ordinal));
                using var stream = config.Open();
                using var json = JsonDocument.Parse(stream);
                var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
                Assert.False(properties.GetProperty("System.Runtime.TieredCompilation").GetBoolean());
                Assert.True(properties.GetProperty("System.GC.RetainVM").GetBoolean());

                using var nuspecStream = zip.GetEntry("WsCloseSniffer.nuspec")!.Open();
                var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(element => element.Name.LocalName == "metadata");
                var license = metadata.Elements().Single(element => element.Name.LocalName == "license");
                Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));
                var repository = metadata.Elements().Single(element => element.Name.LocalName == "repository");
                Assert.Equal("git", (string?)repository.Attribute("type"));
                Assert.Equal(Run("git", TimeSpan.FromSeconds(30), "-C", RepositoryPaths.Root, "rev-parse", "HEAD").Trim(), (string?)repository.Attribute("commit"));
            }

            Run("dotnet", TimeSpan.FromMinutes(3), "tool", "install", "--tool-path", tools, "--add-source", packages, "WsCloseSniffer");
            var installed = Run(Path.Combine(tools, "wsclosesniffer"), TimeSpan.FromMinutes(2), "analyze", RepositoryPaths.Samples, "--csv", "-", "--quiet");
            var inProcess = CliRunner.Run("analyze", RepositoryPaths.Samples, "--csv", "-", "--quiet");

            Assert.Equal(0, inProcess.ExitCode);
            Assert.Equal(SampleBaselineTests.BaselineSessionCount + 1, installed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.Equal(inProcess.Out, installed);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The package's repository address is the origin of the clone it was packed from (Source Link, switched on by
    /// PublishRepositoryUrl): checked on a throw-away clone whose origin is a published-looking address, since the
    /// clone under test may have none or a local path (which Source Link rightly leaves out).
    /// </summary>
    [Fact]
    public void PackageMetadata_NamesTheOriginOfTheCloneItWasPackedFrom()
    {
        var work = Directory.CreateTempSubdirectory("wscs-origin-");
        try
        {
            var clone = Path.Combine(work.FullName, "clone");
            const string origin = "https://example.org/someone/wsclosesniffer-fork.git";
            Run("git", TimeSpan.FromMinutes(1), "clone", "--quiet", "--shared", RepositoryPaths.Root, clone);
            Run("git", TimeSpan.FromSeconds(30), "-C", clone, "remote", "set-url", "origin", origin);
            var json = Run(
                "dotnet",
                TimeSpan.FromMinutes(2),
                "msbuild",
                Path.Combine(clone, "src", "WsCloseSniffer.Cli", "WsCloseSniffer.Cli.csproj"),
                "-nologo",
                "-t:InitializeSourceControlInformation",
                "-getProperty:PublishRepositoryUrl",
                "-getProperty:PrivateRepositoryUrl",
                "-getProperty:PackageLicenseExpression");
            using var document = JsonDocument.Parse(json);
            var properties = document.RootElement.GetProperty("Properties");
            Assert.Equal("true", properties.GetProperty("PublishRepositoryUrl").GetString());
            Assert.Equal(origin, properties.GetProperty("PrivateRepositoryUrl").GetString());
            Assert.Equal("MIT", properties.GetProperty("PackageLicenseExpression").GetString());
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string Run(string program, TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish within {timeout}");
        }

        process.WaitForExit();
        var output = stdout.GetAwaiter().GetResult();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {output}{stderr.GetAwaiter().GetResult()}");
        return output;
    }
}
