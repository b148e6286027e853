using System.Buffers;
using System.Runtime.CompilerServices;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;

namespace WsCloseSniffer.Reassembly;

/// <summary>
/// Turns TCP segments into per-connection, per-direction byte streams delivered in sequence order to an
/// <see cref="ITcpStreamHandler"/>. Retransmitted and overlapping bytes are dropped, keeping the bytes that
/// arrived first (as Wireshark and most IDSs do); out-of-order segments are buffered up to the caps of
/// <see cref="ReassemblyOptions"/>; a hole that can never be filled is reported with its exact length.
/// Time is packet time only. Given the same segments, the handlers get the same calls in the same order.
/// </summary>
/// <remarks>
/// In-order data (the common case) goes from the segment's payload span to the handler without a copy;
/// only out-of-order data is copied, into pooled arrays. Not thread-safe: one reassembler per input.
/// Simultaneous open (two SYNs without ACK crossing) is not modelled: the second SYN starts a new connection.
/// </remarks>
public sealed class TcpReassembler
{
    private readonly ITcpStreamHandlerFactory _factory;
    private readonly ReassemblyOptions _options;
    private readonly Dictionary<ConnectionKey, Connection> _connections = [];

    // Open connections, least recently active first: idle expiry takes the head. A connection
    // moves to the end only once its last packet is 1/64 of the idle timeout past its place in the list: moving it
    // on every packet touched two other connections' links, cold in the caches with thousands open, for an order
    // needed only this coarsely. The head's last packet is then less than 1/64 past its place, which is no later
    // than any other's, so idle expiry comes at most 1/64 of the timeout late (9.4 s of 600 s); the connection cap
    // looks a little further (LeastRecentlyActive).
    private const int RelinkFractionOfIdleTimeout = 64;
    private const int CapEvictionCandidates = 16;

    private readonly ConnectionList _active = new();

    // Ended connections kept for the linger time, oldest end first.
    private readonly ConnectionList _ended = new();

    // Connections with both FINs seen that wait for the last ACK, in the order they got there (linger is constant).
    private readonly Queue<Connection> _closing = new();

    private readonly long _idleTimeoutNanoseconds;
    private readonly long _lingerNanoseconds;
    private readonly long _relinkNanoseconds;
    private long _nextConnectionId;
    private long _packetNumber = -1;
    private Connection? _lastConnection;

