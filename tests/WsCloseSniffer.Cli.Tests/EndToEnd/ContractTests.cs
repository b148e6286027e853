using System.Text.Json;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>The outside surface scripts rely on: columns, exit codes, error messages, stdout hygiene.</summary>
public sealed class ContractTests : IDisposable
{
    private const string ContractHeader =
        "session_id,capture_file,start_time,end_time,client_ip,client_port,server_ip,server_port,host,path,offered_extensions,accepted_extensions,close_initiator,close_code,close_reason,reply_close_code,classification,diagnosis,client_frames,server_frames,client_payload_bytes,server_payload_bytes";

    // Added after the contract's 22, never between them (the contract changes only by adding columns at the end):
    // the root-cause evidence, then the TLS columns.
    private const string ReportHeader = ContractHeader +
        ",duration_s,tcp_end,tcp_end_by,idle_before_end_s,client_pings,server_pings,client_pongs,server_pongs,unanswered_pings,max_ping_gap_s,client_largest_message_bytes,server_largest_message_bytes,last_message_bytes,compressed_messages,inflate_errors,notices" +
        ",tls_version,tls_cipher,tls_sni,tls_alpn,decrypted,capture_set";

    private readonly string _temp = Directory.CreateTempSubdirectory("wsclosesniffer-tests-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string Sample(string name) => Path.Combine(RepositoryPaths.Samples, name);

    [Fact]
    public void Analyze_CsvToStdout_HeaderIsExactlyTheContract()
    {
        var result = CliRunner.Run("analyze", Sample("01-client-close-1000.pcap"), "--csv", "-", "--quiet");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ReportHeader, lines[0]);
        Assert.StartsWith(ContractHeader + ",", lines[0], StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);
    }

    [Fact]
    public void Analyze_JsonToStdout_HasContractFieldsWithNumbersAndNulls()
    {
        var result = CliRunner.Run("analyze", Sample("05-abnormal-rst.pcap"), "--json", "-", "--quiet");

        Assert.Equal(0, result.ExitCode);
        var root = JsonDocument.Parse(result.Out.Trim()).RootElement;
        Assert.Equal(ReportHeader.Split(','), root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Number, root.GetProperty("client_port").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("close_code").ValueKind);
        Assert.Equal("abnormal_closure", root.GetProperty("classification").GetString());
    }

