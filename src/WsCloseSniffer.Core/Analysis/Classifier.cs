using System.Globalization;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Http;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tls;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Tells how a finished session ended (its <see cref="Outcome"/>) and writes the one-sentence diagnosis a
/// reviewer can act on, from the templates of <see cref="Outcomes"/> and <see cref="DiagnosisTemplates"/>.
/// </summary>
public static class Classifier
{
    /// <summary>Idle time below this is not evidence of an idle timeout (a session cut within a moment of its last frame).</summary>
    public const double IdleWorthSayingSeconds = 1.0;

    public static Outcome Classify(WebSocketSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.Phase == SessionPhase.Rejected)
        {
            return Outcome.HandshakeRejected;
        }

        if (session.FirstClose is { Frame.Status: not CloseFramePayloadStatus.Lost } close)
        {
            return close.Frame.Status switch
            {
                CloseFramePayloadStatus.Empty => Outcome.NoStatus,
                CloseFramePayloadStatus.OneByte => Outcome.InvalidCloseCode,
                _ => Outcomes.ForCloseCode(close.Frame.Code!.Value),
            };
        }

        return session.FirstFinFrom is not null || session.FirstRstFrom is not null ? Outcome.AbnormalClosure : Outcome.Unfinished;
    }

    public static string Diagnose(WebSocketSession session, Outcome outcome)
    {
        ArgumentNullException.ThrowIfNull(session);
        var sentence = DiagnoseMain(session, outcome);

        // Endings the compression evidence explains already name the broken frame: its notice would only repeat it.
        var explained = ExplainedByCompression(outcome) ? s_compressionNotices : [];
        var extra = session.Notices.Where(n => Notice.IsWorthSaying(n) && !explained.Contains(n)).Select(n => Describe(session, n)).ToList();
        if (extra.Count > 0)
        {
            sentence += DiagnosisTemplates.Fill(DiagnosisTemplates.AlsoSeen, ("notices", string.Join("; ", extra)));
        }

        return sentence + ".";
    }

    private static string Describe(WebSocketSession session, string notice) => notice switch
    {
        Notice.HttpInvalidUpgradeAccepted =>
            DiagnosisTemplates.Fill(DiagnosisTemplates.InvalidUpgradeAccepted, ("problems", string.Join(" and ", session.Request!.Problems))),
        Notice.CaptureSnapLength when session.HandshakeCutByCapture => DescribeCutHandshake(session),
        _ => Notice.Describe(notice),
    };

    private static string DescribeCutHandshake(WebSocketSession session)
    {
        var (heads, fields) = (session.Request?.IsCutByCapture, session.Response?.IsCutByCapture) switch
        {
            (true, true) => ("request and response were", "the key, the accept and the extensions"),
            (true, _) => ("request was", "its Sec-WebSocket-Key and offered extensions"),
            _ => ("response was", "its Sec-WebSocket-Accept and accepted extensions"),
        };
        return DiagnosisTemplates.Fill(DiagnosisTemplates.SnapLengthHandshakeCut, ("heads", heads), ("fields", fields));
    }

    private static string DiagnoseMain(WebSocketSession session, Outcome outcome)
    {
        if (session.Request is null && !session.HandshakeNotCaptured && session.Tls is { } opaque)
        {
            return DiagnoseOpaqueTls(session, opaque, outcome);
        }

        var first = session.FirstClose;
        if (outcome == Outcome.HandshakeRejected)
        {
            return DiagnoseRejected(session.Request!, session.Response!);
        }

        if (first is null)
        {
            return DiagnoseTcpEnding(session, outcome);
        }

        var side = Side(first.FromClient);
        if (first.Frame.Status == CloseFramePayloadStatus.Lost)
        {
            var ending = DiagnoseTcpEnding(session, outcome);
            return DiagnosisTemplates.Fill(DiagnosisTemplates.CloseCodeLost,
                ("side", side), ("ending", $"{char.ToLowerInvariant(ending[0])}{ending[1..]}"));
        }

        var evidence = session.Evidence;
        var unanswered = evidence.UnansweredPingsFrom(first.FromClient);
        var template = outcome switch
        {
            Outcome.MandatoryExtension => null,
            Outcome.InvalidCloseCode when first.Frame.Status == CloseFramePayloadStatus.OneByte => DiagnosisTemplates.ClosePayloadOneByte,
            Outcome.InternalError when unanswered > 0 => DiagnosisTemplates.KeepaliveCloseTimeout,
            _ => Outcomes.Of(outcome).Diagnosis,
        };
        if (template is null)
        {
            return DiagnoseMandatoryExtension(session, first, Said(first.Frame));
        }

        var other = Side(!first.FromClient);
        var code = first.Frame.Code;
        var wait = evidence.OldestUnansweredPingFrom(first.FromClient) is Timestamp ping ? Seconds(Math.Max(0, first.Time.NanosecondsSince(ping))) : string.Empty;
        var sentence = DiagnosisTemplates.Fill(template,
            ("side", side),
            ("other", other),
            ("said", Said(first.Frame)),
            ("echo", Echo(session, other)),
            ("code", code is int c ? c.ToString(CultureInfo.InvariantCulture) : string.Empty),
            ("name", code is int n ? CloseCode.Name(n) : string.Empty),
            ("reason", Reason(first.Frame)),
            ("time", first.Time.ToIso8601()),
            ("unanswered", unanswered.ToString(CultureInfo.InvariantCulture)),
            ("wait", wait),
            ("sizes", outcome == Outcome.MessageTooBig ? MessageSizes(evidence, first) : string.Empty))
            + CompressionEvidence(session, outcome);

        // A going-away or 1006-like close (1006 must not be sent, yet some proxies do) after a quiet spell is
        // what an idle timeout that closes politely looks like (AWS API Gateway sends 1001).
        return outcome == Outcome.GoingAway || code == CloseCode.AbnormalClosure
            ? sentence + IdleBeforeClose(session, first, side)
            : sentence;
    }

    /// <summary>A 1009's evidence: the sizes of the messages that may have been too big, and who sent them.</summary>
    private static string MessageSizes(SessionEvidence evidence, CloseRecord first)
    {
        var inv = CultureInfo.InvariantCulture;
        var other = Side(!first.FromClient);
        var largest = (first.FromClient ? evidence.ServerLargestMessageBytes : evidence.ClientLargestMessageBytes).ToString(inv);
        if (evidence.UnfinishedMessageBytesFrom(!first.FromClient) is long unfinished)
        {
            return DiagnosisTemplates.Fill(DiagnosisTemplates.MessageTooBigUnfinished,
                ("other", other), ("unfinished", unfinished.ToString(inv)), ("largest", largest));
        }

        if (evidence.LastMessageBefore(first.Time) is MessageSize last)
        {
            return DiagnosisTemplates.Fill(DiagnosisTemplates.MessageTooBigLast,
                ("other", other), ("last", last.Bytes.ToString(inv)), ("lastWho", Side(last.FromClient)), ("largest", largest));
        }

        return DiagnosisTemplates.Fill(DiagnosisTemplates.MessageTooBigNone, ("other", other));
    }

    /// <summary>
    /// How long the session had been quiet when the first close frame was sent, and what that matches. Directions
    /// are delivered independently, so a peer frame later in packet time than the close means the session was not
    /// quiet then: nothing is said rather than a wrong idle time.
    /// </summary>
    private static string IdleBeforeClose(WebSocketSession session, CloseRecord first, string side)
    {
        var evidence = session.Evidence;
        var own = evidence.LastFrameBesidesCloseFrom(first.FromClient);
        var peer = evidence.LastFrameBesidesCloseFrom(!first.FromClient);
        if (peer is Timestamp p && p > first.Time)
        {
            return string.Empty;
        }

        var quietSince = Latest(own, peer) ?? evidence.OpenedAt;
        if (quietSince is not Timestamp since || first.Time.NanosecondsSince(since) < IdleWorthSayingSeconds * Timestamp.NanosecondsPerSecond)
        {
            return string.Empty;
        }

        var idle = first.Time.NanosecondsSince(since) / (double)Timestamp.NanosecondsPerSecond;
        var duration = first.Time.NanosecondsSince(session.Connection.FirstPacketTime) / (double)Timestamp.NanosecondsPerSecond;
        var text = DiagnosisTemplates.Fill(DiagnosisTemplates.IdleThenClose, ("side", side),
            ("idle", OneDecimal(idle)), ("duration", OneDecimal(duration)));
        return text + TimeoutAndKeepalive(evidence, idle, duration);
    }

    private static string DiagnoseMandatoryExtension(WebSocketSession session, CloseRecord first, string said)
    {
        var offered = session.Request?.Extensions.Names.ToList() ?? [];
        var negotiated = session.NegotiatedExtensions;
        var accepted = negotiated.Names.ToList();
        var missing = offered.Where(o => !negotiated.Contains(o)).ToList();

        // Clients usually name the extension they need in the reason (RFC 6455 7.4.1); trust that over a guess.
        var named = ExtensionNamesIn(first.Frame.Reason).Where(n => !negotiated.Contains(n)).ToList();
        if (named.Count > 0)
        {
            missing = named;
        }

        var template = !first.FromClient ? DiagnosisTemplates.MandatoryExtensionFromServer
            : missing.Count == 0 ? DiagnosisTemplates.MandatoryExtensionNothingMissing
            : Outcomes.Of(Outcome.MandatoryExtension).Diagnosis;
        return DiagnosisTemplates.Fill(template,
            ("said", said),
            ("offered", offered.Count > 0 ? string.Join(", ", offered) : "none"),
            ("accepted", accepted.Count > 0 ? string.Join(", ", accepted) : "none"),
            ("missing", string.Join(", ", missing)));
    }

    private static IEnumerable<string> ExtensionNamesIn(string reason)
    {
        // Extension names are tokens such as permessage-deflate: pick the words of the reason that look like one.
        var words = reason.Split([' ', ',', ';', ':', '"', '\'', '(', ')', '[', ']'], StringSplitOptions.RemoveEmptyEntries);
        return words.Where(w => w.Contains('-', StringComparison.Ordinal) && w.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'))
            .Select(w => w.TrimEnd('.'))
            .Distinct(StringComparer.OrdinalIgnoreCase);
    }

    private static string DiagnoseRejected(UpgradeRequest request, UpgradeResponse response)
    {
        var status = string.Create(CultureInfo.InvariantCulture, $"{response.StatusCode} {response.ReasonPhrase}").TrimEnd();
        if (request.Problems.Count > 0)
        {
            // The request itself was not a valid opening handshake: that, not the server, is what to fix.
            var wanted = response.Version is { } version && !string.Equals(version, request.Version, StringComparison.Ordinal)
                ? DiagnosisTemplates.Fill(DiagnosisTemplates.RejectedWantedVersion, ("version", UpgradeRequest.Shown(version)))
                : string.Empty;
            var proxy = request.Problems.Any(p => p.Contains("Connection", StringComparison.Ordinal))
                ? DiagnosisTemplates.RejectedProxyDropsConnection
                : string.Empty;
            return DiagnosisTemplates.Fill(DiagnosisTemplates.RejectedInvalidRequest,
                ("status", status), ("problems", string.Join(" and ", request.Problems)), ("wanted", wanted), ("proxy", proxy));
        }

        return DiagnosisTemplates.Fill(Outcomes.Of(Outcome.HandshakeRejected).Diagnosis,
            ("status", status), ("hint", DiagnosisTemplates.RejectionHint(response.StatusCode)));
    }

    /// <summary>The diagnosis of a session judged from TCP alone: abnormal (FIN or RST seen) or unfinished.</summary>
    private static string DiagnoseTcpEnding(WebSocketSession session, Outcome outcome)
    {
        var beforeResponse = session.Phase == SessionPhase.AwaitingResponse;
        if (outcome == Outcome.AbnormalClosure)
        {
            var rst = session.FirstRstFrom is not null;
            var by = rst ? session.FirstRstFrom!.Value : session.FirstFinFrom!.Value;
            var template = beforeResponse ? DiagnosisTemplates.AbnormalBeforeResponse
                : rst ? Outcomes.Of(Outcome.AbnormalClosure).Diagnosis
                : DiagnosisTemplates.AbnormalFin;
            var who = session.IsClient(by) ? "client" : "server";
            return DiagnosisTemplates.Fill(template, ("who", who), ("how", rst ? DiagnosisTemplates.HowRst : DiagnosisTemplates.HowFin))
                + (beforeResponse ? string.Empty : CompressionEvidence(session, outcome) + IdleEvidence(session, who));
        }

        var timedOut = session.End?.Kind == TcpCloseKind.Timeout;
        return (beforeResponse, timedOut) switch
        {
            (true, true) => DiagnosisTemplates.UnfinishedBeforeResponseIdle,
            (true, false) => DiagnosisTemplates.UnfinishedBeforeResponse,
            (false, true) => DiagnosisTemplates.UnfinishedIdle,
            (false, false) => Outcomes.Of(Outcome.Unfinished).Diagnosis,
        };
    }

    /// <summary>A TLS connection reported without an upgrade: why its WebSocket could not be seen, most telling first.</summary>
    private static string DiagnoseOpaqueTls(WebSocketSession session, TlsSessionInfo tls, Outcome outcome)
    {
        string ending;
        if (outcome == Outcome.AbnormalClosure)
        {
            // A RST after a FIN closes the other direction first: the reset's sender is in the connection's end.
            var rst = session.FirstRstFrom is not null;
            var by = rst ? session.End?.ResetBy ?? session.FirstRstFrom!.Value : session.FirstFinFrom!.Value;
            ending = DiagnosisTemplates.Fill(DiagnosisTemplates.TlsEndedBy,
                ("how", rst ? DiagnosisTemplates.HowRst : DiagnosisTemplates.HowFin), ("who", session.IsClient(by) ? "client" : "server"));
        }
        else
        {
            ending = session.End?.Kind == TcpCloseKind.Timeout ? DiagnosisTemplates.TlsIdle : DiagnosisTemplates.TlsCaptureEnded;
        }

        (string, string)[] values =
        [
            ("ending", ending), ("version", tls.Version ?? "version unknown"), ("cipher", tls.CipherSuite ?? "an unknown suite"),
            ("random", tls.ClientRandom ?? "unknown"), ("lines", tls.MissingKeyLines ?? string.Empty),
        ];
        if (tls.Alert is { } alert && tls.AlertInHandshake && alert != "close_notify")
        {
            var from = tls.AlertFrom is { } direction && session.IsClient(direction) ? "client" : "server";
            return DiagnosisTemplates.Fill(DiagnosisTemplates.TlsAlertInHandshake, [.. values, ("who", from), ("alert", alert), ("hint", TlsAlert.Hint(alert))]);
        }

        string template;
        if (tls.IsHttp2)
        {
            template = DiagnosisTemplates.TlsHttp2;
        }
        else if (tls.Notices.Contains(TlsNotice.DecryptFailed))
        {
            template = DiagnosisTemplates.TlsDecryptFailed;
        }
        else if (tls.Notices.Contains(TlsNotice.CipherUnsupported))
        {
            template = DiagnosisTemplates.TlsCipherUnsupported;
        }
        else if (tls.MissingKeyLines is not null)
        {
            template = DiagnosisTemplates.TlsKeysMissing;
        }
        else if (tls.HandshakeCompleted)
        {
            // Who left first: the first FIN, else the RST's sender.
            var client = session.FirstFinFrom is { } f ? session.IsClient(f) : (session.End?.ResetBy ?? session.FirstRstFrom) is { } r && session.IsClient(r);
            template = client ? DiagnosisTemplates.TlsClientLeftAfterHandshake : DiagnosisTemplates.TlsNoRequestAfterHandshake;
        }
        else
        {
            template = DiagnosisTemplates.TlsHandshakeNotCaptured;
        }

        return DiagnosisTemplates.Fill(template, values);
    }

    /// <summary>
    /// For endings a broken compressed frame explains (1002, 1007, or a cut connection): the first frame that could not
    /// be inflated or misused RSV1, and the first inflated text that was not UTF-8, each with its sender, number and time.
    /// </summary>
    private static string CompressionEvidence(WebSocketSession session, Outcome outcome)
    {
        if (!ExplainedByCompression(outcome))
        {
            return string.Empty;
        }

        var evidence = session.Evidence;
        var text = string.Empty;
        if (evidence.FirstInflateError is { } fault)
        {
            var cause = DiagnosisTemplates.Fill(DiagnosisTemplates.InflateFailureCauses[(int)fault.Cause], ("sender", Side(fault.FromClient)));
            text += DiagnosisTemplates.Fill(DiagnosisTemplates.InflateFailure, FaultValues(fault, ("cause", cause)));
        }

        if (evidence.FirstInvalidText is { } invalid)
        {
            text += DiagnosisTemplates.Fill(DiagnosisTemplates.InvalidUtf8Text, FaultValues(invalid));
        }
        else if (outcome == Outcome.InvalidPayload && text.Length == 0 && session.FirstClose is { } close
            && evidence.LastMessageBefore(close.Time) is MessageSize last && last.FromClient != close.FromClient)
        {
            text += DiagnosisTemplates.Fill(DiagnosisTemplates.Utf8NotChecked, ("sender", Side(last.FromClient)),
                ("bytes", last.Bytes.ToString(CultureInfo.InvariantCulture)), ("time", last.Time.ToIso8601()));
        }

        return text;
    }

    private static readonly string[] s_compressionNotices = [Notice.WsDeflateInvalidData, Notice.WsTextInvalidUtf8];

    private static bool ExplainedByCompression(Outcome outcome) =>
        outcome is Outcome.ProtocolError or Outcome.InvalidPayload or Outcome.AbnormalClosure;

    private static (string, string)[] FaultValues(FrameFault fault, params (string, string)[] more) =>
    [
        ("sender", Side(fault.FromClient)), ("message", fault.MessageNumber.ToString(CultureInfo.InvariantCulture)),
        ("time", fault.Time.ToIso8601()), .. more,
    ];

    /// <summary>What the timing says about a connection cut without a close frame: idle time, a matching timeout, keepalive.</summary>
    private static string IdleEvidence(WebSocketSession session, string who)
    {
        var ending = SessionEnding.Of(session);
        var evidence = session.Evidence;
        var text = string.Empty;
        var endTime = ending.OpenUntil;
        foreach (var client in (ReadOnlySpan<bool>)[true, false])
        {
            var unanswered = evidence.UnansweredPingsFrom(client);
            if (unanswered > 0 && evidence.OldestUnansweredPingFrom(client) is Timestamp oldest)
            {
                text += DiagnosisTemplates.Fill(DiagnosisTemplates.KeepalivePingTimeout,
                    ("unanswered", unanswered.ToString(CultureInfo.InvariantCulture)), ("pinger", Side(client)), ("other", Side(!client)),
                    ("wait", Seconds(endTime > oldest ? endTime.NanosecondsSince(oldest) : 0)));
            }
        }

        if (ending.IdleBeforeEndNanoseconds is not long idleNs || idleNs < IdleWorthSayingSeconds * Timestamp.NanosecondsPerSecond)
        {
            return text;
        }

        var idle = idleNs / (double)Timestamp.NanosecondsPerSecond;
        var duration = ending.DurationNanoseconds / (double)Timestamp.NanosecondsPerSecond;
        text += DiagnosisTemplates.Fill(DiagnosisTemplates.IdleThenCut, ("who", who),
            ("idle", OneDecimal(idle)), ("duration", OneDecimal(duration)));
        return text + TimeoutAndKeepalive(evidence, idle, duration);
    }

    /// <summary>The well-known idle timeout the idle time (or else the duration) matches, and a missing keepalive.</summary>
    private static string TimeoutAndKeepalive(SessionEvidence evidence, double idle, double duration)
    {
        var text = string.Empty;
        if ((IdleTimeoutTable.Match(idle) ?? IdleTimeoutTable.Match(duration)) is { } match)
        {
            text += DiagnosisTemplates.Fill(DiagnosisTemplates.IdleTimeoutMatch, ("timeout", IdleTimeoutTable.Length(match)), ("timeoutWho", match.Who));
        }

        if (!evidence.HasKeepalive)
        {
            text += DiagnosisTemplates.NoKeepalive;
        }

        return text;
    }

    private static Timestamp? Latest(Timestamp? a, Timestamp? b) => a is Timestamp x && b is Timestamp y ? (x > y ? x : y) : a ?? b;

    private static string OneDecimal(double seconds) => seconds.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Seconds(long nanoseconds) => OneDecimal(nanoseconds / (double)Timestamp.NanosecondsPerSecond);

    private static string Echo(WebSocketSession session, string other)
    {
        if (session.ReplyClose is { } reply)
        {
            return reply.Frame.Code is int code
                ? DiagnosisTemplates.Fill(DiagnosisTemplates.Echoed, ("other", other), ("code", code.ToString(CultureInfo.InvariantCulture)))
                : DiagnosisTemplates.Fill(DiagnosisTemplates.EchoedWithoutCode, ("other", other));
        }

        return DiagnosisTemplates.Fill(DiagnosisTemplates.NotEchoed, ("other", other));
    }

    private static string Said(CloseFrame frame) =>
        frame.Code is int c
            ? string.Create(CultureInfo.InvariantCulture, $"{c} {CloseCode.Name(c)}{Reason(frame)}")
            : "no status code";

    private static string Reason(CloseFrame frame) =>
        frame.ReasonIsCut ? $", reason \"{frame.Reason}...\" (cut short)"
        : frame.Reason.Length == 0 ? string.Empty : $", reason \"{frame.Reason}\"";

    private static string Side(bool client) => client ? "client" : "server";
}
