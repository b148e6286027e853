using System.Globalization;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Pcap;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Cli;

/// <summary>
/// What <c>live</c> tells the person watching: one line per session as it ends, and the capture's
/// counters when it stops.
/// </summary>
internal static class LiveSessionPrinter
{
    /// <summary>
    /// <c>END_TIME #ID CLIENT -> SERVER HOST+PATH close CODE CLASSIFICATION[: DIAGNOSIS]</c>; the diagnosis
    /// only when the session did not close cleanly.
    /// </summary>
    public static string FormatSession(SessionRecord session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var inv = CultureInfo.InvariantCulture;
        string close = session.CloseCode is int code ? string.Create(inv, $"close {code}") : "no close code";
        string line = string.Create(inv,
            $"{session.EndTime} #{session.SessionId} {SummaryWriter.Endpoint(session.ClientIp, session.ClientPort)} -> {SummaryWriter.Endpoint(session.ServerIp, session.ServerPort)} {TerminalText.Safe(session.Host)}{TerminalText.Safe(session.Path)} {close} {session.Classification}");
        return Outcomes.IsClean(session.Classification) ? line : $"{line}: {TerminalText.Safe(session.Diagnosis)}";
    }

    public static void WriteStatistics(TextWriter writer, string interfaceName, LiveCaptureStatistics capture, long sessions)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(capture);
        var inv = CultureInfo.InvariantCulture;
        writer.WriteLine(string.Create(inv, $"wsclosesniffer: capture on {interfaceName} stopped after {capture.Duration.TotalSeconds:0.0} s"));
        writer.WriteLine($"  packets received:          {Counter(capture.PacketsReceived)}");
        writer.WriteLine($"  dropped by the kernel:     {Counter(capture.DroppedByKernel)}");
        writer.WriteLine($"  dropped by the interface:  {Counter(capture.DroppedByInterface)}");
        writer.WriteLine(string.Create(inv, $"  dropped by wsclosesniffer: {capture.DroppedByUs}{(capture.DroppedByUs > 0 ? " (analysis fell behind the capture)" : string.Empty)}"));
        writer.WriteLine(string.Create(inv, $"  packets analyzed:          {capture.PacketsAnalyzed}"));
        writer.WriteLine(string.Create(inv, $"  WebSocket sessions:        {sessions}"));
    }

    /// <summary>libpcap's counters are -1 when pcap_stats failed: say so rather than print a reassuring 0.</summary>
    private static string Counter(long value) => value < 0 ? "unknown" : value.ToString(CultureInfo.InvariantCulture);

}
