using WsCloseSniffer.Capture;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>One frame as a <see cref="FrameDecoder"/> handed it over, with the control payload copied out.</summary>
internal sealed record RecordedFrame(FrameHeader Header, byte[] ControlPayload, bool IsComplete, Timestamp Time)
{
    /// <summary>A comparable one-line form: opcode, flags, length, held payload in hex, completeness.</summary>
    public string Describe() =>
        $"op={Header.RawOpcode:x} fin={Header.Fin} rsv={(Header.Rsv1 ? 1 : 0)}{(Header.Rsv2 ? 1 : 0)}{(Header.Rsv3 ? 1 : 0)} " +
        $"mask={Header.IsMasked}:{Header.MaskKey:x8} len={Header.PayloadLength} hdr={Header.HeaderLength} " +
        $"payload={PacketFrames.ToHex(ControlPayload)} complete={IsComplete}";
}

/// <summary>Records every frame a decoder completes.</summary>
internal sealed class FrameRecorder : IFrameHandler
{
    public List<RecordedFrame> Frames { get; } = [];

    public void OnFrame(in FrameHeader header, in ControlPayload controlPayload, Timestamp time) =>
        Frames.Add(new RecordedFrame(header, controlPayload.Bytes.ToArray(), controlPayload.IsComplete, time));

    public IEnumerable<string> Described => Frames.Select(f => f.Describe());
}
