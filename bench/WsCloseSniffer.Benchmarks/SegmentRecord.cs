using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;

namespace WsCloseSniffer.Benchmarks;

/// <summary>A decoded TCP segment stored as plain values (TcpSegment is a ref struct), payload as offsets.</summary>
internal readonly record struct SegmentRecord(
    IpAddress Source,
    IpAddress Destination,
    ushort SourcePort,
    ushort DestinationPort,
    uint Sequence,
    uint Acknowledgment,
    TcpFlags Flags,
    ushort Window,
    int PayloadOffset,
    int PayloadLength,
    int OriginalPayloadLength,
    Timestamp Time)
{
    public TcpSegment ToSegment(byte[] data) => new(
        Source, Destination, SourcePort, DestinationPort, Sequence, Acknowledgment, Flags, Window,
        data.AsSpan(PayloadOffset, PayloadLength), OriginalPayloadLength);

    public static SegmentRecord[] DecodeAll(Frames frames)
    {
        var segments = new List<SegmentRecord>(frames.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            var frame = frames[i];
            if (PacketDecoder.TryDecodeTcp(LinkType.Ethernet, frame, frame.Length, out var s) != DecodeStatus.Tcp)
            {
                continue;
            }

            // The payload span lies inside frames.Data: its offset there is the frame's offset plus the header bytes.
            var payloadOffset = frames.Offsets[i] + (frame.Length - s.Payload.Length);
            segments.Add(new SegmentRecord(
                s.SourceAddress, s.DestinationAddress, s.SourcePort, s.DestinationPort, s.SequenceNumber,
                s.AcknowledgmentNumber, s.Flags, s.Window, payloadOffset, s.Payload.Length, s.OriginalPayloadLength, frames.Times[i]));
        }

        return [.. segments];
    }
}
