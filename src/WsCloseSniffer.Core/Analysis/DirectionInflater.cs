using WsCloseSniffer.Capture;
using WsCloseSniffer.Http;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Inflates one direction's compressed messages (RFC 7692 permessage-deflate, or deflate-frame frame by frame) as their
/// payloads go by: counts the decompressed sizes, checks inflated text as UTF-8, and turns what goes wrong into
/// evidence and notices. Only compressed payloads reach it; uncompressed ones stay skipped by the frame decoder.
/// </summary>
/// <remarks>
/// Uncompressed text is not checked as UTF-8: that would mean reading and unmasking every text payload of every
/// session (the hot path skips them unread), or keeping a tail of each direction's last message in case a 1007
/// follows (memory per connection times 100,000 connections). A compressed message is read anyway to be inflated,
/// so checking its text costs little more.
/// </remarks>
internal sealed class DirectionInflater : IFramePayloadHandler, IDisposable
{
    /// <summary>A message this many times its compressed size, and at least <see cref="RatioMinimumBytes"/>, is named as a possible bomb.</summary>
    public const int SuspiciousRatio = 200;

    public const long RatioMinimumBytes = 1024 * 1024;

    private readonly WebSocketSession _session;
    private readonly bool _fromClient;
    private readonly bool _perFrame;

    // Without context takeover the sender starts each unit with an empty window: the inflater can go between units.
    private readonly bool _resetsContext;
    private readonly long _limit;
    private readonly InflaterBudget _budget;

    private MessageInflater? _inflater;

    // Set once the window the sender may refer back into is not all here: a gap, a refused inflater, a stream that
    // ended (BFINAL) or was cut at the cap. Failures then are the capture's, not the sender's.
    private bool _contextLost;

    // A real failure with context takeover: everything after it in this direction is garbage to the receiver too.
    private bool _stopped;

    private bool _messageText;
    private bool _messageCompressed;
    private bool _messageSizeKnown;
    private long _messageBytes;
    private bool _textChecked;
    private bool _textReported;
    private Utf8Validator _utf8;

    private bool _unitOpen;
    private bool _unitBroken;
    private bool _unitLimited;

    // The DEFLATE stream ended (BFINAL) inside the unit: the unit is whole, the rest of its payload is not read.
    private bool _unitEnded;
    private long _unitWireBytes;
    private InflatedUnit _unit;

    public DirectionInflater(WebSocketSession session, bool fromClient, DeflateParameters parameters, long limit, InflaterBudget budget)
    {
        _session = session;
        _fromClient = fromClient;
        _perFrame = parameters.Extension == DeflateExtension.PerFrame;
        _resetsContext = parameters.NoContextTakeover(fromClient);
        _limit = limit;
        _budget = budget;
    }

    public bool WantsPayload(in FrameHeader header)
    {
        var opcode = header.Opcode;
        if (opcode is WebSocketOpcode.Text or WebSocketOpcode.Binary)
        {
            if (_unitOpen)
            {
                // A new message while a compressed one was still open (RFC 6455 5.4 forbids it): that unit never ends.
                _unitOpen = false;
                ReleaseInflater();
                _contextLost |= !_resetsContext;
            }

            _unit = default;
            _messageText = opcode == WebSocketOpcode.Text;
            _messageCompressed = false;
            _messageSizeKnown = true;
            _messageBytes = 0;
            _textChecked = _messageText;
            _textReported = false;
            _utf8.Reset();
        }
        else if (opcode != WebSocketOpcode.Continuation)
        {
            return false;
        }

        if (_perFrame ? header.Rsv1 : header.Rsv1 && opcode != WebSocketOpcode.Continuation)
        {
            BeginUnit();
            return !_unitBroken;
        }

        if (_perFrame)
        {
            // An uncompressed frame inside a text message: its bytes are not read, so the text cannot be checked whole.
            _textChecked = false;
            return false;
        }

        return _unitOpen && !_unitBroken;
    }

    public void OnPayload(in FrameHeader header, ReadOnlySpan<byte> bytes, long payloadOffset, Timestamp time)
    {
        if (!_unitOpen || _unitBroken || _unitEnded)
        {
            return;
        }

        _unitWireBytes += bytes.Length;
        var status = _inflater!.Inflate(bytes, header.IsMasked ? header.MaskKey : 0, payloadOffset, ref _unit);
        OnStatus(status, time);
        ReportInvalidText(time);
    }

    public void OnPayloadGap(in FrameHeader header, long missingBytes)
    {
        if (!_unitOpen || _unitBroken || _unitEnded)
        {
            return;
        }

        // The DEFLATE bit stream is cut: this unit cannot be inflated, and with context takeover neither can anything
        // that refers back into it.
        _unitBroken = true;
        _textChecked = false;
        ReleaseInflater();
        _contextLost |= !_resetsContext;
    }

