using System.Globalization;
using CsvHelper;

namespace WsCloseSniffer.Reporting;

/// <summary>Writes the session report as CSV (RFC 4180 quoting by CsvHelper), header exactly as the contract.</summary>
public sealed class CsvSessionWriter : ISessionSink
{
    // Cells come from the wire and the report is opened in spreadsheets during incidents: a cell starting
    // with a formula character gets a leading single quote, as OWASP recommends against CSV injection.
    private static readonly CsvWriterOptions s_options = new()
    {
        NewLine = "\n",
        FormatProvider = CultureInfo.InvariantCulture,
        Injection = CsvInjection.Escape,
        InjectionCharacters = "=+-@\t\r",
        InjectionEscape = '\'',
    };

    private readonly CsvWriter _csv;
    private readonly string? _captureSet;

    /// <param name="captureSet">The run's capture_set (<see cref="ReportColumns.CaptureSetOf"/>); null leaves the column empty.</param>
    public CsvSessionWriter(TextWriter writer, bool leaveOpen = false, string? captureSet = null)
    {
        _captureSet = captureSet;
        _csv = CsvWriter.Create(writer, s_options, leaveOpen);
        foreach (var column in ReportColumns.All)
        {
            _csv.WriteField(column);
        }

        _csv.EndRecord();
    }

    public void Write(SessionRecord record)
    {
        foreach (var cell in ReportColumns.Cells(record, _captureSet))
        {
            _csv.WriteField(cell switch
            {
                null => string.Empty,
                long number => number.ToString(CultureInfo.InvariantCulture),
                bool flag => flag ? "true" : "false",
                decimal seconds => seconds.ToString(CultureInfo.InvariantCulture),
                string text => text,
                _ => Convert.ToString(cell, CultureInfo.InvariantCulture),
            });
        }

        _csv.EndRecord();
    }

    public void Flush() => _csv.Flush();

    public void Dispose() => _csv.Dispose();
}
