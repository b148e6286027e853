using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pcap;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Cli.Commands;

/// <summary>What one <c>live</c> run was asked to do.</summary>
internal sealed record LiveRequest(string Interface)
{
    public string Filter { get; init; } = LiveCaptureOptions.DefaultFilter;
    public double? DurationSeconds { get; init; }
    public string? Csv { get; init; }
    public string? Json { get; init; }
    public string? Html { get; init; }
    public string? Parquet { get; init; }
    public string? WritePcap { get; init; }
    public bool Promiscuous { get; init; }
    public bool Quiet { get; init; }
    public AnalyzerOptions Analysis { get; init; } = new();
}

/// <summary>
/// <c>wsclosesniffer live --interface NAME [--filter BPF] [--duration SECONDS] [--csv FILE|-] [--json FILE|-] [--html FILE|-]
/// [--parquet FILE] [--write-pcap FILE] [--promiscuous] [--quiet]</c>: the offline pipeline fed by libpcap, one line per
/// session as it ends, the complete report when stopped (Ctrl-C, SIGTERM or --duration).
/// </summary>
internal sealed class LiveCommand
{
    private readonly Option<string> _interface = new("--interface", "-i")
    {
        Description = "Capture on this interface (see 'wsclosesniffer interfaces'), e.g. lo or eth0",
        HelpName = "NAME",
        Required = true,
    };

    private readonly Option<double?> _duration = new("--duration")
    {
        Description = "Stop after this many seconds (default: run until Ctrl-C or SIGTERM)",
        HelpName = "SECONDS",
    };

    private readonly Option<string?> _writePcap = new("--write-pcap")
    {
        Description = "Also save the captured packets to FILE (pcapng if it ends in .pcapng, else pcap), like tcpdump -w",
        HelpName = "FILE",
    };

    private readonly Option<bool> _promiscuous = new("--promiscuous")
    {
        Description = "Put the interface in promiscuous mode (off by default)",
    };

    private readonly CliConsole _console;

    public LiveCommand(CliConsole console)
    {
        _console = console;
        Command = new Command("live", "Capture on an interface and report each WebSocket session as it ends")
        {
            _interface,
            CommonOptions.Filter,
            _duration,
            CommonOptions.Csv,
            CommonOptions.Json,
            CommonOptions.Html,
            CommonOptions.Parquet,
            _writePcap,
            _promiscuous,
            CommonOptions.TlsKeyLog,
            CommonOptions.Quiet,
        };
        foreach (var limit in CommonOptions.Limits)
        {
            Command.Add(limit);
        }

        // A synchronous action: this command handles SIGINT/SIGTERM itself, so a stop always ends in a
        // complete report and exit 0 rather than the parser's cancellation timeout.
        Command.SetAction(parse =>
        {
            var analysis = CommonOptions.ReadAnalyzerOptions(parse);
            return CommonOptions.TryAddTlsKeyLog(parse, _console, ref analysis) ? RunUntilSignalled(new LiveRequest(parse.GetRequiredValue(_interface))
        {
            Filter = parse.GetValue(CommonOptions.Filter) ?? LiveCaptureOptions.DefaultFilter,
            DurationSeconds = parse.GetValue(_duration),
            Csv = parse.GetValue(CommonOptions.Csv),
            Json = parse.GetValue(CommonOptions.Json),
            Html = parse.GetValue(CommonOptions.Html),
            Parquet = parse.GetValue(CommonOptions.Parquet),
            WritePcap = parse.GetValue(_writePcap),
            Promiscuous = parse.GetValue(_promiscuous),
            Quiet = parse.GetValue(CommonOptions.Quiet),
            Analysis = analysis,
        }) : ExitCodes.InputError;
        });
    }

    public Command Command { get; }

    /// <summary>Runs until <paramref name="stop"/> is cancelled or the duration passes; <paramref name="started"/> is called once capturing.</summary>
    public int Run(LiveRequest request, CancellationToken stop, Action? started = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (ReportOutputs.Validate(request.Csv, request.Json, request.Html, request.Parquet) is { } usage)
        {
            _console.Warn(usage);
            return ExitCodes.Usage;
        }

        if (request.DurationSeconds is double seconds && !(seconds > 0 && seconds <= int.MaxValue / 1000))
        {
            _console.Warn("--duration must be a positive number of seconds");
            return ExitCodes.Usage;
        }

        var options = new LiveCaptureOptions
        {
            InterfaceName = request.Interface,
            Filter = request.Filter,
            Promiscuous = request.Promiscuous,
        };

        LiveCapture capture;
        try
        {
            capture = LiveCapture.Open(options);
        }
        catch (Exception e) when (ExitCodes.IsExpected(e))
        {
            _console.Warn(e.Message);
            return ExitCodes.Of(e);
        }

        using (capture)
        {
            return RunOpened(capture, request, started, stop);
        }
    }

