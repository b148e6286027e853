namespace WsCloseSniffer.Pcap;

/// <summary>Whether the native libpcap (Npcap on Windows) can be loaded, and what to tell the user when not.</summary>
public static class PcapLibrary
{
    public const string MissingMessage =
        "libpcap is not installed: install libpcap0.8 (Debian/Ubuntu: apt-get install libpcap0.8), " +
        "libpcap (Fedora: dnf install libpcap), it ships with macOS; on Windows install Npcap";

    /// <summary>libpcap's version string (e.g. "libpcap version 1.10.3"); throws <see cref="PcapUnavailableException"/> when it cannot be loaded.</summary>
    public static string Version
    {
        get
        {
            try
            {
                return SharpPcap.Pcap.Version;
            }
            catch (Exception ex) when (IsLibraryMissing(ex))
            {
                throw new PcapUnavailableException(MissingMessage, ex);
            }
        }
    }

    /// <summary>True when libpcap can be loaded; otherwise <paramref name="problem"/> says why.</summary>
    public static bool TryGetVersion(out string version, out string? problem)
    {
        try
        {
            version = Version;
            problem = null;
            return true;
        }
        catch (PcapUnavailableException ex)
        {
            version = string.Empty;
            problem = ex.Message + " (" + ex.InnerException?.Message + ")";
            return false;
        }
    }

    internal static bool IsLibraryMissing(Exception exception) =>
        exception is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException;
}