    /// <summary>
    /// A data frame completed (after its payload went by). Returns the message's decompressed size when the frame
    /// ends a message that was inflated, for the evidence; null to keep the wire size.
    /// </summary>
    public long? OnDataFrame(in FrameHeader header, Timestamp time)
    {
        if (header.Opcode is not (WebSocketOpcode.Text or WebSocketOpcode.Binary or WebSocketOpcode.Continuation))
        {
            return null;
        }

        var compressedFrame = _perFrame ? header.Rsv1 : _unitOpen;
        if (compressedFrame && _unitOpen)
        {
            if (_perFrame || header.Fin)
            {
                EndUnit(time);
            }
        }
        else if (_perFrame)
        {
            _messageBytes += (long)header.PayloadLength;
        }

        ReportInvalidText(time);
        if (!header.Fin)
        {
            return null;
        }

        if (_messageText && _messageCompressed && _textChecked && !_textReported && !_utf8.Complete())
        {
            ReportInvalidText(time);
        }

        return _messageCompressed && _messageSizeKnown ? _messageBytes : null;
    }

    public void Dispose()
    {
        ReleaseInflater();
        _stopped = true;
    }

    private void BeginUnit()
    {
        _messageCompressed = true;
        _unitOpen = true;
        _unitBroken = false;
        _unitLimited = false;
        _unitEnded = false;
        _unitWireBytes = 0;
        _unit = new InflatedUnit(_limit, _messageText && _textChecked, _utf8);
        if (_stopped)
        {
            BreakUnit();
            return;
        }

        if (_inflater is null)
        {
            if (!_budget.TryTake())
            {
                _session.AddNotice(Notice.WsDeflateNotInflated);
                _contextLost |= !_resetsContext;
                BreakUnit();
                return;
            }

            _inflater = MessageInflaterPool.Rent();

            // A fresh inflater has every byte a sender that resets its window can refer to.
            if (_resetsContext)
            {
                _contextLost = false;
            }
        }
    }

    private void BreakUnit()
    {
        _unitBroken = true;
        _messageSizeKnown = false;
        _textChecked = false;
    }

    private void EndUnit(Timestamp time)
    {
        _unitOpen = false;
        if (!_unitBroken && !_unitEnded)
        {
            OnStatus(_inflater!.EndUnit(ref _unit), time);
        }

        if (_unitLimited)
        {
            // Counted up to the cap: the size is a lower bound, still more telling than the wire size.
            _messageBytes += _unit.Bytes;
            _budget.CountInflated(_unit.Bytes);
            CheckRatio();
        }
        else if (_unitBroken)
        {
            _messageSizeKnown = false;
            _messageBytes += _unitWireBytes;
        }
        else
        {
            _messageBytes += _unit.Bytes;
            _utf8 = _unit.Utf8;
            _budget.CountInflated(_unit.Bytes);
            CheckRatio();
        }

        if (_resetsContext)
        {
            ReleaseInflater();
        }
    }

    private void CheckRatio()
    {
        if (_unit.Bytes >= RatioMinimumBytes && _unit.Bytes >= SuspiciousRatio * Math.Max(1, _unitWireBytes))
        {
            _session.AddNotice(Notice.WsDeflateRatioSuspicious);
        }
    }

    private void OnStatus(InflateStatus status, Timestamp time)
    {
        switch (status)
        {
            case InflateStatus.Ok:
                return;
            case InflateStatus.StreamEnded:
                // The unit is whole; a sender with context takeover may still refer back past the ended stream.
                _unitEnded = true;
                ReleaseInflater();
                _contextLost |= !_resetsContext;
                return;
            case InflateStatus.LimitReached:
                _session.AddNotice(Notice.WsInflateCapReached);
                _unitBroken = true;
                _unitLimited = true;
                _textChecked = false;
                ReleaseInflater();
                _contextLost |= !_resetsContext;
                return;
            default:
                ReleaseInflater();
                _unitBroken = true;
                _messageSizeKnown = false;
                _textChecked = false;
                if (_contextLost)
                {
                    _session.AddNotice(Notice.WsDeflateContextMissing);
                    return;
                }

                _session.AddNotice(Notice.WsDeflateInvalidData);
                _session.Evidence.OnInflateFailure(_fromClient, time);
                _stopped |= !_resetsContext;
                return;
        }
    }

    private void ReportInvalidText(Timestamp time)
    {
        if (_textReported || !_messageText || !_messageCompressed || !(_unit.Utf8.IsInvalid || _utf8.IsInvalid))
        {
            return;
        }

        _textReported = true;
        _session.AddNotice(Notice.WsTextInvalidUtf8);
        _session.Evidence.OnInvalidText(_fromClient, time);
    }

    private void ReleaseInflater()
    {
        if (_inflater is not null)
        {
            // The zlib state waits in this thread's pool for a later unit (this direction's or another's) to reset and reuse.
            MessageInflaterPool.Return(_inflater);
            _inflater = null;
            _budget.Return();
        }
    }
}
