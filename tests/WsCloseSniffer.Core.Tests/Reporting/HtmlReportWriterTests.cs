using System.Globalization;
using System.Text.RegularExpressions;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.Reporting;

public class HtmlReportWriterTests
{
    private static SessionRecord Record(long id, string start, string end, string classification = "normal_closure", int? code = 1000) =>
        CsvSessionWriterTests.PlainRecord(id, classification) with { StartTime = start, EndTime = end, CloseCode = code };

    private static string WriteHtml(params SessionRecord[] records)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = new HtmlReportWriter(text, leaveOpen: true))
        {
            foreach (var record in records)
            {
                writer.Write(record);
            }
        }

        return text.ToString();
    }

    [Fact]
    public void ParseUnixSeconds_ReadsMicrosecondsAndWholeSeconds()
    {
        Assert.Equal(1_795_428_902.123456, HtmlReportModel.ParseUnixSeconds("2026-11-23T10:15:02.123456Z"), 6);
        Assert.Equal(1_795_428_902.0, HtmlReportModel.ParseUnixSeconds("2026-11-23T10:15:02Z"), 6);
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.0009, 0)]
    [InlineData(0.001, 1)]
    [InlineData(0.0015, 1)]
    [InlineData(0.002, 2)]
    [InlineData(30.0, 14)]
    [InlineData(99.9, 15)]
    [InlineData(100.0, 16)]
    [InlineData(10_000.0, 22)]
    [InlineData(1e9, 22)]
    public void BinOf_PutsTimesBetweenTheirEdges(double seconds, int bin)
    {
        Assert.Equal(22, HtmlReportModel.BinEdges.Count);
        Assert.Equal(bin, HtmlReportModel.BinOf(seconds));
    }

    [Fact]
    public void Model_CountsClassificationsInOutcomeOrderAndBinsDurations()
    {
        var model = new HtmlReportModel();
        model.Add(Record(1, "2026-11-23T10:15:00.000000Z", "2026-11-23T10:15:45.000000Z", "going_away", 1001));
        model.Add(Record(2, "2026-11-23T10:15:01.000000Z", "2026-11-23T10:15:01.003000Z"));
        model.Add(Record(3, "2026-11-23T10:15:02.000000Z", "2026-11-23T10:15:02.004000Z"), idleBeforeEndSeconds: 61);
        model.Add(Record(4, "2026-11-23T10:15:03.000000Z", "2026-11-23T10:15:03.004000Z", "not_a_word", null));

        Assert.Equal(
            [new("normal_closure", 2), new("going_away", 1), new KeyValuePair<string, long>("not_a_word", 1)],
            model.ClassificationCounts);
        Assert.Equal(1, model.DurationBins[HtmlReportModel.BinOf(45)]);
        Assert.Equal(3, model.DurationBins[HtmlReportModel.BinOf(0.003)]);
        Assert.Equal(1, model.IdleSampleCount);
        Assert.Equal(1, model.IdleBins[HtmlReportModel.BinOf(61)]);
        Assert.Equal(4, model.SessionCount);
        Assert.Equal(HtmlReportModel.ParseUnixSeconds("2026-11-23T10:15:00Z"), model.EarliestStartSeconds);
        Assert.Equal(HtmlReportModel.ParseUnixSeconds("2026-11-23T10:15:45Z"), model.LatestEndSeconds);
    }

    [Fact]
    public void Model_TimelineStaysWithinItsCapAndSpansEveryStart()
    {
        var model = new HtmlReportModel(maxTimelineBars: 8);
        for (var i = 0; i < 100; i++)
        {
            var start = DateTime.UnixEpoch.AddSeconds(1_800_000_000 + i).ToString("yyyy-MM-dd'T'HH:mm:ss'.000000Z'", CultureInfo.InvariantCulture);
            model.Add(Record(i + 1, start, start));
        }

        Assert.Equal(100, model.SessionCount);
        Assert.InRange(model.Timeline.Count, 4, 8);

        // Stride 16 after three thinnings: sessions 0, 16, 32, ... 96, evenly spread over the whole run.
        Assert.Equal([1L, 17, 33, 49, 65, 81, 97], model.Timeline.Select(bar => bar.SessionId));
    }

    [Fact]
    public void Writer_OneRowPerSessionWithEveryColumnAndTheHandshake()
    {
        var html = WriteHtml(
            Record(1, "2026-11-23T10:15:00.000000Z", "2026-11-23T10:15:01.000000Z"),
            CsvSessionWriterTests.PlainRecord(2, "mandatory_extension") with
            {
                OfferedExtensions = "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
                AcceptedExtensions = "x-webkit-deflate-frame",
                HandshakeStatus = 101,
            });

        Assert.Equal(2, Regex.Count(html, "<tr data-class="));
        foreach (var column in ReportColumns.All)
        {
            Assert.Contains($"<th title=\"sort\">{column}</th>", html, StringComparison.Ordinal);
        }

        Assert.Contains("<li class=\"missing\" title=\"offered but not accepted\">permessage-deflate</li><li>x-webkit-deflate-frame</li>", html, StringComparison.Ordinal);
        Assert.Contains("<b>accepted (101)</b><ul><li>x-webkit-deflate-frame</li></ul>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"diag\">The client closed the session normally (1000 Normal Closure, reason &quot;bye&quot;) and the server echoed the close (1000).</td>", html, StringComparison.Ordinal);
        Assert.Contains("<h1>wsclosesniffer: 2 WebSocket sessions</h1>", html, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Writer_EscapesHostileWireText()
    {
        var hostile = CsvSessionWriterTests.PlainRecord(7, "application") with
        {
            Host = "<script>alert(1)</script>",
            Path = "/\"><img src=x onerror=alert(2)>",
            CloseReason = "</td></tr></table><svg onload=alert(3)>'",
            OfferedExtensions = "<b>x</b>; a=\"<i>\"",
            Diagnosis = "reason \"</script><script>alert(4)</script>\"",
        };

        var html = WriteHtml(hostile);
        var body = html[html.IndexOf("<tbody>", StringComparison.Ordinal)..html.IndexOf("</tbody>", StringComparison.Ordinal)];

        Assert.DoesNotContain("<script", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<svg", body, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", body, StringComparison.Ordinal);
        Assert.Contains("/&quot;&gt;&lt;img src=x onerror=alert(2)&gt;", body, StringComparison.Ordinal);
        Assert.Contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;svg onload=alert(3)&gt;&#39;", body, StringComparison.Ordinal);
        Assert.Contains("<li class=\"missing\" title=\"offered but not accepted\">&lt;b&gt;x&lt;/b&gt;</li>", body, StringComparison.Ordinal);

        // The whole page has exactly the one script block of our own.
        Assert.Equal(1, Regex.Count(html, "<script", RegexOptions.IgnoreCase));
    }

    [Fact]
    public void Writer_SameSessionsGiveTheSameBytesAndNoNetworkReference()
    {
        var records = new[]
        {
            Record(1, "2026-11-23T10:15:00.000000Z", "2026-11-23T10:15:01.000000Z"),
            Record(2, "2026-11-23T10:15:00.500000Z", "2026-11-23T10:17:00.000000Z", "abnormal_closure", null),
        };

        var first = WriteHtml(records);
        Assert.Equal(first, WriteHtml(records));
        Assert.DoesNotContain("https://", first, StringComparison.Ordinal);
        Assert.DoesNotMatch(" (src|href)=\"(http|//)", first);
    }

    [Fact]
    public void Writer_IdleBeforeEndColumn_FeedsTheIdleHistogram()
    {
        var withoutIdle = WriteHtml(Record(1, "2026-11-23T10:00:00.000000Z", "2026-11-23T10:01:01.000000Z"));
        var withIdle = WriteHtml(Record(1, "2026-11-23T10:00:00.000000Z", "2026-11-23T10:01:01.000000Z") with { IdleBeforeEndMicroseconds = 60_500_000 });

        Assert.Contains("No session in this report has an idle time before its end", withoutIdle, StringComparison.Ordinal);
        Assert.DoesNotContain("No session in this report has an idle time before its end", withIdle, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Count(withIdle, "seconds \\(logarithmic bins\\)"));
    }

    [Fact]
    public void Writer_WithoutSessions_IsACompletePage()
    {
        var html = WriteHtml();

        Assert.Contains("<h1>wsclosesniffer: 0 WebSocket sessions</h1>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<tr data-class=", html, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("permessage-deflate; client_max_window_bits", new[] { "permessage-deflate" })]
    [InlineData(" a ; x=1, b,A , ,c", new[] { "a", "b", "c" })]
    public void ExtensionNames_DropParametersAndRepeats(string header, string[] names) =>
        Assert.Equal(names, HtmlReportWriter.ExtensionNames(header));
}
