using System.Runtime.CompilerServices;

using WsCloseSniffer.Capture;

namespace WsCloseSniffer.WebSockets;

/// <summary>Receives the frames one direction's <see cref="FrameDecoder"/> completes.</summary>
public interface IFrameHandler
{
    /// <summary>
    /// A frame's last payload byte went by (read or skipped over by a gap). For control frames
    /// <paramref name="controlPayload"/> holds the unmasked payload (at most
    /// <see cref="FrameDecoder.HeldControlPayloadBytes"/>); for data frames it is empty, since
    /// data payloads are counted and skipped, never held.
    /// </summary>
    void OnFrame(in FrameHeader header, in ControlPayload controlPayload, Timestamp time);
}

/// <summary>
/// Receives the payload bytes of the data frames it asks for, for the few frames whose content is read (compressed
/// messages). A decoder without one never looks at data payloads.
/// </summary>
public interface IFramePayloadHandler
{
    /// <summary>A data frame's header is complete; true asks for its payload through <see cref="OnPayload"/>.</summary>
    bool WantsPayload(in FrameHeader header);

    /// <summary>
    /// Payload bytes as on the wire (still masked) starting <paramref name="payloadOffset"/> bytes into the frame;
    /// called zero or more times per wanted frame, before that frame's <see cref="IFrameHandler.OnFrame"/>.
    /// </summary>
    void OnPayload(in FrameHeader header, ReadOnlySpan<byte> bytes, long payloadOffset, Timestamp time);

    /// <summary>Bytes of a wanted frame's payload were lost in the capture.</summary>
    void OnPayloadGap(in FrameHeader header, long missingBytes);
}

/// <summary>The held part of a control frame's payload and whether it is all of it.</summary>
public readonly ref struct ControlPayload
{
    public ControlPayload(ReadOnlySpan<byte> bytes, bool isComplete)
    {
        Bytes = bytes;
        IsComplete = isComplete;
    }

    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>False when a gap fell inside the payload or it was longer than the decoder holds.</summary>
    public bool IsComplete { get; }
}

/// <summary>Why a direction's frame decoding stopped for good.</summary>
public enum FrameDecoderStop : byte
{
    None = 0,
    /// <summary>A gap covered frame-header bytes: frame boundaries are lost (no resync on guesses).</summary>
    GapOverHeader = 1,
    /// <summary>A frame announced a 64-bit length with the top bit set.</summary>
    InvalidLength = 2,
}

/// <summary>
/// Incremental RFC 6455 frame decoder for one direction. Holds at most a header (14 bytes) and a
/// control payload; data payloads are counted and skipped, so memory does not depend on the input.
/// </summary>
public sealed class FrameDecoder
{
    /// <summary>RFC 6455 5.5: control frames carry at most 125 bytes.</summary>
    public const int MaxControlPayloadLength = 125;

    /// <summary>
    /// The default hold: oversized control frames (a protocol violation seen in real captures) are still
    /// held up to this many bytes, so their close code and reason can be reported as Wireshark does.
    /// </summary>
    public const int MaxHeldControlPayloadBytes = 1024;

    private readonly byte[] _header = new byte[FrameHeader.MaxLength];
    private readonly int _controlHoldBytes;

    // Allocated on the first control frame: a direction that sends none (or a connection that turns out not
    // to be WebSocket) costs nothing for it.
    private byte[]? _control;

    /// <param name="heldControlPayloadBytes">
    /// How much of a control frame's payload is held (at least the RFC's 125, so every valid one is whole).
    /// </param>
    public FrameDecoder(int heldControlPayloadBytes = MaxHeldControlPayloadBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(heldControlPayloadBytes, MaxControlPayloadLength);
        _controlHoldBytes = heldControlPayloadBytes;
    }

    public int HeldControlPayloadBytes => _controlHoldBytes;

    /// <summary>Set to read the payloads of the data frames it wants; null (the default) skips every data payload.</summary>
    public IFramePayloadHandler? PayloadHandler { get; set; }

    private int _headerHeld;
    private bool _deliverPayload;
    private bool _inPayload;
    private FrameHeader _current;
    private long _payloadRead;
    private int _controlHeld;
    private bool _controlDamaged;

    public FrameDecoderStop Stop { get; private set; }

    public bool IsStopped => Stop != FrameDecoderStop.None;

    /// <summary>Frames completed so far.</summary>
    public long Frames { get; private set; }

    /// <summary>Payload bytes of completed frames, as on the wire.</summary>
    public long PayloadBytes { get; private set; }

    /// <summary>True while a frame has started (some header bytes or payload seen) and not completed.</summary>
    public bool IsMidFrame => _inPayload || _headerHeld > 0;

    /// <summary>Decodes every byte of <paramref name="data"/> (nothing is left unconsumed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Decode(ReadOnlySpan<byte> data, IFrameHandler handler, Timestamp time)
    {
        ArgumentNullException.ThrowIfNull(handler);
        while (!data.IsEmpty && !IsStopped)
        {
            if (_inPayload)
            {
                data = ConsumePayload(data, handler, time);
            }
            else
            {
                data = ConsumeHeader(data, handler, time);
            }
        }
    }

    /// <summary>
    /// <paramref name="missingBytes"/> of the stream were lost. Returns true when the gap fell inside a
    /// payload and decoding goes on exactly; false when it covered header bytes and decoding stopped.
    /// </summary>
    public bool SkipGap(long missingBytes, IFrameHandler handler, Timestamp time)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (IsStopped || missingBytes <= 0)
        {
            return !IsStopped;
        }

