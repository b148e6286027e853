using System.Security.Cryptography;
using System.Text;

namespace WsCloseSniffer.Reporting;

/// <summary>The contract's column names, in order (docs/report-format.md). Never reorder; only append.</summary>
public static class ReportColumns
{
    public static IReadOnlyList<string> All { get; } =
    [
        "session_id", "capture_file", "start_time", "end_time", "client_ip", "client_port", "server_ip", "server_port",
        "host", "path", "offered_extensions", "accepted_extensions", "close_initiator", "close_code", "close_reason",
        "reply_close_code", "classification", "diagnosis", "client_frames", "server_frames", "client_payload_bytes",
        "server_payload_bytes",
        "duration_s", "tcp_end", "tcp_end_by", "idle_before_end_s", "client_pings", "server_pings", "client_pongs",
        "server_pongs", "unanswered_pings", "max_ping_gap_s", "client_largest_message_bytes",
        "server_largest_message_bytes", "last_message_bytes", "compressed_messages", "inflate_errors", "notices",

        // TLS (wss://): keep these five together.
        "tls_version", "tls_cipher", "tls_sni", "tls_alpn", "decrypted",

        // Which run the row came from: last, so rows merged from many tasks stay apart by (capture_set, session_id).
        "capture_set",
    ];

    /// <summary>
    /// A record's cells in column order: strings, longs, decimals (seconds, 6 decimals), booleans, or null for empty.
    /// <paramref name="captureSet"/> is the run's (<see cref="CaptureSetOf"/>), the same for every row.
    /// </summary>
    public static object?[] Cells(SessionRecord record, string? captureSet)
    {
        ArgumentNullException.ThrowIfNull(record);
        return
        [
            record.SessionId, record.CaptureFile, record.StartTime, record.EndTime, record.ClientIp, (long)record.ClientPort,
            record.ServerIp, (long)record.ServerPort, record.Host, record.Path, record.OfferedExtensions, record.AcceptedExtensions,
            record.CloseInitiator, (long?)record.CloseCode, record.CloseReason, (long?)record.ReplyCloseCode, record.Classification,
            record.Diagnosis, record.ClientFrames, record.ServerFrames, record.ClientPayloadBytes, record.ServerPayloadBytes,
            Seconds(record.DurationMicroseconds), record.TcpEnd, record.TcpEndBy, Seconds(record.IdleBeforeEndMicroseconds),
            record.ClientPings, record.ServerPings, record.ClientPongs, record.ServerPongs, record.UnansweredPings,
            Seconds(record.MaxPingGapMicroseconds), record.ClientLargestMessageBytes, record.ServerLargestMessageBytes,
            record.LastMessageBytes, record.CompressedMessages, record.InflateErrors,
            record.Notices.Count == 0 ? null : string.Join(';', record.Notices),

            // TLS (wss://)
            record.TlsVersion, record.TlsCipher, record.TlsSni, record.TlsAlpn, record.Decrypted,

            captureSet,
        ];
    }

    /// <summary>
    /// A stable id for the set of capture files a run read: the first 16 hex digits of SHA-256 over their full
    /// paths, sorted. Rows merged from many tasks stay apart by (capture_set, session_id) while session_id
    /// keeps its per-run meaning; the same inputs give the same id on every rerun.
    /// </summary>
    public static string CaptureSetOf(IEnumerable<string> captureFiles)
    {
        var sorted = captureFiles.Select(Path.GetFullPath).Order(StringComparer.Ordinal);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', sorted)));
        return Convert.ToHexStringLower(hash, 0, 8);
    }

    /// <summary>
    /// The capture_set of a live run: the same 16 hex digits over the interface and the time capturing started, so
    /// two runs on one interface (or one machine's run and another's) never share an id.
    /// </summary>
    public static string LiveCaptureSetOf(string interfaceName, DateTimeOffset startedAt)
    {
        ArgumentNullException.ThrowIfNull(interfaceName);
        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"live\n{Environment.MachineName}\n{interfaceName}\n{startedAt.UtcDateTime:O}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 8);
    }

    /// <summary>Microseconds as seconds with exactly 6 decimals (scale 6 keeps trailing zeros in CSV and JSON).</summary>
    public static decimal? Seconds(long? microseconds) =>
        microseconds is long us ? new decimal((int)(us & 0xFFFFFFFF), (int)(us >> 32), 0, isNegative: false, scale: 6) : null;
}
