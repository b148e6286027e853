using WsCloseSniffer.Pcap;

namespace WsCloseSniffer.Tests.Live;

/// <summary>
/// Live capture needs libpcap and the right to capture (root). Without them the tests skip with the
/// reason; in CI (CI=true), where .ci/run installs libpcap and runs as root, a missing prerequisite fails.
/// </summary>
internal static class LivePrerequisites
{
    public const string LoopbackInterface = "lo";

    private static readonly Lazy<string?> s_missingLibrary = new(() =>
        PcapLibrary.TryGetVersion(out _, out string? problem) ? null : problem);

    private static readonly Lazy<string?> s_missingCapture = new(FindMissingCapture);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>libpcap only (listing interfaces, unknown interface).</summary>
    public static void RequireLibpcap() => Require(s_missingLibrary.Value);

    /// <summary>libpcap, a Linux loopback interface named lo, and root.</summary>
    public static void RequireCapture() => Require(s_missingCapture.Value);

    private static string? FindMissingCapture()
    {
        if (s_missingLibrary.Value is { } library)
        {
            return library;
        }

        if (!OperatingSystem.IsLinux())
        {
            return "live-capture tests capture on Linux's loopback interface 'lo'";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "live capture needs root (or CAP_NET_RAW and CAP_NET_ADMIN): run the tests as root";
        }

        return CaptureInterface.List().Any(i => i.Name == LoopbackInterface)
            ? null
            : "libpcap lists no interface named 'lo'";
    }

    private static void Require(string? missing)
    {
        if (missing is null)
        {
            return;
        }

        if (IsCi)
        {
            Assert.Fail($"CI=true and a live-capture prerequisite is missing: {missing}");
        }

        Skip.If(true, missing);
    }
}
