using System.Runtime.CompilerServices;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Http;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tls;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>Where a session is in its life (RFC 6455 section 4, then 5 and 7).</summary>
public enum SessionPhase : byte
{
    /// <summary>No upgrade request seen yet; either side may turn out to be the client.</summary>
    Detecting = 0,
    /// <summary>The upgrade request was seen; waiting for the server's answer.</summary>
    AwaitingResponse = 1,
    /// <summary>101 Switching Protocols: frames flow both ways.</summary>
    Open = 2,
    /// <summary>The server answered with something other than 101.</summary>
    Rejected = 3,
    /// <summary>Not a WebSocket connection: everything further is ignored cheaply.</summary>
    NotWebSocket = 4,
}

/// <summary>
/// One TCP connection looked at as a WebSocket session: finds the upgrade on any port, decodes both
/// directions' frames, records close frames and notices. The client is whoever sent the upgrade GET
/// (architecture decision 5), not the SYN sender.
/// </summary>
public sealed class WebSocketSession : ITcpStreamHandler, ITlsSessionObserver
{
    /// <summary>Plain HTTP messages stepped over while waiting for an upgrade on a kept-alive connection.</summary>
    public const int MaxPlainMessages = 16;

    private static readonly AnalyzerOptions s_defaultOptions = new();

    private static readonly (InflationNotices Flag, string Notice)[] s_inflationNotices =
    [
        (InflationNotices.InvalidData, Notice.WsDeflateInvalidData),
        (InflationNotices.ContextMissing, Notice.WsDeflateContextMissing),
        (InflationNotices.RatioSuspicious, Notice.WsDeflateRatioSuspicious),
        (InflationNotices.CapReached, Notice.WsInflateCapReached),
        (InflationNotices.TextInvalidUtf8, Notice.WsTextInvalidUtf8),
    ];

    private readonly ConnectionInfo _connection;
    private readonly AnalyzerOptions _options;
    private readonly Action<WebSocketSession> _onEnded;
    private readonly DirectionState[] _directions;
    private SortedSet<string>? _notices;
    private Timestamp _firstFinTime;
    private Timestamp _firstRstTime;
    private int _plainMessages;

    // RSV1 has a meaning once any extension is negotiated (permessage-deflate or one we do not know), as for the notice.
    private bool _compressionNegotiated;
    private InflaterBudget? _inflaters;
    private readonly InflationWorkers? _inflationWorkers;

    // The handshake that negotiated the extensions was not captured whole: no reserved bit can be called unexplained.
    private bool _extensionsUnknown;

    private UpgradeResponse? _response;
    private bool _rsv1Unexplained = true;
    private bool _rsv23Unexplained = true;

    // deflate-frame compresses frames, not messages: RSV1 on a continuation is its own, not misuse.
    private bool _perFrameDeflate;

    // Some direction looks for frames without a handshake; until both show them, what they decode is tentative.
    private bool _probing;

    /// <param name="inflaters">Shared by the sessions of one analysis; null: this session has its own, of the options' size.</param>
    /// <param name="inflationWorkers">Where compressed payloads are inflated; null: on the calling thread.</param>
    public WebSocketSession(in ConnectionInfo connection, Action<WebSocketSession> onEnded, AnalyzerOptions? options = null, InflaterBudget? inflaters = null, InflationWorkers? inflationWorkers = null)
    {
        _connection = connection;
        _onEnded = onEnded;
        _options = options ?? s_defaultOptions;
        _inflaters = inflaters;
        _inflationWorkers = inflationWorkers;
        _directions = [new DirectionState(this, FlowDirection.FromOriginator), new DirectionState(this, FlowDirection.FromResponder)];
    }

    public ConnectionInfo Connection => _connection;

    /// <summary>Which of the files read as one held the connection's first packet (0 for a single file).</summary>
    public int SourcePart { get; init; }

    public SessionPhase Phase { get; private set; }

    /// <summary>The direction the upgrade request travelled in; meaningful once <see cref="Request"/> is set.</summary>
    public FlowDirection ClientDirection { get; private set; }

    public UpgradeRequest? Request { get; private set; }

    public UpgradeResponse? Response
    {
        get => _response;
        private set
        {
            _response = value;

            // Which reserved bits the negotiated extensions explain, looked up here once rather than on every frame.
            var extensions = NegotiatedExtensions;
            _rsv1Unexplained = extensions.Items.Count == 0;
            _rsv23Unexplained = !HasUnknownExtension(extensions);
        }
    }

    public CloseRecord? FirstClose { get; private set; }

    public CloseRecord? ReplyClose { get; private set; }

    public ConnectionEnd? End { get; private set; }

    /// <summary>Which side's segment first carried FIN, and RST; null when none did.</summary>
    public FlowDirection? FirstFinFrom { get; private set; }

    public FlowDirection? FirstRstFrom { get; private set; }

    /// <summary>Packet times of the first FIN and the first RST; meaningful when <see cref="FirstFinFrom"/> / <see cref="FirstRstFrom"/> is set.</summary>
    public Timestamp FirstFinTime => _firstFinTime;

    public Timestamp FirstRstTime => _firstRstTime;

