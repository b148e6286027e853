using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace WsCloseSniffer.Reporting;

/// <summary>
/// Writes the report as a typed Parquet file (integers, UTC timestamps in microseconds, nullable strings) for
/// engines that merge many runs' parts (DuckDB, Spark, ClickHouse, pandas). Rows are buffered per column and
/// written as a row group every <see cref="RowGroupRows"/> sessions, so memory stays flat however many there are.
/// The file is readable only once disposed (Parquet's footer comes last).
/// </summary>
public sealed class ParquetSessionWriter : ISessionSink
{
    // Whole records wait for their row group (a diagnosis each, about 1 KiB): 8,192 keep that to a few MiB.
    public const int RowGroupRows = 8_192;

    private static readonly DataField<long> s_sessionId = new("session_id");
    private static readonly DataField s_captureFile = new("capture_file", typeof(string), isNullable: false);
    private static readonly DateTimeDataField s_startTime = Timestamp("start_time");
    private static readonly DateTimeDataField s_endTime = Timestamp("end_time");
    private static readonly DataField s_clientIp = new("client_ip", typeof(string), isNullable: false);
    private static readonly DataField<int> s_clientPort = new("client_port");
    private static readonly DataField s_serverIp = new("server_ip", typeof(string), isNullable: false);
    private static readonly DataField<int> s_serverPort = new("server_port");
    private static readonly DataField s_host = new("host", typeof(string), isNullable: true);
    private static readonly DataField s_path = new("path", typeof(string), isNullable: true);
    private static readonly DataField s_offered = new("offered_extensions", typeof(string), isNullable: true);
    private static readonly DataField s_accepted = new("accepted_extensions", typeof(string), isNullable: true);
    private static readonly DataField s_initiator = new("close_initiator", typeof(string), isNullable: true);
    private static readonly DataField<int?> s_closeCode = new("close_code");
    private static readonly DataField s_closeReason = new("close_reason", typeof(string), isNullable: true);
    private static readonly DataField<int?> s_replyCloseCode = new("reply_close_code");
    private static readonly DataField s_classification = new("classification", typeof(string), isNullable: false);
    private static readonly DataField s_diagnosis = new("diagnosis", typeof(string), isNullable: false);
    private static readonly DataField<long> s_clientFrames = new("client_frames");
    private static readonly DataField<long> s_serverFrames = new("server_frames");
    private static readonly DataField<long> s_clientBytes = new("client_payload_bytes");
    private static readonly DataField<long> s_serverBytes = new("server_payload_bytes");

    // The root-cause evidence (seconds as DOUBLE), then the TLS columns, in report order; capture_set stays last.
    private static readonly DataField<double> s_duration = new("duration_s");
    private static readonly DataField s_tcpEnd = new("tcp_end", typeof(string), isNullable: true);
    private static readonly DataField s_tcpEndBy = new("tcp_end_by", typeof(string), isNullable: true);
    private static readonly DataField<double?> s_idleBeforeEnd = new("idle_before_end_s");
    private static readonly DataField<long> s_clientPings = new("client_pings");
    private static readonly DataField<long> s_serverPings = new("server_pings");
    private static readonly DataField<long> s_clientPongs = new("client_pongs");
    private static readonly DataField<long> s_serverPongs = new("server_pongs");
    private static readonly DataField<long> s_unansweredPings = new("unanswered_pings");
    private static readonly DataField<double?> s_maxPingGap = new("max_ping_gap_s");
    private static readonly DataField<long> s_clientLargest = new("client_largest_message_bytes");
    private static readonly DataField<long> s_serverLargest = new("server_largest_message_bytes");
    private static readonly DataField s_lastMessage = new("last_message_bytes", typeof(string), isNullable: true);
    private static readonly DataField<long> s_compressed = new("compressed_messages");
    private static readonly DataField<long> s_inflateErrors = new("inflate_errors");
    private static readonly DataField s_notices = new("notices", typeof(string), isNullable: true);
    private static readonly DataField s_tlsVersion = new("tls_version", typeof(string), isNullable: true);
    private static readonly DataField s_tlsCipher = new("tls_cipher", typeof(string), isNullable: true);
    private static readonly DataField s_tlsSni = new("tls_sni", typeof(string), isNullable: true);
    private static readonly DataField s_tlsAlpn = new("tls_alpn", typeof(string), isNullable: true);
    private static readonly DataField<bool?> s_decrypted = new("decrypted");
    private static readonly DataField s_captureSet = new("capture_set", typeof(string), isNullable: false);

    private static readonly ParquetSchema s_schema = new(
        s_sessionId, s_captureFile, s_startTime, s_endTime, s_clientIp, s_clientPort, s_serverIp, s_serverPort,
        s_host, s_path, s_offered, s_accepted, s_initiator, s_closeCode, s_closeReason, s_replyCloseCode,
        s_classification, s_diagnosis, s_clientFrames, s_serverFrames, s_clientBytes, s_serverBytes,
        s_duration, s_tcpEnd, s_tcpEndBy, s_idleBeforeEnd, s_clientPings, s_serverPings, s_clientPongs, s_serverPongs,
        s_unansweredPings, s_maxPingGap, s_clientLargest, s_serverLargest, s_lastMessage, s_compressed, s_inflateErrors,
        s_notices, s_tlsVersion, s_tlsCipher, s_tlsSni, s_tlsAlpn, s_decrypted, s_captureSet);

