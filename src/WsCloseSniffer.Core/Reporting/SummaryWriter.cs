using System.Globalization;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Reporting;

/// <summary>
/// The human summary: counts per classification, the groups of sessions cut after the same idle time or duration
/// (<see cref="EndingTimeGroups"/>), one line per session that did not close cleanly with
/// its diagnosis, then what was skipped or dropped and the notices seen.
/// </summary>
public static class SummaryWriter
{
    /// <summary>
    /// Writes the summary. <paramref name="sessions"/> is enumerated twice (counts, then the sessions that did
    /// not close cleanly), so a run's sessions never need to be in memory at once.
    /// </summary>
    public static void Write(TextWriter writer, IEnumerable<SessionRecord> sessions, AnalysisStatistics statistics, int inputCount)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var endingTimes = new EndingTimeGroups();
        foreach (var session in sessions)
        {
            counts[session.Classification] = counts.GetValueOrDefault(session.Classification) + 1;
            endingTimes.Add(session);
        }

        Write(writer, sessions, counts, endingTimes, statistics, inputCount);
    }

    /// <summary>
    /// Writes the summary with the sessions per classification and their ending times already counted
    /// (<see cref="SessionSorter.ClassificationCounts"/>, <see cref="SessionSorter.EndingTimes"/>):
    /// <paramref name="sessions"/> is enumerated once. <paramref name="joined"/> says, one line per set, which files were
    /// read as one capture and why.
    /// </summary>
    public static void Write(TextWriter writer, IEnumerable<SessionRecord> sessions, IReadOnlyDictionary<string, long> counts, EndingTimeGroups endingTimes, AnalysisStatistics statistics, int inputCount, IReadOnlyList<string>? joined = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(endingTimes);
        ArgumentNullException.ThrowIfNull(statistics);
        var inv = CultureInfo.InvariantCulture;
        var total = counts.Values.Sum();
        writer.WriteLine(string.Create(inv, $"{Counted(total, "WebSocket session")} in {Counted(inputCount, "capture file")} ({Counted(statistics.Packets, "packet")}, {Reassembled(statistics)}{Counted(statistics.Connections, "TCP connection")})"));
        if (joined is { Count: > 0 })
        {
            writer.WriteLine();
            writer.WriteLine("Read as one capture:");
            foreach (var line in joined)
            {
                writer.WriteLine($"  {TerminalText.Safe(line)}");
            }
        }

        if (total > 0)
        {
            writer.WriteLine();
            var width = Outcomes.All.Max(row => row.SummaryLabel.Length);
            foreach (var row in Outcomes.All.Where(row => counts.ContainsKey(row.Word)))
            {
                writer.WriteLine(string.Create(inv, $"  {row.SummaryLabel.PadRight(width)}  {counts[row.Word],6}"));
            }
        }

        var groups = endingTimes.Find();
        if (groups.Count > 0)
        {
            writer.WriteLine();
            foreach (var group in groups)
            {
                writer.WriteLine($"{EndingTimeGroups.Describe(group)}.");
            }
        }

        if (statistics.InflatedUnits > 0)
        {
            // What inflation cost the run: the inflated bytes are what it read beyond the capture itself.
            writer.WriteLine();
            writer.WriteLine(string.Create(inv, $"{Counted(statistics.InflatedUnits, "compressed message")} inflated to {Counted(statistics.InflatedBytes, "byte")}."));
        }

        var heading = false;
        foreach (var s in sessions.Where(s => !Outcomes.IsClean(s.Classification)))
        {
            if (!heading)
            {
                writer.WriteLine();
                writer.WriteLine("Sessions that did not close cleanly:");
                heading = true;
            }

            var code = s.CloseCode is int c ? string.Create(inv, $" {c}") : string.Empty;
            writer.WriteLine(string.Create(inv,
                $"  #{s.SessionId} {TerminalText.Safe(s.CaptureFile)} {s.StartTime} {Endpoint(s.ClientIp, s.ClientPort)} -> {Endpoint(s.ServerIp, s.ServerPort)} {TerminalText.Safe(s.Host)}{TerminalText.Safe(s.Path)}: {s.Classification}{code}"));
            writer.WriteLine($"      {TerminalText.Safe(s.Diagnosis)}");
        }

        WriteSkipped(writer, statistics);
        if (statistics.Notices.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("Notices (sessions carrying each):");
            foreach (var (notice, count) in statistics.Notices.OrderBy(n => n.Key, StringComparer.Ordinal))
            {
                writer.WriteLine(string.Create(inv, $"  {notice}: {count} ({Notice.Describe(notice)})"));
            }
        }
    }

    private static void WriteSkipped(TextWriter writer, AnalysisStatistics statistics)
    {
        var inv = CultureInfo.InvariantCulture;
        var lines = new List<string>();
        void Add(long count, string what)
        {
            if (count > 0)
            {
                lines.Add(string.Create(inv, $"  {count} {what}"));
            }
        }

        Add(statistics.FilteredOut, "packets not matching the filter");
        Add(statistics.PacketsCutBySnapLength, string.Create(inv, $"packets cut to {statistics.SnapLengthBytes} bytes by the capture's snap length (their cut tails are gaps of known length; notice capture_snap_length)"));
        Add(statistics.IpDatagramsIncomplete, "IP datagrams dropped incomplete (a fragment not captured within the reassembly timeout or before the end)");
        Add(statistics.IpDatagramsOverlapping, "IP datagrams dropped for overlapping fragments");
        Add(statistics.IpDatagramsTooLarge, "IP datagrams dropped as longer than 65,535 bytes");
        Add(statistics.IpDatagramsEvictedByCap, "IP datagrams dropped by the fragment buffer cap");
        Add(statistics.IpDuplicateFragments, "duplicate IP fragments ignored");
        Add(statistics.IpMalformedFragments, "malformed IP fragments skipped");
        Add(statistics.Malformed, "malformed packets skipped");
        foreach (var (linkType, count) in statistics.UnsupportedLinkTypes.OrderBy(l => (uint)l.Key))
        {
            Add(count, $"packets of unsupported link type {LinkTypeNames.Describe(linkType)} skipped");
        }

        Add(statistics.GapCount, string.Create(inv, $"gaps in TCP streams ({statistics.GapBytes} bytes not captured)"));
        Add(statistics.BufferCapGaps, "gaps forced by the out-of-order buffer cap");
        Add(statistics.SegmentsOutsideWindow, "TCP segments dropped as far outside any plausible window (segments_outside_window)");
        Add(statistics.EvictedIdle, "connections ended by the idle timeout");
        Add(statistics.EvictedForCap, "connections evicted by the connection cap");
        if (lines.Count == 0)
        {
            return;
        }

        writer.WriteLine();
        writer.WriteLine("Skipped or lost:");
        foreach (var line in lines)
        {
            writer.WriteLine(line);
        }
    }

    /// <summary>
    /// The one warning for a run whose packets the snap length cut (null when none was): what it costs the report.
    /// </summary>
    public static string? SnapLengthWarning(AnalysisStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        return statistics.PacketsCutBySnapLength == 0
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"packets were cut to {statistics.SnapLengthBytes} bytes by the capture's snap length: {Counted(statistics.PacketsCutBySnapLength, "packet")} lost their tails, so handshake headers after the cut are unknown and frames whose header lay in a cut tail are not counted (sessions carry the notice capture_snap_length); capture with a larger snap length (tcpdump -s 0) for complete results");
    }

    /// <summary>An address and port as people write them: <c>10.0.0.1:80</c>, <c>[::1]:80</c>.</summary>
    public static string Endpoint(string ip, int port) =>
        ip.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{ip}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{ip}:{port}");

    /// <summary>Said only when fragments were seen, so captures without any read as before.</summary>
    private static string Reassembled(AnalysisStatistics statistics) =>
        statistics.IpFragments == 0
            ? string.Empty
            : string.Create(CultureInfo.InvariantCulture, $"{Counted(statistics.IpDatagramsReassembled, "IP datagram")} reassembled from {Counted(statistics.IpFragments, "fragment")}, ");

    private static string Counted(long count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? string.Empty : "s")}");
}
