using System.Runtime.CompilerServices;

using WsCloseSniffer.Capture;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>A whole data message (fragments joined) as the evidence keeps it: its size, sender and end time.</summary>
public readonly record struct MessageSize(bool FromClient, long Bytes, Timestamp Time);

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

    /// <summary>When the 101 response completed: the session's open time; null when it never opened.</summary>
    public Timestamp? OpenedAt { get; private set; }

    /// <summary>Packet time of the latest frame completed in either direction; null when none.</summary>
    public Timestamp? LastFrameAt { get; private set; }

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

    /// <summary>Frames that misuse RSV1: on a control frame, on a continuation, or with no compression negotiated (RFC 7692 6.1).</summary>
    public long InflateErrors { get; private set; }

    /// <summary>The first frame that misused RSV1; null when none did.</summary>
    public (bool FromClient, long MessageNumber, Timestamp Time)? FirstInflateError { get; private set; }

    public bool HasKeepalive => _anyKeepalive;

    internal void OnOpened(Timestamp time) => OpenedAt ??= time;

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
        CompressedMessages = 0;
        InflateErrors = 0;
        FirstInflateError = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void OnFrame(bool fromClient, in FrameHeader header, bool compressionNegotiated, Timestamp time)
    {
        if (LastFrameAt is not Timestamp last || time > last)
        {
            LastFrameAt = time;
        }

        var side = fromClient ? _client : _server;
        if (header.IsControl)
        {
            if (header.Rsv1)
            {
                OnInflateError(fromClient, side.Messages + 1, time);
            }

            if (header.Opcode == WebSocketOpcode.Ping)
            {
                side.Pings++;
                side.PendingPings++;
                OnKeepalive(time);
            }
            else if (header.Opcode == WebSocketOpcode.Pong)
            {
                side.Pongs++;
                (fromClient ? _server : _client).PendingPings = 0;
                OnKeepalive(time);
            }

            return;
        }

        if (header.Opcode == WebSocketOpcode.Continuation)
        {
            if (header.Rsv1)
            {
                OnInflateError(fromClient, side.Messages, time);
            }
        }
        else if (header.IsKnownOpcode)
        {
            side.MessageBytes = 0;
            if (header.Rsv1)
            {
                CompressedMessages++;
                if (!compressionNegotiated)
                {
                    OnInflateError(fromClient, side.Messages + 1, time);
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
            side.Messages++;
            side.LargestMessage = Math.Max(side.LargestMessage, side.MessageBytes);
            if (!side.SentClose)
            {
                side.LastMessage = new MessageSize(fromClient, side.MessageBytes, time);
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

    private void OnInflateError(bool fromClient, long messageNumber, Timestamp time)
    {
        InflateErrors++;
        FirstInflateError ??= (fromClient, messageNumber, time);
    }

    private sealed class SideEvidence
    {
        public long Pings;
        public long Pongs;
        public long PendingPings;
        public long Messages;
        public long MessageBytes;
        public long LargestMessage;
        public MessageSize? LastMessage;
        public bool SentClose;

        public void Clear()
        {
            Pings = 0;
            Pongs = 0;
            PendingPings = 0;
            Messages = 0;
            MessageBytes = 0;
            LargestMessage = 0;
            LastMessage = null;
            SentClose = false;
        }
    }
}
