using System.Runtime.CompilerServices;

using WsCloseSniffer.Capture;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>A whole data message (fragments joined) as the evidence keeps it: its size, sender and end time.</summary>
public readonly record struct MessageSize(bool FromClient, long Bytes, Timestamp Time);

/// <summary>Why a compressed frame could not be inflated.</summary>
public enum InflateFailureCause : byte
{
    /// <summary>The payload is not valid DEFLATE data (RFC 7692 7.2.2).</summary>
    InvalidDeflateData = 0,

    /// <summary>RSV1 on a control frame (RFC 7692 6.1: only data messages are compressed).</summary>
    Rsv1OnControlFrame = 1,

    /// <summary>RSV1 on a continuation frame (RFC 7692 6.1: only a message's first frame carries it).</summary>
    Rsv1OnContinuation = 2,

    /// <summary>RSV1 without any negotiated extension that defines it.</summary>
    Rsv1WithoutCompression = 3,
}

/// <summary>A frame the evidence names: who sent it, the number of its message in that direction (1-based) and when.</summary>
public sealed record FrameFault(bool FromClient, long MessageNumber, Timestamp Time, InflateFailureCause Cause);

/// <summary>
/// What a session's frames say about why it ended: keepalive pings and pongs, the gaps between them, message sizes,
/// and compression misuse. Updated once per frame from headers alone (payloads stay skipped), so it costs a few
/// field updates per frame and nothing per packet.
/// </summary>
public sealed class SessionEvidence
{
    private readonly SideEvidence _client = new();
    private readonly SideEvidence _server = new();
    private Timestamp _lastKeepalive;
    private bool _anyKeepalive;
    private long _maxKeepaliveGapNanoseconds;
    private Timestamp? _tcpEndAt;

    /// <summary>When the 101 response completed: the session's open time; null when it never opened.</summary>
    public Timestamp? OpenedAt { get; private set; }

    /// <summary>Packet time of the latest frame completed in either direction; null when none.</summary>
    public Timestamp? LastFrameAt { get; private set; }

    /// <summary>
    /// Packet time of the latest frame no later than the connection's first FIN or RST (all frames while none was
    /// seen); null when none. What came before the end says how long the session was quiet, even when the other side
    /// still sent a frame or two after it (a close frame answering a proxy's FIN, say).
    /// </summary>
    public Timestamp? LastFrameBeforeEndAt { get; private set; }

    public long ClientPings => _client.Pings;
    public long ServerPings => _server.Pings;
    public long ClientPongs => _client.Pongs;
    public long ServerPongs => _server.Pongs;

    /// <summary>Pings still waiting for a pong from the other side (a pong answers every ping before it, RFC 6455 5.5.3).</summary>
    public long UnansweredPings => _client.PendingPings + _server.PendingPings;

    public long ClientLargestMessageBytes => _client.LargestMessage;
    public long ServerLargestMessageBytes => _server.LargestMessage;

    /// <summary>Messages whose first frame had RSV1 set (compressed by permessage-deflate or a predecessor).</summary>
    public long CompressedMessages { get; private set; }

    /// <summary>
    /// Messages that failed to inflate (invalid DEFLATE data) and frames that misuse RSV1: on a control frame, on a
    /// continuation, or with no compression negotiated (RFC 7692 6.1).
    /// </summary>
    public long InflateErrors { get; private set; }

    /// <summary>The first inflate failure or RSV1 misuse; null when none.</summary>
    public FrameFault? FirstInflateError { get; private set; }

    /// <summary>The first inflated text message that is not valid UTF-8; null when none.</summary>
    public FrameFault? FirstInvalidText { get; private set; }

    public bool HasKeepalive => _anyKeepalive;

    /// <summary>Pings from one side still waiting for a pong from the other.</summary>
    public long UnansweredPingsFrom(bool client) => (client ? _client : _server).PendingPings;

    /// <summary>When the oldest of one side's unanswered pings was sent; null when none is waiting.</summary>
    public Timestamp? OldestUnansweredPingFrom(bool client) => (client ? _client : _server).FirstPendingPingAt;

    /// <summary>Packet time of one side's latest frame other than a close frame; null when it sent none.</summary>
    public Timestamp? LastFrameBesidesCloseFrom(bool client) => (client ? _client : _server).LastFrameBesidesClose;

    /// <summary>The bytes so far of a data message one side began and did not finish; null when none is open.</summary>
    public long? UnfinishedMessageBytesFrom(bool client)
    {
        var side = client ? _client : _server;
        return side.InMessage ? side.MessageBytes : null;
    }

