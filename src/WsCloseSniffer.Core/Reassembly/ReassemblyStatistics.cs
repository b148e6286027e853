namespace WsCloseSniffer.Reassembly;

/// <summary>
/// Counters of a <see cref="TcpReassembler"/>: what it tracked, and everything it dropped, skipped or
/// declared lost, so the summary can say so. Updated in place as packets are processed.
/// </summary>
public sealed class ReassemblyStatistics
{
    /// <summary>Segments given to <see cref="TcpReassembler.Process"/>.</summary>
    public long Segments { get; internal set; }

    public long ConnectionsCreated { get; internal set; }

    /// <summary>Connections whose handler got <see cref="ITcpStreamHandler.OnConnectionEnd"/>, for any reason.</summary>
    public long ConnectionsEnded { get; internal set; }

    /// <summary>Connections open now.</summary>
    public long ConnectionsActive { get; internal set; }

    public long ConnectionsEndedByFin { get; internal set; }

    public long ConnectionsEndedByRst { get; internal set; }

    /// <summary>Connections still open when <see cref="TcpReassembler.FlushAll"/> was called.</summary>
    public long ConnectionsEndedAtEndOfInput { get; internal set; }

    /// <summary>Connections ended because no packet came for <see cref="ReassemblyOptions.IdleTimeoutSeconds"/>.</summary>
    public long ConnectionsEvictedByTimeout { get; internal set; }

    /// <summary>Connections ended to honour <see cref="ReassemblyOptions.MaxConnections"/>.</summary>
    public long ConnectionsEvictedByConnectionCap { get; internal set; }

    /// <summary>Open connections ended because a new SYN reused their 4-tuple (port reuse).</summary>
    public long ConnectionsReplacedByNewSyn { get; internal set; }

    /// <summary>Calls to <see cref="ITcpStreamHandler.OnGap"/>, whatever the cause.</summary>
    public long Gaps { get; internal set; }

    /// <summary>Sum of the lengths of all gaps.</summary>
    public long GapBytes { get; internal set; }

    /// <summary>Holes declared a gap because a direction's buffer cap (bytes or segments) was reached.</summary>
    public long GapsByDirectionCap { get; internal set; }

    /// <summary>Holes declared a gap because <see cref="ReassemblyOptions.MaxBufferedBytesTotal"/> was reached.</summary>
    public long GapsByTotalCap { get; internal set; }

    /// <summary>Holes declared a gap because the peer acknowledged bytes past them (received, but not captured).</summary>
    public long GapsAcknowledgedByPeer { get; internal set; }

    /// <summary>Segments whose payload the snap length cut; each gives a gap for its missing tail.</summary>
    public long TruncatedSegments { get; internal set; }

    /// <summary>Captured payload bytes dropped because they had been received already (retransmission, overlap).</summary>
    public long DuplicateBytesDropped { get; internal set; }

    /// <summary>Segments that arrived ahead of a hole and were (at least partly) buffered.</summary>
    public long OutOfOrderSegmentsBuffered { get; internal set; }

    /// <summary>
    /// Segments dropped as unusable: data entirely before the start of a stream or after its FIN, a SYN-ACK
    /// that contradicts the tracked initial sequence number, a RST for an unknown connection.
    /// </summary>
    public long SegmentsIgnored { get; internal set; }

    /// <summary>Segments dropped whole because their data lay further than the sequence bound from the next expected byte.</summary>
    public long SegmentsOutsideWindow { get; internal set; }

    /// <summary>Of <see cref="SegmentsOutsideWindow"/>, those within the fixed bound but past what the receiver's advertised window allowed.</summary>
    public long SegmentsOutsideAdvertisedWindow { get; internal set; }

    /// <summary>Segments of a connection that had ended (both FINs or a RST) within the linger time: dropped.</summary>
    public long SegmentsAfterClose { get; internal set; }

    /// <summary>Out-of-order bytes held now, across all connections.</summary>
    public long BufferedBytes { get; internal set; }

    /// <summary>Out-of-order segments held right now, over all connections.</summary>
    public long BufferedSegments { get; internal set; }

    public long PeakBufferedBytes { get; internal set; }
}
