using System.Text.Json;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>
/// Samples 40 and 41: one session recorded by tcpdump -G 1 into three files, and the same packets merged by mergecap
/// into one. Read as one capture, the three give the whole capture's report.
/// </summary>
public sealed class RotatedCaptureTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("wsclosesniffer-rotated-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string RotatedDirectory => Path.Combine(RepositoryPaths.Samples, "40-rotated-1000");

    private static string Whole => Path.Combine(RepositoryPaths.Samples, "41-rotated-1000-whole.pcap");

    private static string[] RotatedFiles => [.. Directory.GetFiles(RotatedDirectory).Order(StringComparer.Ordinal)];

    private static List<JsonElement> Sessions(params string[] args)
    {
        var result = CliRunner.Run(["analyze", .. args, "--json", "-", "--quiet"]);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");
        return [.. result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
    }

    /// <summary>Every column but those that name the run's files (session_id is per run).</summary>
    private static string Content(JsonElement session) =>
        string.Join('|', session.EnumerateObject()
            .Where(p => p.Name is not ("session_id" or "capture_file" or "capture_set"))
            .Select(p => $"{p.Name}={p.Value}"));

    [Fact]
    public void Analyze_RotatedDirectory_JoinedAndSameReportAsTheWholeCapture()
    {
        var joined = Sessions(RotatedDirectory);
        var whole = Sessions(Whole);

        Assert.Equal(3, RotatedFiles.Length);
        var session = Assert.Single(joined);
        Assert.Equal("normal_closure", session.GetProperty("classification").GetString());
        Assert.Equal(whole.Select(Content), joined.Select(Content));

        // Reported under the file its first packet is in.
        Assert.Equal(Path.GetFileName(RotatedFiles[0]), session.GetProperty("capture_file").GetString());
    }

    [Fact]
    public void Analyze_RotatedDirectory_SummarySaysWhichFilesWereJoinedAndWhy()
    {
        var result = CliRunner.Run("analyze", RotatedDirectory, "--quiet");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Read as one capture:", result.Out, StringComparison.Ordinal);
        var line = result.Out.Split('\n').Single(l => l.Contains("joined as one rotation", StringComparison.Ordinal));
        Assert.All(RotatedFiles, f => Assert.Contains(Path.GetFileName(f), line, StringComparison.Ordinal));
        Assert.Contains("tcpdump -G names", line, StringComparison.Ordinal);
        Assert.Contains("LINKTYPE_ETHERNET", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_RotatedDirectorySeparate_GivesThreePiecesOfTheSession()
    {
        var separate = Sessions(RotatedDirectory, "--separate");

        AssertPiecesOfTheSession(separate);
    }

    /// <summary>
    /// The rotated session read file by file: the first file's half (with the handshake) looks unfinished; the later
    /// files carry no upgrade, so their pieces are found by their frames alone, the last one with the closes.
    /// </summary>
    private static void AssertPiecesOfTheSession(List<JsonElement> pieces)
    {
        Assert.Equal(3, pieces.Count);
        Assert.Equal("unfinished", pieces[0].GetProperty("classification").GetString());
        Assert.Equal("/echo", pieces[0].GetProperty("path").GetString());
        Assert.All(pieces.Skip(1), piece => Assert.Equal("handshake_not_captured", piece.GetProperty("notices").GetString()));
        Assert.Equal(["unfinished", "normal_closure"], pieces.Skip(1).Select(piece => piece.GetProperty("classification").GetString()));
    }

    [Fact]
    public void Analyze_AsOneWithFilesInAnyOrder_SameReportAsTheWholeCapture()
    {
        var copies = RotatedFiles.Reverse().Select((f, i) => Copy(f, $"part-{i}.pcap")).ToArray();

        var detected = Sessions(copies);
        var asOne = Sessions([.. copies, "--as-one"]);

        // Named "part-N" these are no rotation the detector recognises: apart unless --as-one says otherwise.
        AssertPiecesOfTheSession(detected);
        Assert.Equal(Sessions(Whole).Select(Content), asOne.Select(Content));
    }

    [Fact]
    public void Analyze_AsOneWithADamagedPart_NamesThatFileAndPlaceAndKeepsTheRest()
    {
        var files = RotatedFiles.Select((f, i) => Copy(f, $"part-{i}.pcap")).ToArray();
        var bytes = File.ReadAllBytes(files[1]);
        File.WriteAllBytes(files[1], bytes[..^10]);

        var result = CliRunner.Run(["analyze", .. files, "--as-one", "--csv", "-", "--quiet"]);

        Assert.Equal(2, result.ExitCode);
        var error = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("part-1.pcap: damaged capture at byte offset ", error.Replace("wsclosesniffer: ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("file ends", error, StringComparison.Ordinal);
        Assert.Equal(2, result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Analyze_AsOneAndSeparate_IsAUsageError()
    {
        var result = CliRunner.Run("analyze", RotatedDirectory, "--as-one", "--separate", "--quiet");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--as-one and --separate", result.Error, StringComparison.Ordinal);
    }

    private string Copy(string file, string name)
    {
        var path = Path.Combine(_temp, name);
        File.Copy(file, path);
        return path;
    }
}
