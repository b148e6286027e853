namespace WsCloseSniffer.Analysis;

/// <summary>
/// How a session ended: one value per classification word of the report contract
/// (docs/report-format.md), in the contract's order. <see cref="Outcomes"/> holds what goes with each.
/// </summary>
public enum Outcome : byte
{
    NormalClosure,
    GoingAway,
    ProtocolError,
    UnsupportedData,
    NoStatus,
    InvalidPayload,
    PolicyViolation,
    MessageTooBig,
    MandatoryExtension,
    InternalError,
    ServiceRestart,
    TryAgainLater,
    BadGateway,
    Application,
    InvalidCloseCode,
    AbnormalClosure,
    Unfinished,
    HandshakeRejected,
}

/// <summary>One row of the outcome table.</summary>
/// <param name="CloseCode">The close code that alone means this outcome; null for ranges and for endings without a close code.</param>
/// <param name="Word">The contract's classification word (CSV/JSON column and summary).</param>
/// <param name="SummaryLabel">How the summary's count list names the outcome (the contract fixes it to the word).</param>
/// <param name="Clean">A clean ending: left out of the summary's "did not close cleanly" list and the live printer's diagnosis.</param>
/// <param name="Diagnosis">
/// The diagnosis template for the usual case; <see cref="DiagnosisTemplates"/> holds the variants and lists the
/// placeholders.
/// </param>
public sealed record OutcomeRow(Outcome Outcome, int? CloseCode, string Word, string SummaryLabel, bool Clean, string Diagnosis);

/// <summary>
/// The outcome table: close code -> classification word -> summary label -> diagnosis template, read by the
/// classifier, the report writers and the summary. Adding an outcome is one enum value and one row here.
/// </summary>
public static class Outcomes
{
    /// <summary>Application close codes (RFC 6455 7.4.2): 3000-3999 registered, 4000-4999 private.</summary>
    public const int FirstApplicationCode = 3000;
    public const int LastApplicationCode = 4999;

    /// <summary>Every outcome, in enum (= contract) order: <c>All[(int)outcome]</c> is its row.</summary>
    public static IReadOnlyList<OutcomeRow> All { get; } =
    [
        Row(Outcome.NormalClosure, 1000, "normal_closure", clean: true,
            "The {side} closed the session normally ({said}) and {echo}"),
        Row(Outcome.GoingAway, 1001, "going_away", clean: false,
            "The {side} went away ({said}), as a server shutting down or a browser leaving the page does, and {echo}; if unexpected, check the {side}'s restarts and reconnect with backoff"),
        Row(Outcome.ProtocolError, 1002, "protocol_error", clean: false,
            "The {side} closed with {said}: it received frames it considers invalid from the {other}; compare the {other}'s WebSocket library with RFC 6455"),
        Row(Outcome.UnsupportedData, 1003, "unsupported_data", clean: false,
            "The {side} closed with {said}: it received a message type it cannot accept (text versus binary); send the type the {side} expects"),
        Row(Outcome.NoStatus, null, "no_status", clean: false,
            "The {side} sent a close frame without a status code (reported as 1005 No Status Received) and {echo}; pass a close code so that disconnects can be explained"),
        Row(Outcome.InvalidPayload, 1007, "invalid_payload", clean: false,
            "The {side} closed with {said}: a message's data did not match its type (such as invalid UTF-8 in a text message); check how the {other} encodes messages"),
        Row(Outcome.PolicyViolation, 1008, "policy_violation", clean: false,
            "The {side} closed with {said}: it refused a message or the session by policy (often authentication, origin or rate checks); check the {side}'s access rules"),
        Row(Outcome.MessageTooBig, 1009, "message_too_big", clean: false,
            "The {side} closed with {said}: a message from the {other} exceeded its size limit ({sizes}); raise the {side}'s receive limit or split large messages"),
        Row(Outcome.MandatoryExtension, 1010, "mandatory_extension", clean: false,
            "The client closed with {said}, because the server did not negotiate {missing} (offered: {offered}; accepted: {accepted}); enable {missing} on the server, or make it optional in the client, and check the Sec-WebSocket-Extensions header of the 101 response"),
        Row(Outcome.InternalError, 1011, "internal_error", clean: false,
            "The {side} closed with {said}: it hit an unexpected condition; check the {side}'s logs around {time}"),
        Row(Outcome.ServiceRestart, 1012, "service_restart", clean: false,
            "The {side} closed with {said}: the server is restarting; the client should reconnect after a randomized delay"),
        Row(Outcome.TryAgainLater, 1013, "try_again_later", clean: false,
            "The {side} closed with {said}: the server is overloaded or rate-limiting; the client should back off and retry later"),
        Row(Outcome.BadGateway, 1014, "bad_gateway", clean: false,
            "The {side} closed with {said}: a gateway or proxy got an invalid answer from the upstream server; check the upstream service"),
        Row(Outcome.Application, null, "application", clean: false,
            "The {side} closed with application code {code} ({name}){reason}, whose meaning the application defines (3000-3999 registered, 4000-4999 private); look it up in the application's protocol"),
        Row(Outcome.InvalidCloseCode, null, "invalid_close_code", clean: false,
            "The {side} sent close code {said}, which must never be sent on the wire (RFC 6455 7.4); make the {side} use 1000-1003, 1007-1014 or 3000-4999"),
        Row(Outcome.AbnormalClosure, null, "abnormal_closure", clean: false,
            "The connection ended with a TCP reset (RST) from the {who} and no close frame (reported as 1006 Abnormal Closure): the {who} crashed or aborted, or a proxy or load balancer cut the connection; check its logs and idle timeouts"),
        Row(Outcome.Unfinished, null, "unfinished", clean: false,
            "The capture ended while the session was still open (no close frame, FIN or RST); capture for longer to see how it ends"),
        Row(Outcome.HandshakeRejected, null, "handshake_rejected", clean: false,
            "The server answered the upgrade with {status} instead of 101 Switching Protocols, so no WebSocket session opened; {hint}"),
    ];

    public static OutcomeRow Of(Outcome outcome) => All[(int)outcome];

    public static string Word(this Outcome outcome) => All[(int)outcome].Word;

    /// <summary>
    /// The outcome a close frame's code means. 1004-1006 and 1015 are reserved and must never be sent
    /// (RFC 6455 7.4.1), so they, like every unassigned code, are <see cref="Outcome.InvalidCloseCode"/>.
    /// </summary>
    public static Outcome ForCloseCode(int code)
    {
        // A scan of 18 rows, once per session: no dictionary, whose generic code over this enum would be
        // JIT-compiled at start-up (measured: tens of milliseconds on a small capture).
        foreach (var row in All)
        {
            if (row.CloseCode == code)
            {
                return row.Outcome;
            }
        }

        return code is >= FirstApplicationCode and <= LastApplicationCode ? Outcome.Application : Outcome.InvalidCloseCode;
    }

    /// <summary>The outcome named by a classification word; false for a word not in the contract.</summary>
    public static bool TryParse(string word, out Outcome outcome)
    {
        foreach (var row in All)
        {
            if (string.Equals(row.Word, word, StringComparison.Ordinal))
            {
                outcome = row.Outcome;
                return true;
            }
        }

        outcome = default;
        return false;
    }

    /// <summary>True for the word of a clean ending (see <see cref="OutcomeRow.Clean"/>).</summary>
    public static bool IsClean(string word) => TryParse(word, out var outcome) && Of(outcome).Clean;

    private static OutcomeRow Row(Outcome outcome, int? closeCode, string word, bool clean, string diagnosis) =>
        new(outcome, closeCode, word, word, clean, diagnosis);
}
