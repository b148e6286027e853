using System.Globalization;
using WsCloseSniffer.Analysis;

namespace WsCloseSniffer.Reporting;

/// <summary>One session as the timeline draws it.</summary>
public readonly record struct TimelineBar(long SessionId, double StartSeconds, double EndSeconds, string Classification, int? CloseCode);

/// <summary>
/// What the HTML report's charts show, gathered one session at a time in bounded memory: counts per
/// classification word (as many as there are outcomes), duration and idle-before-end histograms on fixed
/// logarithmic bins, and a timeline of at most <see cref="MaxTimelineBars"/> sessions. Past that cap the timeline
/// keeps every other bar and then only every second session after it (the stride doubles), so it still spans the
/// whole capture evenly and the result depends only on the sessions, in the order they came.
/// </summary>
public sealed class HtmlReportModel
{
    /// <summary>The well-known idle timeouts of proxies and load balancers, in seconds (marked on the histograms).</summary>
    public static IReadOnlyList<double> ProxyTimeoutMarkers { get; } = [30, 60, 100, 120, 300];

    /// <summary>Histogram bin edges in seconds: 1-2-5 steps from 1 ms to 10,000 s, plus an open bin each side.</summary>
    public static IReadOnlyList<double> BinEdges { get; } = MakeEdges();

    private readonly int _maxTimelineBars;
    private readonly List<TimelineBar> _timeline = [];
    private readonly long[] _durationBins = new long[BinEdges.Count + 1];
    private readonly long[] _idleBins = new long[BinEdges.Count + 1];
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private long _stride = 1;
    private long _seen;
    private double? _firstStart;

    public HtmlReportModel(int maxTimelineBars = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTimelineBars, 2);
        _maxTimelineBars = maxTimelineBars;
    }

    public int MaxTimelineBars => _maxTimelineBars;

    public long SessionCount => _seen;

    public long IdleSampleCount { get; private set; }

    /// <summary>Unix seconds of the earliest session start seen (the timeline's zero), null before any session.</summary>
    public double? EarliestStartSeconds => _firstStart;

    public double LatestEndSeconds { get; private set; }

    public IReadOnlyList<TimelineBar> Timeline => _timeline;

    public IReadOnlyList<long> DurationBins => _durationBins;

    public IReadOnlyList<long> IdleBins => _idleBins;

    /// <summary>Counts per classification word: the outcome table's words in its order, then any other word, ordinal.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> ClassificationCounts
    {
        get
        {
            var known = Outcomes.All.Where(row => _counts.ContainsKey(row.Word)).Select(row => new KeyValuePair<string, long>(row.Word, _counts[row.Word]));
            var other = _counts.Where(pair => !Outcomes.TryParse(pair.Key, out _)).OrderBy(pair => pair.Key, StringComparer.Ordinal);
            return [.. known, .. other];
        }
    }

    /// <summary>Adds one session; <paramref name="idleBeforeEndSeconds"/> is its idle time before the end, when known.</summary>
    public void Add(SessionRecord record, double? idleBeforeEndSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        var start = ParseUnixSeconds(record.StartTime);
        var end = Math.Max(start, ParseUnixSeconds(record.EndTime));
        _counts[record.Classification] = _counts.GetValueOrDefault(record.Classification) + 1;
        _durationBins[BinOf(end - start)]++;
        if (idleBeforeEndSeconds is double idle && idle >= 0)
        {
            _idleBins[BinOf(idle)]++;
            IdleSampleCount++;
        }

        _firstStart = _firstStart is double first ? Math.Min(first, start) : start;
        LatestEndSeconds = Math.Max(LatestEndSeconds, end);

        if (_seen % _stride == 0)
        {
            if (_timeline.Count == _maxTimelineBars)
            {
                Thin();
            }

            if (_seen % _stride == 0)
            {
                _timeline.Add(new TimelineBar(record.SessionId, start, end, record.Classification, record.CloseCode));
            }
        }

        _seen++;
    }

    /// <summary>The bin a time in seconds falls in: 0 below the first edge, <c>BinEdges.Count</c> at or above the last.</summary>
    public static int BinOf(double seconds)
    {
        var edges = BinEdges;
        var bin = 0;
        while (bin < edges.Count && seconds >= edges[bin])
        {
            bin++;
        }

        return bin;
    }

    /// <summary>Unix seconds of a report time (<c>2026-11-23T10:15:02.123456Z</c>, any number of fraction digits).</summary>
    public static double ParseUnixSeconds(string isoTime)
    {
        ArgumentNullException.ThrowIfNull(isoTime);
        var dot = isoTime.IndexOf('.', StringComparison.Ordinal);
        var wholeEnd = dot >= 0 ? dot : isoTime.Length - 1;
        var whole = DateTime.ParseExact(isoTime.AsSpan(0, wholeEnd), "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        var fraction = 0.0;
        if (dot >= 0)
        {
            var digits = isoTime.AsSpan(dot + 1).TrimEnd('Z');
            fraction = digits.IsEmpty ? 0 : double.Parse("0." + digits.ToString(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        }

        return (whole - DateTime.UnixEpoch).TotalSeconds + fraction;
    }

    private void Thin()
    {
        // Keep the bars of sessions whose ordinal is a multiple of the doubled stride: bar i was session i * stride.
        var kept = 0;
        for (var i = 0; i < _timeline.Count; i += 2)
        {
            _timeline[kept++] = _timeline[i];
        }

        _timeline.RemoveRange(kept, _timeline.Count - kept);
        _stride *= 2;
    }

    private static double[] MakeEdges()
    {
        var edges = new List<double>();
        for (var exponent = -3; exponent < 4; exponent++)
        {
            foreach (var mantissa in new[] { 1.0, 2.0, 5.0 })
            {
                edges.Add(mantissa * Math.Pow(10, exponent));
            }
        }

        edges.Add(10_000);
        return [.. edges];
    }
}
