using System.Runtime.CompilerServices;

namespace WsCloseSniffer.WebSockets;

/// <summary>What a <see cref="FrameChainProbe"/> made of the bytes it was given.</summary>
public enum FrameChainStep : byte
{
    /// <summary>The bytes continue the chain (or started one).</summary>
    Continues = 0,

    /// <summary>The bytes cannot be WebSocket frames following the chain: the chain is dropped, a new one may start at the next segment.</summary>
    Broken = 1,

    /// <summary>No chain in progress and this piece does not start with a well-formed frame header: nothing to follow.</summary>
    NoChain = 2,
}

/// <summary>
/// Recognises WebSocket frames in one direction of a stream whose handshake is not in the capture: follows a chain of
/// frames from the start of a segment, each header strictly well formed (<see cref="FrameHeader.IsStrictlyWellFormed"/>),
/// all masked or all unmasked, messages fragmented as RFC 6455 5.4 allows, text (uncompressed) valid UTF-8 and close
/// frames with a code that may be sent (7.4) and a UTF-8 reason. Random or other protocols' bytes break such a chain
/// within a few bytes; how many frames, and how many of them end exactly where a segment ends, is the evidence.
/// Holds no payload: a 14-byte header, the UTF-8 decoder's state and counters.
/// </summary>
public struct FrameChainProbe
{
    /// <summary>Chains a direction may start before it is given up on (only starts at a well-formed header count).</summary>
    public const int MaxChainStarts = 16;

    /// <summary>Bytes examined in a direction before it is given up on while it shows no chain (<see cref="ShowsFrames"/>).</summary>
    public const long MaxExaminedBytes = 1024 * 1024;

    /// <summary>Frames, each ending where a segment ends, that make a chain evidence (without a close frame).</summary>
    public const int MinAlignedFrames = 2;

    // Text and close reasons are unmasked this many bytes at a time, on the stack, to be checked as UTF-8.
    private const int UnmaskedPieceBytes = 256;

    private HeaderBytes _header;
    private int _headerHeld;
    private FrameHeader _current;
    private bool _inPayload;
    private long _payloadRead;
    private bool _messageOpen;
    private bool _messageKnown;
    private bool _validateText;
    private Utf8Validator _text;
    private Utf8Validator _closeReason;
    private int _closeCodeHigh;

    /// <summary>A chain is being followed.</summary>
    public bool IsChaining { readonly get; private set; }

    /// <summary>The chain's frames are masked (a client's); meaningful while <see cref="IsChaining"/>.</summary>
    public bool IsMasked { readonly get; private set; }

    /// <summary>Frames completed in the current chain.</summary>
    public int Frames { readonly get; private set; }

    /// <summary>Frames of the current chain (control frames, or data frames with a payload) whose last byte was the last byte of a segment.</summary>
    public int AlignedFrames { readonly get; private set; }

    /// <summary>The current chain holds a complete, valid close frame that ended a segment.</summary>
    public bool SawAlignedClose { readonly get; private set; }

    /// <summary>Chains started so far.</summary>
    public int Starts { readonly get; private set; }

    /// <summary>Bytes given while the direction showed no chain.</summary>
    public long ExaminedBytes { readonly get; private set; }

    /// <summary>The chain is evidence of WebSocket frames in this direction: enough aligned frames, or a close frame.</summary>
    public readonly bool ShowsFrames => IsChaining && (AlignedFrames >= MinAlignedFrames || SawAlignedClose);

    /// <summary>The budget is spent: no chain may start any more, or too many bytes went by without one.</summary>
    public readonly bool IsExhausted => !ShowsFrames && (ExaminedBytes > MaxExaminedBytes || (!IsChaining && Starts >= MaxChainStarts));

