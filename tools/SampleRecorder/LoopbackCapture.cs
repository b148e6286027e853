using SharpPcap;
using SharpPcap.LibPcap;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>
/// Records the packets of some TCP ports on a loopback interface into a classic pcap file.
/// Created once per scenario, before the first connection; <see cref="Stop"/> is called exactly once.
/// </summary>
internal sealed class LoopbackCapture : IDisposable
{
    /// <summary>Large enough that no loopback segment is truncated (lo has a 64 KiB MTU), as tcpdump's default.</summary>
    public const int DefaultSnapLengthBytes = 262144;

    // Short read timeout so StopCapture returns promptly; immediate mode so nothing waits in a buffer.
    private const int ReadTimeoutMilliseconds = 100;

    private readonly LibPcapLiveDevice _device;
    private readonly CaptureFileWriterDevice _writer;
    private readonly object _writerLock = new();
    private int _packetCount;
    private bool _stopped;

    private LoopbackCapture(LibPcapLiveDevice device, CaptureFileWriterDevice writer)
    {
        _device = device;
        _writer = writer;
    }

    /// <summary>
    /// Starts capturing the TCP packets of any of <paramref name="ports"/> (a server's, and a proxy's in front of it);
    /// with a <paramref name="snapLengthBytes"/> below a packet's size libpcap keeps only its first bytes, as
    /// <c>tcpdump -s</c> does, and the file header says so.
    /// </summary>
    public static LoopbackCapture Start(string interfaceName, IReadOnlyCollection<int> ports, string outputPath, int snapLengthBytes = DefaultSnapLengthBytes)
    {
        LibPcapLiveDevice device = LibPcapLiveDeviceList.New().FirstOrDefault(d => d.Name == interfaceName)
            ?? throw new InvalidOperationException($"Capture interface '{interfaceName}' not found (are we root?).");

        device.Open(new DeviceConfiguration
        {
            Mode = DeviceModes.None,
            Snaplen = snapLengthBytes,
            ReadTimeout = ReadTimeoutMilliseconds,
            Immediate = true,
        });
        device.Filter = "tcp and (" + string.Join(" or ", ports.Select(port => $"port {port}")) + ")";

        var writer = new CaptureFileWriterDevice(outputPath, FileMode.Create);
        // Open(device) would write libpcap's 65536 default into the file header instead of the real snap length.
        writer.Open(new DeviceConfiguration { LinkLayerType = device.LinkType, Snaplen = snapLengthBytes });

        var capture = new LoopbackCapture(device, writer);
        device.OnPacketArrival += capture.OnPacketArrival;
        device.StartCapture();
        return capture;
    }

    /// <summary>Stops capturing, flushes the file and returns the number of packets written.</summary>
    public int Stop()
    {
        if (!_stopped)
        {
            _stopped = true;
            _device.StopCapture();
            _device.OnPacketArrival -= OnPacketArrival;
            _device.Close();
            lock (_writerLock)
            {
                _writer.Close();
            }
        }

        return Volatile.Read(ref _packetCount);
    }

    public void Dispose()
    {
        Stop();
        _device.Dispose();
        _writer.Dispose();
    }

    private void OnPacketArrival(object sender, PacketCapture e)
    {
        lock (_writerLock)
        {
            // Written with both lengths: Write(RawCapture) would record the cut length as the packet's length too,
            // and a reader could no longer tell a packet cut by the snap length from a short one.
            var header = (PcapHeader)e.Header;
            _writer.Write(e.Data, ref header);
            _packetCount++;
        }
    }
}
