using System.Diagnostics;
using System.Globalization;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>A rotated recording did not cut the session into the expected files (timing on a loaded machine).</summary>
internal sealed class RotationMissedException(string message) : Exception(message);

/// <summary>
/// tcpdump -G 1 on the loopback interface recording one port: a new file every second, named by strftime as
/// tcpdump users name them. Started once per scenario; <see cref="StopAsync"/> is called exactly once. (A second
/// tcpdump recording the same traffic whole at once was tried: its timestamps differ from the rotating one's by a
/// microsecond, so the whole capture is made from the parts by mergecap instead, see <see cref="Recorder"/>.)
/// </summary>
internal sealed class RotatingTcpdump : IDisposable
{
    public const int RotateEverySeconds = 1;

    public const int ExpectedFiles = 3;

    // A pcap file header alone: a file tcpdump opened but wrote no packet into.
    private const int PcapHeaderBytes = 24;

    // tcpdump opens the interface and starts writing well within this on loopback.
    private const int StartUpMilliseconds = 500;
    private const int StartAfterSecondMilliseconds = 20;
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _rotating;
    private readonly string _directory;
    private bool _stopped;

    private RotatingTcpdump(Process rotating, string directory)
    {
        _rotating = rotating;
        _directory = directory;
    }

    public static async Task<RotatingTcpdump> StartAsync(string directory, int port, CancellationToken cancellationToken)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);

        // tcpdump rotates on the first packet of a new second (it compares whole seconds): started just after a second
        // begins, the session's two seconds and a bit fall into three files.
        await Task.Delay(TimeSpan.FromMilliseconds(1000 - DateTime.UtcNow.Millisecond + StartAfterSecondMilliseconds), cancellationToken).ConfigureAwait(false);
        var rotating = Start(["-G", RotateEverySeconds.ToString(CultureInfo.InvariantCulture), "-w", Path.Combine(directory, "trace-%Y%m%d-%H%M%S.pcap")], port);
        await Task.Delay(StartUpMilliseconds, cancellationToken).ConfigureAwait(false);
        if (rotating.HasExited)
        {
            throw new InvalidOperationException("tcpdump exited at start.");
        }

        return new RotatingTcpdump(rotating, directory);
    }

    // --immediate-mode and -U: each packet is written as it arrives, so none waits in a buffer when tcpdump is
    // stopped and rotation goes by the packets' own second; -Z root keeps the right to create the next files; TZ=UTC
    // makes strftime's names UTC like the report; 262144 is tcpdump's default snap length, written down.
    private static Process Start(IEnumerable<string> output, int port)
    {
        var startInfo = new ProcessStartInfo("tcpdump", ["-i", Recorder.LoopbackInterface, "--immediate-mode", "-U", "-Z", "root", "-s", "262144", .. output, "tcp", "port", port.ToString(CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
            RedirectStandardError = true,
        };
        startInfo.Environment["TZ"] = "UTC";
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start tcpdump.");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Stops tcpdump as Ctrl+C does (it closes its file) and returns the rotated files in name order; throws
    /// <see cref="RotationMissedException"/> unless exactly <see cref="ExpectedFiles"/> of them hold packets. (tcpdump
    /// opens its first file at start and often rotates on the first packet, leaving that file empty: it is kept.)
    /// </summary>
    public async Task<IReadOnlyList<string>> StopAsync(CancellationToken cancellationToken)
    {
        _stopped = true;
        await InterruptAsync(_rotating, cancellationToken).ConfigureAwait(false);
        var files = Directory.GetFiles(_directory).Order(StringComparer.Ordinal).ToList();
        var empty = files.Count(f => new FileInfo(f).Length <= PcapHeaderBytes);
        if (files.Count - empty != ExpectedFiles)
        {
            throw new RotationMissedException($"tcpdump -G {RotateEverySeconds} wrote {files.Count - empty} files with packets (and {empty} without) instead of {ExpectedFiles}");
        }

        return files;
    }

    private static async Task InterruptAsync(Process process, CancellationToken cancellationToken)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            if (kill is not null)
            {
                await kill.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_stopTimeout);
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (!_stopped && !_rotating.HasExited)
        {
            _rotating.Kill();
        }

        _rotating.Dispose();
    }
}
