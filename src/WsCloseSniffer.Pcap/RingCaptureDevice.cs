using SharpPcap;
using SharpPcap.LibPcap;

using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Pcap;

/// <summary>
/// A libpcap live device whose packet callback copies each frame straight from libpcap's buffer into
/// a <see cref="PacketRing"/>: SharpPcap's default callback allocates a header object and a timeval
/// per packet, this one reads struct pcap_pkthdr in place and allocates nothing. It never waits.
/// </summary>
internal sealed class RingCaptureDevice : LibPcapLiveDevice
{
    // struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; }: timeval is two
    // 4-byte C longs on Windows and 32-bit systems, { long; int; pad } on 64-bit macOS, two longs elsewhere.
    private static readonly bool s_shortTimeval = IntPtr.Size == 4 || OperatingSystem.IsWindows();
    private static readonly int s_timevalBytes = s_shortTimeval ? 8 : 16;

    private readonly PacketRing _ring;
    private long _nanosecondsPerFractionUnit = 1000;
    private volatile bool _accepting;

    public RingCaptureDevice(PcapInterface pcapInterface, PacketRing ring)
        : base(pcapInterface)
    {
        _ring = ring;
    }

    /// <summary>Packets arriving while false are ignored (before the start, and after the stop while libpcap winds down).</summary>
    public bool Accepting
    {
        get => _accepting;
        set => _accepting = value;
    }

    /// <summary>Reads the timestamp precision libpcap settled on (microseconds unless nanoseconds were granted).</summary>
    public void ReadTimestampResolution() =>
        _nanosecondsPerFractionUnit = TimestampResolution == SharpPcap.TimestampResolution.Nanosecond ? 1 : 1000;

    protected override unsafe void PacketHandler(IntPtr handlePtr, IntPtr header, IntPtr data)
    {
        if (!_accepting)
        {
            return;
        }

        byte* pkthdr = (byte*)header;
        long seconds;
        long fraction;
        if (s_shortTimeval)
        {
            seconds = *(int*)pkthdr;
            fraction = *(int*)(pkthdr + 4);
        }
        else
        {
            seconds = *(long*)pkthdr;
            fraction = OperatingSystem.IsMacOS() ? *(int*)(pkthdr + 8) : *(long*)(pkthdr + 8);
        }

        int captured = *(int*)(pkthdr + s_timevalBytes);
        int original = *(int*)(pkthdr + s_timevalBytes + 4);
        var frame = new ReadOnlySpan<byte>((void*)data, captured);
        _ring.TryWrite(Timestamp.FromSeconds(seconds, fraction * _nanosecondsPerFractionUnit), frame, original);
    }
}
