using System.Text;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// The diagnosis sentences that are not an outcome's usual case (<see cref="OutcomeRow.Diagnosis"/> holds those),
/// and the filler that puts a session's facts into a template.
/// Placeholders: <c>{side}</c> and <c>{other}</c> (client/server: who closed first and the peer), <c>{said}</c>
/// (code, name and reason, or "no status code"), <c>{echo}</c> (whether the peer echoed the close), <c>{code}</c>,
/// <c>{name}</c>, <c>{reason}</c>, <c>{time}</c>, <c>{who}</c> (who ended the connection), <c>{how}</c>,
/// <c>{offered}</c>, <c>{accepted}</c>, <c>{missing}</c> (extension lists), <c>{status}</c> and <c>{hint}</c>
/// (a rejected upgrade), <c>{ending}</c> (the TCP-judged ending, lower-cased first letter), <c>{notices}</c>,
/// <c>{problems}</c> (what breaks RFC 6455 4.1 in the request), <c>{wanted}</c> and <c>{proxy}</c> (optional
/// clauses, possibly empty), <c>{version}</c> (the versions a refusal names),
/// and for TLS <c>{alert}</c>, <c>{version}</c> (the TLS version), <c>{cipher}</c>, <c>{random}</c>, <c>{lines}</c>,
/// and for idle endings <c>{idle}</c> and <c>{duration}</c> (seconds), <c>{timeout}</c> and <c>{timeoutWho}</c> (a matching <see cref="IdleTimeoutTable"/> row),
/// <c>{unanswered}</c> (pings without a pong), <c>{pinger}</c> (whose pings) and <c>{wait}</c> (seconds since the oldest of them),
/// and for 1009 <c>{sizes}</c> (one of the <c>MessageTooBig*</c> clauses: <c>{last}</c>, <c>{lastWho}</c>, <c>{largest}</c>,
/// <c>{unfinished}</c>, in bytes),
/// and for compressed frames <c>{sender}</c> (client/server), <c>{message}</c> (its number in that direction),
/// <c>{time}</c>, <c>{bytes}</c> and <c>{cause}</c> (an <see cref="InflateFailureCauses"/> text).
/// </summary>
public static class DiagnosisTemplates
{
    public const string MandatoryExtensionFromServer =
        "The server closed with {said}, a code only clients may send (RFC 6455 7.4.1; offered: {offered}; accepted: {accepted}); fix the server's close logic";

    public const string MandatoryExtensionNothingMissing =
        "The client closed with {said} although the server accepted every extension it offered (offered: {offered}; accepted: {accepted}); check which extension the client requires and its parameters in the 101 response's Sec-WebSocket-Extensions";

    public const string ClosePayloadOneByte =
        "The {side} sent a close frame with a 1-byte payload, which cannot hold a status code (RFC 6455 5.5.1); fix the {side}'s WebSocket library";

    public const string CloseCodeLost =
        "The {side} sent a close frame whose status code was lost in the capture (packets missing), so the outcome is judged from TCP: {ending}";

    public const string AbnormalFin =
        "The connection ended with a TCP FIN from the {who} and no close frame (reported as 1006 Abnormal Closure): the {who} dropped the connection without the closing handshake; close with a close frame, and check proxy idle timeouts";

    public const string AbnormalBeforeResponse =
        "The connection ended with {how} from the {who} before the server answered the upgrade; check that the server speaks WebSocket at that path and is reachable through any proxy";

    public const string RejectedInvalidRequest =
        "The server answered the upgrade with {status} instead of 101 Switching Protocols, because the request had {problems}{wanted}; fix the client's request (RFC 6455 section 4.1){proxy}";

    public const string RejectedWantedVersion = " (the server asks for Sec-WebSocket-Version: {version})";

    public const string RejectedProxyDropsConnection = ", or the proxy in between that drops the hop-by-hop Connection header";

    /// <summary>The notice http_invalid_upgrade_accepted in a diagnosis, naming the faults.</summary>
    /// <summary>
    /// The notice capture_snap_length when the cut fell in the handshake; {heads} is "request was", "response was" or
    /// both, {fields} what those heads' cut parts held.
    /// </summary>
    public const string SnapLengthHandshakeCut =
        "packets cut by the capture's snap length: the upgrade {heads} cut, so {fields} after the cut are not known (left empty, never checked); frame payloads were skipped as gaps of known length";

    public const string InvalidUpgradeAccepted = "the server switched protocols although the upgrade request had {problems}";

    public const string HowRst = "a TCP reset (RST)";
    public const string HowFin = "a TCP FIN";

    public const string UnfinishedIdle =
        "The session was given up on with no close frame, FIN or RST, after no packet for the idle timeout (or to stay under the connection cap); capture for longer, raise --idle-timeout, or check keep-alive pings";

    public const string UnfinishedBeforeResponse =
        "The capture ended before the server answered the upgrade; capture for longer to see the outcome";

