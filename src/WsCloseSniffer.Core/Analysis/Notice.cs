namespace WsCloseSniffer.Analysis;

/// <summary>One row of the notice table.</summary>
/// <param name="Description">A short phrase for diagnoses and the summary.</param>
/// <param name="WorthSaying">The notice changes what a reviewer should conclude, so the diagnosis names it; the others are only counted in the summary.</param>
public sealed record NoticeRow(string Name, string Description, bool WorthSaying);

/// <summary>
/// Named anomalies attached to a session, Zeek-style: stable snake_case names prefixed by their layer.
/// Scripts and tests match on these names, so they never change once published.
/// </summary>
public static class Notice
{
    public const string TcpGapInStream = "tcp_gap_in_stream";
    public const string TcpGapOverFrameHeader = "tcp_gap_over_frame_header";
    public const string TcpGapInHandshake = "tcp_gap_in_handshake";
    public const string HttpHeadTooLarge = "http_head_too_large";
    public const string HttpMalformedResponse = "http_malformed_response";
    public const string HttpAcceptMismatch = "http_accept_mismatch";
    public const string HttpAcceptNotOffered = "http_accept_not_offered";
    public const string HttpExtensionsMalformed = "http_extensions_malformed";
    public const string HttpInvalidUpgradeAccepted = "http_invalid_upgrade_accepted";
    public const string HttpHeadTruncated = "http_head_truncated";
    public const string WsUnmaskedClientFrame = "ws_unmasked_client_frame";
    public const string WsMaskedServerFrame = "ws_masked_server_frame";
    public const string WsRsv1WithoutExtension = "ws_rsv1_without_extension";
    public const string WsRsv2WithoutExtension = "ws_rsv2_without_extension";
    public const string WsRsv3WithoutExtension = "ws_rsv3_without_extension";
    public const string WsClosePayloadOneByte = "ws_close_payload_one_byte";
    public const string WsControlFrameTooLong = "ws_control_frame_too_long";
    public const string WsControlFrameFragmented = "ws_control_frame_fragmented";
    public const string WsCloseCodeInvalid = "ws_close_code_invalid";
    public const string WsCloseReasonInvalidUtf8 = "ws_close_reason_invalid_utf8";
    public const string WsUnknownOpcode = "ws_unknown_opcode";
    public const string WsMandatoryExtensionFromServer = "ws_1010_from_server";
    public const string WsDataAfterClose = "ws_data_after_close";
    public const string WsContinuationWithoutStart = "ws_continuation_without_start";
    public const string WsFragmentedMessageInterrupted = "ws_fragmented_message_interrupted";
    public const string WsFrameLengthInvalid = "ws_frame_length_invalid";
    public const string WsDeflateParametersInvalid = "ws_deflate_parameters_invalid";
    public const string WsDeflateInvalidData = "ws_deflate_invalid_data";
    public const string WsDeflateContextMissing = "ws_deflate_context_missing";
    public const string WsDeflateRatioSuspicious = "ws_deflate_ratio_suspicious";
    public const string WsDeflateNotInflated = "ws_deflate_not_inflated";
    public const string WsInflateCapReached = "ws_inflate_cap_reached";
    public const string WsTextInvalidUtf8 = "ws_text_invalid_utf8";
    public const string CaptureSnapLength = "capture_snap_length";
    public const string HandshakeNotCaptured = "handshake_not_captured";

