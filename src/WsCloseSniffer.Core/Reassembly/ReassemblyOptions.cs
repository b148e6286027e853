namespace WsCloseSniffer.Reassembly;

/// <summary>Memory and time bounds of the reassembler. Hitting a cap produces a gap, never more buffering.</summary>
public sealed record ReassemblyOptions
{
    /// <summary>Out-of-order bytes held per direction; past this the earliest hole is declared a gap.</summary>
    public int MaxBufferedBytesPerDirection { get; init; } = 256 * 1024;

    /// <summary>
    /// Out-of-order segments held per direction, whatever their size: bounds the bookkeeping a stream
    /// of tiny out-of-order segments would cost. Past this the earliest hole is declared a gap.
    /// </summary>
    public int MaxBufferedSegmentsPerDirection { get; init; } = 4096;

    /// <summary>Out-of-order bytes held across all connections.</summary>
    public long MaxBufferedBytesTotal { get; init; } = 64L * 1024 * 1024;

    /// <summary>Out-of-order segments held across all connections, whatever their size.</summary>
    public int MaxBufferedSegmentsTotal { get; init; } = 256 * 1024;

    /// <summary>Connections tracked at once; past this the longest-idle one is evicted.</summary>
    public int MaxConnections { get; init; } = 100_000;

    /// <summary>
    /// How far from the next expected byte (ahead, or behind) a segment may start or end and still belong to the
    /// stream. TCP's window is at most 1 GiB (RFC 7323 section 2.3) but in practice a few MiB; a segment further
    /// out is forged, corrupt or from another connection reusing the ports, and is dropped whole and counted
    /// (<see cref="ReassemblyStatistics.SegmentsOutsideWindow"/>), never buffered and never made a hole.
    /// </summary>
    public long MaxSequenceDistance { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Where both SYNs were seen, a segment starting further ahead of the next expected byte than this many times
    /// the largest window the receiver advertised (scaled) is dropped the same way. A sender stays within one window;
    /// the slack covers window updates and acknowledgments the capture missed.
    /// </summary>
    public int AdvertisedWindowFactor { get; init; } = 4;

    /// <summary>A connection with no packet for this long (packet time) is evicted as timed out.</summary>
    public int IdleTimeoutSeconds { get; init; } = 600;

    /// <summary>After both FINs or a RST, packets this close in time still belong to the old connection.</summary>
    public int ClosedLingerSeconds { get; init; } = 2;
}
