using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Decoding;

/// <summary>
/// Decodes link, IP and TCP headers of one captured frame into a <see cref="TcpSegment"/> that points
/// into the frame. Allocation-free, and never throws on wire data: every length read from the wire
/// is checked against both the captured bytes and the length the enclosing layer announced.
/// </summary>
public static class PacketDecoder
{
    /// <summary>802.1Q / 802.1ad tags accepted in front of one frame's IP header (QinQ uses 2; 8 is generous).</summary>
    public const int MaxVlanTags = 8;

    /// <summary>
    /// Tunnels (IP-in-IP, IPv6-in-IP, GTP-U) entered before giving up. Real captures nest one or two;
    /// a deeper stack is treated as hostile input rather than walked.
    /// </summary>
    public const int MaxTunnelDepth = 4;

    /// <summary>3GPP TS 29.281 section 4.4.2: GTP-U uses UDP port 2152.</summary>
    public const int GtpUserPlanePort = 2152;

    private const int EthernetHeaderBytes = 14;
    private const int VlanTagBytes = 4;
    private const int LinuxSllHeaderBytes = 16;
    private const int LinuxSll2HeaderBytes = 20;
    private const int LoopbackHeaderBytes = 4;
    private const int IPv4MinHeaderBytes = 20;
    private const int IPv6HeaderBytes = 40;
    private const int TcpMinHeaderBytes = 20;
    private const int UdpHeaderBytes = 8;
    private const int GtpMandatoryHeaderBytes = 8;
    private const int GtpOptionalFieldsBytes = 4;
    private const int IPv6FragmentHeaderBytes = 8;

    private const ushort EtherTypeIPv4 = 0x0800;
    private const ushort EtherTypeIPv6 = 0x86DD;
    private const ushort EtherTypeVlan = 0x8100;
    private const ushort EtherTypeProviderBridging = 0x88A8;
    private const ushort EtherTypeLegacyQinQ = 0x9100;

    private const byte ProtocolHopByHop = 0;
    private const byte ProtocolIPv4InIP = 4;
    private const byte ProtocolTcp = 6;
    private const byte ProtocolUdp = 17;
    private const byte ProtocolIPv6InIP = 41;
    private const byte ProtocolRouting = 43;
    private const byte ProtocolFragment = 44;
    private const byte ProtocolEsp = 50;
    private const byte ProtocolAuthentication = 51;
    private const byte ProtocolNoNextHeader = 59;
    private const byte ProtocolDestinationOptions = 60;
    private const byte ProtocolMobility = 135;
    private const byte ProtocolHip = 139;
    private const byte ProtocolShim6 = 140;

    private const byte GtpMessageTypeTPdu = 0xFF;

    /// <summary>
    /// Decodes <paramref name="frame"/> down to its TCP header, through VLAN tags and tunnels.
    /// </summary>
    /// <param name="linkType">The link-layer header type of the frame (pcap LINKTYPE_ value).</param>
    /// <param name="frame">The captured bytes.</param>
    /// <param name="originalLength">
    /// The frame's length on the wire. An IP length beyond it marks the packet inconsistent; an IPv4
    /// total length of 0 (TCP segmentation offload on the capturing host) is replaced by it.
    /// </param>
    /// <param name="segment">The TCP segment when <see cref="DecodeStatus.Tcp"/> is returned, else default.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static DecodeStatus TryDecodeTcp(LinkType linkType, ReadOnlySpan<byte> frame, int originalLength, out TcpSegment segment)
    {
        var unused = default(IpFragment);
        return Decode(linkType, frame, originalLength, out segment, ref unused);
    }

