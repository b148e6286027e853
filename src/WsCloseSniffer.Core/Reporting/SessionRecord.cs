using WsCloseSniffer.Analysis;
using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Reporting;

/// <summary>
/// One WebSocket session as the report contract describes it (docs/report-format.md):
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

    // Root-cause evidence (columns after the contract's 22). Times are kept in whole microseconds, the report's
    // resolution, and written as seconds with 6 decimals.
    public long DurationMicroseconds { get; init; }
    public string? TcpEnd { get; init; }
    public string? TcpEndBy { get; init; }
    public long? IdleBeforeEndMicroseconds { get; init; }
    public long ClientPings { get; init; }
    public long ServerPings { get; init; }
    public long ClientPongs { get; init; }
    public long ServerPongs { get; init; }
    public long UnansweredPings { get; init; }
    public long? MaxPingGapMicroseconds { get; init; }
    public long ClientLargestMessageBytes { get; init; }
    public long ServerLargestMessageBytes { get; init; }

    /// <summary>The last data message before the first close frame: <c>client:123</c> or <c>server:123</c>.</summary>
    public string? LastMessageBytes { get; init; }
    public long CompressedMessages { get; init; }
    public long InflateErrors { get; init; }

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

    /// <summary>The record of a finished session: its outcome's word and diagnosis, and the contract's columns.</summary>
    public static SessionRecord From(WebSocketSession session, string captureFile, long flowOrder)
    {
        ArgumentNullException.ThrowIfNull(session);
        var request = session.Request;
        if (request is null && !session.IsOpaqueTls && !session.HandshakeNotCaptured)
        {
            throw new ArgumentException("Only sessions with an upgrade request or recognised by their frames, or TLS sessions that could not be looked into, are reported.", nameof(session));
        }

        var tls = session.Tls;
        var connection = session.Connection;
        var clientIsOriginator = session.ReportedClientDirection == FlowDirection.FromOriginator;
        var client = clientIsOriginator ? connection.Originator : connection.Responder;
        var server = clientIsOriginator ? connection.Responder : connection.Originator;
        var clientCounts = session.CountsFrom(client: true);
        var serverCounts = session.CountsFrom(client: false);
        var first = session.FirstClose;
        var outcome = Classifier.Classify(session);
        var end = session.End?.LastPacketTime ?? connection.FirstPacketTime;
        var ending = SessionEnding.Of(session);
        var evidence = session.Evidence;
        var lastMessage = evidence.LastMessageBefore(first?.Time);

        return new SessionRecord
        {
            CaptureFile = captureFile,
            StartTime = connection.FirstPacketTime.ToIso8601(),
            EndTime = end.ToIso8601(),
            ClientIp = client.Address.ToString(),
            ClientPort = client.Port,
            ServerIp = server.Address.ToString(),
            ServerPort = server.Port,
            Host = request is null ? tls?.ServerName : request.Host,
            Path = request?.Target,
            OfferedExtensions = EmptyAsNull(request?.OfferedExtensionsText),
            AcceptedExtensions = EmptyAsNull(session.Response?.AcceptedExtensionsText),
            CloseInitiator = first is null ? null : first.FromClient ? "client" : "server",
            CloseCode = first?.Frame.Code,
            CloseReason = EmptyAsNull(first?.Frame.Reason),
            ReplyCloseCode = session.ReplyClose?.Frame.Code,
            Classification = outcome.Word(),
            Diagnosis = Classifier.Diagnose(session, outcome),
            ClientFrames = clientCounts.Frames,
            ServerFrames = serverCounts.Frames,
            ClientPayloadBytes = clientCounts.PayloadBytes,
            ServerPayloadBytes = serverCounts.PayloadBytes,
            DurationMicroseconds = Microseconds(ending.DurationNanoseconds),
            TcpEnd = ending.TcpEnd switch { TcpCloseKind.Fin => "fin", TcpCloseKind.Rst => "rst", _ => null },
            TcpEndBy = ending.EndedByClient is bool byClient ? byClient ? "client" : "server" : null,
            IdleBeforeEndMicroseconds = ending.IdleBeforeEndNanoseconds is long idle ? Microseconds(idle) : null,
            ClientPings = evidence.ClientPings,
            ServerPings = evidence.ServerPings,
            ClientPongs = evidence.ClientPongs,
            ServerPongs = evidence.ServerPongs,
            UnansweredPings = evidence.UnansweredPings,
            MaxPingGapMicroseconds = evidence.MaxKeepaliveGapNanoseconds(ending.OpenUntil) is long gap ? Microseconds(gap) : null,
            ClientLargestMessageBytes = evidence.ClientLargestMessageBytes,
            ServerLargestMessageBytes = evidence.ServerLargestMessageBytes,
            LastMessageBytes = lastMessage is MessageSize m
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(m.FromClient ? "client" : "server")}:{m.Bytes}")
                : null,
            CompressedMessages = evidence.CompressedMessages,
            InflateErrors = evidence.InflateErrors,
            Notices = [.. session.Notices],
            HandshakeStatus = session.Response?.StatusCode,
            StartTimeNanoseconds = connection.FirstPacketTime.UnixNanoseconds,
            FlowOrder = flowOrder,

            // TLS columns (after the contract's and other additions; see ReportColumns).
            TlsVersion = tls?.Version,
            TlsCipher = tls?.CipherSuite,
            TlsSni = tls?.ServerName,
            TlsAlpn = tls?.Alpn,
            Decrypted = tls?.Decrypted,
        };
    }

    // Rounded to the nearest microsecond, as start_time and end_time are written.
    private static long Microseconds(long nanoseconds) => (nanoseconds + 500) / 1000;

    private static string? EmptyAsNull(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
