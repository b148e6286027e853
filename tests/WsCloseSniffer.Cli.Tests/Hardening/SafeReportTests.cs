using System.Text;
using System.Text.Json;
using WsCloseSniffer.Tests.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Hardening;

/// <summary>
/// Text from the wire must not turn a report into an attack (CSV formula injection,
/// OWASP: prefix a single quote) nor break its structure (every CSV row parses back into the contract's columns,
/// every JSON line is one valid object).
/// </summary>
public sealed class SafeReportTests : IDisposable
{
    // The contract's 22 columns, the 16 evidence columns, the 5 TLS columns and capture_set added after them.
    private const int ContractColumns = 22 + 16 + 5 + 1;

    private readonly string _temp = Directory.CreateTempSubdirectory("wsclosesniffer-hardening-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    // Host, path, offered and accepted extensions, close reason: each starts with one of = + - @ tab CR and holds
    // quotes, commas, a NUL, a CR or bytes that are not UTF-8 (a request target cannot hold spaces or control
    // characters, and a header value cannot hold a line feed: the HTTP parser rejects those heads first).
    public static TheoryData<string, string, string, string, byte[]> HostileFields => new()
    {
        { "=HYPERLINK(\"http://evil.test\",\"x\")", "/chat", "x-a", "x-b", "ok"u8.ToArray() },
        { "example.test", "+1+cmd|'/C%20calc'!A0", "x-a", "x-b", "ok"u8.ToArray() },
        { "example.test", "/chat", "-2+3, x-a; p=\"q,\\\"r\"", "x-b", "ok"u8.ToArray() },
        { "example.test", "/chat", "x-a", "@SUM(1+1)*cmd|' /C calc'!A0", "ok"u8.ToArray() },
        { "example.test", "/chat", "x-a", "x-b", "=1+1"u8.ToArray() },
        { "example.test", "/chat", "x-a", "x-b", "\t=1"u8.ToArray() },
        { "example.test", "/chat", "x-a", "x-b", "\r=1\n,\"\"\0end"u8.ToArray() },
        { "example.test", "/chat", "x-a", "x-b", [(byte)'-', 0xFF, 0xC3, (byte)',', (byte)'"', 0x0A, 0xED, 0xA0, 0x80] },
        { "@host\u0000\",\r", "/a,b\"c", "x-a", "x-b", "@x"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(HostileFields))]
    public void Analyze_HostileWireText_CsvCellsNeutralizedAndRowsKeepContractColumns(string host, string path, string offered, string accepted, byte[] reason)
    {
        var file = Write("hostile.pcap", ClosedSessions.Capture(host, path, offered, accepted, 4000, reason));

        var result = CliRunner.Run("analyze", file, "--csv", "-", "--quiet");

        Assert.Equal(0, result.ExitCode);
        var rows = Rfc4180.Parse(result.Out);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row => Assert.Equal(ContractColumns, row.Count));
        var row = rows[1];
        var expectedReason = Encoding.UTF8.GetString(reason);
        AssertCell(host, row[8]);
        AssertCell(path, row[9]);
        AssertCell(offered, row[10]);
        AssertCell(accepted, row[11]);
        Assert.Equal("4000", row[13]);
        AssertCell(expectedReason, row[14]);
        Assert.Equal("application", row[16]);
        AssertNeutral(row[17]);
    }

    [Theory]
    [MemberData(nameof(HostileFields))]
    public void Analyze_HostileWireText_EveryJsonLineIsOneObjectWithTheValuesAsSent(string host, string path, string offered, string accepted, byte[] reason)
    {
        var file = Write("hostile.pcap", ClosedSessions.Capture(host, path, offered, accepted, 4000, reason));

        var result = CliRunner.Run("analyze", file, "--json", "-", "--quiet");

        Assert.Equal(0, result.ExitCode);
        var line = Assert.Single(result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal(ContractColumns, root.EnumerateObject().Count());

        // JSON is not a spreadsheet: values are as sent (invalid UTF-8 replaced), no quote prefix.
        Assert.Equal(host, root.GetProperty("host").GetString());
        Assert.Equal(path, root.GetProperty("path").GetString());
        Assert.Equal(offered, root.GetProperty("offered_extensions").GetString());
        Assert.Equal(accepted, root.GetProperty("accepted_extensions").GetString());
        Assert.Equal(Encoding.UTF8.GetString(reason), root.GetProperty("close_reason").GetString());
    }

    [Fact]
    public void Analyze_CloseReasonInvalidUtf8_ReplacementCharactersAndNotice()
    {
        byte[] reason = [(byte)'b', (byte)'a', (byte)'d', 0xFF, (byte)' ', 0xC3, 0x28, (byte)'!'];
        var file = Write("utf8.pcap", ClosedSessions.Capture("example.test", "/chat", "x-a", "x-b", 4000, reason));
        var csv = Path.Combine(_temp, "out.csv");

        var result = CliRunner.Run("analyze", file, "--csv", csv);

        Assert.Equal(0, result.ExitCode);
        var row = Rfc4180.Parse(File.ReadAllText(csv))[1];
        Assert.Equal("bad\uFFFD \uFFFD(!", row[14]);
        Assert.Contains("ws_close_reason_invalid_utf8", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_CloseReasonValidUtf8_NoInvalidUtf8Notice()
    {
        var file = Write("utf8.pcap", ClosedSessions.Capture("example.test", "/chat", "x-a", "x-b", 4000, "Grüße ✓"u8.ToArray()));

        var result = CliRunner.Run("analyze", file);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("ws_close_reason_invalid_utf8", result.Out, StringComparison.Ordinal);
        Assert.Contains("application", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_HostWithTerminalEscape_SummaryShowsNoControlCharacters()
    {
        var file = Write("esc.pcap", ClosedSessions.Capture("evil\u001b]0;pwned\u0007\u001b[2J.test", "/chat", "x-a", "x-b", 4000, "r\u001b[1m"u8.ToArray()));

        var result = CliRunner.Run("analyze", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("application", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', result.Out);
        Assert.DoesNotContain('\u0007', result.Out);
    }

    private static void AssertCell(string expected, string cell)
    {
        AssertNeutral(cell);
        var unescaped = cell.Length > 0 && cell[0] == '\'' && expected.Length > 0 && "=+-@\t\r".Contains(expected[0], StringComparison.Ordinal)
            ? cell[1..]
            : cell;
        Assert.Equal(expected, unescaped);
    }

    /// <summary>A spreadsheet evaluates a cell that starts with one of these: the writer must have prefixed a quote.</summary>
    private static void AssertNeutral(string cell)
    {
        if (cell.Length > 0)
        {
            Assert.DoesNotContain(cell[0], "=+-@\t\r");
        }
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_temp, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
