using System.Diagnostics;
using System.Globalization;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>
/// A python-websockets server (Debian's python3 and python3-websockets) run from a script beside the recorder: a
/// real peer for what Kestrel does not do, such as closing with 1011 on a keepalive ping timeout, or with 1002 and 1007
/// on a compressed message it cannot inflate or decode, where Kestrel resets the connection. The script prints
/// its port on its first line and exits when its one connection has ended.
/// </summary>
internal sealed class PythonWebSocketServer : IAsyncDisposable
{
    // Debian's interpreter: python3-websockets is installed for it, not for any other python3 on the PATH.
    private const string Interpreter = "/usr/bin/python3";

    private static readonly TimeSpan s_exitTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly Task<string> _errors;

    private PythonWebSocketServer(Process process, int port)
    {
        _process = process;
        Port = port;
        _errors = process.StandardError.ReadToEndAsync();
    }

    public int Port { get; }

    public static async Task<PythonWebSocketServer> StartAsync(string script, CancellationToken cancellationToken)
    {
        string path = Path.Combine(AppContext.BaseDirectory, script);
        var startInfo = new ProcessStartInfo(Interpreter, [path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {Interpreter} {path}.");
        string? line = await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            string errors = await process.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            process.Kill();
            process.Dispose();
            throw new InvalidOperationException($"{script} did not print its port (is python3-websockets installed?):\n{errors}");
        }

        return new PythonWebSocketServer(process, port);
    }

    /// <summary>Waits for the script to end after its connection; its exit code says whether it went as expected.</summary>
    public async Task<string> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        string errors = await _errors.ConfigureAwait(false);
        return _process.ExitCode == 0
            ? "python-websockets server exited"
            : throw new InvalidOperationException($"The python-websockets server failed with exit code {_process.ExitCode}:\n{errors}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using var timeout = new CancellationTokenSource(s_exitTimeout);
            try
            {
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
            }
        }

        _process.Dispose();
    }
}
