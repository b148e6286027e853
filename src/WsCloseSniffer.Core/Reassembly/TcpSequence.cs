using System.Globalization;

namespace WsCloseSniffer.Reassembly;

/// <summary>
/// A 32-bit TCP sequence number with serial-number arithmetic (RFC 1982; RFC 9293 section 3.4):
/// comparisons are made on the signed distance, so they stay right across the wrap at 2^32 as long
/// as the two numbers are less than 2^31 apart (a TCP window is at most 2^30, RFC 7323 section 2.3).
/// </summary>
public readonly record struct TcpSequence(uint Value)
{
    /// <summary>Signed distance from <paramref name="from"/> to <paramref name="to"/>, in [-2^31, 2^31).</summary>
    public static int Distance(TcpSequence from, TcpSequence to) => unchecked((int)(to.Value - from.Value));

    /// <summary>This sequence number moved by <paramref name="delta"/>, modulo 2^32.</summary>
    public TcpSequence Add(long delta) => new(unchecked(Value + (uint)delta));

    /// <summary>Signed distance from <paramref name="other"/> to this number.</summary>
    public int Subtract(TcpSequence other) => Distance(other, this);

    /// <summary>Negative, zero or positive as this number is before, equal to or after <paramref name="other"/>.</summary>
    public int CompareTo(TcpSequence other) => Math.Sign(Distance(other, this));

    public bool IsBefore(TcpSequence other) => Distance(other, this) < 0;

    public bool IsAfter(TcpSequence other) => Distance(other, this) > 0;

    public static TcpSequence operator +(TcpSequence sequence, long delta) => sequence.Add(delta);

    public static int operator -(TcpSequence left, TcpSequence right) => left.Subtract(right);

    public static bool operator <(TcpSequence left, TcpSequence right) => left.IsBefore(right);

    public static bool operator >(TcpSequence left, TcpSequence right) => left.IsAfter(right);

    public static bool operator <=(TcpSequence left, TcpSequence right) => !left.IsAfter(right);

    public static bool operator >=(TcpSequence left, TcpSequence right) => !left.IsBefore(right);

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
