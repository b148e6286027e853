using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Tests.Capture;

/// <summary>A packet copied out of a source, so a test can look at it after the next read.</summary>
internal sealed record ReadPacket(Timestamp Timestamp, LinkType LinkType, byte[] Data, int OriginalLength, long PacketNumber);

internal static class CaptureTestSupport
{
    public static IPacketSource Open(byte[] bytes, string name = "test.cap") => CaptureFile.Open(new MemoryStream(bytes), name);

    public static List<ReadPacket> ReadAll(IPacketSource source)
    {
        var packets = new List<ReadPacket>();
        while (source.TryReadNext(out var packet))
        {
            packets.Add(new ReadPacket(packet.Timestamp, packet.LinkType, packet.Data.ToArray(), packet.OriginalLength, packet.PacketNumber));
        }

        return packets;
    }

    public static (List<ReadPacket> Packets, CaptureDamage? Damage) ReadAll(byte[] bytes, string name = "test.cap")
    {
        using var source = Open(bytes, name);
        var packets = ReadAll(source);
        return (packets, source.Damage);
    }

    public static long Nanoseconds(long seconds, long nanoseconds) => (seconds * 1_000_000_000L) + nanoseconds;
}
