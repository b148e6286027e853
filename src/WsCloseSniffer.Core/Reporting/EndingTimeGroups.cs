using System.Globalization;
using WsCloseSniffer.Analysis;

namespace WsCloseSniffer.Reporting;

/// <summary>Which of a session's times a group of sessions shares.</summary>
public enum EndingTimeKind : byte
{
    /// <summary>The <c>idle_before_end_s</c> column: time without a frame before the connection ended.</summary>
    IdleBeforeEnd,

    /// <summary>The <c>duration_s</c> column: time from the first packet to the last.</summary>
    Duration,
}

/// <summary>Sessions of a run that ended after the same idle time or duration, within <see cref="EndingTimeGroups.WidthSeconds"/>.</summary>
/// <param name="Sessions">How many.</param>
/// <param name="LowSeconds">The shortest of their times.</param>
/// <param name="HighSeconds">The longest of their times.</param>
public readonly record struct EndingTimeGroup(EndingTimeKind Kind, long Sessions, double LowSeconds, double HighSeconds)
{
    public double CenterSeconds => (LowSeconds + HighSeconds) / 2;

    public double HalfSpreadSeconds => (HighSeconds - LowSeconds) / 2;
}

/// <summary>
/// Finds many sessions cut after the same idle time or duration, the mark of an idle timeout or a lifetime
/// limit between client and server. Only sessions that did not close cleanly and did end (not
/// <c>unfinished</c>, not rejected) count, with times of at least <see cref="Classifier.IdleWorthSayingSeconds"/>;
/// the times are the report's columns, so a CSV reader finds the same groups.
/// Memory is bounded whatever the session count: per whole second of time, a count and the shortest and longest
/// time, for times up to <see cref="MaxSeconds"/> (longer ones are counted in <see cref="TooLong"/>).
/// Fed once per session, not per packet.
/// </summary>
public sealed class EndingTimeGroups
{
    /// <summary>A group holds at least this many sessions: two sessions alike may be chance, three in one run rarely are.</summary>
    public const int MinSessions = 3;

    /// <summary>
    /// The times of one group lie within this of each other (the same time +-1 s): two neighbouring whole-second
    /// buckets.
    /// </summary>
    public const int WidthSeconds = 2;

    /// <summary>
    /// A group holds at least half of the sessions whose times lie within this of it, so that times spread evenly
    /// over minutes (many sessions each cut at its own time) are not taken for a group.
    /// </summary>
    public const int NeighbourhoodSeconds = 5;

    /// <summary>At most this many groups of each kind are named, largest first.</summary>
    public const int MaxGroupsPerKind = 3;

    /// <summary>Times past this (four hours: past every well-known idle timeout and lifetime limit) are not grouped.</summary>
    public const int MaxSeconds = 4 * 3600;

    private const long MicrosecondsPerSecond = 1_000_000;

    // An array, not the outcome table's list: a list's enumerator would be allocated once per session.
    private static readonly string[] s_notCounted =
        [.. Outcomes.All.Where(row => row.Clean).Select(row => row.Word), Outcome.Unfinished.Word(), Outcome.HandshakeRejected.Word()];

    private readonly Dictionary<long, Bucket> _idle;
    private readonly Dictionary<long, Bucket> _duration;

    public EndingTimeGroups()
    {
        _idle = [];
        _duration = [];
    }

    private EndingTimeGroups(EndingTimeGroups other)
    {
        _idle = new Dictionary<long, Bucket>(other._idle);
        _duration = new Dictionary<long, Bucket>(other._duration);
        TooLong = other.TooLong;
    }

    /// <summary>Times longer than <see cref="MaxSeconds"/>, counted and not grouped.</summary>
    public long TooLong { get; private set; }

    public void Add(SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!Counts(record.Classification))
        {
            return;
        }

        if (record.IdleBeforeEndMicroseconds is long idle)
        {
            Add(_idle, idle);
        }

