using System.Globalization;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.Reporting;

public class CsvSessionWriterTests
{
    /// <summary>The contract's header line, copied verbatim from docs/report-format.md.</summary>
    internal const string ContractOnlyHeader =
        "session_id,capture_file,start_time,end_time,client_ip,client_port,server_ip,server_port,host,path,offered_extensions,accepted_extensions,close_initiator,close_code,close_reason,reply_close_code,classification,diagnosis,client_frames,server_frames,client_payload_bytes,server_payload_bytes";

    /// <summary>The contract's 22 columns, then the evidence columns and the TLS columns added after them.</summary>
    internal const string ReportHeader = ContractOnlyHeader +
        ",duration_s,tcp_end,tcp_end_by,idle_before_end_s,client_pings,server_pings,client_pongs,server_pongs,unanswered_pings,max_ping_gap_s,client_largest_message_bytes,server_largest_message_bytes,last_message_bytes,compressed_messages,inflate_errors,notices" +
        ",tls_version,tls_cipher,tls_sni,tls_alpn,decrypted,capture_set";

    // A record that sets none of the evidence: duration 0 with its 6 decimals, counts 0, the rest empty.
    private static readonly string[] s_defaultEvidenceCells =
        ["0.000000", "", "", "", "0", "0", "0", "0", "0", "", "0", "0", "", "0", "0", ""];

    internal static SessionRecord PlainRecord(long id = 1, string classification = "normal_closure") => new()
    {
        SessionId = id,
        CaptureFile = "a.pcap",
        StartTime = "2026-11-23T10:15:02.123456Z",
        EndTime = "2026-11-23T10:15:03.000001Z",
        ClientIp = "127.0.0.1",
        ClientPort = 35996,
        ServerIp = "127.0.0.1",
        ServerPort = 38921,
        Host = "127.0.0.1:38921",
        Path = "/echo",
        CloseInitiator = "client",
        CloseCode = 1000,
        CloseReason = "bye",
        ReplyCloseCode = 1000,
        Classification = classification,
        Diagnosis = "The client closed the session normally (1000 Normal Closure, reason \"bye\") and the server echoed the close (1000).",
        ClientFrames = 2,
        ServerFrames = 2,
        ClientPayloadBytes = 10,
        ServerPayloadBytes = 10,
    };

    internal static SessionRecord HostileRecord() => new()
    {
        SessionId = 42,
        CaptureFile = "-dir/capture, 1.pcap",
        StartTime = "2026-11-23T10:15:02.123456Z",
        EndTime = "2026-11-23T10:15:03.000001Z",
        ClientIp = "2001:db8::1",
        ClientPort = 65535,
        ServerIp = "192.0.2.1",
        ServerPort = 1,
        Host = "=cmd|' /C calc'!A0",
        Path = "/a,b\"c\nd\0e\r\nf",
        OfferedExtensions = "@SUM(A1); x=\"1,2\"",
        AcceptedExtensions = "\tpermessage-deflate",
        CloseInitiator = null,
        CloseCode = 4000,
        CloseReason = "+1, \"quoted\"\r\nsecond line",
        ReplyCloseCode = null,
        Classification = "application",
        Diagnosis = "The server closed with application code 4000 (private application code), reason \"x, y\".",
        ClientFrames = 1_234_567_890_123,
        ServerFrames = 0,
        ClientPayloadBytes = long.MaxValue,
        ServerPayloadBytes = 9_876_543_210,
    };

    private static string WriteCsv(params SessionRecord[] records) => WriteCsv(null, records);

