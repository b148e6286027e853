namespace WsCloseSniffer.Decoding;

[Flags]
public enum TcpFlags : ushort
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
}

/// <summary>
/// A decoded TCP segment. <see cref="Payload"/> points into the captured frame and is only valid
/// while that frame is: nothing is copied.
/// </summary>
public readonly ref struct TcpSegment
{
    public TcpSegment(
        IpAddress sourceAddress,
        IpAddress destinationAddress,
        ushort sourcePort,
        ushort destinationPort,
        uint sequenceNumber,
        uint acknowledgmentNumber,
        TcpFlags flags,
        ushort window,
        ReadOnlySpan<byte> payload,
        int originalPayloadLength,
        sbyte windowScale = NoWindowScale)
    {
        SourceAddress = sourceAddress;
        DestinationAddress = destinationAddress;
        SourcePort = sourcePort;
        DestinationPort = destinationPort;
        SequenceNumber = sequenceNumber;
        AcknowledgmentNumber = acknowledgmentNumber;
        Flags = flags;
        Window = window;
        Payload = payload;
        OriginalPayloadLength = originalPayloadLength;
        WindowScale = windowScale;
    }

    /// <summary><see cref="WindowScale"/> of a segment without the option (or not a SYN).</summary>
    public const sbyte NoWindowScale = -1;

    /// <summary>RFC 7323 section 2.3: the largest shift count; a larger one is taken as this.</summary>
    public const sbyte MaxWindowScale = 14;

    public IpAddress SourceAddress { get; }
    public IpAddress DestinationAddress { get; }
    public ushort SourcePort { get; }
    public ushort DestinationPort { get; }
    public uint SequenceNumber { get; }
    public uint AcknowledgmentNumber { get; }
    public TcpFlags Flags { get; }
    /// <summary>The window field as sent: scaled by the sender's window scale except in a SYN (RFC 7323 section 2.2).</summary>
    public ushort Window { get; }

    /// <summary>A SYN's Window Scale option's shift count (at most <see cref="MaxWindowScale"/>), else <see cref="NoWindowScale"/>.</summary>
    public sbyte WindowScale { get; }

    /// <summary>The payload bytes present in the capture.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>
    /// The payload length the IP header announced. Larger than <see cref="Payload"/>.Length when the
    /// snap length cut the frame: the missing tail is a gap of known length for the reassembler.
    /// </summary>
    public int OriginalPayloadLength { get; }

    public bool HasFlag(TcpFlags flag) => (Flags & flag) != 0;
}

/// <summary>What <c>PacketDecoder.TryDecodeTcp</c> found in a frame.</summary>
public enum DecodeStatus : byte
{
    /// <summary>A TCP segment was decoded.</summary>
    Tcp = 0,
    /// <summary>A well-formed packet that is not TCP (UDP, ICMP, ARP, ...).</summary>
    NotTcp = 1,
    /// <summary>An IP fragment that could carry TCP: for <see cref="IpDefragmenter"/> (<see cref="PacketDecoder.TryDecodeFragment"/> finds it).</summary>
    IpFragment = 2,
    /// <summary>A link type the decoder does not understand.</summary>
    UnsupportedLinkType = 3,
    /// <summary>Headers that are cut short or inconsistent.</summary>
    Malformed = 4,
}