    /// <summary>Every notice: adding one is a constant above and a row here.</summary>
    public static IReadOnlyList<NoticeRow> All { get; } =
    [
        new(TcpGapInStream, "packets missing from the capture inside frame payloads (decoding went on)", false),
        new(TcpGapOverFrameHeader, "packets missing from the capture over frame headers (later frames in that direction could not be decoded)", true),
        new(TcpGapInHandshake, "packets missing from the capture during the handshake", true),
        new(HttpHeadTooLarge, "an HTTP head larger than the cap", false),
        new(HttpMalformedResponse, "a malformed HTTP response to the upgrade", false),
        new(HttpAcceptMismatch, "a Sec-WebSocket-Accept that does not match the key (a strict client fails the connection)", true),
        new(HttpAcceptNotOffered, "the server accepted an extension the client did not offer", true),
        new(HttpExtensionsMalformed, "a Sec-WebSocket-Extensions header that breaks the RFC 6455 grammar", false),
        new(HttpHeadTruncated, "an HTTP head longer than the head cap, read only up to the cap (its later fields are not known)", true),
        new(HttpInvalidUpgradeAccepted, "an upgrade request that breaks RFC 6455 section 4.1, answered with 101 all the same", true),
        new(WsUnmaskedClientFrame, "unmasked client frames (RFC 6455 5.1 requires masking)", true),
        new(WsMaskedServerFrame, "masked server frames (RFC 6455 5.1 forbids masking)", true),
        new(WsRsv1WithoutExtension, "RSV1 set without a negotiated extension that defines it", true),
        new(WsRsv2WithoutExtension, "RSV2 set without a negotiated extension that defines it", false),
        new(WsRsv3WithoutExtension, "RSV3 set without a negotiated extension that defines it", false),
        new(WsClosePayloadOneByte, "a close frame with a 1-byte payload", false),
        new(WsControlFrameTooLong, "a control frame longer than 125 bytes", true),
        new(WsControlFrameFragmented, "a fragmented control frame", false),
        new(WsCloseCodeInvalid, "a close code that must not be sent", false),
        new(WsCloseReasonInvalidUtf8, "a close reason that is not valid UTF-8", false),
        new(WsUnknownOpcode, "frames with a reserved opcode", false),
        new(WsMandatoryExtensionFromServer, "1010 sent by a server (only clients may send it)", true),
        new(WsDataAfterClose, "frames sent after that side's close frame", false),
        new(WsContinuationWithoutStart, "a continuation frame with no message to continue", false),
        new(WsFragmentedMessageInterrupted, "a new data message started before the fragmented one ended", false),
        new(WsFrameLengthInvalid, "a frame length with the most significant bit set", true),
        new(WsDeflateParametersInvalid, "compression parameters in the 101 response that break RFC 7692 (a strict client fails the connection)", true),
        new(WsDeflateInvalidData, "a compressed message that is not valid DEFLATE data", true),
        new(WsDeflateContextMissing, "compressed messages that refer back to data the capture does not hold (lost packets, or a stream restarted); not inflated, not counted as errors", false),
        new(WsDeflateRatioSuspicious, "a compressed message inflating to over 200 times its size, as a deflate bomb does", true),
        new(WsDeflateNotInflated, "compressed messages not inflated because the inflater cap (--max-inflaters) was reached; their sizes are as on the wire", false),
        new(WsInflateCapReached, "a compressed message inflating past the per-message cap (--max-inflated-message-mb): counted up to the cap, the rest skipped", true),
        new(WsTextInvalidUtf8, "an inflated text message that is not valid UTF-8", true),
        new(HandshakeNotCaptured, "the capture starts after the WebSocket handshake: the session was recognised by its frames (the client's masked, the server's not), so host, path and extensions are not known and frames sent before the capture are not counted", true),
        new(CaptureSnapLength, "packets cut by the capture's snap length: frame payloads were skipped as gaps of known length, and frames whose header lay in a cut part are not counted", true),
    ];

    private static readonly Dictionary<string, NoticeRow> s_byName = All.ToDictionary(row => row.Name, StringComparer.Ordinal);

    /// <summary>A short phrase for a notice, for diagnoses and the summary; the name itself for an unknown one.</summary>
    public static string Describe(string notice) => s_byName.TryGetValue(notice, out var row) ? row.Description : notice;

    /// <summary>True for a notice the diagnosis names (see <see cref="NoticeRow.WorthSaying"/>).</summary>
    public static bool IsWorthSaying(string notice) => s_byName.TryGetValue(notice, out var row) && row.WorthSaying;
}
