using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Http;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tls;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>Settings of one analysis run.</summary>
public sealed record AnalyzerOptions
{
    public ReassemblyOptions Reassembly { get; init; } = new();

    /// <summary>Bounds of IP fragment reassembly.</summary>
    public DefragmentationOptions Defragmentation { get; init; } = new();

    /// <summary>An HTTP head (upgrade request or response) longer than this is given up on (notice http_head_too_large).</summary>
    public int MaxHttpHeadBytes { get; init; } = HttpHeadParser.DefaultMaxHeadBytes;

    /// <summary>How much of a control frame's payload is held; the rest of an oversized one is skipped.</summary>
    public int MaxControlPayloadBytes { get; init; } = FrameDecoder.MaxHeldControlPayloadBytes;

    /// <summary>
    /// Inflated bytes counted per compressed message; past it the message's rest is skipped (notice
    /// ws_inflate_cap_reached), so a deflate bomb costs bounded time.
    /// </summary>
    public long MaxInflatedMessageBytes { get; init; } = DefaultMaxInflatedMessageBytes;

    /// <summary>Inflaters alive at once per capture source (about 42 KiB each); directions past it are not inflated (notice ws_deflate_not_inflated).</summary>
    public int MaxInflaters { get; init; } = DefaultMaxInflaters;

    /// <summary>
    /// False: compressed messages are not inflated (--no-inflate): their sizes are as on the wire, inflated text is not
    /// checked as UTF-8 and only RSV1 misuse counts as an inflate error; for speed where most traffic is compressed.
    /// </summary>
    public bool Inflate { get; init; } = true;

    /// <summary>
    /// Threads that inflate beside the analysis thread (each session on one of them); 0: inflated on the analysis
    /// thread. The report is the same either way; only sessions may be handed on in another order.
    /// </summary>
    public int InflationThreads { get; init; }

    public const long DefaultMaxInflatedMessageBytes = 64L * 1024 * 1024;
    public const int DefaultMaxInflaters = 2048;

    /// <summary>TLS secrets (--tls-keylog); each capture adds the secrets it carries itself (pcapng DSB) on top.</summary>
    public TlsKeyLog? TlsKeyLog { get; init; }

    /// <summary>Creates the BPF filter for one source (null: no filter). Each source gets its own.</summary>
    public Func<IPacketFilter>? FilterFactory { get; init; }
}