    internal void OnOpened(Timestamp time) => OpenedAt ??= time;

    /// <summary>A FIN or RST went by: frames later than the earliest one no longer count as before the end.</summary>
    internal void OnTcpEnd(Timestamp time)
    {
        if (_tcpEndAt is not Timestamp end || time < end)
        {
            _tcpEndAt = time;
        }
    }

    /// <summary>The number the next (or current, while it is open) message in that direction has: 1-based.</summary>
    public long CurrentMessageNumber(bool fromClient) => (fromClient ? _client : _server).Messages + 1;

    /// <summary>False once that side sent its close frame: messages after it are not kept as its last one.</summary>
    internal bool KeepsLastMessageFrom(bool fromClient) => !(fromClient ? _client : _server).SentClose;

    /// <summary>
    /// Takes in what inflating one direction found (once it is complete): the decompressed sizes of its compressed
    /// messages, whose wire sizes were held back, its inflate failures and its first invalid text.
    /// </summary>
    internal void OnInflated(bool fromClient, in DirectionInflationFindings findings)
    {
        var side = fromClient ? _client : _server;
        side.LargestMessage = Math.Max(side.LargestMessage, findings.LargestMessageBytes);
        if (findings.LastMessageNumber != 0 && side.LastMessageNumber == findings.LastMessageNumber && side.LastMessage is MessageSize last)
        {
            side.LastMessage = last with { Bytes = findings.LastMessageBytes };
        }

        if (findings.Failures > 0)
        {
            InflateErrors += findings.Failures;
            FirstInflateError = Earliest(FirstInflateError, new FrameFault(fromClient, findings.FirstFailureMessage, findings.FirstFailureTime, InflateFailureCause.InvalidDeflateData));
        }

        if (findings.FirstInvalidTextMessage != 0)
        {
            FirstInvalidText = Earliest(FirstInvalidText, new FrameFault(fromClient, findings.FirstInvalidTextMessage, findings.FirstInvalidTextTime, InflateFailureCause.InvalidDeflateData));
        }
    }

    // The frame evidence comes in frame order per direction, inflation findings at the end: the first is the earliest.
    private static FrameFault Earliest(FrameFault? known, FrameFault found) =>
        known is null || found.Time < known.Time ? found : known;

    /// <summary>Forgets every frame seen (frames taken for WebSocket that turned out not to be).</summary>
    internal void Reset()
    {
        _client.Clear();
        _server.Clear();
        _lastKeepalive = default;
        _anyKeepalive = false;
        _maxKeepaliveGapNanoseconds = 0;
        OpenedAt = null;
        LastFrameAt = null;
        LastFrameBeforeEndAt = null;
        CompressedMessages = 0;
        InflateErrors = 0;
        FirstInflateError = null;
        FirstInvalidText = null;
    }

