namespace WsCloseSniffer.Capture;

/// <summary>
/// One frame as read from a capture. <see cref="Data"/> is only valid until the source is asked
/// for the next packet: nothing is copied per packet.
/// </summary>
public readonly ref struct CapturedPacket
{
    public CapturedPacket(Timestamp timestamp, LinkType linkType, ReadOnlySpan<byte> data, int originalLength, long packetNumber)
    {
        Timestamp = timestamp;
        LinkType = linkType;
        Data = data;
        OriginalLength = originalLength;
        PacketNumber = packetNumber;
    }

    public Timestamp Timestamp { get; }

    public LinkType LinkType { get; }

    /// <summary>The captured bytes (possibly fewer than <see cref="OriginalLength"/> when the snap length cut it).</summary>
    public ReadOnlySpan<byte> Data { get; }

    public int OriginalLength { get; }

    /// <summary>1-based number of the packet in its source, as Wireshark numbers frames.</summary>
    public long PacketNumber { get; }
}
