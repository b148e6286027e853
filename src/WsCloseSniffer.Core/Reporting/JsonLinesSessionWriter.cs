using System.Text.Encodings.Web;
using System.Text.Json;

namespace WsCloseSniffer.Reporting;

/// <summary>Writes one JSON object per session and line: the CSV's column names, numbers as numbers, empty as null.</summary>
public sealed class JsonLinesSessionWriter : ISessionSink
{
    private static readonly JsonWriterOptions s_options = new()
    {
        // Readable reasons and paths; every line is still valid JSON (control characters stay escaped).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly Utf8JsonWriter _json;
    private readonly string? _captureSet;

    /// <param name="captureSet">The run's capture_set (<see cref="ReportColumns.CaptureSetOf"/>); null writes null.</param>
    public JsonLinesSessionWriter(Stream stream, bool leaveOpen = false, string? captureSet = null)
    {
        _captureSet = captureSet;
        _stream = stream;
        _leaveOpen = leaveOpen;
        _json = new Utf8JsonWriter(stream, s_options);
    }

    public void Write(SessionRecord record)
    {
        var cells = ReportColumns.Cells(record, _captureSet);
        _json.WriteStartObject();
        for (var i = 0; i < cells.Length; i++)
        {
            var name = ReportColumns.All[i];
            switch (cells[i])
            {
                case null:
                    _json.WriteNull(name);
                    break;
                case long number:
                    _json.WriteNumber(name, number);
                    break;
                case decimal seconds:
                    _json.WriteNumber(name, seconds);
                    break;
                case bool flag:
                    _json.WriteBoolean(name, flag);
                    break;
                case var other:
                    _json.WriteString(name, (string)other);
                    break;
            }
        }

        _json.WriteEndObject();
        _json.Flush();
        _json.Reset();
        _stream.WriteByte((byte)'\n');
    }

    public void Flush()
    {
        _json.Flush();
        _stream.Flush();
    }

    public void Dispose()
    {
        Flush();
        _json.Dispose();
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }
}