    /// <param name="sizesInflated">
    /// The direction's compressed messages are inflated: their sizes come later (<see cref="OnInflated"/>), so their
    /// wire sizes do not count towards the largest message.
    /// </param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void OnFrame(bool fromClient, in FrameHeader header, bool compressionNegotiated, Timestamp time, bool sizesInflated = false, bool compressionIsPerFrame = false)
    {
        if (LastFrameAt is not Timestamp last || time > last)
        {
            LastFrameAt = time;
        }

        if ((_tcpEndAt is not Timestamp end || time <= end) && (LastFrameBeforeEndAt is not Timestamp before || time > before))
        {
            LastFrameBeforeEndAt = time;
        }

        var side = fromClient ? _client : _server;
        if (header.Opcode != WebSocketOpcode.Close && (side.LastFrameBesidesClose is not Timestamp own || time > own))
        {
            side.LastFrameBesidesClose = time;
        }

        if (header.IsControl)
        {
            if (header.Rsv1)
            {
                OnInflateError(fromClient, side.Messages + 1, time, InflateFailureCause.Rsv1OnControlFrame);
            }

            if (header.Opcode == WebSocketOpcode.Ping)
            {
                side.Pings++;
                if (side.PendingPings++ == 0)
                {
                    side.FirstPendingPingAt = time;
                }

                OnKeepalive(time);
            }
            else if (header.Opcode == WebSocketOpcode.Pong)
            {
                side.Pongs++;
                var pinger = fromClient ? _server : _client;
                pinger.PendingPings = 0;
                pinger.FirstPendingPingAt = null;
                OnKeepalive(time);
            }

            return;
        }

        if (header.Opcode == WebSocketOpcode.Continuation)
        {
            if (header.Rsv1 && !compressionIsPerFrame)
            {
                OnInflateError(fromClient, side.Messages + 1, time, InflateFailureCause.Rsv1OnContinuation);
            }
            else if (header.Rsv1 && !side.MessageCompressed)
            {
                // deflate-frame compresses frame by frame: a message is compressed once any of its frames is.
                side.MessageCompressed = true;
                CompressedMessages++;
            }
        }
        else if (header.IsKnownOpcode)
        {
            side.MessageBytes = 0;
            side.MessageCompressed = header.Rsv1;
            side.InMessage = true;
            if (header.Rsv1)
            {
                CompressedMessages++;
                if (!compressionNegotiated)
                {
                    OnInflateError(fromClient, side.Messages + 1, time, InflateFailureCause.Rsv1WithoutCompression);
                }
            }
        }
        else
        {
            return;
        }

        side.MessageBytes += (long)header.PayloadLength;
        if (header.Fin)
        {
            side.InMessage = false;
            side.Messages++;
            if (!sizesInflated || !side.MessageCompressed)
            {
                side.LargestMessage = Math.Max(side.LargestMessage, side.MessageBytes);
            }

            if (!side.SentClose)
            {
                side.LastMessage = new MessageSize(fromClient, side.MessageBytes, time);
                side.LastMessageNumber = side.Messages;
            }
        }
    }

    internal void OnCloseFrame(bool fromClient) => (fromClient ? _client : _server).SentClose = true;

    /// <summary>The last whole data message sent before <paramref name="firstCloseTime"/> (or at all when null).</summary>
    public MessageSize? LastMessageBefore(Timestamp? firstCloseTime)
    {
        MessageSize? best = null;
        foreach (var candidate in (ReadOnlySpan<MessageSize?>)[_client.LastMessage, _server.LastMessage])
        {
            if (candidate is MessageSize m && (firstCloseTime is not Timestamp close || m.Time <= close)
                && (best is not MessageSize b || m.Time > b.Time))
            {
                best = m;
            }
        }

        return best;
    }

    /// <summary>
    /// The longest time without a ping or pong while the session was open: from the open, between keepalive frames,
    /// and to <paramref name="openUntil"/>. Null when no ping or pong was seen.
    /// </summary>
    public long? MaxKeepaliveGapNanoseconds(Timestamp openUntil)
    {
        if (!_anyKeepalive)
        {
            return null;
        }

        var tail = openUntil > _lastKeepalive ? openUntil.NanosecondsSince(_lastKeepalive) : 0;
        return Math.Max(_maxKeepaliveGapNanoseconds, tail);
    }

    private void OnKeepalive(Timestamp time)
    {
        var since = _anyKeepalive ? _lastKeepalive : OpenedAt ?? time;
        if (time > since)
        {
            _maxKeepaliveGapNanoseconds = Math.Max(_maxKeepaliveGapNanoseconds, time.NanosecondsSince(since));
        }

        // Directions are delivered independently, so keepalive frames may come slightly out of packet-time order.
        if (!_anyKeepalive || time > _lastKeepalive)
        {
            _lastKeepalive = time;
        }

        _anyKeepalive = true;
    }

    private void OnInflateError(bool fromClient, long messageNumber, Timestamp time, InflateFailureCause cause)
    {
        InflateErrors++;
        FirstInflateError ??= new FrameFault(fromClient, messageNumber, time, cause);
    }

    private sealed class SideEvidence
    {
        public long Pings;
        public long Pongs;
        public long PendingPings;
        public long Messages;
        public long MessageBytes;
        public bool MessageCompressed;
        public long LargestMessage;
        public MessageSize? LastMessage;
        public long LastMessageNumber;
        public bool SentClose;
        public bool InMessage;
        public Timestamp? FirstPendingPingAt;
        public Timestamp? LastFrameBesidesClose;

        public void Clear()
        {
            Pings = 0;
            Pongs = 0;
            PendingPings = 0;
            Messages = 0;
            MessageBytes = 0;
            LargestMessage = 0;
            LastMessage = null;
            LastMessageNumber = 0;
            SentClose = false;
            MessageCompressed = false;
            InMessage = false;
            FirstPendingPingAt = null;
            LastFrameBesidesClose = null;
        }
    }
}
