using System.Globalization;
using System.Text;
using WsCloseSniffer.Http;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Turns a finished session into its report record: the contract's classification word and a
/// one-sentence diagnosis a reviewer can act on.
/// </summary>
public static class Classifier
{
    public const string HandshakeRejected = "handshake_rejected";
    public const string NoStatus = "no_status";
    public const string AbnormalClosure = "abnormal_closure";
    public const string Unfinished = "unfinished";

    // Notices that change what a reviewer should conclude; the others are only counted in the summary.
    private static readonly string[] s_noticesWorthSaying =
    [
        Notice.HttpAcceptMismatch,
        Notice.HttpAcceptNotOffered,
        Notice.HttpInvalidUpgradeAccepted,
        Notice.TcpGapOverFrameHeader,
        Notice.TcpGapInHandshake,
        Notice.WsUnmaskedClientFrame,
        Notice.WsMaskedServerFrame,
        Notice.WsRsv1WithoutExtension,
        Notice.WsControlFrameTooLong,
        Notice.WsMandatoryExtensionFromServer,
        Notice.WsFrameLengthInvalid,
    ];

    public static string Classify(WebSocketSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.Phase == SessionPhase.Rejected)
        {
            return HandshakeRejected;
        }

        if (session.FirstClose is { Frame.Status: not CloseFramePayloadStatus.Lost } close)
        {
            return close.Frame.Status switch
            {
                CloseFramePayloadStatus.Empty => NoStatus,
                CloseFramePayloadStatus.OneByte => "invalid_close_code",
                _ => CloseCode.Classify(close.Frame.Code!.Value),
            };
        }