        var remaining = _inPayload ? (long)_current.PayloadLength - _payloadRead : 0;
        if (!_inPayload || missingBytes > remaining)
        {
            if (_inPayload && _deliverPayload)
            {
                // The payload's own missing tail: its reader must know the unit is broken before decoding stops.
                PayloadHandler!.OnPayloadGap(_current, remaining);
            }

            Stop = FrameDecoderStop.GapOverHeader;
            return false;
        }

        _payloadRead += missingBytes;
        if (_deliverPayload)
        {
            PayloadHandler!.OnPayloadGap(_current, missingBytes);
        }

        if (_current.IsControl)
        {
            _controlDamaged = true;
        }

        if (_payloadRead == (long)_current.PayloadLength)
        {
            CompleteFrame(handler, time);
        }

        return true;
    }

    /// <summary>
    /// Takes the next byte given to <see cref="Decode"/> as the first byte of a frame header, forgetting a frame in
    /// progress and a stop: for a stream that resumes at a known frame boundary after bytes whose frames are lost
    /// (the tail of a segment cut by the snap length, when the next segment starts with a frame).
    /// </summary>
    public void ResumeAtFrameStart()
    {
        Stop = FrameDecoderStop.None;
        _headerHeld = 0;
        _inPayload = false;
        _payloadRead = 0;
        _controlHeld = 0;
        _controlDamaged = false;
    }

    /// <summary>Forgets everything decoded, counters included, as if newly created (the held buffers are kept).</summary>
    public void Reset()
    {
        ResumeAtFrameStart();
        Frames = 0;
        PayloadBytes = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<byte> ConsumeHeader(ReadOnlySpan<byte> data, IFrameHandler handler, Timestamp time)
    {
        FrameHeaderStatus status;
        FrameHeader header;
        int used;
        if (_headerHeld == 0)
        {
            // Common case: the whole header is in this segment, parse it in place.
            status = FrameHeader.TryParse(data, out header);
            if (status == FrameHeaderStatus.NeedMoreData)
            {
                data.CopyTo(_header);
                _headerHeld = data.Length;
                return default;
            }

            used = header.HeaderLength;
        }
        else
        {
            var take = Math.Min(data.Length, FrameHeader.MaxLength - _headerHeld);
            data[..take].CopyTo(_header.AsSpan(_headerHeld));
            var available = _headerHeld + take;
            status = FrameHeader.TryParse(_header.AsSpan(0, available), out header);
            if (status == FrameHeaderStatus.NeedMoreData)
            {
                _headerHeld = available;
                return data[take..];
            }

            used = header.HeaderLength - _headerHeld;
            _headerHeld = 0;
        }

        if (status == FrameHeaderStatus.InvalidLength)
        {
            Stop = FrameDecoderStop.InvalidLength;
            return default;
        }

        _current = header;
        _payloadRead = 0;
        _controlHeld = 0;
        _controlDamaged = false;
        _inPayload = true;
        _deliverPayload = PayloadHandler is { } payloadHandler && !header.IsControl && payloadHandler.WantsPayload(header);
        if (header.PayloadLength == 0)
        {
            CompleteFrame(handler, time);
        }

        return data[used..];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<byte> ConsumePayload(ReadOnlySpan<byte> data, IFrameHandler handler, Timestamp time)
    {
        var remaining = (long)_current.PayloadLength - _payloadRead;
        var take = (int)Math.Min(remaining, data.Length);
        if (_current.IsControl)
        {
            HoldControlBytes(data[..take]);
        }
        else if (_deliverPayload)
        {
            PayloadHandler!.OnPayload(_current, data[..take], _payloadRead, time);
        }

        _payloadRead += take;
        if (_payloadRead == (long)_current.PayloadLength)
        {
            CompleteFrame(handler, time);
        }

        return data[take..];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void HoldControlBytes(ReadOnlySpan<byte> bytes)
    {
        // A control payload is held from offset 0 only; after a gap inside it the rest is not worth holding.
        if (_controlDamaged || _payloadRead != _controlHeld)
        {
            return;
        }

        // Sized for this frame (close frames are a few bytes), not for the largest one held: most sessions send
        // one or two small control frames per direction, and 1 KiB each was a sixth of what a session allocates.
        var needed = (int)Math.Min((ulong)_controlHoldBytes, _current.PayloadLength);
        if (_control is null || _control.Length < needed)
        {
            var grown = new byte[needed];
            _control?.AsSpan(0, _controlHeld).CopyTo(grown);
            _control = grown;
        }

        var room = _control.Length - _controlHeld;
        var take = Math.Min(room, bytes.Length);
        var destination = _control.AsSpan(_controlHeld, take);
        bytes[..take].CopyTo(destination);
        if (_current.IsMasked)
        {
            FrameHeader.Unmask(destination, _current.MaskKey, _controlHeld);
        }

        _controlHeld += take;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CompleteFrame(IFrameHandler handler, Timestamp time)
    {
        _inPayload = false;
        Frames++;
        PayloadBytes += (long)_current.PayloadLength;
        var complete = !_controlDamaged && (ulong)_controlHeld == _current.PayloadLength;
        var payload = _current.IsControl
            ? new ControlPayload(_control is null ? default : _control.AsSpan(0, _controlHeld), complete)
            : new ControlPayload(default, isComplete: true);
        handler.OnFrame(_current, payload, time);
    }
}
