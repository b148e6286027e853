using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

using WsCloseSniffer.Cli.Commands;
using WsCloseSniffer.Tests.TestInfrastructure;

using Xunit.Abstractions;

namespace WsCloseSniffer.Tests.Live;

/// <summary>
/// <c>live</c> end to end on the loopback interface: real Kestrel servers and ClientWebSocket clients,
/// sessions checked as reported live and against an offline <c>analyze</c> of the saved capture.
/// Needs root and libpcap (see <see cref="LivePrerequisites"/>).
/// </summary>
public sealed class LiveCaptureTests : IDisposable
{
    private static readonly TimeSpan s_sessionTimeout = TimeSpan.FromSeconds(10);

    private readonly string _directory = Directory.CreateTempSubdirectory("wsclosesniffer-live-").FullName;
    private readonly ITestOutputHelper _output;

    public LiveCaptureTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [SkippableTheory]
    [InlineData("capture.pcapng")]
    [InlineData("capture.pcap")]
    public async Task Live_KestrelScenariosOnIpv4AndIpv6_ReportsEachSessionLiveAndSameAsOffline(string captureName)
    {
        LivePrerequisites.RequireCapture();
        await using var v4 = await LoopbackWebSocketServer.StartAsync(IPAddress.Loopback);
        await using var v6 = await LoopbackWebSocketServer.StartAsync(IPAddress.IPv6Loopback);
        string csv = Path.Combine(_directory, "live.csv");
        string capture = Path.Combine(_directory, captureName);
        string html = Path.Combine(_directory, "live.html");
        string parquet = Path.Combine(_directory, "live.parquet");
        using var live = await InProcessLiveRun.StartAsync(new LiveRequest(LivePrerequisites.LoopbackInterface)
        {
            Filter = string.Create(CultureInfo.InvariantCulture, $"tcp port {v4.Port} or tcp port {v6.Port}"),
            Json = "-",
            Csv = csv,
            Html = html,
            Parquet = parquet,
            WritePcap = capture,
        });

        var expected = new List<(LoopbackWebSocketServer Server, ClientScenario Scenario)>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var server in new[] { v4, v6 })
        {
            foreach (var scenario in WebSocketClientScenarios.All)
            {
                await scenario.RunAsync(server.UriFor(scenario.Path), timeout.Token);
                expected.Add((server, scenario));

                // Scenarios one at a time, each reported before the next starts: report order = scenario order.
                await live.WaitForSessionsAsync(expected.Count, s_sessionTimeout);
            }
        }

        var result = await live.StopAsync();

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");
        var sessions = InProcessLiveRun.ParseJsonLines(result.Out);
        Assert.Equal(expected.Count, sessions.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            AssertSession(expected[i].Server, expected[i].Scenario, i + 1, sessions[i]);
        }

        // The report file has the same sessions; the one-line-per-session view went to stderr since
        // the JSON report took stdout.
        Assert.Equal(expected.Count + 1, File.ReadAllLines(csv).Length);

