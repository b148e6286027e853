using System.Text;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Cli;

/// <summary>
/// The report sinks a command asked for (--csv, --json; "-" is stdout). Owns the files it opens.
/// </summary>
internal sealed class ReportOutputs : IDisposable
{
    public const string StandardOutput = "-";

    private readonly List<ISessionSink> _sinks = [];

    private ReportOutputs()
    {
    }

    public bool WritesToStandardOutput { get; private init; }

    /// <summary>Checks the options before any work is done: returns an error message, or null.</summary>
    public static string? Validate(string? csv, string? json, string? html = null, string? parquet = null)
    {
        if (parquet == StandardOutput)
        {
            return "--parquet needs a file name: a Parquet file ends with its footer, so it cannot be streamed to stdout";
        }

        var onStdout = new[] { ("--csv", csv), ("--json", json), ("--html", html) }.Where(o => o.Item2 == StandardOutput).Select(o => o.Item1 + " -").ToList();
        return onStdout.Count > 1
            ? $"{string.Join(" and ", onStdout)} cannot {(onStdout.Count == 2 ? "both" : "all")} write to stdout; send {(onStdout.Count == 2 ? "one" : "all but one")} of them to a file"
            : null;
    }

    /// <summary>Opens the sinks asked for; every report's capture_set column is <paramref name="captureSet"/>.</summary>
    public static ReportOutputs Open(string? csv, string? json, TextWriter stdout, string captureSet, string? html = null, string? parquet = null)
    {
        var outputs = new ReportOutputs { WritesToStandardOutput = csv == StandardOutput || json == StandardOutput || html == StandardOutput };
        try
        {
            if (csv is not null)
            {
                outputs._sinks.Add(csv == StandardOutput
                    ? new CsvSessionWriter(stdout, leaveOpen: true, captureSet)
                    : new CsvSessionWriter(new StreamWriter(csv, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)), leaveOpen: false, captureSet));
            }

            if (json is not null)
            {
                outputs._sinks.Add(json == StandardOutput
                    ? new JsonLinesSessionWriter(new TextWriterStream(stdout), leaveOpen: false, captureSet)
                    : new JsonLinesSessionWriter(File.Create(json), leaveOpen: false, captureSet));
            }

            if (html is not null)
            {
                outputs._sinks.Add(html == StandardOutput
                    ? new HtmlReportWriter(stdout, leaveOpen: true, captureSet: captureSet)
                    : new HtmlReportWriter(new StreamWriter(html, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)), captureSet: captureSet));
            }

            if (parquet is not null)
            {
                outputs._sinks.Add(new ParquetSessionWriter(File.Create(parquet), captureSet));
            }

            return outputs;
        }
        catch
        {
            outputs.Dispose();
            throw;
        }
    }

    public void Write(SessionRecord record)
    {
        foreach (var sink in _sinks)
        {
            sink.Write(record);
        }
    }

    public void Flush()
    {
        foreach (var sink in _sinks)
        {
            sink.Flush();
        }
    }

    public void Dispose()
    {
        foreach (var sink in _sinks)
        {
            sink.Dispose();
        }

        _sinks.Clear();
    }
}
