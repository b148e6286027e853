using WsCloseSniffer.Capture;
using WsCloseSniffer.Http;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>Settings of one analysis run.</summary>
public sealed record AnalyzerOptions
{
    public ReassemblyOptions Reassembly { get; init; } = new();

    /// <summary>An HTTP head (upgrade request or response) longer than this is given up on (notice http_head_too_large).</summary>
    public int MaxHttpHeadBytes { get; init; } = HttpHeadParser.DefaultMaxHeadBytes;

    /// <summary>How much of a control frame's payload is held; the rest of an oversized one is skipped.</summary>
    public int MaxControlPayloadBytes { get; init; } = FrameDecoder.MaxHeldControlPayloadBytes;

    /// <summary>Creates the BPF filter for one source (null: no filter). Each source gets its own.</summary>
    public Func<IPacketFilter>? FilterFactory { get; init; }
}