    /// <summary>
    /// One piece of the stream that starts a segment (<paramref name="atSegmentStart"/>) or continues the previous
    /// piece. A chain starts only at a segment start; the last byte of the piece is taken as a segment's end.
    /// </summary>
    public FrameChainStep Feed(ReadOnlySpan<byte> data, bool atSegmentStart)
    {
        if (!ShowsFrames)
        {
            ExaminedBytes += data.Length;
        }

        if (!IsChaining)
        {
            if (!atSegmentStart || Starts >= MaxChainStarts || !StartsWithFrame(data))
            {
                return FrameChainStep.NoChain;
            }

            StartChain((data[1] & 0x80) != 0);
        }

        while (!data.IsEmpty)
        {
            if (_inPayload)
            {
                var take = (int)Math.Min((long)_current.PayloadLength - _payloadRead, data.Length);
                if (!CheckPayload(data[..take]))
                {
                    return Break();
                }

                _payloadRead += take;
                data = data[take..];
                if (_payloadRead == (long)_current.PayloadLength && !CompleteFrame(aligned: data.IsEmpty))
                {
                    return Break();
                }

                continue;
            }

            var copy = Math.Min(data.Length, FrameHeader.MaxLength - _headerHeld);
            data[..copy].CopyTo(((Span<byte>)_header)[_headerHeld..]);
            var status = FrameHeader.TryParse(((ReadOnlySpan<byte>)_header)[..(_headerHeld + copy)], out var header);
            if (status == FrameHeaderStatus.NeedMoreData)
            {
                _headerHeld += copy;
                return FrameChainStep.Continues;
            }

            if (status != FrameHeaderStatus.Complete || !Accepts(header))
            {
                return Break();
            }

            data = data[(header.HeaderLength - _headerHeld)..];
            _headerHeld = 0;
            BeginFrame(header);
            if (header.PayloadLength == 0 && !CompleteFrame(aligned: data.IsEmpty))
            {
                return Break();
            }
        }

        return FrameChainStep.Continues;
    }

    /// <summary>
    /// <paramref name="missingBytes"/> of the stream were not captured. Inside a payload the chain goes on (the bytes'
    /// content is then not checked); over a header it breaks.
    /// </summary>
    public FrameChainStep SkipGap(long missingBytes)
    {
        if (!IsChaining)
        {
            return FrameChainStep.NoChain;
        }

        if (!_inPayload || missingBytes > (long)_current.PayloadLength - _payloadRead)
        {
            return Break();
        }

        _payloadRead += missingBytes;
        _validateText = false;
        if (_current.Opcode == WebSocketOpcode.Close)
        {
            // A close frame with lost bytes cannot be checked, so it is no evidence.
            _closeCodeHigh = -2;
        }

        // Its end is not evidence: the bytes before it were not seen.
        if (_payloadRead == (long)_current.PayloadLength && !CompleteFrame(aligned: false))
        {
            return Break();
        }

        return FrameChainStep.Continues;
    }

    /// <summary>Drops the current chain (the counters of starts and examined bytes stay): the next segment may start another.</summary>
    public void Abandon() => Break();

    private FrameChainStep Break()
    {
        IsChaining = false;
        _inPayload = false;
        _headerHeld = 0;
        Frames = 0;
        AlignedFrames = 0;
        SawAlignedClose = false;
        return FrameChainStep.Broken;
    }

    private static bool StartsWithFrame(ReadOnlySpan<byte> data)
    {
        // Only the first bytes are checked here (the rest of the header may be in the next segment); the second
        // says whether the chain is masked.
        if (data.Length < FrameHeader.MinLength)
        {
            return false;
        }

        var status = FrameHeader.TryParse(data, out var header);
        return status == FrameHeaderStatus.NeedMoreData ? (data[0] & 0x30) == 0 && IsKnownOpcode(data[0])
            : status == FrameHeaderStatus.Complete && header.IsStrictlyWellFormed;
    }

    private static bool IsKnownOpcode(byte first) => (first & 0x0F) is <= 0x2 or (>= 0x8 and <= 0xA);