    /// <summary>Keepalive, message-size and compression evidence gathered from the frames.</summary>
    public SessionEvidence Evidence { get; } = new();

    /// <summary>Set when the decoder stopped in that direction (gap over a header, invalid length).</summary>
    public bool FramesLost => _directions[0].Decoder?.IsStopped == true || _directions[1].Decoder?.IsStopped == true;

    public IReadOnlyCollection<string> Notices => Tls is { } tls
        ? [.. (_notices ?? []).Union(tls.Notices, StringComparer.Ordinal).Order(StringComparer.Ordinal)]
        : (IReadOnlyCollection<string>?)_notices ?? [];

    /// <summary>
    /// True when the connection carried a WebSocket upgrade request: only those are reported. A GET whose head the
    /// snap length cut before its Upgrade field counts once the server switched protocols.
    /// </summary>
    public bool IsWebSocket => HandshakeNotCaptured || (Request is { } request
        && (request.AsksForWebSocket || Response?.IsSwitchingProtocols == true));

    /// <summary>
    /// No handshake in the capture: the session was recognised by its frames (see <see cref="FrameChainProbe"/>) in
    /// both directions, the client's masked and the server's not.
    /// </summary>
    public bool HandshakeNotCaptured { get; private set; }

    /// <summary>The snap length cut the upgrade request or response: the fields after the cut are unknown.</summary>
    public bool HandshakeCutByCapture => Request?.IsCutByCapture == true || Response?.IsCutByCapture == true;

    /// <summary>Set when the connection is TLS: its handshake details; the stream this session sees is the decrypted one.</summary>
    public TlsSessionInfo? Tls { get; private set; }

    /// <summary>
    /// A TLS connection whose WebSocket cannot be seen (not decrypted, HTTP/2, or a handshake that failed) is still
    /// reported when keys were given: with a key log the user expects every wss:// session to be accounted for.
    /// Without one, opaque TLS connections are not reported, as they could be any protocol.
    /// </summary>
    public bool IsOpaqueTls => Request is null && Tls is { KeyLogAvailable: true } tls
        && (!tls.Decrypted || tls.IsHttp2 || (tls.Alert is not null && tls.AlertInHandshake));

    public void OnTlsSession(TlsSessionInfo info) => Tls = info;

    /// <summary>The DEFLATE compression the 101 response agreed to; <see cref="DeflateParameters.None"/> when none.</summary>
    public DeflateParameters Deflate
    {
        get => _deflate;
        private set
        {
            _deflate = value;
            _perFrameDeflate = value.Extension == DeflateExtension.PerFrame;
        }
    }

    private DeflateParameters _deflate = DeflateParameters.None;

    public ExtensionList NegotiatedExtensions => Response?.IsSwitchingProtocols == true ? Response.Extensions : ExtensionList.Empty;

    public FrameCounts CountsFrom(bool client)
    {
        var direction = client ? ClientDirection : Other(ClientDirection);
        var decoder = _directions[(int)direction].Decoder;
        return decoder is null ? default : new FrameCounts(decoder.Frames, decoder.PayloadBytes);
    }

    public bool HasNotice(string notice) => _notices?.Contains(notice) == true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnData(FlowDirection direction, ReadOnlySpan<byte> data, Timestamp time)
    {
        if (Phase == SessionPhase.NotWebSocket)
        {
            return;
        }

        _directions[(int)direction].OnData(data, time);
    }

    public void OnGap(FlowDirection direction, long missingBytes, Timestamp time) =>
        OnGap(direction, missingBytes, GapCause.NotCaptured, time);

    public void OnGap(FlowDirection direction, long missingBytes, GapCause cause, Timestamp time)
    {
        if (Phase == SessionPhase.NotWebSocket)
        {
            return;
        }

        _directions[(int)direction].OnGap(missingBytes, cause, time);
    }

    public void OnClosed(FlowDirection direction, TcpCloseKind kind, Timestamp time)
    {
        if (kind is TcpCloseKind.Fin or TcpCloseKind.Rst)
        {
            Evidence.OnTcpEnd(time);
        }

        // Earliest by packet time, like close frames: a FIN delivered late (after a hole) was not sent late.
        if (kind == TcpCloseKind.Fin && (FirstFinFrom is null || time < _firstFinTime))
        {
            FirstFinFrom = direction;
            _firstFinTime = time;
        }
        else if (kind == TcpCloseKind.Rst && (FirstRstFrom is null || time < _firstRstTime))
        {
            FirstRstFrom = direction;
            _firstRstTime = time;
        }
    }

    public void OnConnectionEnd(in ConnectionEnd connectionEnd)
    {
        End = connectionEnd;

        // Inflaters with context takeover live as long as the session; their memory goes back now.
        _directions[0].Inflater?.Dispose();
        _directions[1].Inflater?.Dispose();

        // Echoing the client's 1010 is fine; only a server that starts the close with 1010 breaks RFC 6455 7.4.1.
        if (FirstClose is { FromClient: false, Frame.Code: CloseCode.MandatoryExtension })
        {
            AddNotice(Notice.WsMandatoryExtensionFromServer);
        }

        if (IsWebSocket || IsOpaqueTls)
        {
            // With inflation on a worker, the session is reported once the worker has made its calls (see InflationWorkers).
            var lane = _directions[0].Inflater?.Lane;
            var sequence = Math.Max(_directions[0].Inflater?.LastSequence ?? -1, _directions[1].Inflater?.LastSequence ?? -1);
            if (lane is null || lane.ReportWhenDone(this, sequence))
            {
                ReportEnded();
            }
        }

        _inflationWorkers?.ReportReady();
    }

