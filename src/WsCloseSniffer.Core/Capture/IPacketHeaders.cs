namespace WsCloseSniffer.Capture;

/// <summary>
/// What a later stage decodes of a packet's headers, made on a reading thread ahead of the analysis
/// (<see cref="PrefetchingPacketSource{THeaders}"/>). A static member on a struct type: the reading loop is
/// compiled for the one type and the call inlined, as if written there.
/// </summary>
public interface IPacketHeaders<TSelf>
    where TSelf : struct, IPacketHeaders<TSelf>
{
    /// <summary>Decodes <paramref name="packet"/>; never throws on malformed input (the status says so).</summary>
    static abstract TSelf Decode(in CapturedPacket packet);
}
