using System.Globalization;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.Reporting;

public class SummaryWriterTests
{
    private static SessionRecord Session(long id, string classification, string diagnosis, int? code = null) =>
        CsvSessionWriterTests.PlainRecord(id, classification) with { CloseCode = code, Diagnosis = diagnosis, Path = $"/p{id}" };

    private static string[] Write(IReadOnlyList<SessionRecord> sessions, AnalysisStatistics statistics, int inputs)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        SummaryWriter.Write(text, sessions, statistics, inputs);
        return text.ToString().Split('\n');
    }

    [Fact]
    public void Write_CountsPerClassification_InContractOrder()
    {
        var sessions = new[]
        {
            Session(1, "application", "d1", 4000),
            Session(2, "normal_closure", "d2", 1000),
            Session(3, "handshake_rejected", "d3"),
            Session(4, "normal_closure", "d4", 1000),
            Session(5, "abnormal_closure", "d5"),
            Session(6, "going_away", "d6", 1001),
        };

        var lines = Write(sessions, new AnalysisStatistics { Packets = 100, Connections = 7 }, 2);

        Assert.Equal("6 WebSocket sessions in 2 capture files (100 packets, 7 TCP connections)", lines[0]);
        Assert.Equal(string.Empty, lines[1]);
        var counts = lines.Skip(2).TakeWhile(l => l.Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.All(counts, c => Assert.Equal(2, c.Length));
        Assert.Equal(
            ["normal_closure 2", "going_away 1", "application 1", "abnormal_closure 1", "handshake_rejected 1"],
            counts.Select(c => $"{c[0]} {c[1]}"));
    }

    [Fact]
    public void Write_EachSessionNotClosedCleanly_HasALineWithItsDiagnosis()
    {
        var sessions = new[]
        {
            Session(1, "normal_closure", "clean one", 1000),
            Session(2, "mandatory_extension", "The client closed with 1010 because the server did not negotiate permessage-deflate.", 1010),
            Session(3, "abnormal_closure", "The connection ended with a TCP reset (RST) from the client."),
        };

        var text = string.Join('\n', Write(sessions, new AnalysisStatistics(), 1));

        Assert.Contains("Sessions that did not close cleanly:", text, StringComparison.Ordinal);
        Assert.Contains("  #2 a.pcap 2026-11-23T10:15:02.123456Z 127.0.0.1:35996 -> 127.0.0.1:38921 127.0.0.1:38921/p2: mandatory_extension 1010\n      The client closed with 1010 because the server did not negotiate permessage-deflate.", text, StringComparison.Ordinal);
        Assert.Contains("  #3 a.pcap 2026-11-23T10:15:02.123456Z 127.0.0.1:35996 -> 127.0.0.1:38921 127.0.0.1:38921/p3: abnormal_closure\n      The connection ended with a TCP reset (RST) from the client.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("#1 ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("clean one", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_IPv6Endpoints_AreBracketed()
    {
        var session = Session(1, "going_away", "d", 1001) with { ClientIp = "::1", ClientPort = 42482, ServerIp = "::1", ServerPort = 41447 };

        var text = string.Join('\n', Write([session], new AnalysisStatistics(), 1));

        Assert.Contains("[::1]:42482 -> [::1]:41447", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_SkippedCounters_AreListed()
    {
        var statistics = new AnalysisStatistics
        {
            FilteredOut = 3,
            IpFragments = 20,
            IpDatagramsReassembled = 6,
            IpDatagramsIncomplete = 2,
            IpDatagramsOverlapping = 10,
            IpDatagramsTooLarge = 11,
            IpDatagramsEvictedByCap = 12,
            IpDuplicateFragments = 13,
            IpMalformedFragments = 14,
            Malformed = 1,
            GapCount = 4,
            GapBytes = 1234,
            BufferCapGaps = 6,
            SegmentsOutsideWindow = 8,
            EvictedIdle = 5,
            EvictedForCap = 7,
        };
        statistics.UnsupportedLinkTypes[(LinkType)147] = 9;

        var lines = Write([], statistics, 1);

        Assert.Equal("0 WebSocket sessions in 1 capture file (0 packets, 6 IP datagrams reassembled from 20 fragments, 0 TCP connections)", lines[0]);
        var skipped = lines.SkipWhile(l => l != "Skipped or lost:").Skip(1).TakeWhile(l => l.Length > 0).ToList();
        Assert.Contains("  3 packets not matching the filter", skipped);
        Assert.Contains("  2 IP datagrams dropped incomplete (a fragment not captured within the reassembly timeout or before the end)", skipped);
        Assert.Contains("  10 IP datagrams dropped for overlapping fragments", skipped);
        Assert.Contains("  11 IP datagrams dropped as longer than 65,535 bytes", skipped);
        Assert.Contains("  12 IP datagrams dropped by the fragment buffer cap", skipped);
        Assert.Contains("  13 duplicate IP fragments ignored", skipped);
        Assert.Contains("  14 malformed IP fragments skipped", skipped);
        Assert.Contains("  1 malformed packets skipped", skipped);
        Assert.Contains("  4 gaps in TCP streams (1234 bytes not captured)", skipped);
        Assert.Contains("  6 gaps forced by the out-of-order buffer cap", skipped);
        Assert.Contains("  8 TCP segments dropped as far outside any plausible window (segments_outside_window)", skipped);
        Assert.Contains("  5 connections ended by the idle timeout", skipped);
        Assert.Contains("  7 connections evicted by the connection cap", skipped);
        Assert.Single(skipped, l => l.StartsWith("  9 packets of unsupported link type", StringComparison.Ordinal));
        Assert.Equal(14, skipped.Count);
        Assert.DoesNotContain("Sessions that did not close cleanly:", lines);
    }

    [Fact]
    public void Write_NothingSkippedAndNoNotices_HasNoSuchSections()
    {
        var lines = Write([Session(1, "normal_closure", "d", 1000)], new AnalysisStatistics { Packets = 14, Connections = 1 }, 1);

        Assert.StartsWith("1 WebSocket session in 1 capture file (14 packets, 1 TCP connection", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Skipped or lost:", lines);
        Assert.DoesNotContain("Notices (sessions carrying each):", lines);
        Assert.DoesNotContain("Sessions that did not close cleanly:", lines);
    }

    [Fact]
    public void Write_Notices_AreListedSortedWithCountsAndDescriptions()
    {
        var statistics = new AnalysisStatistics();
        statistics.Notices[Notice.WsUnmaskedClientFrame] = 2;
        statistics.Notices[Notice.TcpGapInStream] = 1;

        var lines = Write([], statistics, 1);

        var notices = lines.SkipWhile(l => l != "Notices (sessions carrying each):").Skip(1).TakeWhile(l => l.Length > 0).ToList();
        Assert.Equal(
            [
                $"  tcp_gap_in_stream: 1 ({Notice.Describe(Notice.TcpGapInStream)})",
                "  ws_unmasked_client_frame: 2 (unmasked client frames (RFC 6455 5.1 requires masking))",
            ],
            notices);
    }
}
