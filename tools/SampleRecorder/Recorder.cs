using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>Runs each scenario against a fresh server on a fresh ephemeral port, each into its own capture file.</summary>
internal static class Recorder
{
    public const string LoopbackInterface = "lo";

    // Everything of one scenario (server start, session, shutdown) must finish within this.
    private static readonly TimeSpan s_scenarioTimeout = TimeSpan.FromSeconds(10);

    // libpcap delivers packets from its own thread; this lets it pick up the handle before the SYN.
    private const int CaptureWarmUpMilliseconds = 200;

    // After the session: the last FIN/ACK exchange is written before the capture stops.
    private const int SettleMilliseconds = 300;

    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromSeconds(10);

    // A rotated recording whose session did not fall into exactly the expected files is recorded again, this often.
    private const int MaxRotatedAttempts = 5;

    public static async Task RecordAsync(Scenario scenario, string outputDirectory)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await RecordOnceAsync(scenario, outputDirectory).ConfigureAwait(false);
                return;
            }
            catch (RotationMissedException e) when (attempt < MaxRotatedAttempts)
            {
                Console.WriteLine($"{scenario.FileName}: {e.Message}; recording again");
            }
        }
    }

    private static async Task RecordOnceAsync(Scenario scenario, string outputDirectory)
    {
        using var timeout = new CancellationTokenSource(s_scenarioTimeout);
        CancellationToken cancellationToken = timeout.Token;

        SampleServer server = await SampleServer.StartAsync(scenario.Address, s_scenarioTimeout, scenario.Tls, cancellationToken).ConfigureAwait(false);
        await using (server.ConfigureAwait(false))
        {
            // The client talks to Kestrel, or to a proxy in front of it, or to a python-websockets server instead.
            IdleTimeoutProxy? proxy = scenario.ProxyIdleTimeout is TimeSpan idle
                ? IdleTimeoutProxy.Start(new IPEndPoint(scenario.Address, server.Port), idle, cancellationToken)
                : null;
            PythonWebSocketServer? python = scenario.PythonServerScript is string script
                ? await PythonWebSocketServer.StartAsync(script, cancellationToken).ConfigureAwait(false)
                : null;
            await using ConfiguredAsyncDisposable proxyLifetime = ((IAsyncDisposable?)proxy ?? NothingToDispose.Instance).ConfigureAwait(false);
            await using ConfiguredAsyncDisposable pythonLifetime = ((IAsyncDisposable?)python ?? NothingToDispose.Instance).ConfigureAwait(false);
            int clientPort = python?.Port ?? proxy?.Port ?? server.Port;
            int[] ports = [.. new[] { server.Port, proxy?.Port, python?.Port }.OfType<int>()];

            string path = Path.Combine(outputDirectory, scenario.FileName);

            // A rotated recording is made by tcpdump -G alone; the whole capture is then its parts merged by mergecap.
            // A mid-session sample's scenario starts the capture itself once its connection is open.
            LoopbackCapture? capture = null;
            async Task StartCaptureAsync(CancellationToken token)
            {
                capture = LoopbackCapture.Start(LoopbackInterface, ports, path, scenario.SnapLengthBytes);
                await Task.Delay(CaptureWarmUpMilliseconds, token).ConfigureAwait(false);
            }

            using RotatingTcpdump? rotated = scenario.RotatedCopyDirectory is { } directory
                ? await RotatingTcpdump.StartAsync(Path.Combine(outputDirectory, directory), server.Port, cancellationToken).ConfigureAwait(false)
                : null;
            if (rotated is not null)
            {
                await Task.Delay(CaptureWarmUpMilliseconds, cancellationToken).ConfigureAwait(false);
            }
            else if (!scenario.CaptureStartsLater)
            {
                await StartCaptureAsync(cancellationToken).ConfigureAwait(false);
            }

            using var stopCapture = new CaptureStopper(() => capture);
            var context = new ScenarioContext(new IPEndPoint(scenario.Address, clientPort), scenario.Path, server.SessionEnded, scenario.Tls,
                scenario.CaptureStartsLater ? StartCaptureAsync : null);
            await scenario.RunClientAsync(context, cancellationToken).ConfigureAwait(false);
            string outcome = python is not null ? await python.WaitForExitAsync(cancellationToken).ConfigureAwait(false)
                : scenario.ServerSessionExpected ? await server.SessionEnded.WaitAsync(cancellationToken).ConfigureAwait(false)
                : "no session (TLS handshake refused)";
            if (proxy is not null)
            {
                outcome += $"; proxy cut {proxy.Cut} connection(s) idle for {scenario.ProxyIdleTimeout!.Value.TotalSeconds} s";
            }

            await Task.Delay(SettleMilliseconds, cancellationToken).ConfigureAwait(false);
            if (rotated is not null)
            {
                var files = await rotated.StopAsync(cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"{scenario.RotatedCopyDirectory}/: tcpdump -G {RotatingTcpdump.RotateEverySeconds}, port {server.Port}, server: {outcome}: {string.Join(", ", files.Select(Path.GetFileName))}");
                await RunToolAsync("mergecap", ["-F", "pcap", "-w", path, .. files]).ConfigureAwait(false);
                Console.WriteLine($"{scenario.FileName}: mergecap -F pcap {scenario.RotatedCopyDirectory}/*.pcap");
            }
            else
            {
                int packets = capture?.Stop() ?? throw new InvalidOperationException($"{scenario.FileName}: the scenario never started its capture.");
                Console.WriteLine($"{scenario.FileName}: {packets} packets, port {server.Port}, server: {outcome}");
            }
        }
    }

    /// <summary>Derived samples for the other input formats: one pcapng, one gzip copy, one modified-format pcap.</summary>
    public static async Task PostProcessAsync(string outputDirectory, string pcapngSource, string gzipSource, string modifiedPcapSource)
    {
        string pcapngTarget = Path.ChangeExtension(pcapngSource, ".pcapng");
        await RunToolAsync("editcap", ["-F", "pcapng", Path.Combine(outputDirectory, pcapngSource), Path.Combine(outputDirectory, pcapngTarget)]).ConfigureAwait(false);
        Console.WriteLine($"{pcapngTarget}: editcap -F pcapng {pcapngSource}");

        // -n: no file name or time stamp in the gzip header, so the .gz depends only on the capture's bytes.
        await RunToolAsync("gzip", ["-k", "-n", "-9", "-f", Path.Combine(outputDirectory, gzipSource)]).ConfigureAwait(false);
        Console.WriteLine($"{gzipSource}.gz: gzip -k -n -9 {gzipSource}");

        // The modified format (magic a1b2cd34) some old patched tcpdump builds wrote; editcap still writes it.
        string modifiedTarget = Path.ChangeExtension(modifiedPcapSource, ".modpcap.cap");
        await RunToolAsync("editcap", ["-F", "modpcap", Path.Combine(outputDirectory, modifiedPcapSource), Path.Combine(outputDirectory, modifiedTarget)]).ConfigureAwait(false);
        Console.WriteLine($"{modifiedTarget}: editcap -F modpcap {modifiedPcapSource}");
    }

    /// <summary>A pcapng that carries its own TLS secrets (Decryption Secrets Block), as editcap --inject-secrets writes it.</summary>
    public static async Task InjectSecretsAsync(string outputDirectory, string keyLogFile, string source, string target)
    {
        await RunToolAsync("editcap", ["--inject-secrets", $"tls,{keyLogFile}", Path.Combine(outputDirectory, source), Path.Combine(outputDirectory, target)]).ConfigureAwait(false);
        Console.WriteLine($"{target}: editcap --inject-secrets tls,{Path.GetFileName(keyLogFile)} {source}");
    }

    /// <summary>
    /// The packets of <paramref name="source"/> larger than the MTU cut into IP fragments by tools/fragment-pcap.py
    /// (standard-library Python: editcap cannot fragment); <paramref name="target"/> may be the source itself.
    /// </summary>
    public static async Task FragmentAsync(string outputDirectory, string source, string target, params string[] options)
    {
        // Run from the repository root, as record.sh is.
        string script = Path.Combine("tools", "fragment-pcap.py");
        string temporary = Path.Combine(outputDirectory, target + ".fragmenting");
        await RunToolAsync("python3", [script, Path.Combine(outputDirectory, source), temporary, .. options]).ConfigureAwait(false);
        File.Move(temporary, Path.Combine(outputDirectory, target), overwrite: true);
        Console.WriteLine($"{target}: fragment-pcap.py {string.Join(' ', options)} {source}");
    }

    private sealed class NothingToDispose : IAsyncDisposable
    {
        public static readonly NothingToDispose Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static async Task RunToolAsync(string fileName, IEnumerable<string> arguments)
    {
        var startInfo = new ProcessStartInfo(fileName, arguments) { UseShellExecute = false };
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        using var timeout = new CancellationTokenSource(s_toolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"{fileName} did not finish within {s_toolTimeout.TotalSeconds} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} failed with exit code {process.ExitCode}.");
        }
    }

    /// <summary>Disposes the scenario's capture, whenever it was started (a late-starting one may never be).</summary>
    private sealed class CaptureStopper(Func<LoopbackCapture?> capture) : IDisposable
    {
        public void Dispose() => capture()?.Dispose();
    }
}
