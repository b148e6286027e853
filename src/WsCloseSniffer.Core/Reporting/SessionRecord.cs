namespace WsCloseSniffer.Reporting;

/// <summary>
/// One WebSocket session as the report contract describes it (docs/cli-and-report-contract.md):
/// one property per CSV column, in column order, plus the notices behind the diagnosis.
/// Null means "empty" in CSV and null in JSON.
/// </summary>
public sealed record SessionRecord
{
    public long SessionId { get; init; }
    public required string CaptureFile { get; init; }
    public required string StartTime { get; init; }
    public required string EndTime { get; init; }
    public required string ClientIp { get; init; }
    public int ClientPort { get; init; }
    public required string ServerIp { get; init; }
    public int ServerPort { get; init; }
    public string? Host { get; init; }
    public string? Path { get; init; }
    public string? OfferedExtensions { get; init; }
    public string? AcceptedExtensions { get; init; }
    public string? CloseInitiator { get; init; }
    public int? CloseCode { get; init; }
    public string? CloseReason { get; init; }
    public int? ReplyCloseCode { get; init; }
    public required string Classification { get; init; }
    public required string Diagnosis { get; init; }
    public long ClientFrames { get; init; }
    public long ServerFrames { get; init; }
    public long ClientPayloadBytes { get; init; }
    public long ServerPayloadBytes { get; init; }

    /// <summary>Named anomalies (Zeek-style, e.g. <c>ws_unmasked_client_frame</c>), sorted, each once.</summary>
    public IReadOnlyList<string> Notices { get; init; } = [];

    /// <summary>HTTP status of the upgrade response, null when none was seen (not a contract column).</summary>
    public int? HandshakeStatus { get; init; }

    /// <summary>Sort key within a run: start time in nanoseconds, then a per-run flow order.</summary>
    public long StartTimeNanoseconds { get; init; }

    public long FlowOrder { get; init; }

    // TLS columns: appended after the contract's 22 (and other additions), in ReportColumns' order.
    public string? TlsVersion { get; init; }
    public string? TlsCipher { get; init; }
    public string? TlsSni { get; init; }
    public string? TlsAlpn { get; init; }

    /// <summary>True/false for TLS sessions (were their records decrypted), null for plain ws://.</summary>
    public bool? Decrypted { get; init; }
}
