using System.Globalization;

namespace WsCloseSniffer.Capture;

/// <summary>
/// A packet time: nanoseconds since the Unix epoch (UTC). Packet time, never the wall clock,
/// drives every timeout, so replaying a file behaves like a live capture.
/// </summary>
public readonly record struct Timestamp(long UnixNanoseconds) : IComparable<Timestamp>
{
    public const long NanosecondsPerSecond = 1_000_000_000;

    public static Timestamp Zero => default;

    public static Timestamp FromSeconds(long seconds, long nanoseconds) =>
        new(unchecked((seconds * NanosecondsPerSecond) + nanoseconds));

    public long Seconds => UnixNanoseconds / NanosecondsPerSecond;

    public int CompareTo(Timestamp other) => UnixNanoseconds.CompareTo(other.UnixNanoseconds);

    public static bool operator <(Timestamp left, Timestamp right) => left.UnixNanoseconds < right.UnixNanoseconds;
    public static bool operator >(Timestamp left, Timestamp right) => left.UnixNanoseconds > right.UnixNanoseconds;
    public static bool operator <=(Timestamp left, Timestamp right) => left.UnixNanoseconds <= right.UnixNanoseconds;
    public static bool operator >=(Timestamp left, Timestamp right) => left.UnixNanoseconds >= right.UnixNanoseconds;

    public static Timestamp Max(Timestamp a, Timestamp b) => a >= b ? a : b;

    /// <summary>Nanoseconds elapsed from <paramref name="earlier"/> to this time.</summary>
    public long NanosecondsSince(Timestamp earlier) => unchecked(UnixNanoseconds - earlier.UnixNanoseconds);

    /// <summary>ISO-8601 UTC with microseconds, e.g. <c>2026-11-23T10:15:02.123456Z</c> (the report contract).</summary>
    public string ToIso8601() =>
        DateTime.UnixEpoch.AddTicks(UnixNanoseconds / 100)
            .ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public override string ToString() => ToIso8601();
}