    /// <summary>
    /// Finds the fragment in a frame for which <see cref="TryDecodeTcp"/> returns <see cref="DecodeStatus.IpFragment"/>:
    /// the same walk, through the same tunnels, stopping at the same place.
    /// </summary>
    public static bool TryDecodeFragment(LinkType linkType, ReadOnlySpan<byte> frame, int originalLength, out IpFragment fragment)
    {
        fragment = default;
        return Decode(linkType, frame, originalLength, out _, ref fragment) == DecodeStatus.IpFragment;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus Decode(LinkType linkType, ReadOnlySpan<byte> frame, int originalLength, out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;

        // A capture record whose original length is below its captured length is itself damaged;
        // the captured bytes are the better witness of what was on the wire.
        var wireLength = Math.Max(originalLength, frame.Length);

        switch (linkType)
        {
            case LinkType.Ethernet:
                if (frame.Length < EthernetHeaderBytes)
                {
                    return DecodeStatus.Malformed;
                }

                return DecodeEtherType(
                    BinaryPrimitives.ReadUInt16BigEndian(frame[12..]),
                    frame[EthernetHeaderBytes..],
                    wireLength - EthernetHeaderBytes,
                    out segment, ref fragment);

            case LinkType.LinuxSll:
                if (frame.Length < LinuxSllHeaderBytes)
                {
                    return DecodeStatus.Malformed;
                }

                return DecodeEtherType(
                    BinaryPrimitives.ReadUInt16BigEndian(frame[14..]),
                    frame[LinuxSllHeaderBytes..],
                    wireLength - LinuxSllHeaderBytes,
                    out segment, ref fragment);

            case LinkType.LinuxSll2:
                if (frame.Length < LinuxSll2HeaderBytes)
                {
                    return DecodeStatus.Malformed;
                }

                return DecodeEtherType(
                    BinaryPrimitives.ReadUInt16BigEndian(frame),
                    frame[LinuxSll2HeaderBytes..],
                    wireLength - LinuxSll2HeaderBytes,
                    out segment, ref fragment);

            case LinkType.Null:
            case LinkType.Loop:
                if (frame.Length < LoopbackHeaderBytes)
                {
                    return DecodeStatus.Malformed;
                }

                return DecodeLoopbackFamily(
                    linkType,
                    frame[..LoopbackHeaderBytes],
                    frame[LoopbackHeaderBytes..],
                    wireLength - LoopbackHeaderBytes,
                    out segment, ref fragment);

            case LinkType.Raw:
                return DecodeIP(frame, wireLength, depth: 0, out segment, ref fragment);

            case LinkType.Ipv4:
                return DecodeIPv4(frame, wireLength, depth: 0, out segment, ref fragment);

            case LinkType.Ipv6:
                return DecodeIPv6(frame, wireLength, depth: 0, out segment, ref fragment);

            default:
                return DecodeStatus.UnsupportedLinkType;
        }
    }

    /// <summary>Whether <see cref="TryDecodeTcp"/> understands frames of this link type.</summary>
    public static bool IsSupported(LinkType linkType) => linkType is LinkType.Ethernet or LinkType.LinuxSll
        or LinkType.LinuxSll2 or LinkType.Null or LinkType.Loop or LinkType.Raw or LinkType.Ipv4 or LinkType.Ipv6;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeEtherType(ushort etherType, ReadOnlySpan<byte> payload, int wireLength, out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;
        for (var tags = 0; ; tags++)
        {
            switch (etherType)
            {
                case EtherTypeIPv4:
                    return DecodeIPv4(payload, wireLength, depth: 0, out segment, ref fragment);

                case EtherTypeIPv6:
                    return DecodeIPv6(payload, wireLength, depth: 0, out segment, ref fragment);

                case EtherTypeVlan:
                case EtherTypeProviderBridging:
                case EtherTypeLegacyQinQ:
                    if (tags == MaxVlanTags || payload.Length < VlanTagBytes)
                    {
                        return DecodeStatus.Malformed;
                    }

                    // IEEE 802.1Q: 2 bytes of tag control information, then the next EtherType.
                    etherType = BinaryPrimitives.ReadUInt16BigEndian(payload[2..]);
                    payload = payload[VlanTagBytes..];
                    wireLength -= VlanTagBytes;
                    break;

                default:
                    // ARP, LLDP, 802.3 length fields with LLC, ...
                    return DecodeStatus.NotTcp;
            }
        }
    }

    private static DecodeStatus DecodeLoopbackFamily(
        LinkType linkType,
        ReadOnlySpan<byte> header,
        ReadOnlySpan<byte> packet,
        int wireLength,
        out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;

        // LINKTYPE_NULL stores the family in the capturing host's byte order, which the file does not
        // record; families are small numbers, so the order that yields a small value is the right one.
        var family = linkType == LinkType.Loop
            ? BinaryPrimitives.ReadUInt32BigEndian(header)
            : BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (family > 0xFFFF)
        {
            family = BinaryPrimitives.ReverseEndianness(family);
        }

        return family switch
        {
            // AF_INET is 2 everywhere.
            2 => DecodeIPv4(packet, wireLength, depth: 0, out segment, ref fragment),

            // AF_INET6: 10 Linux, 24 OpenBSD/NetBSD, 28 FreeBSD/DragonFly, 30 macOS.
            10 or 24 or 28 or 30 => DecodeIPv6(packet, wireLength, depth: 0, out segment, ref fragment),
            _ => DecodeStatus.NotTcp,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeIP(ReadOnlySpan<byte> packet, int wireLength, int depth, out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;
        if (packet.IsEmpty)
        {
            return DecodeStatus.Malformed;
        }

        return (packet[0] >> 4) switch
        {
            4 => DecodeIPv4(packet, wireLength, depth, out segment, ref fragment),
            6 => DecodeIPv6(packet, wireLength, depth, out segment, ref fragment),
            _ => DecodeStatus.Malformed,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeIPv4(ReadOnlySpan<byte> packet, int wireLength, int depth, out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;
        if (packet.Length < IPv4MinHeaderBytes || (packet[0] >> 4) != 4)
        {
            return DecodeStatus.Malformed;
        }

        var headerLength = (packet[0] & 0x0F) * 4;
        if (headerLength < IPv4MinHeaderBytes || headerLength > packet.Length)
        {
            return DecodeStatus.Malformed;
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (totalLength == 0)
        {
            // With TCP segmentation offload the capturing host sees the large segment before the NIC
            // splits it, and Linux reports a total length of 0 when it exceeds 65535: the frame is the truth.
            totalLength = wireLength;
        }

        // RFC 791: the total length counts the header; it bounds the payload, so Ethernet padding and
        // trailers beyond it are ignored, and it may not claim more than the wire carried.
        if (totalLength < headerLength || totalLength > wireLength)
        {
            return DecodeStatus.Malformed;
        }

        var source = IpAddress.FromIPv4(packet.Slice(12, 4));
        var destination = IpAddress.FromIPv4(packet.Slice(16, 4));
        var protocol = packet[9];
        var fragmentField = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]);
        var moreFragments = (fragmentField & 0x2000) != 0;
        var fragmentOffset = fragmentField & 0x1FFF;

        var payload = packet[headerLength..Math.Min(packet.Length, totalLength)];
        if (moreFragments || fragmentOffset != 0)
        {
            var status = FragmentStatus(protocol, isFirstFragment: fragmentOffset == 0, payload);
            if (status == DecodeStatus.IpFragment)
            {
                fragment = new IpFragment(
                    isIPv6: false,
                    source,
                    destination,
                    identification: BinaryPrimitives.ReadUInt16BigEndian(packet[4..]),
                    protocol,
                    offset: fragmentOffset * 8,
                    moreFragments,
                    header: packet[..headerLength],
                    nextHeaderIndex: -1,
                    data: payload,
                    dataWireLength: totalLength - headerLength);
            }

            return status;
        }

        // Nearly every packet is plain TCP: straight to the TCP header (measured: the generic walk below
        // costs a copy of the segment per layer).
        if (protocol == ProtocolTcp)
        {
            return DecodeTcp(source, destination, payload, totalLength - headerLength, out segment);
        }

        return DecodeUpperLayers(protocol, isIPv6: false, source, destination, packet[..headerLength], payload, totalLength - headerLength, depth, out segment, ref fragment);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeIPv6(ReadOnlySpan<byte> packet, int wireLength, int depth, out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;
        if (packet.Length < IPv6HeaderBytes || (packet[0] >> 4) != 6)
        {
            return DecodeStatus.Malformed;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        var nextHeader = packet[6];
        if (payloadLength == 0)
        {
            // RFC 2675: a zero payload length announces a jumbogram, which no capture of ours carries;
            // only an empty packet with no next header is a well-formed zero.
            return nextHeader == ProtocolNoNextHeader ? DecodeStatus.NotTcp : DecodeStatus.Malformed;
        }

        var totalLength = IPv6HeaderBytes + payloadLength;
        if (totalLength > wireLength)
        {
            return DecodeStatus.Malformed;
        }

        var source = IpAddress.FromIPv6(packet.Slice(8, 16));
        var destination = IpAddress.FromIPv6(packet.Slice(24, 16));
        var payload = packet[IPv6HeaderBytes..Math.Min(packet.Length, totalLength)];
        if (nextHeader == ProtocolTcp)
        {
            return DecodeTcp(source, destination, payload, payloadLength, out segment);
        }

        return DecodeUpperLayers(nextHeader, isIPv6: true, source, destination, packet[..IPv6HeaderBytes], payload, payloadLength, depth, out segment, ref fragment);
    }

    /// <summary>
    /// Walks IPv6 extension headers (and AH, also valid over IPv4) to the transport or tunnelled packet.
    /// Invariant: <paramref name="payload"/>.Length &lt;= <paramref name="payloadLength"/>, and
    /// <paramref name="payload"/> follows <paramref name="ipHeader"/> in the same packet.
    /// </summary>
    private static DecodeStatus DecodeUpperLayers(
        byte protocol,
        bool isIPv6,
        IpAddress source,
        IpAddress destination,
        ReadOnlySpan<byte> ipHeader,
        ReadOnlySpan<byte> payload,
        int payloadLength,
        int depth,
        out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;

        // Where the headers walked so far end, and where the Next Header naming the current one is: the
        // unfragmentable part of an IPv6 fragment is the packet up to its Fragment header.
        var position = ipHeader.Length;
        var nextHeaderIndex = 6;
        while (true)
        {
            int headerLength;
            switch (protocol)
            {
                case ProtocolTcp:
                    return DecodeTcp(source, destination, payload, payloadLength, out segment);

                case ProtocolUdp:
                    return DecodeUdp(payload, payloadLength, depth, out segment, ref fragment);

                case ProtocolIPv4InIP:
                    return depth >= MaxTunnelDepth
                        ? DecodeStatus.Malformed
                        : DecodeIPv4(payload, payloadLength, depth + 1, out segment, ref fragment);

                case ProtocolIPv6InIP:
                    return depth >= MaxTunnelDepth
                        ? DecodeStatus.Malformed
                        : DecodeIPv6(payload, payloadLength, depth + 1, out segment, ref fragment);

                case ProtocolAuthentication:
                    // RFC 4302 section 2.2: AH counts its length in 32-bit words, minus 2.
                    if (payload.Length < 2)
                    {
                        return DecodeStatus.Malformed;
                    }

                    headerLength = (payload[1] + 2) * 4;
                    break;

                case ProtocolHopByHop when isIPv6:
                case ProtocolRouting when isIPv6:
                case ProtocolDestinationOptions when isIPv6:
                case ProtocolMobility when isIPv6:
                case ProtocolHip when isIPv6:
                case ProtocolShim6 when isIPv6:
                    // RFC 8200 section 4 (and RFC 6564's uniform format): length in 8-octet units, minus 1.
                    if (payload.Length < 2)
                    {
                        return DecodeStatus.Malformed;
                    }

                    headerLength = (payload[1] + 1) * 8;
                    break;

                case ProtocolFragment when isIPv6:
                {
                    if (payload.Length < IPv6FragmentHeaderBytes)
                    {
                        return DecodeStatus.Malformed;
                    }

                    var fragmentField = BinaryPrimitives.ReadUInt16BigEndian(payload[2..]);
                    var fragmentOffset = fragmentField >> 3;
                    var moreFragments = (fragmentField & 0x0001) != 0;
                    var fragmentNext = payload[0];
                    var identification = BinaryPrimitives.ReadUInt32BigEndian(payload[4..]);
                    payload = payload[IPv6FragmentHeaderBytes..];
                    payloadLength -= IPv6FragmentHeaderBytes;
                    if (fragmentOffset != 0 || moreFragments)
                    {
                        var status = FragmentStatus(fragmentNext, isFirstFragment: fragmentOffset == 0, payload);
                        if (status == DecodeStatus.IpFragment)
                        {
                            // The payload is a slice of the same packet as the header, right after the Fragment header.
                            var unfragmentable = MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetReference(ipHeader), position);
                            fragment = new IpFragment(
                                isIPv6: true,
                                source,
                                destination,
                                identification,
                                fragmentNext,
                                offset: fragmentOffset * 8,
                                moreFragments,
                                unfragmentable,
                                nextHeaderIndex,
                                data: payload,
                                dataWireLength: payloadLength);
                        }

                        return status;
                    }

                    // RFC 6946: an atomic fragment (offset 0, M clear) is the whole packet.
                    nextHeaderIndex = position;
                    position += IPv6FragmentHeaderBytes;
                    protocol = fragmentNext;
                    continue;
                }

                case ProtocolEsp:
                case ProtocolNoNextHeader:
                    // ESP hides what follows; 59 says nothing follows.
                    return DecodeStatus.NotTcp;

                default:
                    return DecodeStatus.NotTcp;
            }

            if (headerLength > payload.Length)
            {
                return DecodeStatus.Malformed;
            }

            protocol = payload[0];
            payload = payload[headerLength..];
            payloadLength -= headerLength;
            nextHeaderIndex = position;
            position += headerLength;
        }
    }

    /// <summary>
    /// A fragment is <see cref="DecodeStatus.IpFragment"/> (for the defragmenter) only when it could carry TCP, so
    /// fragmented DNS or NFS traffic is not held: a UDP datagram's first fragment shows its ports, and only a GTP-U
    /// tunnel's may; its later fragments cannot tell and go to the defragmenter, which keeps them only for a datagram
    /// whose first fragment it holds.
    /// </summary>
    private static DecodeStatus FragmentStatus(byte protocol, bool isFirstFragment, ReadOnlySpan<byte> payload)
    {
        switch (protocol)
        {
            case ProtocolTcp:
            case ProtocolIPv4InIP:
            case ProtocolIPv6InIP:
            case ProtocolAuthentication:
            case ProtocolHopByHop:
            case ProtocolRouting:
            case ProtocolFragment:
            case ProtocolDestinationOptions:
                return DecodeStatus.IpFragment;

            case ProtocolUdp:
                // Only the first fragment shows the ports; a GTP-U tunnel may be carrying TCP.
                return !isFirstFragment || (payload.Length >= 4 && IsGtpUserPlane(payload))
                    ? DecodeStatus.IpFragment
                    : DecodeStatus.NotTcp;

            default:
                return DecodeStatus.NotTcp;
        }
    }

    private static bool IsGtpUserPlane(ReadOnlySpan<byte> udpHeader) =>
        BinaryPrimitives.ReadUInt16BigEndian(udpHeader) == GtpUserPlanePort
        || BinaryPrimitives.ReadUInt16BigEndian(udpHeader[2..]) == GtpUserPlanePort;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DecodeStatus DecodeTcp(
        IpAddress source,
        IpAddress destination,
        ReadOnlySpan<byte> payload,
        int payloadLength,
        out TcpSegment segment)
    {
        segment = default;

        // A snap length that cuts inside the TCP header (options included) leaves nothing trustworthy.
        if (payload.Length < TcpMinHeaderBytes)
        {
            return DecodeStatus.Malformed;
        }

        // RFC 9293 section 3.1: data offset in 32-bit words, at least 5.
        var headerLength = (payload[12] >> 4) * 4;
        if (headerLength < TcpMinHeaderBytes || headerLength > payload.Length)
        {
            return DecodeStatus.Malformed;
        }

        var flags = (TcpFlags)payload[13];
        segment = new TcpSegment(
            source,
            destination,
            sourcePort: BinaryPrimitives.ReadUInt16BigEndian(payload),
            destinationPort: BinaryPrimitives.ReadUInt16BigEndian(payload[2..]),
            sequenceNumber: BinaryPrimitives.ReadUInt32BigEndian(payload[4..]),
            acknowledgmentNumber: BinaryPrimitives.ReadUInt32BigEndian(payload[8..]),
            flags,
            window: BinaryPrimitives.ReadUInt16BigEndian(payload[14..]),
            payload: payload[headerLength..],
            originalPayloadLength: payloadLength - headerLength,
            windowScale: (flags & TcpFlags.Syn) != 0 ? WindowScaleOption(payload[TcpMinHeaderBytes..headerLength]) : TcpSegment.NoWindowScale);
        return DecodeStatus.Tcp;
    }

    /// <summary>
    /// RFC 7323 section 2.2: the Window Scale option (kind 3, length 3, shift count) of a SYN; -1 when absent or when
    /// the options are malformed (then no option can be trusted).
    /// </summary>
    private static sbyte WindowScaleOption(ReadOnlySpan<byte> options)
    {
        const byte EndOfOptions = 0;
        const byte NoOperation = 1;
        const byte WindowScale = 3;
        while (!options.IsEmpty)
        {
            var kind = options[0];
            if (kind == EndOfOptions)
            {
                break;
            }

            if (kind == NoOperation)
            {
                options = options[1..];
                continue;
            }

            if (options.Length < 2 || options[1] < 2 || options[1] > options.Length)
            {
                return TcpSegment.NoWindowScale;
            }

            if (kind == WindowScale && options[1] == 3)
            {
                // A shift above 14 is taken as 14 (RFC 7323 section 2.3).
                return (sbyte)Math.Min(options[2], TcpSegment.MaxWindowScale);
            }

            options = options[options[1]..];
        }

        return TcpSegment.NoWindowScale;
    }

    private static DecodeStatus DecodeUdp(ReadOnlySpan<byte> payload, int payloadLength, int depth, out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;
        if (payload.Length < UdpHeaderBytes)
        {
            return DecodeStatus.Malformed;
        }

        if (!IsGtpUserPlane(payload))
        {
            return DecodeStatus.NotTcp;
        }

        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(payload[4..]);
        if (udpLength < UdpHeaderBytes || udpLength > payloadLength || depth >= MaxTunnelDepth)
        {
            return DecodeStatus.Malformed;
        }

        var datagram = payload[UdpHeaderBytes..Math.Min(payload.Length, udpLength)];
        return DecodeGtpU(datagram, udpLength - UdpHeaderBytes, depth + 1, out segment, ref fragment);
    }

    /// <summary>3GPP TS 29.281 section 5: GTPv1-U header, optional fields and extension-header chain.</summary>
    private static DecodeStatus DecodeGtpU(ReadOnlySpan<byte> message, int messageWireLength, int depth, out TcpSegment segment, scoped ref IpFragment fragment)
    {
        segment = default;
        if (message.Length < GtpMandatoryHeaderBytes)
        {
            return DecodeStatus.Malformed;
        }

        var flags = message[0];
        if ((flags >> 5) != 1 || (flags & 0x10) == 0)
        {
            // Not GTPv1 (PT=1): GTP' or something else on the port.
            return DecodeStatus.NotTcp;
        }

        // The length field counts everything after the 8 mandatory bytes, optional fields included.
        var announcedLength = GtpMandatoryHeaderBytes + BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if (announcedLength > messageWireLength)
        {
            return DecodeStatus.Malformed;
        }

        if (message[1] != GtpMessageTypeTPdu)
        {
            // Echo, error indication, end marker: signalling, no user packet.
            return DecodeStatus.NotTcp;
        }

        message = message[..Math.Min(message.Length, announcedLength)];
        var offset = GtpMandatoryHeaderBytes;
        if ((flags & 0x07) != 0)
        {
            // Any of E, S, PN brings sequence number, N-PDU number and next-extension type (4 bytes).
            offset += GtpOptionalFieldsBytes;
            if (offset > message.Length)
            {
                return DecodeStatus.Malformed;
            }

            // The next-extension type is meaningful only when E is set.
            var nextExtension = (flags & 0x04) != 0 ? message[offset - 1] : (byte)0;
            while (nextExtension != 0)
            {
                if (offset >= message.Length)
                {
                    return DecodeStatus.Malformed;
                }

                // Section 5.2.1: length in 4-octet units including itself and the next-type byte.
                var extensionLength = message[offset] * 4;
                if (extensionLength == 0 || extensionLength > message.Length - offset)
                {
                    return DecodeStatus.Malformed;
                }

                nextExtension = message[offset + extensionLength - 1];
                offset += extensionLength;
            }
        }

        var innerWireLength = announcedLength - offset;
        if (innerWireLength < 0)
        {
            return DecodeStatus.Malformed;
        }

        var inner = message[offset..];
        if (innerWireLength == 0 || (!inner.IsEmpty && (inner[0] >> 4) is not (4 or 6)))
        {
            // No payload, or a non-IP PDU session (Ethernet, unstructured).
            return DecodeStatus.NotTcp;
        }

        return DecodeIP(inner, innerWireLength, depth, out segment, ref fragment);
    }
}