        return session.FirstFinFrom is not null || session.FirstRstFrom is not null ? AbnormalClosure : Unfinished;
    }

    public static SessionRecord ToRecord(WebSocketSession session, string captureFile, long flowOrder)
    {
        ArgumentNullException.ThrowIfNull(session);
        var request = session.Request ?? throw new ArgumentException("Only sessions with an upgrade request are reported.", nameof(session));
        var connection = session.Connection;
        var clientIsOriginator = session.ClientDirection == FlowDirection.FromOriginator;
        var client = clientIsOriginator ? connection.Originator : connection.Responder;
        var server = clientIsOriginator ? connection.Responder : connection.Originator;
        var clientCounts = session.CountsFrom(client: true);
        var serverCounts = session.CountsFrom(client: false);
        var first = session.FirstClose;
        var classification = Classify(session);
        var end = session.End?.LastPacketTime ?? connection.FirstPacketTime;

        return new SessionRecord
        {
            CaptureFile = captureFile,
            StartTime = connection.FirstPacketTime.ToIso8601(),
            EndTime = end.ToIso8601(),
            ClientIp = client.Address.ToString(),
            ClientPort = client.Port,
            ServerIp = server.Address.ToString(),
            ServerPort = server.Port,
            Host = request.Host,
            Path = request.Target,
            OfferedExtensions = EmptyAsNull(request.OfferedExtensionsText),
            AcceptedExtensions = EmptyAsNull(session.Response?.AcceptedExtensionsText),
            CloseInitiator = first is null ? null : Side(first.FromClient),
            CloseCode = first?.Frame.Code,
            CloseReason = EmptyAsNull(first?.Frame.Reason),
            ReplyCloseCode = session.ReplyClose?.Frame.Code,
            Classification = classification,
            Diagnosis = Diagnose(session, classification),
            ClientFrames = clientCounts.Frames,
            ServerFrames = serverCounts.Frames,
            ClientPayloadBytes = clientCounts.PayloadBytes,
            ServerPayloadBytes = serverCounts.PayloadBytes,
            Notices = [.. session.Notices],
            HandshakeStatus = session.Response?.StatusCode,
            StartTimeNanoseconds = connection.FirstPacketTime.UnixNanoseconds,
            FlowOrder = flowOrder,
        };
    }

    public static string Diagnose(WebSocketSession session, string classification)
    {
        ArgumentNullException.ThrowIfNull(session);
        var sentence = new StringBuilder(DiagnoseMain(session, classification));
        var extra = session.Notices.Where(n => s_noticesWorthSaying.Contains(n)).Select(n => Describe(session, n)).ToList();
        if (extra.Count > 0)
        {
            sentence.Append(" (also seen: ").AppendJoin("; ", extra).Append(')');
        }

        return sentence.Append('.').ToString();
    }

    private static string Describe(WebSocketSession session, string notice) =>
        notice == Notice.HttpInvalidUpgradeAccepted
            ? $"the server switched protocols although the upgrade request had {string.Join(" and ", session.Request!.Problems)}"
            : Notice.Describe(notice);

    private static string DiagnoseMain(WebSocketSession session, string classification)
    {
        var first = session.FirstClose;
        if (classification == HandshakeRejected)
        {
            return DiagnoseRejected(session.Request!, session.Response!);
        }

        if (first is null)
        {
            return classification == AbnormalClosure ? DiagnoseAbnormal(session) : DiagnoseUnfinished(session);
        }

        if (first.Frame.Status == CloseFramePayloadStatus.Lost)
        {
            var ending = classification == AbnormalClosure ? DiagnoseAbnormal(session) : DiagnoseUnfinished(session);
            return $"The {Side(first.FromClient)} sent a close frame whose status code was lost in the capture (packets missing), so the outcome is judged from TCP: {char.ToLowerInvariant(ending[0])}{ending[1..]}";
        }

        var side = Side(first.FromClient);
        var other = Side(!first.FromClient);
        var code = first.Frame.Code;
        var said = code is int c
            ? string.Create(CultureInfo.InvariantCulture, $"{c} {CloseCode.Name(c)}{Reason(first.Frame)}")
            : "no status code";
        var echo = Echo(session, other);
        return classification switch
        {
            "normal_closure" =>
                $"The {side} closed the session normally ({said}) and {echo}",
            "going_away" =>
                $"The {side} went away ({said}), as a server shutting down or a browser leaving the page does, and {echo}; if unexpected, check the {side}'s restarts and reconnect with backoff",
            "protocol_error" =>
                $"The {side} closed with {said}: it received frames it considers invalid from the {other}; compare the {other}'s WebSocket library with RFC 6455",
            "unsupported_data" =>
                $"The {side} closed with {said}: it received a message type it cannot accept (text versus binary); send the type the {side} expects",
            NoStatus =>
                $"The {side} sent a close frame without a status code (reported as 1005 No Status Received) and {echo}; pass a close code so that disconnects can be explained",
            "invalid_payload" =>
                $"The {side} closed with {said}: a message's data did not match its type (such as invalid UTF-8 in a text message); check how the {other} encodes messages",
            "policy_violation" =>
                $"The {side} closed with {said}: it refused a message or the session by policy (often authentication, origin or rate checks); check the {side}'s access rules",
            "message_too_big" =>
                $"The {side} closed with {said}: a message from the {other} exceeded its size limit; raise the {side}'s receive limit or split large messages",
            "mandatory_extension" => DiagnoseMandatoryExtension(session, first, said),
            "internal_error" =>
                $"The {side} closed with {said}: it hit an unexpected condition; check the {side}'s logs around {first.Time.ToIso8601()}",
            "service_restart" =>
                $"The {side} closed with {said}: the server is restarting; the client should reconnect after a randomized delay",
            "try_again_later" =>
                $"The {side} closed with {said}: the server is overloaded or rate-limiting; the client should back off and retry later",
            "bad_gateway" =>
                $"The {side} closed with {said}: a gateway or proxy got an invalid answer from the upstream server; check the upstream service",
            "application" =>
                $"The {side} closed with application code {AppCode(first.Frame)}, whose meaning the application defines (3000-3999 registered, 4000-4999 private); look it up in the application's protocol",
            _ when first.Frame.Status == CloseFramePayloadStatus.OneByte =>
                $"The {side} sent a close frame with a 1-byte payload, which cannot hold a status code (RFC 6455 5.5.1); fix the {side}'s WebSocket library",
            _ =>
                $"The {side} sent close code {said}, which must never be sent on the wire (RFC 6455 7.4); make the {side} use 1000-1003, 1007-1014 or 3000-4999",
        };
    }

    private static string DiagnoseMandatoryExtension(WebSocketSession session, CloseRecord first, string said)
    {
        var offered = session.Request!.Extensions.Names.ToList();
        var negotiated = session.NegotiatedExtensions;
        var accepted = negotiated.Names.ToList();
        var missing = offered.Where(o => !negotiated.Contains(o)).ToList();

        // Clients usually name the extension they need in the reason (RFC 6455 7.4.1); trust that over a guess.
        var named = ExtensionNamesIn(first.Frame.Reason).Where(n => !negotiated.Contains(n)).ToList();
        if (named.Count > 0)
        {
            missing = named;
        }

        var offeredText = offered.Count > 0 ? string.Join(", ", offered) : "none";
        var acceptedText = accepted.Count > 0 ? string.Join(", ", accepted) : "none";
        if (!first.FromClient)
        {
            return $"The server closed with {said}, a code only clients may send (RFC 6455 7.4.1; offered: {offeredText}; accepted: {acceptedText}); fix the server's close logic";
        }

        if (missing.Count == 0)
        {
            return $"The client closed with {said} although the server accepted every extension it offered (offered: {offeredText}; accepted: {acceptedText}); check which extension the client requires and its parameters in the 101 response's Sec-WebSocket-Extensions";
        }

        var missingText = string.Join(", ", missing);
        return $"The client closed with {said}, because the server did not negotiate {missingText} (offered: {offeredText}; accepted: {acceptedText}); enable {missingText} on the server, or make it optional in the client, and check the Sec-WebSocket-Extensions header of the 101 response";
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
                ? $" (the server asks for Sec-WebSocket-Version: {version})"
                : string.Empty;
            var proxy = request.Problems.Any(p => p.Contains("Connection", StringComparison.Ordinal))
                ? ", or the proxy in between that drops the hop-by-hop Connection header"
                : string.Empty;
            return $"The server answered the upgrade with {status} instead of 101 Switching Protocols, because the request had {string.Join(" and ", request.Problems)}{wanted}; fix the client's request (RFC 6455 section 4.1){proxy}";
        }

        var hint = response.StatusCode switch
        {
            400 => "check the request's Sec-WebSocket-Key, Sec-WebSocket-Version and Upgrade headers",
            401 or 407 => "the server wants credentials: check the client's token or cookie",
            403 => "the server refused the client: check its origin, credentials and the server's allow list",
            404 => "check the request path and that the server maps a WebSocket endpoint there",
            426 => "the server wants another protocol version: check Sec-WebSocket-Version",
            429 => "the server is rate-limiting: back off before reconnecting",
            >= 300 and < 400 => "the server redirects: point the client at the new location",
            >= 500 => "the server or a proxy failed: check its logs and upstream",
            _ => "check what the server expects of the upgrade request",
        };
        return $"The server answered the upgrade with {status} instead of 101 Switching Protocols, so no WebSocket session opened; {hint}";
    }

    private static string DiagnoseAbnormal(WebSocketSession session)
    {
        var rst = session.FirstRstFrom is not null;
        var by = rst ? session.FirstRstFrom!.Value : session.FirstFinFrom!.Value;
        var who = session.IsClient(by) ? "client" : "server";
        var how = rst ? "a TCP reset (RST)" : "a TCP FIN";
        if (session.Phase == SessionPhase.AwaitingResponse)
        {
            return $"The connection ended with {how} from the {who} before the server answered the upgrade; check that the server speaks WebSocket at that path and is reachable through any proxy";
        }

        return rst
            ? $"The connection ended with {how} from the {who} and no close frame (reported as 1006 Abnormal Closure): the {who} crashed or aborted, or a proxy or load balancer cut the connection; check its logs and idle timeouts"
            : $"The connection ended with {how} from the {who} and no close frame (reported as 1006 Abnormal Closure): the {who} dropped the connection without the closing handshake; close with a close frame, and check proxy idle timeouts";
    }

    private static string DiagnoseUnfinished(WebSocketSession session)
    {
        var timedOut = session.End?.Kind == TcpCloseKind.Timeout;
        if (session.Phase == SessionPhase.AwaitingResponse)
        {
            return timedOut
                ? "The server never answered the upgrade and the connection went idle; check that the server is up and speaks WebSocket at that path"
                : "The capture ended before the server answered the upgrade; capture for longer to see the outcome";
        }

        return timedOut
            ? "The session was given up on with no close frame, FIN or RST, after no packet for the idle timeout (or to stay under the connection cap); capture for longer, raise --idle-timeout, or check keep-alive pings"
            : "The capture ended while the session was still open (no close frame, FIN or RST); capture for longer to see how it ends";
    }

    private static string Echo(WebSocketSession session, string other)
    {
        if (session.ReplyClose is { } reply)
        {
            return reply.Frame.Code is int code
                ? string.Create(CultureInfo.InvariantCulture, $"the {other} echoed the close ({code})")
                : $"the {other} echoed the close (without a code)";
        }

        return $"the {other} did not echo it in the capture";
    }

    private static string Reason(CloseFrame frame) =>
        frame.Reason.Length == 0 ? string.Empty : $", reason \"{frame.Reason}\"";

    private static string AppCode(CloseFrame frame) =>
        string.Create(CultureInfo.InvariantCulture, $"{frame.Code} ({CloseCode.Name(frame.Code!.Value)}){Reason(frame)}");

    private static string Side(bool client) => client ? "client" : "server";

    private static string? EmptyAsNull(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