    private static string WriteCsv(string? captureSet, params SessionRecord[] records)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = new CsvSessionWriter(text, leaveOpen: true, captureSet))
        {
            foreach (var record in records)
            {
                writer.Write(record);
            }

            writer.Flush();
        }

        return text.ToString();
    }

    [Fact]
    public void Header_IsExactlyTheContractLine()
    {
        var csv = WriteCsv();

        Assert.Equal(ReportHeader + "\n", csv);
        Assert.Equal(ReportHeader.Split(','), ReportColumns.All);
    }

    [Fact]
    public void Write_PlainRecord_IsOneUnquotedLine()
    {
        var csv = WriteCsv(PlainRecord());

        var lines = csv.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal(ReportHeader, lines[0]);
        Assert.Equal(
            "1,a.pcap,2026-11-23T10:15:02.123456Z,2026-11-23T10:15:03.000001Z,127.0.0.1,35996,127.0.0.1,38921,127.0.0.1:38921,/echo,,,client,1000,bye,1000,normal_closure," +
            "\"The client closed the session normally (1000 Normal Closure, reason \"\"bye\"\") and the server echoed the close (1000).\",2,2,10,10," + string.Join(',', s_defaultEvidenceCells) + ",,,,,,",
            lines[1]);
        Assert.Equal(string.Empty, lines[2]);
    }

    [Fact]
    public void Write_WithCaptureSet_EveryRowEndsWithIt()
    {
        var records = Rfc4180.Parse(WriteCsv("0123456789abcdef", PlainRecord(1), PlainRecord(2)));

        Assert.Equal("capture_set", records[0][^1]);
        Assert.Equal(["0123456789abcdef", "0123456789abcdef"], records.Skip(1).Select(r => r[^1]));
    }

    [Fact]
    public void Write_HostileCells_ParseBackIntoEveryColumnWithFormulaCellsEscaped()
    {
        var csv = WriteCsv(HostileRecord(), PlainRecord(2));

        var records = Rfc4180.Parse(csv);

        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal(ReportColumns.All.Count, r.Count));
        Assert.Equal(ReportColumns.All, records[0]);
        string[] expected =
        [
            "42", "'-dir/capture, 1.pcap", "2026-11-23T10:15:02.123456Z", "2026-11-23T10:15:03.000001Z", "2001:db8::1", "65535",
            "192.0.2.1", "1", "'=cmd|' /C calc'!A0", "/a,b\"c\nd\0e\r\nf", "'@SUM(A1); x=\"1,2\"", "'\tpermessage-deflate",
            "", "4000", "'+1, \"quoted\"\r\nsecond line", "", "application",
            "The server closed with application code 4000 (private application code), reason \"x, y\".",
            "1234567890123", "0", "9223372036854775807", "9876543210",
            .. s_defaultEvidenceCells,
            "", "", "", "", "",
            "",
        ];
        Assert.Equal(expected, records[1]);
        Assert.Equal("2", records[2][0]);
    }

    [Fact]
    public void Write_NullCells_AreEmptyCellsNotQuotedEmptyStrings()
    {
        var record = PlainRecord() with { Host = null, Path = null, CloseInitiator = null, CloseCode = null, CloseReason = null, ReplyCloseCode = null };

        var line = WriteCsv(record).Split('\n')[1];

        Assert.StartsWith(
            "1,a.pcap,2026-11-23T10:15:02.123456Z,2026-11-23T10:15:03.000001Z,127.0.0.1,35996,127.0.0.1,38921,,,,,,,,,normal_closure,",
            line,
            StringComparison.Ordinal);
        Assert.DoesNotContain("\"\"\"\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_Numbers_AreInvariantWhateverTheCurrentCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        var odd = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        odd.NumberFormat.NegativeSign = "~";
        odd.NumberFormat.NumberGroupSeparator = "_";
        odd.NumberFormat.NativeDigits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        try
        {
            CultureInfo.CurrentCulture = odd;
            var cells = Rfc4180.Parse(WriteCsv(HostileRecord()))[1];
            Assert.Equal("1234567890123", cells[18]);
            Assert.Equal("9223372036854775807", cells[20]);
            Assert.Equal("65535", cells[5]);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Theory]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@x", "'@x")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "'\rx")]
    [InlineData("a=1", "a=1")]
    [InlineData("'quoted", "'quoted")]
    [InlineData("", "")]
    public void Write_CellStartingWithFormulaCharacter_GetsOneLeadingQuote(string reason, string expected)
    {
        var cells = Rfc4180.Parse(WriteCsv(PlainRecord() with { CloseReason = reason }))[1];

        Assert.Equal(expected, cells[14]);
    }

    [Fact]
    public void Write_Flush_PushesWrittenRecordsToTheWriter()
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using var writer = new CsvSessionWriter(text, leaveOpen: true);

        writer.Write(PlainRecord());
        writer.Flush();

        Assert.Equal(2, Rfc4180.Parse(text.ToString()).Count);
    }
}