    /// <summary>Takes in what inflation found and hands the ended session on.</summary>
    internal void ReportEnded()
    {
        foreach (var state in _directions)
        {
            if (state.Inflater is { } inflation)
            {
                TakeInflationFindings(inflation);
            }
        }

        _onEnded(this);
    }

    private void TakeInflationFindings(DirectionInflation inflation)
    {
        ref readonly var findings = ref inflation.Findings;
        if (inflation.WasRefused)
        {
            AddNotice(Notice.WsDeflateNotInflated);
        }

        foreach (var (flag, notice) in s_inflationNotices)
        {
            if ((findings.Notices & flag) != 0)
            {
                AddNotice(notice);
            }
        }

        Evidence.OnInflated(inflation.FromClient, findings);
        (_inflaters ??= new InflaterBudget(_options.MaxInflaters)).CountInflated(findings.Units, findings.Bytes);
    }

    internal bool IsClient(FlowDirection direction) => Request is not null || _probing || HandshakeNotCaptured
        ? direction == ClientDirection
        : Tls is not null && direction == (Tls.ClientDirection ?? FlowDirection.FromOriginator);

    /// <summary>The client's direction: the upgrade's sender, else the TLS ClientHello's.</summary>
    internal FlowDirection ReportedClientDirection => Request is not null || HandshakeNotCaptured ? ClientDirection : Tls?.ClientDirection ?? FlowDirection.FromOriginator;

    internal void AddNotice(string notice) => (_notices ??= new SortedSet<string>(StringComparer.Ordinal)).Add(notice);

    private static FlowDirection Other(FlowDirection direction) =>
        direction == FlowDirection.FromOriginator ? FlowDirection.FromResponder : FlowDirection.FromOriginator;

    /// <summary>A head completed in <paramref name="direction"/>; returns what that direction does next.</summary>
    private DirectionMode OnHead(FlowDirection direction, HttpHead head, Timestamp time)
    {
        if (_probing)
        {
            StopProbing();
        }

        if (Phase == SessionPhase.Detecting)
        {
            if (head.IsRequest && UpgradeRequest.TryFrom(head, out var request))
            {
                Request = request;
                ClientDirection = direction;
                Phase = SessionPhase.AwaitingResponse;
                if (!request.Extensions.IsWellFormed)
                {
                    AddNotice(Notice.HttpExtensionsMalformed);
                }

                // Whatever the other side sent before the request was not the response to it.
                _directions[(int)Other(direction)].ExpectHead();

                // Clients send frames only after the 101; bytes after the request head are frames all the same.
                return DirectionMode.Frames;
            }

            // Plain HTTP so far: with keep-alive the upgrade may still come on this connection (RFC 9112 9.3).
            return SkipPlainMessage(direction, head);
        }

        if (Phase == SessionPhase.Rejected)
        {
            if (direction == ClientDirection && head.IsRequest && UpgradeRequest.TryFrom(head, out var retry))
            {
                // The refused upgrade retried on the same connection (say with credentials after a 401 or 407).
                Request = retry;
                Response = null;
                Phase = SessionPhase.AwaitingResponse;
                _directions[(int)Other(direction)].ExpectHead();
                return DirectionMode.Frames;
            }

            return SkipPlainMessage(direction, head);
        }

        if (Phase != SessionPhase.AwaitingResponse || direction == ClientDirection || head.IsRequest)
        {
            return DirectionMode.Ignored;
        }

        if (head.StatusCode is >= 100 and < 200 and not 101)
        {
            // Interim responses (100 Continue, 103 Early Hints) precede the real answer (RFC 9110 15.2).
            return DirectionMode.Head;
        }

        var response = UpgradeResponse.From(head);
        if (!response.IsSwitchingProtocols)
        {
            Response = response;
            Phase = SessionPhase.Rejected;

            // The client may retry on this connection once the refusal's body is past.
            _directions[(int)ClientDirection].ExpectHead();
            return SkipPlainMessage(direction, head);
        }

        return OnResponse(response, time, cut: false);
    }