    private readonly Stream _stream;
    private readonly ParquetWriter _writer;
    private readonly string _captureSet;
    private readonly List<SessionRecord> _pending = new(capacity: 1024);
    private readonly int _rowGroupRows;

    public ParquetSessionWriter(Stream stream, string captureSet, int rowGroupRows = RowGroupRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowGroupRows, 1);
        _stream = stream;
        _captureSet = captureSet;
        _rowGroupRows = rowGroupRows;
        _writer = ParquetWriter.CreateAsync(s_schema, stream).GetAwaiter().GetResult();
    }

    public void Write(SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _pending.Add(record);
        if (_pending.Count >= _rowGroupRows)
        {
            WriteRowGroup();
        }
    }

    /// <summary>Nothing to push: a Parquet file is only complete, and readable, once its footer is written on dispose.</summary>
    public void Flush()
    {
    }

    public void Dispose()
    {
        WriteRowGroup();
        _writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream.Dispose();
    }

    private static DateTimeDataField Timestamp(string name) =>
        new(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false);

    private static DateTime ParseUtc(string iso) =>
        DateTime.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    private void WriteRowGroup()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        using (var group = _writer.CreateRowGroup())
        {
            Write(group, s_sessionId, r => r.SessionId);
            Strings(group, s_captureFile, r => r.CaptureFile);
            Times(group, s_startTime, r => r.StartTime);
            Times(group, s_endTime, r => r.EndTime);
            Strings(group, s_clientIp, r => r.ClientIp);
            Write(group, s_clientPort, r => r.ClientPort);
            Strings(group, s_serverIp, r => r.ServerIp);
            Write(group, s_serverPort, r => r.ServerPort);
            Strings(group, s_host, r => r.Host);
            Strings(group, s_path, r => r.Path);
            Strings(group, s_offered, r => r.OfferedExtensions);
            Strings(group, s_accepted, r => r.AcceptedExtensions);
            Strings(group, s_initiator, r => r.CloseInitiator);
            Write(group, s_closeCode, r => r.CloseCode);
            Strings(group, s_closeReason, r => r.CloseReason);
            Write(group, s_replyCloseCode, r => r.ReplyCloseCode);
            Strings(group, s_classification, r => r.Classification);
            Strings(group, s_diagnosis, r => r.Diagnosis);
            Write(group, s_clientFrames, r => r.ClientFrames);
            Write(group, s_serverFrames, r => r.ServerFrames);
            Write(group, s_clientBytes, r => r.ClientPayloadBytes);
            Write(group, s_serverBytes, r => r.ServerPayloadBytes);
            Write(group, s_duration, r => r.DurationMicroseconds / 1e6);
            Strings(group, s_tcpEnd, r => r.TcpEnd);
            Strings(group, s_tcpEndBy, r => r.TcpEndBy);
            Write(group, s_idleBeforeEnd, r => r.IdleBeforeEndMicroseconds / 1e6);
            Write(group, s_clientPings, r => r.ClientPings);
            Write(group, s_serverPings, r => r.ServerPings);
            Write(group, s_clientPongs, r => r.ClientPongs);
            Write(group, s_serverPongs, r => r.ServerPongs);
            Write(group, s_unansweredPings, r => r.UnansweredPings);
            Write(group, s_maxPingGap, r => r.MaxPingGapMicroseconds / 1e6);
            Write(group, s_clientLargest, r => r.ClientLargestMessageBytes);
            Write(group, s_serverLargest, r => r.ServerLargestMessageBytes);
            Strings(group, s_lastMessage, r => r.LastMessageBytes);
            Write(group, s_compressed, r => r.CompressedMessages);
            Write(group, s_inflateErrors, r => r.InflateErrors);
            Strings(group, s_notices, r => r.Notices.Count == 0 ? null : string.Join(';', r.Notices));
            Strings(group, s_tlsVersion, r => r.TlsVersion);
            Strings(group, s_tlsCipher, r => r.TlsCipher);
            Strings(group, s_tlsSni, r => r.TlsSni);
            Strings(group, s_tlsAlpn, r => r.TlsAlpn);
            Write(group, s_decrypted, r => r.Decrypted);
            Strings(group, s_captureSet, _ => _captureSet);
        }

        _pending.Clear();
    }

    private void Write<T>(ParquetRowGroupWriter group, DataField<T> field, Func<SessionRecord, T> value)
        where T : struct =>
        group.WriteAsync(field, new ReadOnlyMemory<T>(_pending.Select(value).ToArray())).GetAwaiter().GetResult();

    private void Write<T>(ParquetRowGroupWriter group, DataField<T?> field, Func<SessionRecord, T?> value)
        where T : struct =>
        group.WriteAsync(field, new ReadOnlyMemory<T?>(_pending.Select(value).ToArray())).GetAwaiter().GetResult();

    private void Times(ParquetRowGroupWriter group, DateTimeDataField field, Func<SessionRecord, string> value) =>
        group.WriteAsync(field, new ReadOnlyMemory<DateTime>(_pending.Select(r => ParseUtc(value(r))).ToArray())).GetAwaiter().GetResult();

    private void Strings(ParquetRowGroupWriter group, DataField field, Func<SessionRecord, string?> value) =>
        group.WriteAsync(field, _pending.Select(value).ToArray()!).GetAwaiter().GetResult();
}
