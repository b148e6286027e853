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
    ];

    /// <summary>A record's cells in column order: strings, longs, or null for empty.</summary>
    public static object?[] Cells(SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return
        [
            record.SessionId, record.CaptureFile, record.StartTime, record.EndTime, record.ClientIp, (long)record.ClientPort,
            record.ServerIp, (long)record.ServerPort, record.Host, record.Path, record.OfferedExtensions, record.AcceptedExtensions,
            record.CloseInitiator, (long?)record.CloseCode, record.CloseReason, (long?)record.ReplyCloseCode, record.Classification,
            record.Diagnosis, record.ClientFrames, record.ServerFrames, record.ClientPayloadBytes, record.ServerPayloadBytes,
        ];
    }
}
