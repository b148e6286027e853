using System.Globalization;

namespace WsCloseSniffer.Analysis;

/// <summary>An idle timeout people meet in practice: its length, who sets it, and what to change.</summary>
/// <param name="Seconds">The timeout's length.</param>
/// <param name="Who">Which proxies or servers use it, as the diagnosis names them.</param>
public sealed record IdleTimeoutRow(int Seconds, string Who);

/// <summary>
/// Well-known idle timeouts between a client and a server. A session that ended after about one of these
/// lengths of idle time (or of duration) was most likely cut by it; the diagnosis says which and what to change.
/// </summary>
public static class IdleTimeoutTable
{
    /// <summary>How far from a known timeout an idle time may be and still match it (timers and network delay).</summary>
    public const double ToleranceSeconds = 2.0;

    public static IReadOnlyList<IdleTimeoutRow> All { get; } =
    [
        new(30, "a 30 s idle timeout, a common proxy or load balancer setting"),
        new(60, "nginx's proxy_read_timeout or an AWS ALB's default idle timeout, also used by ASP.NET/SignalR behind them"),
        new(100, "Cloudflare's proxy read timeout"),
        new(120, "a 120 s idle timeout, a common proxy or load balancer setting"),
        new(300, "a 300 s idle timeout, a common proxy or load balancer setting"),
        new(600, "AWS API Gateway's WebSocket idle timeout, which it ends with 1001 Going Away"),
        new(3600, "a one-hour idle timeout, a common proxy or load balancer setting"),
    ];

    /// <summary>The known timeout within <see cref="ToleranceSeconds"/> of <paramref name="seconds"/>, nearest first; null when none.</summary>
    public static IdleTimeoutRow? Match(double seconds)
    {
        IdleTimeoutRow? best = null;
        var bestDistance = double.MaxValue;
        foreach (var row in All)
        {
            var distance = Math.Abs(seconds - row.Seconds);
            if (distance <= ToleranceSeconds && distance < bestDistance)
            {
                best = row;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>The row's length as the diagnosis writes it ("60 s").</summary>
    public static string Length(IdleTimeoutRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return string.Create(CultureInfo.InvariantCulture, $"{row.Seconds} s");
    }
}