    public const string UnfinishedBeforeResponseIdle =
        "The server never answered the upgrade and the connection went idle; check that the server is up and speaks WebSocket at that path";

    /// <summary>Appended to a TCP-judged ending that came after at least <see cref="Classifier.IdleWorthSayingSeconds"/> of idle time.</summary>
    public const string IdleThenCut = "; the {who} ended it after {idle} s without a frame ({duration} s after the connection started)";

    public const string IdleTimeoutMatch =
        ", which matches an idle timeout of about {timeout} ({timeoutWho}): send pings more often than that or raise the timeout";

    public const string NoKeepalive = "; no keepalive pings were running";

    /// <summary>Appended to a one-sided end (no close frame) for each side whose pings were still unanswered.</summary>
    public const string KeepalivePingTimeout =
        "; keepalive ping timeout: {unanswered} ping(s) from the {pinger} got no pong from the {other} in the {wait} s from the first of them to the end";

    /// <summary>
    /// A 1011 from a side whose pings were unanswered: how python-websockets ends a session whose peer stopped
    /// answering pings ("keepalive ping timeout"), and what other libraries' ping timeouts look like too.
    /// </summary>
    public const string KeepaliveCloseTimeout =
        "The {side} closed with {said}, after {unanswered} keepalive ping(s) of its own got no pong from the {other} for {wait} s: a keepalive ping timeout, and {echo}; check that the {other} answers pings promptly (a blocked event loop or a proxy that drops control frames) or give the {side} a longer ping timeout";

    /// <summary>Appended to a close such as 1001 that came after at least <see cref="Classifier.IdleWorthSayingSeconds"/> without a frame.</summary>
    public const string IdleThenClose = "; the {side} sent it after {idle} s without a frame ({duration} s after the connection started)";

    // What a 1009's {sizes} says about the messages before it.
    public const string MessageTooBigLast =
        "the last message before the close was {last} bytes from the {lastWho}, and the {other}'s largest was {largest} bytes";

    public const string MessageTooBigUnfinished =
        "the {other} was sending a message of {unfinished} bytes so far (its largest whole message: {largest} bytes)";

    public const string MessageTooBigNone = "no whole message from the {other} was seen in the capture";

    // The summary's line for many sessions ending after the same time (Reporting/EndingTimeGroups.cs): {count}
    // sessions, {center} and {spread} (seconds, +-), and a matching well-known timeout's {timeout} and {timeoutWho}.
    public const string SummaryIdleGroupKnown =
        "{count} sessions ended after {center} s +-{spread} s of idle time: an idle timeout of about {timeout} between client and server ({timeoutWho}); send pings more often than that or raise the timeout";

    public const string SummaryIdleGroup =
        "{count} sessions ended after {center} s +-{spread} s of idle time: an idle timeout between client and server (a proxy, a load balancer or one of the ends); send pings more often than that or raise the timeout";

    public const string SummaryDurationGroup =
        "{count} sessions ended {center} s +-{spread} s after they started: a limit on how long a connection may last between client and server (a proxy's or server's maximum connection age), or a timer in one of the ends";

    public const string Echoed = "the {other} echoed the close ({code})";
    public const string EchoedWithoutCode = "the {other} echoed the close (without a code)";
    public const string NotEchoed = "the {other} did not echo it in the capture";

    /// <summary>Appended when the session carries notices worth saying (<see cref="NoticeRow.WorthSaying"/>).</summary>
    public const string AlsoSeen = " (also seen: {notices})";

    // TLS connections whose WebSocket could not be seen. {ending} is the TCP ending ("it ended with a TCP FIN from
    // the client"), {alert} an alert's name, {version}, {cipher}, {random} (the ClientHello random), {lines} the
    // key log lines needed.
    public const string TlsAlertInHandshake =
        "The TLS handshake failed: the {who} sent the alert {alert}, so no WebSocket session opened ({ending}); {hint}";

    public const string TlsHttp2 =
        "The connection negotiated HTTP/2 (ALPN h2): WebSocket over HTTP/2 (RFC 8441) is not analyzed yet ({ending}); to analyze it here, make the client use HTTP/1.1 (ALPN http/1.1)";

    public const string TlsDecryptFailed =
        "The TLS records could not be decrypted with the logged secrets for client random {random} (wrong or mismatched keys), so the WebSocket is not visible ({ending}); take the key log from the same run as the capture";

    public const string TlsCipherUnsupported =
        "The TLS session uses {cipher}, which is not decrypted (AES-GCM and ChaCha20-Poly1305 are), so the WebSocket is not visible ({ending}); restrict the test client or server to an AEAD suite";

    public const string TlsKeysMissing =
        "The TLS session ({version}) could not be decrypted: the key log has no secrets for it ({ending}); log the keys of this connection (SSLKEYLOGFILE) and pass them with --tls-keylog: {lines} are needed";

