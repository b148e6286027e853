using System.Diagnostics;

using SharpPcap;
using SharpPcap.LibPcap;

using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Pcap;

/// <summary>Settings of one live capture.</summary>
public sealed record LiveCaptureOptions
{
    /// <summary>Large enough that no frame is cut, loopback's 64 KiB segments included (tcpdump's default).</summary>
    public const int FullSnapLengthBytes = 262144;

    public const string DefaultFilter = "tcp";

    public required string InterfaceName { get; init; }

    /// <summary>libpcap/BPF expression, compiled for the interface's link type and run in the kernel.</summary>
    public string Filter { get; init; } = DefaultFilter;

    public bool Promiscuous { get; init; }

    public int SnapLengthBytes { get; init; } = FullSnapLengthBytes;

    /// <summary>
    /// How long libpcap may hold packets before handing them over (Linux TPACKET_V3 block timeout): the
    /// delay before a session's end is seen, and what a stop waits for so the last packets are not lost.
    /// </summary>
    public int ReadTimeoutMilliseconds { get; init; } = 100;

    /// <summary>
    /// Kernel capture buffer. Measured on Linux loopback (64 KiB segments, each seen twice by the kernel):
    /// a 20 MiB burst at about 1 GB/s lost half its packets with 16 MiB and none with 64 MiB.
    /// </summary>
    public int KernelBufferBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Bytes queued between the capture thread and the analysis; beyond it packets are dropped by us.</summary>
    public int QueueBytes { get; init; } = PacketRing.DefaultCapacityBytes;
}

/// <summary>Why a live capture could not start (or stopped).</summary>
public enum LiveCaptureError : byte
{
    PermissionDenied = 0,
    UnknownInterface = 1,
    InterfaceNotUp = 2,
    CaptureFailed = 3,
}

/// <summary>A live capture that could not start; the message is one line for the user.</summary>
public sealed class LiveCaptureException : Exception
{
    public LiveCaptureException() { }
    public LiveCaptureException(string message) : base(message) { }
    public LiveCaptureException(string message, Exception innerException) : base(message, innerException) { }

    public LiveCaptureException(LiveCaptureError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    public LiveCaptureError Error { get; } = LiveCaptureError.CaptureFailed;
}

/// <summary>
/// What a live capture's analysis side is told, all on the thread that called <see cref="LiveCapture.Run"/>:
/// <see cref="OnStarted"/> once, then <see cref="OnPacket"/> for each packet in capture order and
/// <see cref="OnIdle"/> whenever the queue runs empty, zero or more times each.
/// </summary>
public interface ILiveCaptureHandler
{
    void OnStarted();

    /// <summary>The packet's bytes are valid only during the call.</summary>
    void OnPacket(in CapturedPacket packet);

    void OnIdle();
}

/// <summary>
/// The counters of a finished live capture. The first three are libpcap's (pcap_stats; -1 when it could
/// not tell): received is what the kernel filter accepted (on Linux loopback every packet counts twice,
/// once sent and once received), dropped by the kernel is what did not fit in the kernel buffer,
/// dropped by the interface is what the network interface or its driver dropped (not all platforms
/// know). Dropped by us is what did not fit in our queue because analysis fell behind.
/// </summary>
public sealed record LiveCaptureStatistics(
    long PacketsReceived,
    long DroppedByKernel,
    long DroppedByInterface,
    long DroppedByUs,
    long PacketsAnalyzed,
    TimeSpan Duration,
    string? Failure);

/// <summary>
/// Captures on one interface through libpcap. The capture thread only copies frames into a bounded
/// <see cref="PacketRing"/>; the thread calling <see cref="Run"/> takes them out and hands them to the
/// analysis, so a slow analysis costs counted drops, never memory or a stalled capture.
/// </summary>
public sealed class LiveCapture : IDisposable
{
    private const int PacketsPerStopCheck = 4096;
    private static readonly TimeSpan s_idleWait = TimeSpan.FromMilliseconds(50);

