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

        // TLS (wss://): keep these five together and last.
        "tls_version", "tls_cipher", "tls_sni", "tls_alpn", "decrypted",
    ];

    /// <summary>A record's cells in column order: strings, longs, decimals (seconds, 6 decimals), booleans, or null for empty.</summary>
    public static object?[] Cells(SessionRecord record)
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
        ];
    }

    /// <summary>Microseconds as seconds with exactly 6 decimals (scale 6 keeps trailing zeros in CSV and JSON).</summary>
    public static decimal? Seconds(long? microseconds) =>
        microseconds is long us ? new decimal((int)(us & 0xFFFFFFFF), (int)(us >> 32), 0, isNegative: false, scale: 6) : null;
}
