using System.Net;

using SharpPcap.LibPcap;

namespace WsCloseSniffer.Pcap;

/// <summary>Whether a network interface has a link (pcap_findalldevs' PCAP_IF_CONNECTION_STATUS).</summary>
public enum InterfaceConnectionStatus : byte
{
    Unknown = 0,
    Connected = 1,
    Disconnected = 2,
    NotApplicable = 3,
}

/// <summary>A capture device as libpcap lists it (what <c>tcpdump -D</c> shows, plus its IP addresses).</summary>
public sealed record CaptureInterface(
    string Name,
    string? Description,
    IReadOnlyList<IPAddress> Addresses,
    bool IsUp,
    bool IsRunning,
    bool IsLoopback,
    bool IsWireless,
    InterfaceConnectionStatus ConnectionStatus)
{
    // pcap/pcap.h PCAP_IF_* flags.
    private const uint LoopbackFlag = 0x1;
    private const uint UpFlag = 0x2;
    private const uint RunningFlag = 0x4;
    private const uint WirelessFlag = 0x8;
    private const uint ConnectionStatusMask = 0x30;

    /// <summary>Flags in tcpdump -D's words, e.g. <c>Up, Running, Loopback</c>; <c>none</c> when no flag is set.</summary>
    public string FlagsText
    {
        get
        {
            var words = new List<string>();
            if (IsUp)
            {
                words.Add("Up");
            }

            if (IsRunning)
            {
                words.Add("Running");
            }

            if (IsWireless)
            {
                words.Add("Wireless");
            }

            if (IsLoopback)
            {
                words.Add("Loopback");
            }

            if (ConnectionStatus == InterfaceConnectionStatus.Connected)
            {
                words.Add("Connected");
            }
            else if (ConnectionStatus == InterfaceConnectionStatus.Disconnected)
            {
                words.Add("Disconnected");
            }

            return words.Count == 0 ? "none" : string.Join(", ", words);
        }
    }

    /// <summary>
    /// The capture devices in libpcap's order (pcap_findalldevs). Throws <see cref="PcapUnavailableException"/>
    /// when libpcap cannot be loaded.
    /// </summary>
    public static IReadOnlyList<CaptureInterface> List()
    {
        try
        {
            return [.. LibPcapLiveDeviceList.New().Select(FromDevice)];
        }
        catch (Exception ex) when (PcapLibrary.IsLibraryMissing(ex))
        {
            throw new PcapUnavailableException(PcapLibrary.MissingMessage, ex);
        }
    }

    internal static CaptureInterface FromDevice(LibPcapLiveDevice device)
    {
        uint flags = device.Flags;
        var addresses = device.Addresses
            .Select(a => a.Addr?.ipAddress)
            .OfType<IPAddress>()
            .ToList();
        return new CaptureInterface(
            device.Name,
            string.IsNullOrEmpty(device.Description) ? null : device.Description,
            addresses,
            IsUp: (flags & UpFlag) != 0,
            IsRunning: (flags & RunningFlag) != 0,
            IsLoopback: (flags & LoopbackFlag) != 0,
            IsWireless: (flags & WirelessFlag) != 0,
            ConnectionStatus: (InterfaceConnectionStatus)((flags & ConnectionStatusMask) >> 4));
    }
}
