using System.CommandLine;
using Spectre.Console;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Pcap;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Cli.Commands;

/// <summary><c>wsclosesniffer analyze PATH... [--as-one|--separate] [--csv FILE|-] [--json FILE|-] [--html FILE|-] [--parquet FILE] [--filter BPF] [--quiet]</c></summary>
internal sealed class AnalyzeCommand
{
    private readonly Option<bool> _asOne = new("--as-one")
    {
        Description = "Read all the files as one capture, merged by packet time (rotated or split files, interfaces captured at once)",
    };

    private readonly Option<bool> _separate = new("--separate")
    {
        Description = "Read every file on its own, even a set that looks like one rotation",
    };

    private readonly Argument<string[]> _paths = new("PATH")
    {
        Description = "Capture files (pcap, pcapng, optionally gzip-compressed) or directories of them",
        Arity = ArgumentArity.OneOrMore,
    };

    private readonly CliConsole _console;

    public AnalyzeCommand(CliConsole console)
    {
        _console = console;

        // The parser would take an unknown "--option" as a path; say what it is instead (name files "./-x").
        _paths.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(t => t.Value.StartsWith('-')))
            {
                result.AddError($"Unrecognized option '{token.Value}'.");
            }
        });
        Command = new Command("analyze", "Analyze capture files and report how every WebSocket session closed")
        {
            _paths,
            _asOne,
            _separate,
            CommonOptions.Csv,
            CommonOptions.Json,
            CommonOptions.Html,
            CommonOptions.Parquet,
            CommonOptions.Filter,
            CommonOptions.TlsKeyLog,
            CommonOptions.Quiet,
        };
        foreach (var limit in CommonOptions.Limits)
        {
            Command.Add(limit);
        }

        Command.SetAction((parse, token) =>
        {
            if (parse.GetValue(_asOne) && parse.GetValue(_separate))
            {
                _console.Warn("--as-one and --separate contradict each other; give one of them");
                return Task.FromResult(ExitCodes.Usage);
            }

            var analyzerOptions = CommonOptions.ReadAnalyzerOptions(parse);
            if (!CommonOptions.TryAddTlsKeyLog(parse, _console, ref analyzerOptions))
            {
                return Task.FromResult(ExitCodes.InputError);
            }

            return Task.FromResult(Run(
                parse.GetValue(_paths) ?? [],
                parse.GetValue(CommonOptions.Csv),
                parse.GetValue(CommonOptions.Json),
                parse.GetValue(CommonOptions.Filter),
                parse.GetValue(CommonOptions.Quiet),
                token,
                analyzerOptions,
                parse.GetValue(CommonOptions.Html),
                parse.GetValue(CommonOptions.Parquet),
                parse.GetValue(_asOne) ? Joining.AsOne : parse.GetValue(_separate) ? Joining.Separate : Joining.Rotations));
        });
    }

    public Command Command { get; }

    /// <summary>Which files are read as one capture.</summary>
    public enum Joining
    {
        /// <summary>The sets that are clearly one rotation; every other file on its own.</summary>
        Rotations = 0,
        AsOne = 1,
        Separate = 2,
    }

    public int Run(IReadOnlyList<string> paths, string? csv, string? json, string? filter, bool quiet, CancellationToken cancellationToken, AnalyzerOptions? analyzerOptions = null, string? html = null, string? parquet = null, Joining joining = Joining.Rotations)
    {
        if (ReportOutputs.Validate(csv, json, html, parquet) is { } usage)
        {
            _console.Warn(usage);
            return ExitCodes.Usage;
        }

        var options = analyzerOptions ?? new AnalyzerOptions();
        if (filter is not null)
        {
            if (!PacketFilters.TryCreateFactory(filter, _console, out var factory))
            {
                return ExitCodes.InputError;
            }

            options = options with { FilterFactory = factory };
        }

        var inputs = CaptureInputs.Expand(paths);
        if (inputs.Count == 0)
        {
            _console.Warn($"no capture files (*.pcap, *.pcapng, *.cap, optionally .gz) in {string.Join(", ", paths)}");
            return ExitCodes.InputError;
        }

        var groups = joining switch
        {
            Joining.AsOne => CaptureGroups.AsOne(inputs),
            Joining.Separate => CaptureGroups.Separate(inputs),
            _ => CaptureGroups.DetectRotations(inputs, options.Reassembly),
        };

        // Opened before the analysis, so a report path that cannot be written fails at once, not after an hour's work.
        ReportOutputs outputs;
        try
        {
            outputs = ReportOutputs.Open(csv, json, _console.Out, ReportColumns.CaptureSetOf(inputs.Select(i => i.Path)), html, parquet);
        }
        catch (Exception e) when (ExitCodes.IsExpected(e))
        {
            _console.Warn($"cannot write the report: {e.Message}");
            return ExitCodes.Of(e);
        }

        using (outputs)
        {
            using var result = RunWithProgress(groups, options, quiet, cancellationToken);
            foreach (var problem in result.Problems)
            {
                _console.Warn(problem.ToString());
            }

            if (SummaryWriter.SnapLengthWarning(result.Statistics) is { } cut)
            {
                _console.Warn(cut);
            }

            // The summary (stdout) is written while the report (a file) is: each reads the sorted sessions on its own.
            var summary = outputs.WritesToStandardOutput
                ? Task.CompletedTask
                : Task.Run(() => SummaryWriter.Write(_console.Out, result.Sessions.Sorted(), result.Sessions.ClassificationCounts, result.Sessions.EndingTimes, result.Statistics, inputs.Count, [.. groups.Where(g => g.IsJoined).Select(g => g.Describe())]), CancellationToken.None);
            try
            {
                foreach (var session in result.Sessions.Sorted())
                {
                    outputs.Write(session);
                }

                outputs.Flush();
            }
            catch
            {
                // The report's failure is the one to tell; the summary is only waited for.
                summary.ContinueWith(static _ => { }, TaskScheduler.Default).Wait(CancellationToken.None);
                throw;
            }

            summary.GetAwaiter().GetResult();

            _console.Out.Flush();
            return result.Problems.Count > 0 ? ExitCodes.InputError : ExitCodes.Success;
        }
    }

    private AnalysisResult RunWithProgress(IReadOnlyList<CaptureGroup> inputs, AnalyzerOptions options, bool quiet, CancellationToken cancellationToken)
    {
        if (quiet || !_console.IsErrorTerminal)
        {
            return OfflineAnalysis.Run(inputs, options, progress: null, cancellationToken);
        }

        var progress = new AnalysisProgress();
        var work = Task.Run(() => OfflineAnalysis.Run(inputs, options, progress, cancellationToken), cancellationToken);
        var terminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(_console.Error) });
        terminal.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("Analyzing", maxValue: Math.Max(1, progress.TotalBytes));
                while (!work.Wait(TimeSpan.FromMilliseconds(100), CancellationToken.None))
                {
                    task.MaxValue = Math.Max(1, progress.TotalBytes);
                    task.Value = progress.BytesRead;
                }

                task.Value = task.MaxValue;
            });
        return work.GetAwaiter().GetResult();
    }
}
