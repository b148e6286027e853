namespace WsCloseSniffer.Capture;

/// <summary>
/// Decides whether a captured frame is analyzed (a BPF expression, as tcpdump's). Called once per
/// frame on the hot path: implementations must not allocate per call.
/// </summary>
public interface IPacketFilter
{
    bool Matches(LinkType linkType, ReadOnlySpan<byte> frame, int originalLength);
}
