using System.Globalization;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.Reporting;

public class EndingTimeGroupsTests
{
    private static SessionRecord Cut(double idleSeconds, double? durationSeconds = null, string classification = "abnormal_closure") =>
        CsvSessionWriterTests.PlainRecord(1, classification) with
        {
            IdleBeforeEndMicroseconds = (long)Math.Round(idleSeconds * 1_000_000),
            DurationMicroseconds = (long)Math.Round((durationSeconds ?? idleSeconds + 0.01) * 1_000_000),
        };

    private static IReadOnlyList<EndingTimeGroup> Groups(IEnumerable<SessionRecord> sessions)
    {
        var groups = new EndingTimeGroups();
        foreach (var session in sessions)
        {
            groups.Add(session);
        }

        return groups.Find();
    }

    [Fact]
    public void Find_ThirtySevenSessionsIdleAboutSixtySeconds_OneIdleGroupWithItsSpread()
    {
        var sessions = Enumerable.Range(0, 37).Select(i => Cut(59.5 + (i % 11) * 0.1, durationSeconds: 100 + i * 7));

        var group = Assert.Single(Groups(sessions));

        Assert.Equal(EndingTimeKind.IdleBeforeEnd, group.Kind);
        Assert.Equal(37, group.Sessions);
        Assert.Equal(59.5, group.LowSeconds, 6);
        Assert.Equal(60.5, group.HighSeconds, 6);
        Assert.Equal(
            "37 sessions ended after 60.0 s +-0.5 s of idle time: an idle timeout of about 60 s between client and server (nginx's proxy_read_timeout or an AWS ALB's default idle timeout, also used by ASP.NET/SignalR behind them); send pings more often than that or raise the timeout",
            EndingTimeGroups.Describe(group));
    }

    [Fact]
    public void Find_TwoSessionsAlike_NoGroup() =>
        Assert.Empty(Groups([Cut(60.0, 70), Cut(60.2, 90)]));

    [Fact]
    public void Find_ThreeSessionsAlike_AGroupAtTheSmallestCount() =>
        Assert.Equal(3, Assert.Single(Groups([Cut(3.0, 9), Cut(3.1, 20), Cut(3.05, 40)])).Sessions);

    [Fact]
    public void Find_TimesMoreThanTwoSecondsApart_AreNotOneGroup() =>
        Assert.Empty(Groups([Cut(58.9, 10), Cut(60.0, 20), Cut(61.1, 30)]));

    [Fact]
    public void Find_UnknownIdleTime_SaysAnIdleTimeoutWithoutNamingOne()
    {
        var group = Assert.Single(Groups([Cut(3.0, 9), Cut(3.1, 20), Cut(3.2, 40)]));

        Assert.Equal(
            "3 sessions ended after 3.1 s +-0.1 s of idle time: an idle timeout between client and server (a proxy, a load balancer or one of the ends); send pings more often than that or raise the timeout",
            EndingTimeGroups.Describe(group));
    }

    [Fact]
    public void Find_SameDurationDifferentIdle_ADurationGroup()
    {
        var group = Assert.Single(Groups([Cut(5, 7200.1), Cut(17, 7200.3), Cut(40, 7199.9), Cut(90, 7200.0)]));

        Assert.Equal(EndingTimeKind.Duration, group.Kind);
        Assert.Equal(4, group.Sessions);
        Assert.StartsWith("4 sessions ended 7200.1 s +-0.2 s after they started: a limit on how long a connection may last", EndingTimeGroups.Describe(group), StringComparison.Ordinal);
    }

    [Fact]
    public void Find_IdleFromTheStart_OneIdleGroupNotAlsoADurationGroup()
    {
        // No frame after the handshake: idle time and duration differ by the handshake's milliseconds.
        var group = Assert.Single(Groups(Enumerable.Range(0, 5).Select(i => Cut(3.0 + i * 0.01, 3.02 + i * 0.01))));

        Assert.Equal(EndingTimeKind.IdleBeforeEnd, group.Kind);
    }

    [Theory]
    [InlineData("normal_closure")]
    [InlineData("unfinished")]
    [InlineData("handshake_rejected")]
    public void Find_CleanUnfinishedOrRejectedSessions_AreNotCounted(string classification) =>
        Assert.Empty(Groups(Enumerable.Range(0, 5).Select(_ => Cut(60, 60, classification))));

    [Fact]
    public void Find_SessionsCutWithinASecond_AreNotAGroup() =>
        Assert.Empty(Groups(Enumerable.Range(0, 10).Select(i => Cut(0.01 * i, 0.5))));

