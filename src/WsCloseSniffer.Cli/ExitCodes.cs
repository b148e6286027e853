using WsCloseSniffer.Pcap;

namespace WsCloseSniffer.Cli;

/// <summary>The exit codes (docs/report-format.md), and the one mapping from a failure to its code, for every command.</summary>
internal static class ExitCodes
{
    /// <summary>The input was analyzed, whatever the close codes were.</summary>
    public const int Success = 0;

    /// <summary>The command line was wrong, or names an output that cannot be written.</summary>
    public const int Usage = 1;

    /// <summary>An input could not be read at all, or was damaged (sessions before the damage are still reported).</summary>
    public const int InputError = 2;

    /// <summary>
    /// True for the failures a command reports in one line and exits on (see <see cref="Of"/>); anything else is
    /// a bug and is left to crash loudly.
    /// </summary>
    public static bool IsExpected(Exception e) =>
        e is IOException or UnauthorizedAccessException or LiveCaptureException or PacketFilterException or PcapUnavailableException;

    /// <summary>
    /// The exit code of an expected failure. Files a command opens for writing (reports, <c>--write-pcap</c>) are
    /// named on its command line, so one that cannot be written is a usage error; libpcap refusing the interface,
    /// the filter or to load is an input error. Reading damaged captures is not here: those become problems of
    /// the analysis, reported after it.
    /// </summary>
    public static int Of(Exception e) => e switch
    {
        LiveCaptureException or PacketFilterException or PcapUnavailableException => InputError,
        IOException or UnauthorizedAccessException => Usage,
        _ => throw new ArgumentException($"not an expected failure: {e.GetType().Name}", nameof(e)),
    };
}
