using System.Runtime.CompilerServices;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;

namespace WsCloseSniffer.Reassembly;

/// <summary>
/// Out-of-order bytes held for one direction. <see cref="Data"/> is a pooled array, or null for a span whose
/// length is known but whose bytes were never captured (a snap-length-cut tail): delivered as a gap.
/// </summary>
internal readonly record struct BufferedChunk(long Offset, int Length, byte[]? Data, Timestamp Time)
{
    public long End => Offset + Length;
}

/// <summary>
/// One direction of a connection. Positions are 64-bit offsets from the first data byte, so the 32-bit
/// sequence numbers are unwrapped once, on arrival, relative to <see cref="NextOffset"/>.
/// </summary>
internal sealed class StreamHalf
{
    public StreamHalf(FlowDirection direction)
    {
        Direction = direction;
    }

    public FlowDirection Direction { get; }

    /// <summary>The sequence number of offset 0 is known (from a SYN, or from the first data or FIN seen).</summary>
    public bool Started { get; private set; }

    public TcpSequence BaseSequence { get; private set; }

    public bool SawSyn { get; private set; }

    public TcpSequence InitialSequence { get; private set; }

    /// <summary>
    /// The Window Scale shift this side's SYN announced, <see cref="TcpSegment.NoWindowScale"/> when it had none;
    /// meaningful only while <see cref="SynOptionsConsistent"/> (SYNs retransmitted with another option are not).
    /// </summary>
    public sbyte AnnouncedWindowScale { get; private set; } = TcpSegment.NoWindowScale;

    public bool SynOptionsConsistent { get; private set; }

    /// <summary>The largest receive window this side advertised (scaled, in bytes); 0 before any was known.</summary>
    public long MaxAdvertisedWindow { get; set; }

    /// <summary>
    /// The peer acknowledged bytes of this direction that the capture never showed: the capture lost packets, and
    /// with them perhaps window updates and acknowledgments, so the advertised window no longer bounds what comes.
    /// </summary>
    public bool CaptureLossSeen { get; set; }

    /// <summary>Every byte before this offset was delivered or declared a gap; buffered chunks all start at or after it.</summary>
    public long NextOffset { get; set; }

    public bool FinSeen { get; set; }

    /// <summary>The peer acknowledged this direction's FIN.</summary>
    public bool FinAcknowledged { get; set; }

    /// <summary>The offset the FIN occupies (the FIN consumes one sequence number, RFC 9293 section 3.4).</summary>
    public long FinOffset { get; set; }

    /// <summary>OnClosed was called for this direction.</summary>
    public bool Closed { get; set; }

    /// <summary>Sorted, non-overlapping; created on the first out-of-order segment only.</summary>
    public List<BufferedChunk>? Chunks { get; set; }

    public long BufferedBytes { get; set; }

    public bool HasChunks
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Chunks is { Count: > 0 };
    }

    public void StartWithSyn(TcpSequence initialSequence, sbyte windowScale)
    {
        Started = true;
        SawSyn = true;
        InitialSequence = initialSequence;
        BaseSequence = initialSequence + 1;
        AnnouncedWindowScale = windowScale;
        SynOptionsConsistent = true;
    }

    /// <summary>The same SYN again: a retransmission whose Window Scale option differs makes the option unknown.</summary>
    public void SynRetransmitted(sbyte windowScale)
    {
        if (windowScale != AnnouncedWindowScale)
        {
            SynOptionsConsistent = false;
        }
    }

    public void StartMidStream(TcpSequence firstSequence)
    {
        Started = true;
        BaseSequence = firstSequence;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TcpSequence SequenceAt(long offset) => BaseSequence + offset;

    /// <summary>Unwraps a sequence number relative to the delivery point: valid within 2^31 of it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long OffsetOf(TcpSequence sequence) => NextOffset + (sequence - SequenceAt(NextOffset));

    /// <summary>The furthest position known to exist in the stream: the end of buffered data, or the FIN.</summary>
    public long KnownEnd
    {
        get
        {
            var end = NextOffset;
            if (Chunks is { Count: > 0 } chunks)
            {
                end = Math.Max(end, chunks[^1].End);
            }

            return FinSeen ? Math.Max(end, FinOffset) : end;
        }
    }

    /// <summary>Index of the first chunk that ends after <paramref name="offset"/> (Count if none).</summary>
    public int FindFirstEndingAfter(long offset)
    {
        var chunks = Chunks!;
        int low = 0, high = chunks.Count;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (chunks[middle].End > offset)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }
}