    [Fact]
    public void Find_TimesSpreadEvenly_AreNotTakenForAGroup()
    {
        // 600 sessions, one every 0.2 s of idle time: every two-second window holds ten, none stands out.
        var sessions = Enumerable.Range(0, 600).Select(i => Cut(10 + i * 0.2, 5000 + i * 3.7));

        Assert.Empty(Groups(sessions));
    }

    [Fact]
    public void Find_AGroupAmongSpreadTimes_IsFound()
    {
        var spread = Enumerable.Range(0, 200).Select(i => Cut(10 + i * 1.0, 5000 + i * 3.7));
        var group = Enumerable.Range(0, 30).Select(i => Cut(100.0 + i * 0.01, 9000 + i * 5.3));

        var found = Assert.Single(Groups(spread.Concat(group)));

        // The window holding the 30 may take in one of the spread sessions beside them.
        Assert.InRange(found.Sessions, 30, 32);
        Assert.InRange(found.CenterSeconds, 99.5, 100.5);
        Assert.Contains("about 100 s between client and server (Cloudflare's", EndingTimeGroups.Describe(found), StringComparison.Ordinal);
    }

    [Fact]
    public void Find_SeveralGroups_LargestFirstAndAtMostThreePerKind()
    {
        var sessions = new[] { (30.0, 5), (60.0, 9), (120.0, 4), (300.0, 7), (3600.0, 3) }
            .SelectMany(g => Enumerable.Range(0, g.Item2).Select(i => Cut(g.Item1 + i * 0.01, 10_000 + g.Item1 * 3 + i * 13)));

        var groups = Groups(sessions);

        Assert.Equal([60.0, 300.0, 30.0], groups.Select(g => Math.Round(g.LowSeconds)));
    }

    [Fact]
    public void Add_SessionsOverFiveHours_SteadyStateAddsAllocateNothing()
    {
        var groups = new EndingTimeGroups();
        var record = Cut(1, 1);
        for (var i = 0; i < 200_000; i++)
        {
            // Times across the whole grouped range (every whole second is hit) and past it.
            var microseconds = 1_000_000 + (i * 90_127_311L % (5L * 3600 * 1_000_000));
            groups.Add(record with { IdleBeforeEndMicroseconds = microseconds, DurationMicroseconds = microseconds });
        }

        var again = Enumerable.Range(0, 1000).Select(i => record with { IdleBeforeEndMicroseconds = 2_000_000 + i * 7_000, DurationMicroseconds = 3_000_000 + i * 9_000 }).ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            groups.Add(again[i % again.Length]);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // One bucket per whole second up to four hours, all there already: more sessions cost no memory.
        Assert.True(allocated < 1024, $"allocated {allocated} bytes");
        Assert.True(groups.TooLong > 0);
        Assert.Empty(groups.Find());
    }

    [Fact]
    public void SummaryWriter_GroupOfSessions_OneLineAfterTheCounts()
    {
        var sessions = Enumerable.Range(1, 4).Select(i => Cut(60.0 + i * 0.2, 200 + i * 10) with { SessionId = i, Diagnosis = $"d{i}" })
            .Append(CsvSessionWriterTests.PlainRecord(5)).ToList();
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };

        SummaryWriter.Write(text, sessions, new AnalysisStatistics(), 1);

        var lines = text.ToString().Split('\n');
        var at = Array.IndexOf(lines, "Sessions that did not close cleanly:");
        Assert.Equal(
            ["  normal_closure            1", "  abnormal_closure          4", string.Empty,
             "4 sessions ended after 60.5 s +-0.3 s of idle time: an idle timeout of about 60 s between client and server (nginx's proxy_read_timeout or an AWS ALB's default idle timeout, also used by ASP.NET/SignalR behind them); send pings more often than that or raise the timeout.",
             string.Empty],
            lines[2..at]);
    }

    [Fact]
    public void SummaryWriter_NoGroup_NoLine()
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };

        SummaryWriter.Write(text, [Cut(60.0, 61), Cut(60.1, 99)], new AnalysisStatistics(), 1);

        Assert.DoesNotContain("sessions ended after", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SessionSorter_EndingTimes_CountEverySessionAdded()
    {
        using var sorter = new SessionSorter(maxInMemory: 2, spillDirectory: Path.GetTempPath());
        for (var i = 0; i < 5; i++)
        {
            sorter.Add(Cut(3.0 + i * 0.01, 10 + i * 9) with { StartTimeNanoseconds = i }, inputIndex: 0);
        }

        Assert.Equal(5, Assert.Single(sorter.EndingTimes.Find()).Sessions);
    }
}
