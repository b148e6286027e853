using System.Text.Json;

using WsCloseSniffer.Cli;
using WsCloseSniffer.Cli.Commands;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Live;

/// <summary>
/// <c>live</c> run in-process on a thread of its own; <see cref="StopAsync"/> does what Ctrl-C does
/// (cancels the stop token). Every wait is bounded.
/// </summary>
internal sealed class InProcessLiveRun : IDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly LockedStringWriter _out = new();
    private readonly LockedStringWriter _error = new();
    private readonly CancellationTokenSource _stop = new();
    private Task<int>? _run;

    private InProcessLiveRun()
    {
    }

    public static async Task<InProcessLiveRun> StartAsync(LiveRequest request)
    {
        var run = new InProcessLiveRun();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var command = new LiveCommand(new CliConsole(run._out, run._error, IsErrorTerminal: false));
        run._run = Task.Factory.StartNew(
            () => command.Run(request, run._stop.Token, () => started.TrySetResult()),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        var first = await Task.WhenAny(started.Task, run._run).WaitAsync(StartTimeout);
        if (first == run._run)
        {
            Assert.Fail($"live ended before capturing: exit {run._run.Result}, stderr: {run._error}");
        }

        return run;
    }

    public async Task<CliRunner.Result> StopAsync()
    {
        await _stop.CancelAsync();
        int exitCode = await _run!.WaitAsync(StopTimeout);
        return new CliRunner.Result(exitCode, _out.ToString(), _error.ToString());
    }

    /// <summary>A test that failed before stopping still stops the capture (bounded wait).</summary>
    public void Dispose()
    {
        if (_run is { IsCompleted: false })
        {
            _stop.Cancel();
            _run.Wait(StopTimeout);
        }

        _stop.Dispose();
        _out.Dispose();
        _error.Dispose();
    }

    /// <summary>Sessions in a JSON Lines report that is still being written (each line is flushed whole).</summary>
    public static IReadOnlyList<JsonElement> ReadSessions(string jsonLinesPath)
    {
        if (!File.Exists(jsonLinesPath))
        {
            return [];
        }

        using var stream = new FileStream(jsonLinesPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return ParseJsonLines(reader.ReadToEnd());
    }

    public static IReadOnlyList<JsonElement> ParseJsonLines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.EndsWith('}'))
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    /// <summary>
    /// Waits (bounded) until the JSON Lines report the run writes to stdout (--json -) holds at least
    /// <paramref name="count"/> sessions.
    /// </summary>
    public async Task<IReadOnlyList<JsonElement>> WaitForSessionsAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var sessions = _out.CompleteLines().Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
            if (sessions.Count >= count)
            {
                return sessions;
            }

            if (DateTime.UtcNow > deadline || _run!.IsCompleted)
            {
                Assert.Fail($"{count} sessions expected in the live report within {timeout.TotalSeconds} s, got {sessions.Count}: {string.Join("; ", sessions)}; stderr: {_error}");
            }

            await Task.Delay(50);
        }
    }
}
