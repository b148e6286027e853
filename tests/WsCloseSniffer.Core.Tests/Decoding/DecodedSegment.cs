using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Decoding;

/// <summary>A copy of a decoded <see cref="TcpSegment"/> (a ref struct) that assertions can compare whole.</summary>
internal sealed record DecodedSegment(
    string Source,
    string Destination,
    ushort SourcePort,
    ushort DestinationPort,
    uint Sequence,
    uint Acknowledgment,
    TcpFlags Flags,
    ushort Window,
    string PayloadHex,
    int OriginalPayloadLength)
{
    public static DecodedSegment From(in TcpSegment segment) => new(
        segment.SourceAddress.ToString(),
        segment.DestinationAddress.ToString(),
        segment.SourcePort,
        segment.DestinationPort,
        segment.SequenceNumber,
        segment.AcknowledgmentNumber,
        segment.Flags,
        segment.Window,
        PacketFrames.ToHex(segment.Payload),
        segment.OriginalPayloadLength);

    public static DecodedSegment Expected(TcpSpec spec, string source, string destination) => new(
        source,
        destination,
        spec.SourcePort,
        spec.DestinationPort,
        spec.Sequence,
        spec.Acknowledgment,
        (TcpFlags)spec.Flags,
        spec.Window,
        PacketFrames.ToHex(spec.Payload),
        spec.Payload.Length);

    /// <summary>Decodes and returns the status with a copy of the segment (null unless Tcp).</summary>
    public static (DecodeStatus Status, DecodedSegment? Segment) Decode(LinkType linkType, ReadOnlySpan<byte> frame, int? originalLength = null)
    {
        var status = PacketDecoder.TryDecodeTcp(linkType, frame, originalLength ?? frame.Length, out var segment);
        return (status, status == DecodeStatus.Tcp ? From(segment) : null);
    }
}
