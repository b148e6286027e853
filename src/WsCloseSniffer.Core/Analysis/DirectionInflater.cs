using WsCloseSniffer.Capture;
using WsCloseSniffer.Http;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Inflates one direction's compressed messages (RFC 7692 permessage-deflate, or deflate-frame frame by frame) as their
/// payloads go by: counts the decompressed sizes, checks inflated text as UTF-8, and writes what it finds and what went
/// wrong into <see cref="Findings"/>, which the session takes in when it ends. Only compressed payloads reach it;
/// uncompressed ones stay skipped by the frame decoder. It is driven by <see cref="DirectionInflation"/>, on the
/// analysis thread or on an inflation worker, always with one direction's calls in their order.
/// </summary>
/// <remarks>
/// Uncompressed text is not checked as UTF-8: that would mean reading and unmasking every text payload of every
/// session (the hot path skips them unread), or keeping a tail of each direction's last message in case a 1007
/// follows (memory per connection times 100,000 connections). A compressed message is read anyway to be inflated,
/// so checking its text costs little more.
/// </remarks>
internal sealed class DirectionInflater : IDisposable
{
    /// <summary>A message this many times its compressed size, and at least <see cref="RatioMinimumBytes"/>, is named as a possible bomb.</summary>
    public const int SuspiciousRatio = 200;

    public const long RatioMinimumBytes = 1024 * 1024;

    private readonly bool _perFrame;

    // Without context takeover the sender starts each unit with an empty window: the inflater can go between units.
    private readonly bool _resetsContext;
    private readonly long _limit;

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

    // Messages this direction completed, as the evidence counts them: the number of the open one is one more.
    private long _messages;
    private long _messageWireBytes;
    private DirectionInflationFindings _findings;

    public DirectionInflater(bool fromClient, DeflateParameters parameters, long limit)
    {
        _perFrame = parameters.Extension == DeflateExtension.PerFrame;
        _resetsContext = parameters.NoContextTakeover(fromClient);
        _limit = limit;
    }

    /// <summary>What the inflation found so far; complete once every call for the direction has been made.</summary>
    public ref readonly DirectionInflationFindings Findings => ref _findings;

    /// <summary>
    /// A data frame's header is complete. <paramref name="inflaterRefused"/>: the frame starts a compressed unit and
    /// the budget had no inflater for it (<see cref="DirectionInflation"/> keeps the budget, in frame order).
    /// </summary>
    public void OnFrameStart(in FrameHeader header, bool inflaterRefused)
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
            _messageWireBytes = 0;
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
            return;
        }

        if (_perFrame ? header.Rsv1 : header.Rsv1 && opcode != WebSocketOpcode.Continuation)
        {
            BeginUnit(inflaterRefused);
        }
        else if (_perFrame)
        {
            // An uncompressed frame inside a text message: its bytes are not read, so the text cannot be checked whole.
            _textChecked = false;
        }
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
    /// A data frame completed (after its payload went by). When it ends a compressed message, the message's size (as
    /// inflated, or as on the wire when it could not be) goes into the findings; <paramref name="countsAsLast"/>: the
    /// evidence keeps this message as its direction's last one (it came before the direction's close frame).
    /// </summary>
    public void OnDataFrame(in FrameHeader header, Timestamp time, bool countsAsLast)
    {
        if (header.Opcode is not (WebSocketOpcode.Text or WebSocketOpcode.Binary or WebSocketOpcode.Continuation))
        {
            return;
        }

        _messageWireBytes += (long)header.PayloadLength;

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
            return;
        }

        if (_messageText && _messageCompressed && _textChecked && !_textReported && !_utf8.Complete())
        {
            ReportInvalidText(time);
        }

        _messages++;
        if (_messageCompressed)
        {
            _findings.OnMessage(_messages, _messageSizeKnown ? _messageBytes : _messageWireBytes, countsAsLast);
        }
    }

    /// <summary>The connection ended: the inflater's memory goes back.</summary>
    public void Dispose()
    {
        ReleaseInflater();
        _stopped = true;
    }

    private void BeginUnit(bool inflaterRefused)
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
            if (inflaterRefused)
            {
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
            _findings.OnUnitInflated(_unit.Bytes);
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
            _findings.OnUnitInflated(_unit.Bytes);
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
            _findings.Notices |= InflationNotices.RatioSuspicious;
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
                _findings.Notices |= InflationNotices.CapReached;
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
                    _findings.Notices |= InflationNotices.ContextMissing;
                    return;
                }

                _findings.OnFailure(_messages + 1, time);
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
        _findings.OnInvalidText(_messages + 1, time);
    }

    private void ReleaseInflater()
    {
        if (_inflater is not null)
        {
            // The zlib state waits in this thread's pool for a later unit (this direction's or another's) to reset and reuse.
            MessageInflaterPool.Return(_inflater);
            _inflater = null;
        }
    }
}

/// <summary>Notices one direction's inflation can give the session.</summary>
[Flags]
internal enum InflationNotices : byte
{
    None = 0,
    InvalidData = 1,
    ContextMissing = 2,
    RatioSuspicious = 4,
    CapReached = 8,
    TextInvalidUtf8 = 16,
}

/// <summary>
/// What one direction's inflation found: kept apart from the session while the inflation may run on another thread,
/// and taken in by it once the connection ended and every call for the direction was made.
/// </summary>
internal struct DirectionInflationFindings
{
    public InflationNotices Notices;

    /// <summary>Messages that failed to inflate (invalid DEFLATE data); the first one's number and time.</summary>
    public long Failures;
    public long FirstFailureMessage;
    public Timestamp FirstFailureTime;

    /// <summary>The first inflated text message that is not UTF-8 (0: none).</summary>
    public long FirstInvalidTextMessage;
    public Timestamp FirstInvalidTextTime;

    /// <summary>The largest compressed message's size, and the last one's the evidence keeps (number 0: none).</summary>
    public long LargestMessageBytes;
    public long LastMessageNumber;
    public long LastMessageBytes;

    /// <summary>Units inflated to their end or to the cap, and the bytes they inflated to.</summary>
    public long Units;
    public long Bytes;

    public void OnMessage(long number, long bytes, bool countsAsLast)
    {
        LargestMessageBytes = Math.Max(LargestMessageBytes, bytes);
        if (countsAsLast)
        {
            LastMessageNumber = number;
            LastMessageBytes = bytes;
        }
    }

    public void OnUnitInflated(long bytes)
    {
        Units++;
        Bytes += bytes;
    }

    public void OnFailure(long message, Timestamp time)
    {
        Notices |= InflationNotices.InvalidData;
        if (Failures++ == 0)
        {
            FirstFailureMessage = message;
            FirstFailureTime = time;
        }
    }

    public void OnInvalidText(long message, Timestamp time)
    {
        Notices |= InflationNotices.TextInvalidUtf8;
        if (FirstInvalidTextMessage == 0)
        {
            FirstInvalidTextMessage = message;
            FirstInvalidTextTime = time;
        }
    }
}
