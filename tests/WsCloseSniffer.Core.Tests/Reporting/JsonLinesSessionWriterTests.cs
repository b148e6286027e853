using System.Text;
using System.Text.Json;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.Reporting;

public class JsonLinesSessionWriterTests
{
    private static readonly HashSet<string> s_numberColumns =
    [
        "session_id", "client_port", "server_port", "close_code", "reply_close_code",
        "client_frames", "server_frames", "client_payload_bytes", "server_payload_bytes",
        "duration_s", "idle_before_end_s", "client_pings", "server_pings", "client_pongs", "server_pongs", "unanswered_pings",
        "max_ping_gap_s", "client_largest_message_bytes", "server_largest_message_bytes", "compressed_messages", "inflate_errors",
    ];

    private static string WriteJson(params SessionRecord[] records)
    {
        using var stream = new MemoryStream();
        using (var writer = new JsonLinesSessionWriter(stream, leaveOpen: true))
        {
            foreach (var record in records)
            {
                writer.Write(record);
            }

            writer.Flush();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public void Write_EachRecord_IsOneValidJsonObjectPerLine()
    {
        var text = WriteJson(CsvSessionWriterTests.HostileRecord(), CsvSessionWriterTests.PlainRecord(2));

        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var lines = text[..^1].Split('\n');
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
    }

    [Fact]
    public void Write_FieldNames_AreTheCsvColumnsInOrder()
    {
        var line = WriteJson(CsvSessionWriterTests.HostileRecord()).TrimEnd('\n');

        using var document = JsonDocument.Parse(line);

        Assert.Equal(CsvSessionWriterTests.ReportHeader.Split(','), document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("capture_set").ValueKind);
    }

    [Fact]
    public void Write_WithCaptureSet_IsTheLastField()
    {
        using var stream = new MemoryStream();
        using (var writer = new JsonLinesSessionWriter(stream, leaveOpen: true, captureSet: "0123456789abcdef"))
        {
            writer.Write(CsvSessionWriterTests.HostileRecord());
        }

        using var document = JsonDocument.Parse(stream.ToArray());
        var last = document.RootElement.EnumerateObject().Last();
        Assert.Equal(("capture_set", "0123456789abcdef"), (last.Name, last.Value.GetString()));
    }

    [Fact]
    public void Write_Values_AreNumbersStringsAndNullsForEmpty()
    {
        var record = CsvSessionWriterTests.HostileRecord();

        using var document = JsonDocument.Parse(WriteJson(record).TrimEnd('\n'));
        var root = document.RootElement;

        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            Assert.Equal(s_numberColumns.Contains(property.Name) ? JsonValueKind.Number : JsonValueKind.String, property.Value.ValueKind);
        }

        Assert.Equal(42, root.GetProperty("session_id").GetInt64());
        Assert.Equal(65535, root.GetProperty("client_port").GetInt32());
        Assert.Equal(4000, root.GetProperty("close_code").GetInt32());
        Assert.Equal(long.MaxValue, root.GetProperty("client_payload_bytes").GetInt64());
        Assert.Equal(1_234_567_890_123, root.GetProperty("client_frames").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("close_initiator").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("reply_close_code").ValueKind);

        // No formula escaping in JSON: values are data, exactly as seen.
        Assert.Equal(record.Host, root.GetProperty("host").GetString());
        Assert.Equal(record.Path, root.GetProperty("path").GetString());
        Assert.Equal(record.CloseReason, root.GetProperty("close_reason").GetString());
        Assert.Equal(record.AcceptedExtensions, root.GetProperty("accepted_extensions").GetString());
    }

    [Fact]
    public void Write_AllNullableEmpty_GivesNulls()
    {
        var record = CsvSessionWriterTests.PlainRecord() with
        {
            Host = null, Path = null, OfferedExtensions = null, AcceptedExtensions = null,
            CloseInitiator = null, CloseCode = null, CloseReason = null, ReplyCloseCode = null,
        };

        using var document = JsonDocument.Parse(WriteJson(record).TrimEnd('\n'));

        foreach (var name in new[] { "host", "path", "offered_extensions", "accepted_extensions", "close_initiator", "close_code", "close_reason", "reply_close_code" })
        {
            Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty(name).ValueKind);
        }
    }

    [Fact]
    public void Dispose_WithoutLeaveOpen_ClosesTheStream()
    {
        var stream = new MemoryStream();
        var writer = new JsonLinesSessionWriter(stream);
        writer.Write(CsvSessionWriterTests.PlainRecord());

        writer.Dispose();

        Assert.False(stream.CanWrite);
    }
}