    private void StartChain(bool masked)
    {
        Starts++;
        IsChaining = true;
        Frames = 0;
        AlignedFrames = 0;
        SawAlignedClose = false;
        _headerHeld = 0;
        _inPayload = false;
        _messageOpen = false;
        _messageKnown = false;
        IsMasked = masked;
    }

    private readonly bool Accepts(in FrameHeader header)
    {
        if (!header.IsStrictlyWellFormed || header.IsMasked != IsMasked)
        {
            return false;
        }

        if (header.IsControl || !_messageKnown)
        {
            // The first data frame of a chain may continue a message that began before the capture.
            return true;
        }

        // RFC 6455 5.4: continuations only inside a message, a new message only after the last one ended.
        return header.Opcode == WebSocketOpcode.Continuation ? _messageOpen : !_messageOpen;
    }

    private void BeginFrame(in FrameHeader header)
    {
        _current = header;
        _inPayload = true;
        _payloadRead = 0;
        _closeCodeHigh = -1;
        _closeReason = default;
        if (header.IsControl)
        {
            return;
        }

        if (header.Opcode != WebSocketOpcode.Continuation)
        {
            // Compressed text is deflate output, not UTF-8 (RFC 7692); binary is anything.
            _validateText = header.Opcode == WebSocketOpcode.Text && !header.Rsv1;
            _text = default;
        }
        else if (!_messageKnown)
        {
            _validateText = false;
        }

        _messageKnown = true;
        _messageOpen = !header.Fin;
    }

    private bool CheckPayload(ReadOnlySpan<byte> bytes)
    {
        var isClose = _current.Opcode == WebSocketOpcode.Close;
        if (!isClose && (!_validateText || _current.IsControl))
        {
            return true;
        }

        Span<byte> clear = stackalloc byte[UnmaskedPieceBytes];
        var offset = _payloadRead;
        while (!bytes.IsEmpty)
        {
            var piece = clear[..Math.Min(clear.Length, bytes.Length)];
            FrameHeader.CopyUnmasked(bytes[..piece.Length], piece, _current.IsMasked ? _current.MaskKey : 0, offset);
            bytes = bytes[piece.Length..];
            ReadOnlySpan<byte> text = piece;
            if (isClose && offset < 2)
            {
                if (_closeCodeHigh == -2)
                {
                    return true;
                }

                // RFC 6455 5.5.1: the close code's two bytes come first, then the reason.
                var codeBytes = (int)Math.Min(2 - offset, text.Length);
                for (var i = 0; i < codeBytes; i++)
                {
                    if (offset + i == 0)
                    {
                        _closeCodeHigh = text[i];
                    }
                    else if (!CloseCode.IsValidOnWire((_closeCodeHigh << 8) | text[i]))
                    {
                        return false;
                    }
                }

                text = text[codeBytes..];
            }

            offset += piece.Length;
            ref var utf8 = ref isClose ? ref _closeReason : ref _text;
            utf8.Append(text);
            if (utf8.IsInvalid)
            {
                return false;
            }
        }

        return true;
    }

    private bool CompleteFrame(bool aligned)
    {
        _inPayload = false;
        var valid = true;
        if (_current.Opcode == WebSocketOpcode.Close)
        {
            // 1 byte cannot hold a code; a reason must end on a character boundary.
            valid = _current.PayloadLength != 1 && _closeReason.Complete();
            if (valid && aligned && _closeCodeHigh != -2)
            {
                SawAlignedClose = true;
            }
        }
        else if (!_current.IsControl && _current.Fin && _validateText)
        {
            valid = _text.Complete();
        }

        if (!valid)
        {
            return false;
        }

        Frames++;

        // Empty data frames are no evidence: a run of zero bytes parses as empty continuation frames.
        if (aligned && (_current.PayloadLength > 0 || _current.IsControl))
        {
            AlignedFrames++;
        }

        return true;
    }

    [InlineArray(FrameHeader.MaxLength)]
    private struct HeaderBytes
    {
        private byte _first;
    }
}