    /// <summary>The answer to the upgrade request; for a cut head any status, else a 101.</summary>
    private DirectionMode OnResponse(UpgradeResponse response, Timestamp time, bool cut)
    {
        Response = response;
        if (!response.IsSwitchingProtocols)
        {
            // The refusal's body cannot be stepped over without its Content-Length: nothing more is read.
            Phase = SessionPhase.Rejected;
            return DirectionMode.Ignored;
        }

        Phase = SessionPhase.Open;
        Evidence.OnOpened(time);
        if (cut)
        {
            // What was negotiated is not known: RSV1 may mean compression, and no accept or extension can be checked.
            _compressionNegotiated = true;
            _extensionsUnknown = true;
            return DirectionMode.Frames;
        }

        _compressionNegotiated = response.Extensions.Items.Count > 0;
        if (Request!.IsCutByCapture)
        {
            // The key and the offer were in the cut: the accept and the accepted extensions cannot be checked against them,
            // but the whole response says what was agreed, so compressed messages are inflated all the same.
            StartInflating(response);
            return DirectionMode.Frames;
        }

        if (Request.Problems.Count > 0)
        {
            // A lenient server (or a proxy that rewrote the request) switched anyway: the frames are analyzed as usual.
            AddNotice(Notice.HttpInvalidUpgradeAccepted);
        }

        CheckAcceptedHandshake(response);
        StartInflating(response);
        return DirectionMode.Frames;
    }

    /// <summary>
    /// The snap length cut a head in <paramref name="direction"/> (see <see cref="HttpHeadParser.CutHead"/>): what it
    /// shows is used, and the stream is taken to resume after the head at the next segment, where a frame (or the
    /// next head) starts. A cut head's body cannot be stepped over, so plain HTTP is given up on.
    /// </summary>
    private DirectionMode OnCutHead(FlowDirection direction, HttpHead head, Timestamp time)
    {
        if (_probing)
        {
            StopProbing();
        }

        if (Phase == SessionPhase.Detecting)
        {
            if (UpgradeRequest.TryFromCut(head, out var request))
            {
                Request = request;
                ClientDirection = direction;
                Phase = SessionPhase.AwaitingResponse;
                _directions[(int)Other(direction)].ExpectHead();
                return DirectionMode.Frames;
            }

            return DirectionMode.Ignored;
        }

        if (Phase != SessionPhase.AwaitingResponse || direction == ClientDirection || head.IsRequest)
        {
            return DirectionMode.Ignored;
        }

        if (head.StatusCode is >= 100 and < 200 and not 101)
        {
            return DirectionMode.Head;
        }

        return OnResponse(UpgradeResponse.From(head), time, cut: true);
    }

    /// <summary>
    /// Steps over a plain HTTP message's body so the next head on the stream can be read: by its Content-Length,
    /// or chunk by chunk when chunked. A response read until the connection closes ends only that direction; the
    /// connection is given up on once neither direction can start an upgrade, and after
    /// <see cref="MaxPlainMessages"/> messages: a busy keep-alive connection without an upgrade is plain HTTP.
    /// </summary>
    private DirectionMode SkipPlainMessage(FlowDirection direction, HttpHead head)
    {
        var state = _directions[(int)direction];
        if (++_plainMessages <= MaxPlainMessages)
        {
            switch (Body(head, out long length))
            {
                case BodyFraming.Length:
                    state.BodyToSkip = length;
                    return DirectionMode.Head;
                case BodyFraming.Chunked:
                    state.InChunkedBody = true;
                    return DirectionMode.Head;
                case BodyFraming.UntilClose when Phase == SessionPhase.Detecting && _directions[(int)Other(direction)].Mode == DirectionMode.Head:
                    // Nothing more comes this way, but the other side may still send an upgrade request.
                    return DirectionMode.Ignored;
            }
        }

        if (Phase == SessionPhase.Detecting)
        {
            Phase = SessionPhase.NotWebSocket;
        }

        return DirectionMode.Ignored;
    }

    private enum BodyFraming : byte
    {
        Length = 0,
        Chunked = 1,
        UntilClose = 2,
        Unknown = 3,
    }

    /// <summary>RFC 9112 6.3: how a message's body is framed, from its head.</summary>
    private static BodyFraming Body(HttpHead head, out long length)
    {
        length = 0;
        if (head.Get("Transfer-Encoding") is not null)
        {
            // Chunked must be the final coding; otherwise a response runs until close and a request is invalid.
            if (LastCodingIsChunked(head))
            {
                return BodyFraming.Chunked;
            }

            return head.IsRequest ? BodyFraming.Unknown : BodyFraming.UntilClose;
        }

        if (head.Get("Content-Length") is { } text)
        {
            return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length)
                ? BodyFraming.Length
                : BodyFraming.Unknown;
        }