    private readonly RingCaptureDevice _device;
    private readonly PacketRing _ring;
    private readonly LiveCaptureOptions _options;
    private volatile string? _failure;
    private long _analyzed;
    private bool _disposed;

    private LiveCapture(RingCaptureDevice device, PacketRing ring, LiveCaptureOptions options)
    {
        _device = device;
        _ring = ring;
        _options = options;
        LinkType = (LinkType)(uint)device.LinkType;
    }

    public string InterfaceName => _options.InterfaceName;

    public string Filter => _options.Filter;

    public LinkType LinkType { get; }

    public int SnapLengthBytes => _options.SnapLengthBytes;

    /// <summary>
    /// Opens the interface and sets the filter. Throws <see cref="LiveCaptureException"/> (no permission,
    /// unknown interface, interface down, other libpcap failure), <see cref="PacketFilterException"/>
    /// (libpcap's message) or <see cref="PcapUnavailableException"/>.
    /// </summary>
    public static LiveCapture Open(LiveCaptureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        LibPcapLiveDevice listed = FindDevice(options.InterfaceName);
        var pcapInterface = listed.Interface
            ?? throw new LiveCaptureException(LiveCaptureError.CaptureFailed, $"libpcap gave no details for {options.InterfaceName}");
        var ring = new PacketRing(options.QueueBytes);
        var device = new RingCaptureDevice(pcapInterface, ring);
        try
        {
            OpenDevice(device, options);
            try
            {
                device.Filter = options.Filter;
            }
            catch (PcapException ex)
            {
                throw new PacketFilterException($"invalid filter '{options.Filter}': {FilterMessage(ex, device)}", ex);
            }

            device.ReadTimestampResolution();

            // SharpPcap's capture loop polls the descriptor every 500 ms: wait for it to notice the stop.
            device.StopCaptureTimeout = TimeSpan.FromSeconds(2);
            return new LiveCapture(device, ring, options);
        }
        catch
        {
            device.Close();
            device.Dispose();
            ring.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Captures until <paramref name="stop"/> is cancelled (or libpcap fails), then waits one read timeout
    /// for packets the kernel still holds, stops, and hands over every queued packet. Returns the counters.
    /// </summary>
    public LiveCaptureStatistics Run(ILiveCaptureHandler handler, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var clock = Stopwatch.StartNew();
        _device.OnPacketArrival += IgnorePacket;
        _device.OnCaptureStopped += OnCaptureStopped;
        _device.Accepting = true;
        _device.StartCapture();
        try
        {
            handler.OnStarted();
            while (!stop.IsCancellationRequested && _failure is null)
            {
                if (Drain(handler, PacketsPerStopCheck) == 0)
                {
                    handler.OnIdle();
                    _ring.WaitForData(s_idleWait);
                }
            }

            // Linux TPACKET_V3 hands a block of packets over only when it fills or the read timeout
            // expires: packets that arrived just before the stop are still in the kernel until then.
            var grace = Stopwatch.StartNew();
            var graceTime = TimeSpan.FromMilliseconds((2 * _options.ReadTimeoutMilliseconds) + 50);
            while (_failure is null && grace.Elapsed < graceTime)
            {
                if (Drain(handler, PacketsPerStopCheck) == 0)
                {
                    _ring.WaitForData(s_idleWait);
                }
            }
        }
        finally
        {
            _device.StopCapture();
            _device.Accepting = false;
        }

        while (Drain(handler, PacketsPerStopCheck) > 0)
        {
        }

        handler.OnIdle();
        return Statistics(clock.Elapsed);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _device.Accepting = false;
        _device.Close();
        _device.Dispose();
        _ring.Dispose();
    }

    private static LibPcapLiveDevice FindDevice(string name)
    {
        LibPcapLiveDeviceList devices;
        try
        {
            devices = LibPcapLiveDeviceList.New();
        }
        catch (Exception ex) when (PcapLibrary.IsLibraryMissing(ex))
        {
            throw new PcapUnavailableException(PcapLibrary.MissingMessage, ex);
        }

        var device = devices.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal));
        if (device is null)
        {
            var names = devices.Count == 0 ? "none (libpcap lists no device)" : string.Join(", ", devices.Select(d => d.Name));
            throw new LiveCaptureException(
                LiveCaptureError.UnknownInterface,
                $"no capture interface named '{name}'; the interfaces are: {names} (see 'wsclosesniffer interfaces')");
        }

        return device;
    }