    public const string TlsClientLeftAfterHandshake =
        "The TLS handshake completed ({version}) but the client left before sending any request ({ending}), as a client does that does not trust the server's certificate after checking it (.NET checks it after the handshake): check the certificate chain and that the client trusts its issuer";

    public const string TlsNoRequestAfterHandshake =
        "The TLS handshake completed ({version}) but no request followed ({ending}); check the client's logs for why it gave up";

    public const string TlsHandshakeNotCaptured =
        "The TLS session could not be looked into (its handshake was not fully captured) ({ending}); capture from the connection's start with its keys logged";

    public const string TlsEndedBy = "it ended with {how} from the {who}";
    public const string TlsIdle = "the connection went idle";
    public const string TlsCaptureEnded = "the capture ended with the connection open";

    /// <summary>Appended to a 1002, 1007 or 1006 ending when a compressed frame could not be inflated before it.</summary>
    public const string InflateFailure = "; the {sender}'s message {message} ({time}) {cause}";

    /// <summary>Appended to a 1007 (or 1002, 1006) ending when an inflated text message was not UTF-8.</summary>
    public const string InvalidUtf8Text =
        "; the {sender}'s text message {message} ({time}) is not valid UTF-8 once inflated (RFC 6455 8.1 makes the receiver fail the connection)";

    /// <summary>Appended to a 1007 ending when no inflated text explains it: uncompressed payloads are not read.</summary>
    public const string Utf8NotChecked =
        "; uncompressed text is not read, so it was not checked: look at the {sender}'s last message before the close ({bytes} bytes, {time})";

    /// <summary>The cause of an inflate failure, by <see cref="InflateFailureCause"/> (index = value).</summary>
    public static IReadOnlyList<string> InflateFailureCauses { get; } =
    [
        "is not valid DEFLATE data, so the receiver could not inflate it (RFC 7692 7.2.2): check the {sender}'s compressor and what sits between the two (a proxy rewriting frames)",
        "is a control frame with RSV1 set, which RFC 7692 6.1 forbids (only data messages are compressed)",
        "has RSV1 set on a continuation frame, which RFC 7692 6.1 forbids (only a message's first frame carries it)",
        "has RSV1 set although no extension that defines it was negotiated",
    ];

    /// <summary>What to check for a rejected upgrade, by HTTP status: the first row whose range holds the status.</summary>
    public static IReadOnlyList<(int First, int Last, string Hint)> RejectionHints { get; } =
    [
        (400, 400, "check the request's Sec-WebSocket-Key, Sec-WebSocket-Version and Upgrade headers"),
        (401, 401, "the server wants credentials: check the client's token or cookie"),
        (407, 407, "the server wants credentials: check the client's token or cookie"),
        (403, 403, "the server refused the client: check its origin, credentials and the server's allow list"),
        (404, 404, "check the request path and that the server maps a WebSocket endpoint there"),
        (426, 426, "the server wants another protocol version: check Sec-WebSocket-Version"),
        (429, 429, "the server is rate-limiting: back off before reconnecting"),
        (300, 399, "the server redirects: point the client at the new location"),
        (500, int.MaxValue, "the server or a proxy failed: check its logs and upstream"),
        (int.MinValue, int.MaxValue, "check what the server expects of the upgrade request"),
    ];

    public static string RejectionHint(int status)
    {
        foreach (var (first, last, hint) in RejectionHints)
        {
            if (status >= first && status <= last)
            {
                return hint;
            }
        }

        throw new InvalidOperationException("the last rejection hint covers every status");
    }

    /// <summary>
    /// Puts values into a template's <c>{name}</c> placeholders. A placeholder without a value is a bug in the
    /// table, not in the input, so it throws (a test fills every template).
    /// </summary>
    public static string Fill(string template, params ReadOnlySpan<(string Name, string Value)> values)
    {
        ArgumentNullException.ThrowIfNull(template);
        var text = new StringBuilder(template.Length + 64);
        var at = 0;
        while (at < template.Length)
        {
            var open = template.IndexOf('{', at);
            if (open < 0)
            {
                text.Append(template, at, template.Length - at);
                break;
            }

            var close = template.IndexOf('}', open);
            if (close < 0)
            {
                throw new InvalidOperationException($"unclosed placeholder in diagnosis template \"{template}\"");
            }

            text.Append(template, at, open - at);
            text.Append(Value(template, template.AsSpan(open + 1, close - open - 1), values));
            at = close + 1;
        }

        return text.ToString();
    }

    private static string Value(string template, ReadOnlySpan<char> name, ReadOnlySpan<(string Name, string Value)> values)
    {
        foreach (var (key, value) in values)
        {
            if (name.SequenceEqual(key))
            {
                return value;
            }
        }

        throw new InvalidOperationException($"no value for {{{name}}} in diagnosis template \"{template}\"");
    }
}