        return head.IsRequest || head.StatusCode is (>= 100 and < 200) or 204 or 304 ? BodyFraming.Length : BodyFraming.UntilClose;
    }

    private static bool LastCodingIsChunked(HttpHead head)
    {
        var lines = head.GetAll("Transfer-Encoding");
        var last = lines[^1].AsSpan();
        int comma = last.LastIndexOf(',');
        var coding = (comma < 0 ? last : last[(comma + 1)..]).Trim();
        return coding.Equals("chunked", StringComparison.OrdinalIgnoreCase);
    }

    private void CheckAcceptedHandshake(UpgradeResponse response)
    {
        if (!response.AcceptMatches(Request!.Key))
        {
            AddNotice(Notice.HttpAcceptMismatch);
        }

        if (!response.Extensions.IsWellFormed)
        {
            AddNotice(Notice.HttpExtensionsMalformed);
        }

        foreach (var name in response.Extensions.Names)
        {
            if (!Request.Extensions.Contains(name))
            {
                AddNotice(Notice.HttpAcceptNotOffered);
            }
        }
    }

    private void StartInflating(UpgradeResponse response)
    {
        Deflate = DeflateParameters.FromAccepted(response.Extensions);
        if (Request is { } request)
        {
            Deflate = Deflate.AnsweringOffer(request.Extensions, response.Extensions);
        }

        if (Deflate.Problems.Count > 0)
        {
            AddNotice(Notice.WsDeflateParametersInvalid);
        }

        if (!Deflate.Applies || !_options.Inflate)
        {
            return;
        }

        _inflaters ??= new InflaterBudget(_options.MaxInflaters);
        var lane = _inflationWorkers?.LaneFor(_connection.Ordinal);
        foreach (var state in _directions)
        {
            state.AttachInflater(new DirectionInflation(IsClient(state.Direction), Deflate, _options.MaxInflatedMessageBytes, _inflaters, lane));
        }
    }

    private void OnHeadFailed(FlowDirection direction, HttpHeadStatus status)
    {
        if (Phase == SessionPhase.Detecting)
        {
            // Not HTTP in this direction. Once neither side can start an upgrade, stop looking.
            if (_directions[(int)Other(direction)].Mode == DirectionMode.Ignored)
            {
                Phase = SessionPhase.NotWebSocket;
            }

            return;
        }

        if (Phase == SessionPhase.AwaitingResponse && direction != ClientDirection)
        {
            AddNotice(status == HttpHeadStatus.TooLarge ? Notice.HttpHeadTooLarge : Notice.HttpMalformedResponse);
        }
    }

    /// <summary>
    /// Whether a direction whose first bytes are not HTTP may look for frames: only on a connection whose SYN was not
    /// captured (with the SYN, the handshake would be in the capture too) and before any HTTP on it.
    /// </summary>
    private bool CanProbe => !_connection.SawSyn && Phase == SessionPhase.Detecting && _plainMessages == 0 && Tls is null;

    private void StartProbing()
    {
        _probing = true;

        // Without the handshake nothing says which extensions were agreed: RSV1 may well mean compression.
        _extensionsUnknown = true;
        _compressionNegotiated = true;
    }

    /// <summary>One piece of a probing direction: followed by its probe, and decoded while it continues a chain.</summary>
    private void OnProbeData(DirectionState state, ReadOnlySpan<byte> data, Timestamp time)
    {
        ref var probe = ref state.Probe;
        var wasChaining = probe.IsChaining;
        var step = probe.Feed(data, atSegmentStart: true);
        if (step == FrameChainStep.Broken)
        {
            ResetTentative();
        }
        else if (step == FrameChainStep.Continues)
        {
            ref var other = ref _directions[(int)Other(state.Direction)].Probe;
            if (!wasChaining && other.IsChaining && other.IsMasked == probe.IsMasked)
            {
                // Both directions masked alike are not a client and a server: this chain is not the one.
                probe.Abandon();
            }
            else
            {
                if (!wasChaining)
                {
                    ClientDirection = probe.IsMasked ? state.Direction : Other(state.Direction);
                    Evidence.OnOpened(time);
                }

                state.Decoder!.Decode(data, state, time);
                if (probe.ShowsFrames && other.ShowsFrames && other.IsMasked != probe.IsMasked)
                {
                    ConfirmByFrames();
                    return;
                }
            }
        }

        GiveUpProbingIfExhausted(probe);
    }

    private void OnProbeGap(DirectionState state, long missingBytes, Timestamp time)
    {
        ref var probe = ref state.Probe;
        var step = probe.SkipGap(missingBytes);
        if (step == FrameChainStep.Broken)
        {
            ResetTentative();
        }
        else if (step == FrameChainStep.Continues)
        {
            _ = state.Decoder!.SkipGap(missingBytes, state, time);
        }
    }

    private void GiveUpProbingIfExhausted(in FrameChainProbe probe)
    {
        if (probe.IsExhausted)
        {
            // Not WebSocket as far as the budget looked: nothing more is examined on this connection.
            ResetTentative();
            Phase = SessionPhase.NotWebSocket;
            _probing = false;
        }
    }

    /// <summary>
    /// HTTP on a connection whose other direction was looking for frames (a capture that began inside a response
    /// body): the connection is HTTP, so that direction reads heads again from its next segment.
    /// </summary>
    private void StopProbing()
    {
        ResetTentative();
        _probing = false;
        _extensionsUnknown = false;
        _compressionNegotiated = false;
        foreach (var state in _directions)
        {
            state.StopProbing();
        }
    }

    /// <summary>A chain broke: whatever the frames decoded so far made of the session is forgotten, in both directions.</summary>
    private void ResetTentative()
    {
        var cut = HasNotice(Notice.CaptureSnapLength);
        _notices?.Clear();
        if (cut)
        {
            AddNotice(Notice.CaptureSnapLength);
        }

        Evidence.Reset();
        FirstClose = null;
        ReplyClose = null;
        foreach (var state in _directions)
        {
            state.ResetTentative();
        }
    }

    /// <summary>Both directions show frames, one side masked and the other not: a WebSocket session whose handshake is not captured.</summary>
    private void ConfirmByFrames()
    {
        HandshakeNotCaptured = true;
        Phase = SessionPhase.Open;
        _probing = false;
        AddNotice(Notice.HandshakeNotCaptured);
        foreach (var state in _directions)
        {
            state.EndProbing();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnFrame(FlowDirection direction, in FrameHeader header, in ControlPayload payload, Timestamp time)
    {
        var fromClient = IsClient(direction);
        var state = _directions[(int)direction];
        if (state.SentClose)
        {
            AddNotice(Notice.WsDataAfterClose);
        }

        if (fromClient && !header.IsMasked)
        {
            AddNotice(Notice.WsUnmaskedClientFrame);
        }
        else if (!fromClient && header.IsMasked)
        {
            AddNotice(Notice.WsMaskedServerFrame);
        }

        CheckReservedBits(header);
        var inflation = state.Inflater;
        if (inflation is not null && !header.IsControl)
        {
            inflation.OnDataFrame(header, time, Evidence.KeepsLastMessageFrom(fromClient));
        }

        // Extensions not known (a cut or missing handshake): RSV1 on a continuation may be deflate-frame's, not misuse.
        Evidence.OnFrame(fromClient, header, _compressionNegotiated, time, inflation is not null, _extensionsUnknown || _perFrameDeflate);
        if (!header.IsKnownOpcode)
        {
            AddNotice(Notice.WsUnknownOpcode);
        }

        if (header.IsControl)
        {
            if (header.PayloadLength > FrameDecoder.MaxControlPayloadLength)
            {
                AddNotice(Notice.WsControlFrameTooLong);
            }

            if (!header.Fin)
            {
                AddNotice(Notice.WsControlFrameFragmented);
            }

            if (header.Opcode == WebSocketOpcode.Close)
            {
                OnCloseFrame(direction, payload, time);
            }

            return;
        }

        state.TrackFragmentation(header);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckReservedBits(in FrameHeader header)
    {
        if (_extensionsUnknown || !header.HasReservedBits)
        {
            return;
        }

        // RFC 7692: permessage-deflate (and its predecessors) give RSV1 a meaning and nothing else; an extension
        // we do not know may define any bit, so only bits no negotiated extension can explain are flagged.
        if (header.Rsv1 && _rsv1Unexplained)
        {
            AddNotice(Notice.WsRsv1WithoutExtension);
        }

        if ((header.Rsv2 || header.Rsv3) && _rsv23Unexplained)
        {
            AddNotice(header.Rsv2 ? Notice.WsRsv2WithoutExtension : Notice.WsRsv3WithoutExtension);
            if (header.Rsv2 && header.Rsv3)
            {
                AddNotice(Notice.WsRsv3WithoutExtension);
            }
        }
    }

    private static bool HasUnknownExtension(ExtensionList extensions) =>
        extensions.Names.Any(name => !name.Equals(WebSocketExtension.PerMessageDeflate, StringComparison.OrdinalIgnoreCase)
            && !name.Equals("x-webkit-deflate-frame", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("deflate-frame", StringComparison.OrdinalIgnoreCase));

    private void OnCloseFrame(FlowDirection direction, in ControlPayload payload, Timestamp time)
    {
        var state = _directions[(int)direction];
        if (state.SentClose)
        {
            return;
        }

        state.SentClose = true;
        Evidence.OnCloseFrame(IsClient(direction));
        var close = CloseFrame.Parse(payload.Bytes, payload.IsComplete);
        var fromClient = IsClient(direction);
        if (close.Status == CloseFramePayloadStatus.OneByte)
        {
            AddNotice(Notice.WsClosePayloadOneByte);
        }

        if (close.Code is int code)
        {
            if (!CloseCode.IsValidOnWire(code))
            {
                AddNotice(Notice.WsCloseCodeInvalid);
            }

        }

        if (!close.ReasonIsValidUtf8)
        {
            AddNotice(Notice.WsCloseReasonInvalidUtf8);
        }

        // Directions are delivered independently: after a capture hole one side's close can be delivered after
        // the other side's reply, so which close came first is decided by packet time, not delivery order.
        var record = new CloseRecord(fromClient, close, time);
        if (FirstClose is null)
        {
            FirstClose = record;
        }
        else if (record.Time < FirstClose.Time)
        {
            ReplyClose = FirstClose;
            FirstClose = record;
        }
        else
        {
            ReplyClose ??= record;
        }
    }

    private enum DirectionMode : byte
    {
        Head = 0,
        Frames = 1,
        Ignored = 2,

        /// <summary>No handshake: looking for a chain of frames (<see cref="FrameChainProbe"/>).</summary>
        Probe = 3,
    }

    /// <summary>One direction's decoding state; the frame handler for that direction.</summary>
    private sealed class DirectionState(WebSocketSession session, FlowDirection direction) : IFrameHandler
    {
        // Only for a direction that looks for frames without a handshake: connections with one never allocate it.
        private StrongBox<FrameChainProbe>? _probe;

        public FlowDirection Direction => direction;

        public ref FrameChainProbe Probe => ref (_probe ??= new()).Value;

        private HttpHeadParser? _parser;
        private bool _messageOpen;

        /// <summary>Set once compression was agreed: reads this direction's compressed payloads.</summary>
        public DirectionInflation? Inflater { get; private set; }

        public void AttachInflater(DirectionInflation inflater)
        {
            Inflater = inflater;
            if (Decoder is not null)
            {
                Decoder.PayloadHandler = inflater;
            }
        }

        public DirectionMode Mode { get; private set; }

        public FrameDecoder? Decoder { get; private set; }

        public bool SentClose { get; set; }

        private ChunkedBodySkipper _chunked;
        private HttpHead? _truncatedHead;

        // The snap length cut this direction where a frame header (or the rest of a head) lay: decoding waits for a
        // segment that starts with a frame.
        private bool _resumePending;
        private HttpHeadEndFinder _headEnd;

        /// <summary>Bytes of a plain HTTP message body still to step over before the next head.</summary>
        public long BodyToSkip { get; set; }

        /// <summary>A plain HTTP message's chunked body is being stepped over before the next head.</summary>
        public bool InChunkedBody { get; set; }

        /// <summary>The frames decoded in a broken chain are forgotten; the probe's budget stays spent.</summary>
        public void ResetTentative()
        {
            Decoder?.Reset();
            SentClose = false;
            _messageOpen = false;
            if (_probe is not null)
            {
                _probe.Value.Abandon();
            }
        }

        /// <summary>Back to reading heads, at the next piece.</summary>
        public void StopProbing()
        {
            _probe = null;
            if (Mode == DirectionMode.Probe)
            {
                ExpectHead();
            }
        }

        /// <summary>The session is recognised: frames are decoded from here on as after a handshake.</summary>
        public void EndProbing()
        {
            _probe = null;
            if (Mode == DirectionMode.Probe)
            {
                Mode = DirectionMode.Frames;
            }
        }

        public void ExpectHead()
        {
            Mode = DirectionMode.Head;
            BodyToSkip = 0;
            InChunkedBody = false;
            _chunked = default;
            _truncatedHead = null;
            _parser?.Reset();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void OnData(ReadOnlySpan<byte> data, Timestamp time)
        {
            while (!data.IsEmpty)
            {
                switch (Mode)
                {
                    case DirectionMode.Frames:
                        if (_resumePending && !TryResume(data))
                        {
                            return;
                        }

                        Decoder!.Decode(data, this, time);
                        if (Decoder.Stop == FrameDecoderStop.InvalidLength)
                        {
                            session.AddNotice(Notice.WsFrameLengthInvalid);
                        }

                        return;
                    case DirectionMode.Ignored:
                        return;
                    case DirectionMode.Probe:
                        session.OnProbeData(this, data, time);
                        return;
                }

                if (BodyToSkip > 0)
                {
                    var skipped = (int)Math.Min(BodyToSkip, data.Length);
                    BodyToSkip -= skipped;
                    data = data[skipped..];
                    continue;
                }

                if (_truncatedHead is not null)
                {
                    // The rest of a head longer than the cap: stepped over, then the head is read as far as it was kept.
                    if (!_headEnd.Find(data, out int headBytes))
                    {
                        return;
                    }

                    data = data[headBytes..];
                    var truncated = _truncatedHead;
                    _truncatedHead = null;
                    session.AddNotice(Notice.HttpHeadTruncated);
                    SetMode(session.OnHead(direction, truncated, time));
                    continue;
                }

                if (InChunkedBody)
                {
                    var body = _chunked.Skip(data, out int chunkBytes);
                    data = data[chunkBytes..];
                    if (body == ChunkedBodyStatus.NeedMoreData)
                    {
                        return;
                    }

                    InChunkedBody = false;
                    if (body == ChunkedBodyStatus.Malformed)
                    {
                        SetMode(DirectionMode.Ignored);
                        session.OnHeadFailed(direction, HttpHeadStatus.Malformed);
                        return;
                    }

                    continue;
                }

                _parser ??= new HttpHeadParser(session._options.MaxHttpHeadBytes);
                var pieceStart = data;
                var headStartsHere = _parser.HeadByteCount == 0;
                var status = _parser.Append(data, out var consumed);
                data = data[consumed..];
                switch (status)
                {
                    case HttpHeadStatus.NeedMoreData:
                        return;
                    case HttpHeadStatus.Complete:
                        var head = _parser.Head!;
                        _parser.Reset();
                        SetMode(session.OnHead(direction, head, time));
                        break;
                    case HttpHeadStatus.TooLarge when _parser.TruncatedHead() is { } kept:
                        _truncatedHead = kept;
                        _headEnd = new HttpHeadEndFinder(_parser.StoppedAtLineStart);
                        _parser = null;
                        break;
                    case HttpHeadStatus.Malformed when session.CanProbe:
                        // Not HTTP, before any HTTP on the connection: perhaps WebSocket frames of a session whose
                        // handshake was not captured. A chain may start at this piece when the non-HTTP bytes began
                        // with it, else at the next one.
                        _parser.Reset();
                        session.StartProbing();
                        SetMode(DirectionMode.Probe);
                        if (!headStartsHere)
                        {
                            return;
                        }

                        data = pieceStart;
                        break;
                    default:
                        SetMode(DirectionMode.Ignored);
                        session.OnHeadFailed(direction, status);
                        return;
                }
            }
        }

        public void OnGap(long missingBytes, GapCause cause, Timestamp time)
        {
            var cutBySnapLength = cause == GapCause.SnapLength;
            if (cutBySnapLength)
            {
                session.AddNotice(Notice.CaptureSnapLength);
            }

            switch (Mode)
            {
                case DirectionMode.Probe:
                    session.OnProbeGap(this, missingBytes, time);
                    return;
                case DirectionMode.Frames:
                    if (Decoder!.IsStopped || _resumePending)
                    {
                        return;
                    }

                    if (Decoder.SkipGap(missingBytes, this, time))
                    {
                        if (!cutBySnapLength)
                        {
                            session.AddNotice(Notice.TcpGapInStream);
                        }
                    }
                    else if (cutBySnapLength)
                    {
                        // A frame header lies in the cut tail; the next segment most likely starts with a frame.
                        _resumePending = true;
                    }
                    else
                    {
                        session.AddNotice(Notice.TcpGapOverFrameHeader);
                    }

                    return;
                case DirectionMode.Head when cutBySnapLength && _parser?.CutHead() is { } cutHead:
                    SetMode(session.OnCutHead(direction, cutHead, time));
                    _parser?.Reset();
                    if (Mode == DirectionMode.Frames)
                    {
                        // The rest of the head is in the cut: frames start at the next segment, checked there.
                        _resumePending = true;
                    }
                    else if (Mode == DirectionMode.Ignored)
                    {
                        session.OnHeadFailed(direction, HttpHeadStatus.Malformed);
                    }

                    return;
                case DirectionMode.Head when missingBytes <= BodyToSkip:
                    // Lost inside a plain message's body, which is skipped anyway.
                    BodyToSkip -= missingBytes;
                    return;
                case DirectionMode.Head when InChunkedBody && _chunked.SkipGap(missingBytes):
                    return;
                case DirectionMode.Head:
                    // The head's bytes are lost: its meaning can't be recovered, so stop reading this direction.
                    Mode = DirectionMode.Ignored;
                    if (session.Phase != SessionPhase.Detecting)
                    {
                        session.AddNotice(Notice.TcpGapInHandshake);
                    }

                    session.OnHeadFailed(direction, HttpHeadStatus.Malformed);
                    return;
            }
        }

        public void OnFrame(in FrameHeader header, in ControlPayload controlPayload, Timestamp time) =>
            session.OnFrame(direction, header, controlPayload, time);

        /// <summary>
        /// At the start of a segment after a cut tail: decoding resumes here when the segment starts with a well-formed
        /// frame header masked as this side's frames must be; otherwise the next segment is tried.
        /// </summary>
        private bool TryResume(ReadOnlySpan<byte> data)
        {
            var status = FrameHeader.TryParse(data, out var header);
            var plausible = status switch
            {
                FrameHeaderStatus.Complete => header.IsStrictlyWellFormed && header.IsMasked == session.IsClient(direction),

                // Fewer bytes than a header: the first two say enough (the gap after them stops the decoder anyway).
                FrameHeaderStatus.NeedMoreData => data.Length >= 2 && ((data[1] & 0x80) != 0) == session.IsClient(direction)
                    && (data[0] & 0x30) == 0,
                _ => false,
            };
            if (!plausible)
            {
                return false;
            }

            _resumePending = false;
            Decoder!.ResumeAtFrameStart();
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void TrackFragmentation(in FrameHeader header)
        {
            // RFC 6455 5.4: a message is one unfragmented frame or a first frame, continuations, and a FIN continuation.
            if (header.Opcode == WebSocketOpcode.Continuation)
            {
                if (!_messageOpen)
                {
                    session.AddNotice(Notice.WsContinuationWithoutStart);
                }

                _messageOpen = !header.Fin;
                return;
            }

            if (!header.IsKnownOpcode)
            {
                return;
            }

            if (_messageOpen)
            {
                session.AddNotice(Notice.WsFragmentedMessageInterrupted);
            }

            _messageOpen = !header.Fin;
        }

        private void SetMode(DirectionMode mode)
        {
            Mode = mode;
            if (mode != DirectionMode.Head)
            {
                // Up to a head's worth of buffer: not kept for the rest of a long connection.
                _parser = null;
            }

            if (mode is DirectionMode.Frames or DirectionMode.Probe)
            {
                Decoder ??= new FrameDecoder(session._options.MaxControlPayloadBytes) { PayloadHandler = Inflater };
            }
        }
    }
}

/// <summary>A close frame as the session saw it.</summary>
public sealed record CloseRecord(bool FromClient, CloseFrame Frame, Timestamp Time);

/// <summary>Frames and their payload bytes sent by one side.</summary>
public readonly record struct FrameCounts(long Frames, long PayloadBytes);
