using System.Text.Json;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>
/// Every third-party capture in ../shared/captures/public through the CLI, compared connection by
/// connection with its .expected.json (derived with tshark and cross-checked independently).
/// Entries marked "uncertain" depend on interpretation and are not compared.
/// </summary>
public sealed class PublicCaptureTests
{
    private const string NoCaptures = "<none>";

    public static TheoryData<string> ExpectedFiles()
    {
        var data = new TheoryData<string>();
        if (!RepositoryPaths.HasSharedCaptures)
        {
            data.Add(NoCaptures);
            return data;
        }

        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.SharedCaptures, "*.expected.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(RepositoryPaths.SharedCaptures, file));
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(ExpectedFiles))]
    public void Analyze_PublicCapture_MatchesExpectedConnections(string expectedFile)
    {
        Skip.If(expectedFile == NoCaptures, RepositoryPaths.NoSharedCapturesReason);
        var expectedPath = Path.Combine(RepositoryPaths.SharedCaptures, expectedFile);
        var capture = expectedPath[..^".expected.json".Length];

        var result = CliRunner.Run("analyze", capture, "--json", "-", "--quiet");

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");
        var actual = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToList();
        using var expectedDocument = JsonDocument.Parse(File.ReadAllText(expectedPath));
        var expected = expectedDocument.RootElement.EnumerateArray().ToList();

        foreach (var connection in expected)
        {
            var match = actual.FirstOrDefault(a => Key(a) == Key(connection));
            var isUncertain = connection.TryGetProperty("uncertain", out _);
            if (match.ValueKind != JsonValueKind.Undefined)
            {
                actual.Remove(match);
            }

            if (isUncertain)
            {
                continue;
            }

            Assert.True(match.ValueKind != JsonValueKind.Undefined, $"{expectedFile}: no session reported for {Key(connection)}; reported: {result.Out}");
            CompareConnection(expectedFile, connection, match);
        }

        Assert.True(actual.Count == 0, $"{expectedFile}: sessions reported that the ground truth does not list: {string.Join("; ", actual.Select(Key))}");
    }

    private static void CompareConnection(string file, JsonElement expected, JsonElement actual)
    {
        var where = $"{file} {Key(expected)}";
        Assert.Equal(Text(expected, "host"), Text(actual, "host"));
        Assert.Equal(Text(expected, "path"), Text(actual, "path"));
        Assert.Equal(Text(expected, "offered_extensions"), Text(actual, "offered_extensions"));
        Assert.Equal(Text(expected, "accepted_extensions"), Text(actual, "accepted_extensions"));
        Assert.True(Text(expected, "close_initiator") == Text(actual, "close_initiator"), $"{where}: close_initiator {Text(actual, "close_initiator")}");
        Assert.True(Number(expected, "close_code") == Number(actual, "close_code"), $"{where}: close_code {Number(actual, "close_code")}");
        Assert.Equal(Text(expected, "close_reason"), Text(actual, "close_reason"));
        Assert.True(Number(expected, "reply_close_code") == Number(actual, "reply_close_code"), $"{where}: reply_close_code {Number(actual, "reply_close_code")}");
        Assert.True(Number(expected, "client_frames") == Number(actual, "client_frames"), $"{where}: client_frames {Number(actual, "client_frames")}");
        Assert.True(Number(expected, "server_frames") == Number(actual, "server_frames"), $"{where}: server_frames {Number(actual, "server_frames")}");
        Assert.True(ExpectedClassification(expected) is not { } classification || classification == Text(actual, "classification"),
            $"{where}: classification {Text(actual, "classification")}, expected {ExpectedClassification(expected)}");
    }

    /// <summary>
    /// The classification the ground truth implies where it decides it without a close frame; with a close
    /// frame the code decides and is compared directly.
    /// </summary>
    private static string? ExpectedClassification(JsonElement expected)
    {
        var status = Number(expected, "handshake_status");
        if (status is not null and not 101)
        {
            return "handshake_rejected";
        }

        if (Text(expected, "close_initiator") is not null)
        {
            return Number(expected, "close_code") is null ? "no_status" : null;
        }

        return Text(expected, "ended_by") == "capture_end" ? "unfinished" : "abnormal_closure";
    }

    private static string Key(JsonElement e) =>
        $"{Text(e, "client_ip")}:{Number(e, "client_port")} -> {Text(e, "server_ip")}:{Number(e, "server_port")}";

    /// <summary>The ground truth writes "" where the report writes null (empty): both mean empty.</summary>
    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0 ? v.GetString() : null;

    private static long? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;
}