        // The HTML page is complete once stopped: one row per session, charts and script after the table.
        var page = File.ReadAllText(html);
        Assert.Equal(expected.Count, page.Split("<tr data-class=").Length - 1);
        Assert.Contains($"<h1>wsclosesniffer: {expected.Count} WebSocket sessions</h1>", page, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", page, StringComparison.Ordinal);

        // So is the Parquet file (its footer written on stop), with the run's capture_set as in the JSON report.
        using (var db = EndToEnd.ParquetReportTests.Open())
        {
            Assert.Equal((long)expected.Count, EndToEnd.ParquetReportTests.Scalar<long>(db, $"SELECT count(*) FROM '{parquet}'"));
            var captureSet = sessions[0].GetProperty("capture_set").GetString();
            Assert.Matches("^[0-9a-f]{16}$", captureSet);
            Assert.Equal(captureSet, EndToEnd.ParquetReportTests.Scalar<string>(db, $"SELECT min(capture_set) FROM '{parquet}'"));
            Assert.Equal(1L, EndToEnd.ParquetReportTests.Scalar<long>(db, $"SELECT count(DISTINCT capture_set) FROM '{parquet}'"));
        }

        var lines = result.Error.Split('\n').Where(l => l.Contains(" -> ", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Count, lines.Count);
        Assert.Contains(" close 1010 mandatory_extension: ", lines[2], StringComparison.Ordinal);
        Assert.Contains("/echo no close code abnormal_closure: ", lines[4], StringComparison.Ordinal);
        Assert.StartsWith("[::1]:", lines[5].Split(' ')[2], StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"WebSocket sessions:        {expected.Count}"), result.Error, StringComparison.Ordinal);
        Assert.Contains("dropped by wsclosesniffer: 0", result.Error, StringComparison.Ordinal);

        // The saved capture gives the same sessions offline (ids aside: offline numbers by start time).
        var offline = CliRunner.Run("analyze", capture, "--json", "-", "--quiet");
        Assert.True(offline.ExitCode == 0, $"analyze exit {offline.ExitCode}: {offline.Error}");
        Assert.Equal(
            sessions.Select(Comparable).Order(StringComparer.Ordinal),
            InProcessLiveRun.ParseJsonLines(offline.Out).Select(Comparable).Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task Live_StoppedMidSession_ReportsOpenSessionAsUnfinished()
    {
        LivePrerequisites.RequireCapture();
        await using var server = await LoopbackWebSocketServer.StartAsync(IPAddress.Loopback);
        string json = Path.Combine(_directory, "live.jsonl");
        using var live = await InProcessLiveRun.StartAsync(new LiveRequest(LivePrerequisites.LoopbackInterface)
        {
            Filter = string.Create(CultureInfo.InvariantCulture, $"tcp port {server.Port}"),
            Json = json,
            Quiet = true,
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var client = WebSocketClientScenarios.Create();
        await client.ConnectAsync(server.UriFor(LoopbackWebSocketServer.EchoPath), timeout.Token);
        await WebSocketClientScenarios.SendAndExpectEchoAsync(client, "still here", timeout.Token);

        // Stopped right after the last packet: the stop must still see it (libpcap hands packets over in blocks).
        var result = await live.StopAsync();
        client.Abort();

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");
        var session = Assert.Single(InProcessLiveRun.ReadSessions(json));
        Assert.Equal("unfinished", session.GetProperty("classification").GetString());
        Assert.Equal(JsonValueKind.Null, session.GetProperty("close_code").ValueKind);
        Assert.Equal(1, session.GetProperty("client_frames").GetInt64());
        Assert.Equal(1, session.GetProperty("server_frames").GetInt64());
        Assert.Equal(10, session.GetProperty("client_payload_bytes").GetInt64());
        Assert.Contains(" unfinished: ", result.Out, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Live_SigintToTheProcess_WritesCompleteReportWithOpenSessionUnfinished()
    {
        LivePrerequisites.RequireCapture();
        await using var server = await LoopbackWebSocketServer.StartAsync(IPAddress.Loopback);
        using var process = StartCli("live", "--interface", LivePrerequisites.LoopbackInterface,
            "--filter", string.Create(CultureInfo.InvariantCulture, $"tcp port {server.Port}"), "--json", "-");
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = new List<string>();
            using var startTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (await process.StandardError.ReadLineAsync(startTimeout.Token) is { } line)
            {
                stderr.Add(line);
                if (line.Contains("capturing on", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Assert.True(stderr.Any(l => l.Contains("capturing on", StringComparison.Ordinal)), $"live did not start: {string.Join('\n', stderr)}");
            var restOfStderr = process.StandardError.ReadToEndAsync();

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var closed = WebSocketClientScenarios.Create();
            await closed.ConnectAsync(server.UriFor(LoopbackWebSocketServer.EchoPath), timeout.Token);
            await closed.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            using var open = WebSocketClientScenarios.Create();
            await open.ConnectAsync(server.UriFor(LoopbackWebSocketServer.EchoPath), timeout.Token);
            await WebSocketClientScenarios.SendAndExpectEchoAsync(open, "hello", timeout.Token);

            _output.WriteLine($"sent {SendInterrupt(process.Id)} to the live process");
            await process.WaitForExitAsync(timeout.Token);
            open.Abort();

            string error = string.Join('\n', stderr) + "\n" + await restOfStderr;
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {error}");
            var sessions = InProcessLiveRun.ParseJsonLines(await stdout);
            Assert.Equal(2, sessions.Count);
            Assert.Equal(["normal_closure", "unfinished"], sessions.Select(s => s.GetProperty("classification").GetString()).Order(StringComparer.Ordinal));
            Assert.Contains("WebSocket sessions:        2", error, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [SkippableFact]
    public void Live_ReportPathNotWritable_Exit1AsAnalyzeDoes()
    {
        LivePrerequisites.RequireCapture();
        var csv = Path.Combine(Path.GetTempPath(), $"wscs-{Guid.NewGuid():N}", "no-such-dir", "out.csv");

        var result = CliRunner.Run("live", "--interface", LivePrerequisites.LoopbackInterface, "--csv", csv, "--duration", "1", "--quiet");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot write the report", result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out);
    }

    [SkippableFact]
    public void Live_InvalidFilter_ExitsTwoWithLibpcapMessage()
    {
        LivePrerequisites.RequireCapture();

        var result = CliRunner.Run("live", "--interface", LivePrerequisites.LoopbackInterface, "--filter", "tcp port banana", "--duration", "1");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("wsclosesniffer: invalid filter 'tcp port banana': ", line, StringComparison.Ordinal);
        Assert.Contains("banana", line[("wsclosesniffer: invalid filter 'tcp port banana': ".Length)..], StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out);
    }

    [SkippableFact]
    public void Live_Duration_StopsByItselfAndPrintsCounters()
    {
        LivePrerequisites.RequireCapture();
        var clock = Stopwatch.StartNew();

        // Port 9 (discard) on loopback: nothing listens, so no session; the run must end by itself.
        var result = CliRunner.Run("live", "--interface", LivePrerequisites.LoopbackInterface, "--filter", "tcp port 9", "--duration", "0.5", "--quiet");

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(8));
        Assert.Equal(string.Empty, result.Out);
        foreach (var counter in new[] { "packets received:", "dropped by the kernel:", "dropped by the interface:", "dropped by wsclosesniffer: 0", "WebSocket sessions:        0" })
        {
            Assert.Contains(counter, result.Error, StringComparison.Ordinal);
        }
    }

    /// <summary>The fields that must agree between the live report and the offline analysis of its capture.</summary>
    private static string Comparable(JsonElement session) =>
        string.Join('|', new[]
        {
            "start_time", "end_time", "client_ip", "client_port", "server_ip", "server_port", "host", "path",
            "offered_extensions", "accepted_extensions", "close_initiator", "close_code", "close_reason",
            "reply_close_code", "classification", "diagnosis", "client_frames", "server_frames",
            "client_payload_bytes", "server_payload_bytes",
        }.Select(name => session.GetProperty(name).ToString()));

    private static void AssertSession(LoopbackWebSocketServer server, ClientScenario scenario, int id, JsonElement session)
    {
        string where = $"session {id} ({scenario.Name} on {server.Address}): {session}";
        Assert.True(id == session.GetProperty("session_id").GetInt64(), where);
        Assert.True(session.GetProperty("capture_file").GetString() == LivePrerequisites.LoopbackInterface, where);
        Assert.True(session.GetProperty("server_ip").GetString() == server.Address.ToString(), where);
        Assert.True(session.GetProperty("server_port").GetInt32() == server.Port, where);
        Assert.True(session.GetProperty("path").GetString() == scenario.Path, where);
        Assert.True(session.GetProperty("close_initiator").GetString() == scenario.CloseInitiator, where);
        Assert.True(Number(session, "close_code") == scenario.CloseCode, where);
        Assert.True(Number(session, "reply_close_code") == scenario.CloseCode, where);
        Assert.True(session.GetProperty("classification").GetString() == scenario.Classification, where);
        Assert.True((session.GetProperty("offered_extensions").GetString() ?? string.Empty).Contains("permessage-deflate", StringComparison.Ordinal) == scenario.OffersDeflate, where);
        Assert.True((session.GetProperty("accepted_extensions").GetString() ?? string.Empty).Contains("permessage-deflate", StringComparison.Ordinal) == scenario.AcceptsDeflate, where);
        if (scenario.Classification == "mandatory_extension")
        {
            Assert.True(session.GetProperty("close_reason").GetString() == "permessage-deflate", where);
            Assert.Contains("permessage-deflate", session.GetProperty("diagnosis").GetString(), StringComparison.Ordinal);
        }
    }

    private static int? Number(JsonElement session, string name) =>
        session.GetProperty(name).ValueKind == JsonValueKind.Number ? session.GetProperty(name).GetInt32() : null;

    private static Process StartCli(params string[] args)
    {
        // The CLI's apphost and dll are copied next to the tests (project reference); 'dotnet exec' needs no apphost setup.
        string dll = Path.Combine(AppContext.BaseDirectory, "wsclosesniffer.dll");
        string host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the CLI");
    }

    /// <summary>
    /// SIGINT, as Ctrl-C sends. A process whose parent ignored SIGINT (a background job of a non-interactive
    /// shell, POSIX) inherits that, and .NET keeps it ignored: then SIGTERM, which the CLI handles the same way.
    /// </summary>
    private static string SendInterrupt(int pid)
    {
        string signal = IgnoresSigint(pid) ? "TERM" : "INT";
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit(5000);
        return "SIG" + signal;
    }

    private static bool IgnoresSigint(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 0x2) != 0;
    }
}