    private static void OpenDevice(RingCaptureDevice device, LiveCaptureOptions options)
    {
        var configuration = new DeviceConfiguration
        {
            Mode = options.Promiscuous ? DeviceModes.Promiscuous : DeviceModes.None,
            Snaplen = options.SnapLengthBytes,
            ReadTimeout = options.ReadTimeoutMilliseconds,
            BufferSize = options.KernelBufferBytes,
        };

        // A buffer size the platform refuses is not worth failing for: libpcap keeps its default.
        configuration.ConfigurationFailed += (_, _) => { };
        try
        {
            device.Open(configuration);
        }
        catch (PcapException ex)
        {
            string detail = Detail(device);
            string name = options.InterfaceName;
            throw ex.Error switch
            {
                PcapError.PermissionDenied => new LiveCaptureException(
                    LiveCaptureError.PermissionDenied,
                    $"no permission to capture on {name}{detail}: run as root, or grant the capability with " +
                    $"'setcap cap_net_raw,cap_net_admin=eip {ExecutablePath()}'",
                    ex),
                PcapError.NoSuchDevice => new LiveCaptureException(LiveCaptureError.UnknownInterface, $"interface {name} disappeared{detail}", ex),
                PcapError.InterfaceNotUp => new LiveCaptureException(LiveCaptureError.InterfaceNotUp, $"interface {name} is not up{detail}", ex),
                _ => new LiveCaptureException(LiveCaptureError.CaptureFailed, $"cannot capture on {name}: {ex.Message}{detail}", ex),
            };
        }
    }

    private static string Detail(PcapDevice device)
    {
        try
        {
            string? error = device.Handle.IsInvalid ? null : device.LastError;
            return string.IsNullOrWhiteSpace(error) ? string.Empty : $" ({error.Trim()})";
        }
        catch (PcapException)
        {
            return string.Empty;
        }
    }

    private static string FilterMessage(PcapException exception, PcapDevice device)
    {
        string? error = device.LastError;
        return string.IsNullOrWhiteSpace(error) ? exception.Message : error.Trim();
    }

    /// <summary>The file to give capabilities to: the apphost, or dotnet itself when run as 'dotnet wsclosesniffer.dll'.</summary>
    private static string ExecutablePath() => Environment.ProcessPath ?? "the wsclosesniffer executable";

    private static void IgnorePacket(object sender, PacketCapture capture)
    {
    }

    private void OnCaptureStopped(object sender, CaptureStoppedEventStatus status)
    {
        if (status == CaptureStoppedEventStatus.ErrorWhileCapturing)
        {
            _failure = $"capture on {_options.InterfaceName} failed: {Detail(_device).Trim(' ', '(', ')')}";
        }
    }

    private int Drain(ILiveCaptureHandler handler, int maxPackets)
    {
        int count = 0;
        while (count < maxPackets && _ring.TryPeek(out var time, out var frame, out int originalLength))
        {
            _analyzed++;
            var packet = new CapturedPacket(time, LinkType, frame, originalLength, _analyzed);
            try
            {
                handler.OnPacket(packet);
            }
            finally
            {
                _ring.Release();
            }

            count++;
        }

        return count;
    }

    private LiveCaptureStatistics Statistics(TimeSpan duration)
    {
        // Unknown counters (libpcap refused pcap_stats, e.g. after a failure) read as -1, never as "no drops".
        if (!NativePcapStatistics.TryRead(_device, out long received, out long kernel, out long nic))
        {
            received = kernel = nic = -1;
        }

        return new LiveCaptureStatistics(received, kernel, nic, _ring.Dropped, _analyzed, duration, _failure);
    }
}
