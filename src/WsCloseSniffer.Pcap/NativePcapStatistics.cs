using System.Runtime.InteropServices;

using SharpPcap.LibPcap;

namespace WsCloseSniffer.Pcap;

/// <summary>
/// pcap_stats called directly. SharpPcap 6.3.1 reads struct pcap_stat with pointer-sized fields on Unix,
/// but its fields are u_int (pcap/pcap.h): on 64-bit Linux its "dropped" is really ps_ifdrop, so kernel
/// drops read as 0 (measured: a loopback burst lost half its packets while it reported none).
/// </summary>
internal static unsafe class NativePcapStatistics
{
    // The names SharpPcap's resolver tries, in its order, so both load the same library
    // (a pcap_t must go back to the libpcap that made it).
    private static readonly string[] s_libraryNames = OperatingSystem.IsWindows()
        ? ["wpcap.dll"]
        : OperatingSystem.IsMacOS()
            ? ["libpcap.dylib"]
            : ["libpcap.so", "libpcap.so.0", "libpcap.so.0.8", "libpcap.so.1"];

    private static readonly Lazy<IntPtr> s_pcapStats = new(FindPcapStats);

    /// <summary>False when libpcap or the call fails; the counters are then unknown.</summary>
    public static bool TryRead(PcapDevice device, out long received, out long droppedByKernel, out long droppedByInterface)
    {
        received = droppedByKernel = droppedByInterface = 0;
        var pcapStats = (delegate* unmanaged<IntPtr, uint*, int>)s_pcapStats.Value;
        if (pcapStats is null || device.Handle.IsInvalid || device.Handle.IsClosed)
        {
            return false;
        }

        // u_int ps_recv, ps_drop, ps_ifdrop; room for the Windows-only ps_capt and any later field.
        uint* stat = stackalloc uint[8];
        bool added = false;
        try
        {
            device.Handle.DangerousAddRef(ref added);
            if (pcapStats(device.Handle.DangerousGetHandle(), stat) != 0)
            {
                return false;
            }
        }
        finally
        {
            if (added)
            {
                device.Handle.DangerousRelease();
            }
        }

        received = stat[0];
        droppedByKernel = stat[1];
        droppedByInterface = stat[2];
        return true;
    }

    private static IntPtr FindPcapStats()
    {
        foreach (var name in s_libraryNames)
        {
            if (NativeLibrary.TryLoad(name, out var library) && NativeLibrary.TryGetExport(library, "pcap_stats", out var export))
            {
                return export;
            }
        }

        return IntPtr.Zero;
    }
}
