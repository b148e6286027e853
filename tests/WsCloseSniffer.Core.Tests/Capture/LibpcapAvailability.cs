using WsCloseSniffer.Pcap;

namespace WsCloseSniffer.Tests.Capture;

/// <summary>Tests that need libpcap skip (with the reason) where it is missing, but fail on CI (CI=true).</summary>
internal static class LibpcapAvailability
{
    public static void SkipOrFailIfMissing()
    {
        if (PcapLibrary.TryGetVersion(out _, out string? problem))
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("libpcap is required on CI: " + problem);
        }

        Skip.If(true, "libpcap cannot be loaded: " + problem);
    }
}