    [Fact]
    public void Analyze_CsvAndJsonFiles_WriteBothAndSummaryToStdout()
    {
        var csv = Path.Combine(_temp, "out.csv");
        var json = Path.Combine(_temp, "out.jsonl");

        var result = CliRunner.Run("analyze", Sample("03-mandatory-extension-1010.pcap"), "--csv", csv, "--json", json, "--quiet");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith(ReportHeader + "\n", File.ReadAllText(csv), StringComparison.Ordinal);
        Assert.Single(File.ReadAllLines(json));
        Assert.Contains("mandatory_extension", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_MissingFile_Exit2AndNamesTheFile()
    {
        var missing = Path.Combine(_temp, "nope.pcap");

        var result = CliRunner.Run("analyze", missing, "--csv", "-", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nope.pcap", result.Error, StringComparison.Ordinal);
        Assert.Contains("no such file", result.Error, StringComparison.Ordinal);
        Assert.Equal(ReportHeader + "\n", result.Out);
    }

    [Fact]
    public void Analyze_NotACaptureFile_Exit2AndSaysSo()
    {
        var text = Path.Combine(_temp, "notes.pcap");
        File.WriteAllText(text, "this is not a capture\n");

        var result = CliRunner.Run("analyze", text, "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("notes.pcap", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_TruncatedCapture_Exit2ReportsSessionsBeforeTheDamage()
    {
        // Two captures back to back in one directory; the second is cut in the middle of a record.
        File.Copy(Sample("01-client-close-1000.pcap"), Path.Combine(_temp, "a-good.pcap"));
        var bytes = File.ReadAllBytes(Sample("02-server-close-1000.pcap"));
        var cut = bytes.Length - 30;
        File.WriteAllBytes(Path.Combine(_temp, "b-cut.pcap"), bytes[..cut]);

        var result = CliRunner.Run("analyze", _temp, "--csv", "-", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("b-cut.pcap", result.Error, StringComparison.Ordinal);
        Assert.Contains("offset", result.Error, StringComparison.Ordinal);
        var rows = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, rows.Length);
        Assert.Contains(rows, r => r.Contains(",a-good.pcap,", StringComparison.Ordinal) && r.Contains(",normal_closure,", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains(",b-cut.pcap,", StringComparison.Ordinal));
    }

    [Fact]
    public void Analyze_GzipCapture_SameSessionsAsUncompressed()
    {
        var plain = CliRunner.Run("analyze", Sample("01-client-close-1000.pcap"), "--csv", "-", "--quiet");
        var gzip = CliRunner.Run("analyze", Sample("01-client-close-1000.pcap.gz"), "--csv", "-", "--quiet");

        Assert.Equal(0, gzip.ExitCode);

        // capture_set, last, names the run's input: another file, another id.
        static string WithoutCaptureSet(string csv) => string.Join('\n', csv.Split('\n').Select(l => l.Contains(',', StringComparison.Ordinal) ? l[..l.LastIndexOf(',')] : l));
        Assert.Equal(WithoutCaptureSet(plain.Out).Replace("01-client-close-1000.pcap,", "01-client-close-1000.pcap.gz,", StringComparison.Ordinal), WithoutCaptureSet(gzip.Out));
        Assert.NotEqual(plain.Out.Split('\n')[1][^16..], gzip.Out.Split('\n')[1][^16..]);
    }

    [Fact]
    public void Analyze_FileTypeFromContentNotName()
    {
        var renamed = Path.Combine(_temp, "capture.cap");
        File.Copy(Sample("07-ipv6-going-away-1001.pcapng"), renamed);

        var result = CliRunner.Run("analyze", renamed, "--csv", "-", "--quiet");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(",going_away,", result.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("analyze")]
    [InlineData("analyze", "x.pcap", "--bogus")]
    [InlineData("frobnicate")]
    public void BadCommandLine_Exit1(params string[] args)
    {
        Assert.Equal(1, CliRunner.Run(args).ExitCode);
    }

    [Fact]
    public void Analyze_MaxHttpHeadBytesBelowTheUpgrade_SessionNotFoundAndCapNamed()
    {
        var normal = CliRunner.Run("analyze", Sample("01-client-close-1000.pcap"), "--csv", "-", "--quiet");
        var capped = CliRunner.Run("analyze", Sample("01-client-close-1000.pcap"), "--max-http-head-bytes", "64", "--quiet");

        Assert.Equal(2, normal.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(0, capped.ExitCode);
        Assert.StartsWith("0 WebSocket sessions", capped.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--max-connections", "0")]
    [InlineData("--idle-timeout", "-5")]
    [InlineData("--max-buffered-bytes", "lots")]
    public void Analyze_NonPositiveLimit_Exit1(string option, string value)
    {
        var result = CliRunner.Run("analyze", Sample("01-client-close-1000.pcap"), option, value, "--quiet");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(option, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_LimitsGiven_SameReportWhenNotHit()
    {
        // Sample 13 carries a 100 KiB head to go past the head cap on purpose: every other sample stays under these limits.
        var samples = Directory.EnumerateFiles(RepositoryPaths.Samples)
            .Where(f => !f.EndsWith(".md", StringComparison.Ordinal) && !f.EndsWith(".keylog", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith("13-huge-offer", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.True(samples.Length >= 15);
        var normal = CliRunner.Run(["analyze", .. samples, "--csv", "-", "--quiet"]);
        var limited = CliRunner.Run(["analyze", .. samples, "--csv", "-", "--quiet",
            "--max-connections", "10", "--max-buffered-bytes", "4096", "--max-buffered-total-mb", "1",
            "--max-http-head-bytes", "2048", "--max-control-payload-bytes", "125", "--idle-timeout", "30",
            "--max-inflated-message-mb", "1", "--max-inflaters", "4"]);

        Assert.Equal(0, limited.ExitCode);
        Assert.Equal(normal.Out, limited.Out);
    }

    [Fact]
    public void Analyze_InflaterCapOfOne_SecondDirectionNotInflatedAndNamed()
    {
        var sample = Path.Combine(RepositoryPaths.Samples, "04-deflate-1000.pcap");

        var normal = CliRunner.Run("analyze", sample, "--json", "-", "--quiet");
        var limited = CliRunner.Run("analyze", sample, "--json", "-", "--quiet", "--max-inflaters", "1");

        Assert.Equal(0, limited.ExitCode);
        Assert.DoesNotContain("ws_deflate_not_inflated", normal.Out, StringComparison.Ordinal);
        Assert.Contains("ws_deflate_not_inflated", limited.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_NoInflate_WireSizesAndNoInflatedLine()
    {
        // Context takeover: the client's repeated 1,519-byte text is a few dozen bytes on the wire.
        var sample = Path.Combine(RepositoryPaths.Samples, "31-deflate-window15-takeover-1000.pcap");

        var inflated = CliRunner.Run("analyze", sample, "--json", "-", "--quiet");
        var wire = CliRunner.Run("analyze", sample, "--json", "-", "--quiet", "--no-inflate");
        var inflatedSummary = CliRunner.Run("analyze", sample, "--quiet");
        var wireSummary = CliRunner.Run("analyze", sample, "--quiet", "--no-inflate");

        Assert.Equal(0, wire.ExitCode);
        using var inflatedRow = System.Text.Json.JsonDocument.Parse(inflated.Out);
        using var wireRow = System.Text.Json.JsonDocument.Parse(wire.Out);
        Assert.Equal(1519, inflatedRow.RootElement.GetProperty("client_largest_message_bytes").GetInt64());
        Assert.InRange(wireRow.RootElement.GetProperty("client_largest_message_bytes").GetInt64(), 1, 1518);
        Assert.Equal(6, wireRow.RootElement.GetProperty("compressed_messages").GetInt64());
        Assert.Contains("compressed messages inflated to", inflatedSummary.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("inflated to", wireSummary.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_ReportPathNotWritable_Exit1WithMessageBeforeAnalyzing()
    {
        var csv = Path.Combine(_temp, "no-such-dir", "out.csv");

        var result = CliRunner.Run("analyze", RepositoryPaths.Samples, "--csv", csv, "--quiet");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot write the report", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out);
    }

    [Fact]
    public void Analyze_BothReportsToStdout_Exit1()
    {
        var result = CliRunner.Run("analyze", Sample("01-client-close-1000.pcap"), "--csv", "-", "--json", "-");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("stdout", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out);
    }

    [SkippableFact]
    public void Analyze_Filter_KeepsOnlyMatchingSessions()
    {
        var everything = CliRunner.Run("analyze", RepositoryPaths.Samples, "--csv", "-", "--quiet");
        Skip.If(everything.ExitCode != 0, everything.Error);

        var ipv6Only = CliRunner.Run("analyze", RepositoryPaths.Samples, "--filter", "ip6", "--csv", "-", "--quiet");

        Skip.If(ipv6Only.Error.Contains("libpcap is not installed", StringComparison.Ordinal) && Environment.GetEnvironmentVariable("CI") != "true", "libpcap is not installed here");
        Assert.Equal(0, ipv6Only.ExitCode);
        var rows = ipv6Only.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        // 07 (pcap and pcapng) and 18, whose IPv6 fragments all match ip6.
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Contains(",::1,", r, StringComparison.Ordinal));
    }

    [SkippableFact]
    public void Analyze_InvalidFilter_Exit2WithLibpcapMessage()
    {
        var result = CliRunner.Run("analyze", Sample("01-client-close-1000.pcap"), "--filter", "tcp port banana", "--quiet");

        Skip.If(result.Error.Contains("libpcap is not installed", StringComparison.Ordinal) && Environment.GetEnvironmentVariable("CI") != "true", "libpcap is not installed here");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("invalid filter", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out);
    }
}