    public TcpReassembler(ITcpStreamHandlerFactory factory, ReassemblyOptions options)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBufferedBytesPerDirection);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBufferedSegmentsPerDirection);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBufferedBytesTotal);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBufferedSegmentsTotal);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxConnections);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.AdvertisedWindowFactor);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.IdleTimeoutSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(options.ClosedLingerSeconds);
        _factory = factory;
        _options = options;
        _idleTimeoutNanoseconds = options.IdleTimeoutSeconds * Timestamp.NanosecondsPerSecond;
        _lingerNanoseconds = options.ClosedLingerSeconds * Timestamp.NanosecondsPerSecond;
        _relinkNanoseconds = Math.Max(1, _idleTimeoutNanoseconds / RelinkFractionOfIdleTimeout);
    }

    public ReassemblyStatistics Statistics { get; } = new();

    /// <summary>
    /// One segment: the reassembler's one way in. <paramref name="key"/> is <see cref="ConnectionKey.Of"/> of the
    /// segment (made ahead, on the reading thread when there is one). With the segment's
    /// <paramref name="packetNumber"/> in its capture, a connection's <see cref="ConnectionInfo.Ordinal"/> is the
    /// number of its first packet; with -1, a count of connections from 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Process(in TcpSegment segment, in ConnectionKey key, Timestamp time, long packetNumber)
    {
        _packetNumber = packetNumber;
        Statistics.Segments++;
        ExpireIdle(time);

        var source = new TcpEndpoint(segment.SourceAddress, segment.SourcePort);
        var destination = new TcpEndpoint(segment.DestinationAddress, segment.DestinationPort);
        var isSyn = segment.HasFlag(TcpFlags.Syn);
        var isAck = segment.HasFlag(TcpFlags.Ack);
        var isRst = segment.HasFlag(TcpFlags.Rst);
        var isNewSyn = isSyn && !isAck && !isRst;
        var sequence = new TcpSequence(segment.SequenceNumber);

        // Consecutive segments often belong to one flow (a large message's segments): skip the table then.
        var connection = _lastConnection is { } last && last.Key == key ? last : null;
        if (connection is not null || _connections.TryGetValue(key, out connection))
        {
            if (!ReferenceEquals(_lastConnection, connection))
            {
                // Only on a change: a reference store costs a GC write barrier every packet otherwise.
                _lastConnection = connection;
            }

            if (connection.IsEnded)
            {
                var retransmittedSyn = isNewSyn && IsTrackedSyn(connection, source, sequence);
                if (!(isNewSyn && !retransmittedSyn) && time.NanosecondsSince(connection.EndTime) < _lingerNanoseconds)
                {
                    Statistics.SegmentsAfterClose++;
                    return;
                }

                ForgetEnded(connection);
                connection = null;
            }
            else if (isNewSyn && !IsTrackedSyn(connection, source, sequence))
            {
                // A SYN with a new initial sequence number: the 4-tuple was reused (RFC 9293 section 3.6.1).
                Statistics.ConnectionsReplacedByNewSyn++;
                var kind = connection.SawFin ? TcpCloseKind.Fin : TcpCloseKind.Timeout;
                EndConnection(connection, kind, time, keepTombstone: false);
                connection = null;
            }
        }

        if (connection is null)
        {
            if (isRst)
            {
                Statistics.SegmentsIgnored++;
                return;
            }

            // The SYN-ACK's sender is the responder even when the SYN was not captured.
            var originator = isSyn && isAck ? destination : source;
            var responder = isSyn && isAck ? source : destination;
            connection = CreateConnection(key, originator, responder, isNewSyn, time);
        }
        else
        {
            connection.LastPacketTime = Timestamp.Max(connection.LastPacketTime, time);
            if (connection.LastPacketTime.NanosecondsSince(connection.ListedTime) >= _relinkNanoseconds)
            {
                connection.ListedTime = connection.LastPacketTime;
                _active.MoveToEnd(connection);
            }
        }

        Handle(connection, in segment, connection.DirectionOf(source), time);
    }

    /// <summary>
    /// End of input: every open connection, in creation order, gets its buffered data (after gaps of the exact
    /// length of the holes before it), OnClosed for a FIN already seen, then OnConnectionEnd(EndOfInput).
    /// </summary>
    public void FlushAll(Timestamp time)
    {
        var open = new Connection[_active.Count];
        var index = 0;
        for (var connection = _active.Head; connection is not null; connection = connection.Next)
        {
            open[index++] = connection;
        }

        Array.Sort(open, static (left, right) => left.Id.CompareTo(right.Id));
        foreach (var connection in open)
        {
            if (connection.BothFinsTime is not null)
            {
                // Both FINs were seen; only the last ACK was missing.
                EndConnection(connection, TcpCloseKind.Fin, time, keepTombstone: false);
                continue;
            }

            Statistics.ConnectionsEndedAtEndOfInput++;
            EndConnection(connection, TcpCloseKind.EndOfInput, time, keepTombstone: false);
        }

        _closing.Clear();

        while (_ended.Head is { } ended)
        {
            ForgetEnded(ended);
        }
    }

    /// <summary>
    /// The open connection whose last packet is the oldest, for the connection cap: it can only be one listed less
    /// than the relink interval after the head (any later one's last packet is past the head's), so the first few
    /// of those are compared. Exact unless a flood of new connections puts more than that many in one interval,
    /// where it is one of the least recently active and the cost per eviction stays constant.
    /// </summary>
    private Connection? LeastRecentlyActive()
    {
        if (_active.Head is not { } head)
        {
            return null;
        }

        var least = head;
        var candidate = head.Next;
        for (var compared = 1;
            compared < CapEvictionCandidates && candidate is not null && candidate.ListedTime.NanosecondsSince(head.ListedTime) < _relinkNanoseconds;
            compared++, candidate = candidate.Next)
        {
            if (candidate.LastPacketTime < least.LastPacketTime)
            {
                least = candidate;
            }
        }

        return least;
    }

    private static bool IsTrackedSyn(Connection connection, TcpEndpoint source, TcpSequence sequence)
    {
        var half = connection.Half(connection.DirectionOf(source));
        return half.SawSyn && half.InitialSequence == sequence;
    }

    private Connection CreateConnection(
        ConnectionKey key, TcpEndpoint originator, TcpEndpoint responder, bool sawSyn, Timestamp time)
    {
        if (_active.Count >= _options.MaxConnections && LeastRecentlyActive() is { } leastRecentlyActive)
        {
            Statistics.ConnectionsEvictedByConnectionCap++;
            EndConnection(leastRecentlyActive, TcpCloseKind.Timeout, time, keepTombstone: false);
        }

        var id = _nextConnectionId++;
        var info = new ConnectionInfo(originator, responder, time, sawSyn, _packetNumber >= 0 ? _packetNumber : id);
        var handler = _factory.Create(in info);
        var connection = new Connection(id, key, originator, handler, time);
        _connections.Add(key, connection);
        _active.AddLast(connection);
        Statistics.ConnectionsCreated++;
        Statistics.ConnectionsActive++;
        return connection;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExpireIdle(Timestamp time)
    {
        while (_active.Head is { } idle && time.NanosecondsSince(idle.LastPacketTime) >= _idleTimeoutNanoseconds)
        {
            Statistics.ConnectionsEvictedByTimeout++;
            EndConnection(idle, TcpCloseKind.Timeout, time, keepTombstone: false);
        }

        while (_closing.TryPeek(out var closing) && (closing.IsEnded || time.NanosecondsSince(closing.BothFinsTime!.Value) >= _lingerNanoseconds))
        {
            _closing.Dequeue();
            if (!closing.IsEnded)
            {
                EndConnection(closing, TcpCloseKind.Fin, time, keepTombstone: true);
            }
        }

        while (_ended.Head is { } ended && time.NanosecondsSince(ended.EndTime) >= _lingerNanoseconds)
        {
            ForgetEnded(ended);
        }
    }

    private void ForgetEnded(Connection connection)
    {
        _ended.Remove(connection);
        _connections.Remove(connection.Key);
        if (ReferenceEquals(_lastConnection, connection))
        {
            _lastConnection = null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Handle(Connection connection, in TcpSegment segment, FlowDirection direction, Timestamp time)
    {
        var half = connection.Half(direction);
        var peer = connection.Half(direction == FlowDirection.FromOriginator ? FlowDirection.FromResponder : FlowDirection.FromOriginator);

        if (segment.HasFlag(TcpFlags.Rst))
        {
            // A RST's payload is diagnostic text (RFC 9293 section 3.5.3), not stream data.
            HandleRst(connection, half, peer, time);
            return;
        }

        var sequence = new TcpSequence(segment.SequenceNumber);
        var dataSequence = sequence;
        if (segment.HasFlag(TcpFlags.Syn))
        {
            if (!half.Started)
            {
                half.StartWithSyn(sequence, segment.WindowScale);
            }
            else if (!half.SawSyn || half.InitialSequence != sequence)
            {
                Statistics.SegmentsIgnored++;
                return;
            }
            else
            {
                half.SynRetransmitted(segment.WindowScale);
            }

            // The SYN consumes one sequence number: data starts at ISN + 1.
            dataSequence = sequence + 1;
        }

        var payload = segment.Payload;
        var originalLength = Math.Max(segment.OriginalPayloadLength, payload.Length);
        var hasFin = segment.HasFlag(TcpFlags.Fin);

        // A pure ACK does not start a stream: a keep-alive carries SND.NXT - 1 (RFC 9293 section 3.8.4).
        if (!half.Started && (originalLength > 0 || hasFin))
        {
            half.StartMidStream(dataSequence);
        }

        if (half.Started)
        {
            var offset = half.OffsetOf(dataSequence);
            if ((originalLength > 0 || hasFin) && IsOutsideWindow(half, peer, offset, originalLength))
            {
                // Dropped whole, its ACK and window too: a forged segment's acknowledgment must not declare holes either.
                Statistics.SegmentsOutsideWindow++;
                return;
            }

            if (originalLength > 0)
            {
                AddSegmentData(connection, half, offset, payload, originalLength, time);
            }

            if (hasFin)
            {
                RecordFin(connection, half, offset + originalLength);
            }
        }

        RecordAdvertisedWindow(half, peer, segment);
        if (segment.HasFlag(TcpFlags.Ack))
        {
            var acknowledgment = new TcpSequence(segment.AcknowledgmentNumber);
            if (!peer.CaptureLossSeen && peer.SawSyn && half.SawSyn
                && peer.OffsetOf(acknowledgment) > peer.KnownEnd + (peer.FinSeen ? 1 : 0))
            {
                peer.CaptureLossSeen = true;
            }

            ApplyPeerAck(connection, peer, acknowledgment, time);
            if (peer.FinSeen && peer.OffsetOf(acknowledgment) > peer.FinOffset)
            {
                peer.FinAcknowledged = true;
            }
        }

        CheckFinReached(connection, half, time);
        CheckFinReached(connection, peer, time);
        if (!half.FinSeen || !peer.FinSeen)
        {
            return;
        }

        // Both FINs seen: nothing new can arrive. The clean close's last packet is the ACK of the second FIN,
        // and the report's end time is the last packet, so wait for that ACK, at most the linger time.
        if (half.FinAcknowledged && peer.FinAcknowledged)
        {
            EndConnection(connection, TcpCloseKind.Fin, time, keepTombstone: true);
        }
        else if (connection.BothFinsTime is null)
        {
            connection.BothFinsTime = time;
            _closing.Enqueue(connection);
        }
    }

    /// <summary>
    /// Whether a segment of <paramref name="half"/> lies where no real one can: further than the fixed bound from the
    /// next expected byte, ahead or behind; or, where both SYNs were seen, further ahead than the receiver
    /// (<paramref name="peer"/>) ever allowed: a sender keeps its data within the window the receiver advertised
    /// (RFC 9293 section 3.8.6), so a segment starting more than <see cref="ReassemblyOptions.AdvertisedWindowFactor"/>
    /// of the largest such window past the next expected byte is forged or from another connection.
    /// </summary>
    /// <remarks>
    /// A receiver itself discards data beyond its window (RFC 9293 section 3.10.7.4), so the bound drops only what the
    /// receiver would, as long as the capture saw the windows the receiver advertised. It is not used where that is in
    /// doubt: without both SYNs (the window scale is unknown: RFC 7323 section 2.2 scales only when both carry the
    /// option, and a capture seeing one side only cannot tell); when a SYN was retransmitted with another Window Scale
    /// option; and after the receiver acknowledged bytes the capture never showed (the capture lost packets, and perhaps
    /// the window updates and acknowledgments that let the sender go further). It is still unsound in one case, which
    /// the factor makes rare: a capture that loses, in both directions at once, more than the factor's worth of windows
    /// of one direction: the segments right after such a hole, until the next acknowledgment shows the loss, are
    /// dropped, lengthening a gap the capture already made. (A middlebox that strips or rewrites the Window Scale option
    /// on one side of the capture makes the hosts themselves disagree; what the capture cannot scale right is then
    /// smaller than the host's view, or discarded by the receiver too.)
    /// </remarks>
    private bool IsOutsideWindow(StreamHalf half, StreamHalf peer, long offset, int length)
    {
        var ahead = offset - half.NextOffset;
        if (ahead > _options.MaxSequenceDistance || half.NextOffset - (offset + length) > _options.MaxSequenceDistance)
        {
            return true;
        }

        if (ahead <= 0 || peer.MaxAdvertisedWindow == 0 || half.CaptureLossSeen || !IsWindowScaleKnown(half, peer)
            || ahead <= peer.MaxAdvertisedWindow * _options.AdvertisedWindowFactor)
        {
            return false;
        }

        Statistics.SegmentsOutsideAdvertisedWindow++;
        return true;
    }

    private static bool IsWindowScaleKnown(StreamHalf half, StreamHalf peer) =>
        half.SawSyn && peer.SawSyn && half.SynOptionsConsistent && peer.SynOptionsConsistent;

    /// <summary>
    /// The receive window <paramref name="sender"/> advertises in this segment, in bytes: a SYN's window is never
    /// scaled; the others are by the sender's own shift, when both SYNs carried the option (RFC 7323 section 2.2).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RecordAdvertisedWindow(StreamHalf sender, StreamHalf receiver, in TcpSegment segment)
    {
        int shift;
        if (segment.HasFlag(TcpFlags.Syn))
        {
            shift = 0;
        }
        else if (IsWindowScaleKnown(sender, receiver))
        {
            shift = sender.AnnouncedWindowScale >= 0 && receiver.AnnouncedWindowScale >= 0 ? sender.AnnouncedWindowScale : 0;
        }
        else
        {
            return;
        }

        var window = (long)segment.Window << shift;
        if (window > sender.MaxAdvertisedWindow)
        {
            sender.MaxAdvertisedWindow = window;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddSegmentData(
        Connection connection, StreamHalf half, long offset, ReadOnlySpan<byte> payload, int originalLength, Timestamp time)
    {
        var end = offset + originalLength;
        if (end <= 0 || (half.FinSeen && offset >= half.FinOffset))
        {
            Statistics.SegmentsIgnored++;
            return;
        }

        var buffered = false;
        if (payload.Length > 0)
        {
            buffered |= AddPiece(connection, half, offset, payload, payload.Length, time);
        }

        if (originalLength > payload.Length)
        {
            Statistics.TruncatedSegments++;
            buffered |= AddPiece(connection, half, offset + payload.Length, [], originalLength - payload.Length, time);
        }

        if (buffered)
        {
            Statistics.OutOfOrderSegmentsBuffered++;
        }
    }

    /// <summary>
    /// Adds [offset, offset + length): captured bytes when <paramref name="data"/> is not empty, otherwise bytes
    /// known to be missing. Returns whether any part had to be buffered.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool AddPiece(
        Connection connection, StreamHalf half, long offset, ReadOnlySpan<byte> data, int length, Timestamp time)
    {
        var isGap = data.IsEmpty;
        var current = Math.Max(offset, 0);
        var end = offset + length;
        if (half.FinSeen)
        {
            end = Math.Min(end, half.FinOffset);
        }

        var buffered = false;
        while (current < end)
        {
            if (current < half.NextOffset)
            {
                var delivered = Math.Min(end, half.NextOffset) - current;
                if (!isGap)
                {
                    Statistics.DuplicateBytesDropped += delivered;
                }

                current += delivered;
                continue;
            }

            var index = half.Chunks is null ? 0 : half.FindFirstEndingAfter(current);
            var count = half.Chunks?.Count ?? 0;
            if (index < count && half.Chunks![index].Offset <= current)
            {
                // The bytes that arrived first win.
                var covered = Math.Min(end, half.Chunks[index].End) - current;
                if (!isGap)
                {
                    Statistics.DuplicateBytesDropped += covered;
                }

                current += covered;
                continue;
            }

            var limit = index < count ? Math.Min(end, half.Chunks![index].Offset) : end;
            var pieceLength = (int)(limit - current);
            if (current == half.NextOffset)
            {
                if (isGap)
                {
                    EmitGap(connection, half, pieceLength, time, GapCause.SnapLength);
                }
                else
                {
                    connection.Handler!.OnData(half.Direction, data.Slice((int)(current - offset), pieceLength), time);
                }

                half.NextOffset = limit;
                DrainContiguous(connection, half);
                current = limit;
                continue;
            }

            if (!HasRoomFor(half, isGap ? 0 : pieceLength))
            {
                // Never buffer past a cap: the earliest hole becomes a gap, then try again.
                var holeEnd = half.HasChunks ? Math.Min(half.Chunks![0].Offset, current) : current;
                EmitGap(connection, half, holeEnd - half.NextOffset, time);
                half.NextOffset = holeEnd;
                DrainContiguous(connection, half);
                continue;
            }

            byte[]? copy = null;
            if (!isGap)
            {
                copy = ArrayPool<byte>.Shared.Rent(pieceLength);
                data.Slice((int)(current - offset), pieceLength).CopyTo(copy);
                half.BufferedBytes += pieceLength;
                Statistics.BufferedBytes += pieceLength;
                Statistics.PeakBufferedBytes = Math.Max(Statistics.PeakBufferedBytes, Statistics.BufferedBytes);
            }

            half.Chunks ??= [];
            half.Chunks.Insert(index, new BufferedChunk(current, pieceLength, copy, time));
            Statistics.BufferedSegments++;
            buffered = true;
            current = limit;
        }

        return buffered;
    }

    private bool HasRoomFor(StreamHalf half, int bytes)
    {
        if ((half.Chunks?.Count ?? 0) >= _options.MaxBufferedSegmentsPerDirection
            || half.BufferedBytes + bytes > _options.MaxBufferedBytesPerDirection)
        {
            Statistics.GapsByDirectionCap++;
            return false;
        }

        // Segments are capped as well as bytes: each one costs bookkeeping and a pooled array rounded up, so
        // a flood of 1-byte out-of-order segments must not hold more than the byte cap suggests.
        if (Statistics.BufferedBytes + bytes > _options.MaxBufferedBytesTotal
            || Statistics.BufferedSegments >= _options.MaxBufferedSegmentsTotal)
        {
            Statistics.GapsByTotalCap++;
            return false;
        }

        return true;
    }

    private void RecordFin(Connection connection, StreamHalf half, long finOffset)
    {
        connection.SawFin = true;
        if (half.FinSeen)
        {
            return;
        }

        half.FinSeen = true;
        half.FinOffset = Math.Max(finOffset, half.NextOffset);

        // Bytes buffered past the FIN cannot be part of the stream.
        if (half.Chunks is { Count: > 0 } chunks)
        {
            for (var i = chunks.Count - 1; i >= 0 && chunks[i].End > half.FinOffset; i--)
            {
                var chunk = chunks[i];
                if (chunk.Offset >= half.FinOffset)
                {
                    ReleaseChunk(half, chunk);
                    chunks.RemoveAt(i);
                }
                else
                {
                    var kept = (int)(half.FinOffset - chunk.Offset);
                    if (chunk.Data is not null)
                    {
                        half.BufferedBytes -= chunk.Length - kept;
                        Statistics.BufferedBytes -= chunk.Length - kept;
                    }

                    chunks[i] = chunk with { Length = kept };
                }
            }
        }
    }

    /// <summary>
    /// The peer acknowledged bytes of this direction up to <paramref name="acknowledgment"/>: it received them,
    /// so a hole below that point will never be retransmitted and is lost from the capture only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyPeerAck(Connection connection, StreamHalf half, TcpSequence acknowledgment, Timestamp time)
    {
        if (!half.Started || half.Closed || (!half.HasChunks && !half.FinSeen))
        {
            return;
        }

        // Never past what the stream is known to hold: a stray or bogus ACK cannot invent a long gap.
        var limit = Math.Min(half.OffsetOf(acknowledgment), half.KnownEnd);
        if (limit > half.NextOffset)
        {
            Statistics.GapsAcknowledgedByPeer++;
            DeclareHolesUpTo(connection, half, limit, time);
        }
    }

    /// <summary>Delivers everything before <paramref name="limit"/>: buffered data, and holes as gaps.</summary>
    private void DeclareHolesUpTo(Connection connection, StreamHalf half, long limit, Timestamp time)
    {
        while (half.NextOffset < limit)
        {
            if (half.Chunks is { Count: > 0 } chunks)
            {
                var first = chunks[0].Offset;
                if (first > half.NextOffset)
                {
                    var gapEnd = Math.Min(first, limit);
                    EmitGap(connection, half, gapEnd - half.NextOffset, time);
                    half.NextOffset = gapEnd;
                    if (gapEnd < first)
                    {
                        return;
                    }
                }

                DrainContiguous(connection, half);
            }
            else
            {
                EmitGap(connection, half, limit - half.NextOffset, time);
                half.NextOffset = limit;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DrainContiguous(Connection connection, StreamHalf half)
    {
        if (half.Chunks is not { Count: > 0 } chunks)
        {
            return;
        }

        var drained = 0;
        while (drained < chunks.Count && chunks[drained].Offset <= half.NextOffset)
        {
            var chunk = chunks[drained];
            var skip = (int)(half.NextOffset - chunk.Offset);
            if (chunk.Length > skip)
            {
                if (chunk.Data is null)
                {
                    EmitGap(connection, half, chunk.Length - skip, chunk.Time, GapCause.SnapLength);
                }
                else
                {
                    connection.Handler!.OnData(half.Direction, chunk.Data.AsSpan(skip, chunk.Length - skip), chunk.Time);
                }

                half.NextOffset = chunk.End;
            }

            ReleaseChunk(half, chunk);
            drained++;
        }

        chunks.RemoveRange(0, drained);
    }

    private void ReleaseChunk(StreamHalf half, in BufferedChunk chunk)
    {
        Statistics.BufferedSegments--;
        if (chunk.Data is not null)
        {
            half.BufferedBytes -= chunk.Length;
            Statistics.BufferedBytes -= chunk.Length;
            ArrayPool<byte>.Shared.Return(chunk.Data);
        }
    }

    private void EmitGap(Connection connection, StreamHalf half, long missingBytes, Timestamp time, GapCause cause = GapCause.NotCaptured)
    {
        Statistics.Gaps++;
        Statistics.GapBytes += missingBytes;
        connection.Handler!.OnGap(half.Direction, missingBytes, cause, time);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CheckFinReached(Connection connection, StreamHalf half, Timestamp time)
    {
        if (half.FinSeen && !half.Closed && half.NextOffset >= half.FinOffset)
        {
            half.Closed = true;
            connection.Handler!.OnClosed(half.Direction, TcpCloseKind.Fin, time);
        }
    }

    /// <summary>Delivers what is buffered (holes as gaps) up to the FIN or the last byte known, then closes a seen FIN.</summary>
    private void FlushHalf(Connection connection, StreamHalf half, Timestamp time)
    {
        if (half.Started && !half.Closed)
        {
            DeclareHolesUpTo(connection, half, half.KnownEnd, time);
            CheckFinReached(connection, half, time);
        }
    }

    private void HandleRst(Connection connection, StreamHalf sender, StreamHalf peer, Timestamp time)
    {
        connection.SawRst = true;
        connection.ResetBy = sender.Direction;
        CloseByRst(connection, sender, time);
        CloseByRst(connection, peer, time);
        EndConnection(connection, TcpCloseKind.Rst, time, keepTombstone: true);
    }

    private void CloseByRst(Connection connection, StreamHalf half, Timestamp time)
    {
        FlushHalf(connection, half, time);
        if (!half.Closed)
        {
            half.Closed = true;
            connection.Handler!.OnClosed(half.Direction, TcpCloseKind.Rst, time);
        }
    }

    private void EndConnection(Connection connection, TcpCloseKind kind, Timestamp time, bool keepTombstone)
    {
        FlushHalf(connection, connection.FromOriginator, time);
        FlushHalf(connection, connection.FromResponder, time);

        var handler = connection.Handler!;
        connection.Handler = null;
        ReleaseAll(connection.FromOriginator);
        ReleaseAll(connection.FromResponder);
        _active.Remove(connection);
        Statistics.ConnectionsActive--;
        Statistics.ConnectionsEnded++;
        if (kind == TcpCloseKind.Fin)
        {
            Statistics.ConnectionsEndedByFin++;
        }
        else if (kind == TcpCloseKind.Rst)
        {
            Statistics.ConnectionsEndedByRst++;
        }

        if (keepTombstone)
        {
            connection.EndTime = time;
            _ended.AddLast(connection);

            // Tombstones are cheap but not free: bound them like open connections.
            if (_ended.Count > _options.MaxConnections && _ended.Head is { } oldest)
            {
                ForgetEnded(oldest);
            }
        }
        else
        {
            _connections.Remove(connection.Key);
            if (ReferenceEquals(_lastConnection, connection))
            {
                _lastConnection = null;
            }
        }

        var end = new ConnectionEnd(kind, connection.LastPacketTime, connection.SawFin, connection.SawRst)
        {
            ResetBy = connection.ResetBy,
        };
        handler.OnConnectionEnd(in end);
    }

    private void ReleaseAll(StreamHalf half)
    {
        if (half.Chunks is { } chunks)
        {
            foreach (var chunk in chunks)
            {
                ReleaseChunk(half, chunk);
            }

            chunks.Clear();
        }
    }
}