        Add(_duration, record.DurationMicroseconds);
    }

    public EndingTimeGroups Copy() => new(this);

    /// <summary>
    /// The groups, idle-time groups first, each kind largest first. A duration group at the time of an idle-time
    /// group is left out: sessions without a frame after the handshake have both times alike, and are one finding.
    /// </summary>
    public IReadOnlyList<EndingTimeGroup> Find()
    {
        var idle = Find(EndingTimeKind.IdleBeforeEnd, _idle);
        var duration = Find(EndingTimeKind.Duration, _duration)
            .Where(d => !idle.Any(i => Math.Abs(i.CenterSeconds - d.CenterSeconds) <= WidthSeconds / 2.0));
        return [.. idle, .. duration];
    }

    /// <summary>The summary's line for a group.</summary>
    public static string Describe(EndingTimeGroup group)
    {
        var inv = CultureInfo.InvariantCulture;
        (string, string)[] values =
        [
            ("count", group.Sessions.ToString(inv)),
            ("center", group.CenterSeconds.ToString("0.0", inv)),
            ("spread", group.HalfSpreadSeconds.ToString("0.0", inv)),
        ];
        if (group.Kind == EndingTimeKind.Duration)
        {
            return DiagnosisTemplates.Fill(DiagnosisTemplates.SummaryDurationGroup, values);
        }

        if (IdleTimeoutTable.Match(group.CenterSeconds) is { } match)
        {
            return DiagnosisTemplates.Fill(DiagnosisTemplates.SummaryIdleGroupKnown,
                [.. values, ("timeout", IdleTimeoutTable.Length(match)), ("timeoutWho", match.Who)]);
        }

        return DiagnosisTemplates.Fill(DiagnosisTemplates.SummaryIdleGroup, values);
    }

    private static bool Counts(string classification)
    {
        foreach (var word in s_notCounted)
        {
            if (string.Equals(word, classification, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private void Add(Dictionary<long, Bucket> buckets, long microseconds)
    {
        if (microseconds < Classifier.IdleWorthSayingSeconds * MicrosecondsPerSecond)
        {
            return;
        }

        if (microseconds > MaxSeconds * MicrosecondsPerSecond)
        {
            TooLong++;
            return;
        }

        var second = microseconds / MicrosecondsPerSecond;
        buckets[second] = buckets.TryGetValue(second, out var bucket)
            ? new Bucket(bucket.Count + 1, Math.Min(bucket.Low, microseconds), Math.Max(bucket.High, microseconds))
            : new Bucket(1, microseconds, microseconds);
    }

    private static List<EndingTimeGroup> Find(EndingTimeKind kind, Dictionary<long, Bucket> buckets)
    {
        var groups = new List<EndingTimeGroup>();
        var taken = new HashSet<long>();
        long Count(long second) => taken.Contains(second) ? 0 : buckets.GetValueOrDefault(second).Count;
        long Around(long first)
        {
            long total = 0;
            for (var s = first - NeighbourhoodSeconds + 1; s < first + WidthSeconds + NeighbourhoodSeconds - 1; s++)
            {
                total += Count(s);
            }

            return total;
        }

        while (groups.Count < MaxGroupsPerKind)
        {
            // The two-second window holding the most sessions not yet in a group; earliest first on a tie.
            long best = -1;
            long bestCount = 0;
            foreach (var second in buckets.Keys.Order())
            {
                var count = Count(second) + Count(second + 1);
                if (count > bestCount)
                {
                    (best, bestCount) = (second, count);
                }
            }

            if (bestCount < MinSessions || 2 * bestCount < Around(best))
            {
                break;
            }

            long low = long.MaxValue, high = long.MinValue;
            for (var s = best; s < best + WidthSeconds; s++)
            {
                if (Count(s) > 0)
                {
                    var bucket = buckets[s];
                    (low, high) = (Math.Min(low, bucket.Low), Math.Max(high, bucket.High));
                    taken.Add(s);
                }
            }

            groups.Add(new EndingTimeGroup(kind, bestCount, low / (double)MicrosecondsPerSecond, high / (double)MicrosecondsPerSecond));
        }

        return groups;
    }

    private readonly record struct Bucket(long Count, long Low, long High);
}