    private int RunUntilSignalled(LiveRequest request)
    {
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            // The first Ctrl-C stops cleanly; a second one is the user insisting: let it terminate.
            if (!stop.IsCancellationRequested)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return Run(request, stop.Token);
    }

    private int RunOpened(LiveCapture capture, LiveRequest request, Action? started, CancellationToken stop)
    {
        ReportOutputs outputs;
        CaptureFileWriter? pcap = null;
        try
        {
            // Like the HTML page, the Parquet file is complete when the run stops (its footer comes last).
            var captureSet = ReportColumns.LiveCaptureSetOf(capture.InterfaceName, DateTimeOffset.UtcNow);
            outputs = ReportOutputs.Open(request.Csv, request.Json, _console.Out, captureSet, request.Html, request.Parquet);
        }
        catch (Exception e) when (ExitCodes.IsExpected(e))
        {
            _console.Warn($"cannot write the report: {e.Message}");
            return ExitCodes.Of(e);
        }

        using (outputs)
        {
            try
            {
                if (request.WritePcap is not null)
                {
                    pcap = CaptureFileWriter.Create(request.WritePcap, capture.LinkType, capture.SnapLengthBytes, capture.InterfaceName);
                }
            }
            catch (Exception e) when (ExitCodes.IsExpected(e))
            {
                _console.Warn($"cannot write {request.WritePcap}: {e.Message}");
                return ExitCodes.Of(e);
            }

            using (pcap)
            {
                var lines = outputs.WritesToStandardOutput ? _console.Error : _console.Out;
                using var handler = new Handler(capture, request.Analysis, outputs, pcap, lines, request.Quiet ? null : _console, started);
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
                if (request.DurationSeconds is double seconds)
                {
                    deadline.CancelAfter(TimeSpan.FromSeconds(seconds));
                }

                var statistics = capture.Run(handler, deadline.Token);
                handler.Finish();
                outputs.Flush();
                pcap?.Flush();
                LiveSessionPrinter.WriteStatistics(_console.Error, capture.InterfaceName, statistics, handler.Sessions);
                _console.Error.Flush();
                if (statistics.Failure is not null)
                {
                    _console.Warn(statistics.Failure);
                    return ExitCodes.InputError;
                }

                return ExitCodes.Success;
            }
        }
    }

    /// <summary>The analysis side of the capture: every call arrives on the thread running <see cref="LiveCapture.Run"/>.</summary>
    private sealed class Handler : ILiveCaptureHandler, IDisposable
    {
        private readonly LiveCapture _capture;
        private readonly ReportOutputs _outputs;
        private readonly CaptureFileWriter? _pcap;
        private readonly TextWriter _lines;
        private readonly CliConsole? _progress;
        private readonly Action? _started;
        private readonly CaptureAnalyzer _analyzer;
        private bool _pcapDirty;

        public Handler(LiveCapture capture, AnalyzerOptions analysis, ReportOutputs outputs, CaptureFileWriter? pcap, TextWriter lines, CliConsole? progress, Action? started)
        {
            _capture = capture;
            _outputs = outputs;
            _pcap = pcap;
            _lines = lines;
            _progress = progress;
            _started = started;

            // Sessions are numbered in the order they are reported: live has no "whole capture" to sort.
            _analyzer = new CaptureAnalyzer(capture.InterfaceName, analysis, OnSession);
        }

        public long Sessions { get; private set; }

        public void OnStarted()
        {
            _progress?.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wsclosesniffer: capturing on {_capture.InterfaceName} (filter '{_capture.Filter}', link type {(uint)_capture.LinkType}); Ctrl-C to stop"));
            _progress?.Error.Flush();
            _started?.Invoke();
        }

        public void OnPacket(in CapturedPacket packet)
        {
            if (_pcap is not null)
            {
                _pcap.Write(packet.Timestamp, packet.Data, packet.OriginalLength);
                _pcapDirty = true;
            }

            _analyzer.Process(packet, DecodedTcp.Decode(packet));
        }

        public void OnIdle()
        {
            // A quiet moment: push the saved packets to disk so a killed process leaves them readable.
            if (_pcapDirty)
            {
                _pcap?.Flush();
                _pcapDirty = false;
            }
        }

        /// <summary>Ends every open session (as unfinished when nothing closed it) and reports it.</summary>
        public void Finish() => _analyzer.Finish();

        public void Dispose() => _analyzer.Dispose();

        private void OnSession(SessionRecord record)
        {
            var numbered = record with { SessionId = ++Sessions };

            // Flushed per session: a killed process loses at most the sessions still open.
            _outputs.Write(numbered);
            _outputs.Flush();
            _lines.WriteLine(LiveSessionPrinter.FormatSession(numbered));
            _lines.Flush();
        }
    }
}
