namespace WsCloseSniffer.Decoding;

/// <summary>
/// One IPv4 fragment, or one IPv6 packet with a Fragment header, as <see cref="PacketDecoder.TryDecodeFragment"/>
/// found it in a frame (in a tunnel, the innermost fragmented packet). Its spans point into the frame.
/// </summary>
public readonly ref struct IpFragment
{
    internal IpFragment(
        bool isIPv6,
        IpAddress source,
        IpAddress destination,
        uint identification,
        byte protocol,
        int offset,
        bool moreFragments,
        ReadOnlySpan<byte> header,
        int nextHeaderIndex,
        ReadOnlySpan<byte> data,
        int dataWireLength)
    {
        IsIPv6 = isIPv6;
        Source = source;
        Destination = destination;
        Identification = identification;
        Protocol = protocol;
        Offset = offset;
        MoreFragments = moreFragments;
        Header = header;
        NextHeaderIndex = nextHeaderIndex;
        Data = data;
        DataWireLength = dataWireLength;
    }

    public bool IsIPv6 { get; }

    public IpAddress Source { get; }

    public IpAddress Destination { get; }

    /// <summary>The IPv4 Identification (16 bits) or the IPv6 Fragment header's Identification (32 bits).</summary>
    public uint Identification { get; }

    /// <summary>What the reassembled data is: the IPv4 Protocol, or the Fragment header's Next Header.</summary>
    public byte Protocol { get; }

    /// <summary>Where this fragment's data lies in the reassembled data, in bytes.</summary>
    public int Offset { get; }

    public bool MoreFragments { get; }

    /// <summary>
    /// The part every fragment repeats: the IPv4 header with its options, or the IPv6 header and the extension
    /// headers before the Fragment header (RFC 8200 section 4.5's unfragmentable part). The reassembled packet
    /// starts with the first fragment's.
    /// </summary>
    public ReadOnlySpan<byte> Header { get; }

    /// <summary>IPv6: where in <see cref="Header"/> the Next Header that names the Fragment header (44) is; -1 for IPv4.</summary>
    public int NextHeaderIndex { get; }

    /// <summary>The fragment's data present in the capture.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>The fragment's data length the IP header announced: more than <see cref="Data"/>.Length when the snap length cut it.</summary>
    public int DataWireLength { get; }
}
