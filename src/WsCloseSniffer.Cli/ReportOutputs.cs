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
    public static string? Validate(string? csv, string? json) =>
        csv == StandardOutput && json == StandardOutput
            ? "--csv - and --json - cannot both write to stdout; send one of them to a file"
            : null;

    public static ReportOutputs Open(string? csv, string? json, TextWriter stdout) => Open(csv, json, parquet: null, captureFiles: [], stdout);

    /// <summary>Also opens a Parquet sink when <paramref name="parquet"/> is given; its capture_set names <paramref name="captureFiles"/>.</summary>
    public static ReportOutputs Open(string? csv, string? json, string? parquet, IReadOnlyCollection<string> captureFiles, TextWriter stdout)
    {
        var outputs = new ReportOutputs { WritesToStandardOutput = csv == StandardOutput || json == StandardOutput };
        try
        {
            if (csv is not null)
            {
                outputs._sinks.Add(csv == StandardOutput
                    ? new CsvSessionWriter(stdout, leaveOpen: true)
                    : new CsvSessionWriter(new StreamWriter(csv, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false))));
            }

            if (json is not null)
            {
                outputs._sinks.Add(json == StandardOutput
                    ? new JsonLinesSessionWriter(new TextWriterStream(stdout), leaveOpen: false)
                    : new JsonLinesSessionWriter(File.Create(json)));
            }

            if (parquet is not null)
            {
                outputs._sinks.Add(new ParquetSessionWriter(File.Create(parquet), ParquetSessionWriter.CaptureSetOf(captureFiles)));
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
