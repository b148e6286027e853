using System.Buffers.Binary;
using System.Globalization;
using System.Net;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Decoding;

public class PacketDecoderIpTests
{
    private const string ClientV4 = "192.0.2.10";
    private const string ServerV4 = "198.51.100.20";
    private const string ClientV6 = "2001:db8::10";
    private const string ServerV6 = "2001:db8::20";

    [Theory]
    [InlineData("")]
    [InlineData("01010100")] // NOP NOP NOP EOL
    [InlineData("94040000")] // router alert
    [InlineData("8307 04 c0000201 00")] // loose source route with one address, padded
    [InlineData("4428 05 00 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000")] // timestamp, IHL 15
    public void TryDecodeTcp_IPv4Options_SkipsToTcpHeader(string optionsHex)
    {
        var spec = TcpSpec.Default();
        var ip = PacketFrames.WithIPv4Options(PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4), PacketFrames.FromHex(optionsHex));

        var (status, segment) = DecodedSegment.Decode(LinkType.Ipv4, ip);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(DecodedSegment.Expected(spec, ClientV4, ServerV4), segment);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void TryDecodeTcp_IPv4HeaderLengthBelowFive_ReportsMalformed(int ihl)
    {
        var ip = PacketFrames.IPv4Tcp(TcpSpec.Default());
        ip[0] = (byte)(0x40 | ihl);

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp(LinkType.Ipv4, ip, ip.Length, out _));
    }

    [Theory]
    [InlineData(1, 0, DecodeStatus.IpFragment)] // first fragment: MF set
    [InlineData(1, 185, DecodeStatus.IpFragment)] // middle fragment
    [InlineData(0, 185, DecodeStatus.IpFragment)] // last fragment
    [InlineData(2, 0, DecodeStatus.Tcp)] // DF alone is a whole packet
    [InlineData(0, 0, DecodeStatus.Tcp)]
    public void TryDecodeTcp_IPv4FragmentFields_ReportsFragmentUnlessWhole(int flags, int offset, DecodeStatus expected)
    {
        var fields = new IpFields(DontFragment: (flags & 2) != 0, MoreFragments: (flags & 1) != 0, FragmentOffset: offset);
        var frame = PacketFrames.EthernetTcp(TcpSpec.Default(), IPAddress.Parse(ClientV4), IPAddress.Parse(ServerV4), PacketFrames.SourceMac, PacketFrames.DestinationMac, fields);

        Assert.Equal(expected, PacketDecoder.TryDecodeTcp(LinkType.Ethernet, frame, frame.Length, out _));
    }

    [Theory]
    [InlineData(0x2000, 2152, DecodeStatus.IpFragment)] // first fragment of a GTP-U datagram may carry TCP
    [InlineData(0x2000, 53, DecodeStatus.NotTcp)] // fragmented DNS answer
    [InlineData(0x0010, 2152, DecodeStatus.IpFragment)] // later fragment: ports unknown, kept only if its first fragment was
    public void TryDecodeTcp_UdpFragment_CountsOnlyWhatCouldCarryTcp(int fragmentField, int port, DecodeStatus expected)
    {
        var ip = PacketFrames.IPv4Udp(40000, (ushort)port, new byte[64]);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(6), (ushort)fragmentField);

        Assert.Equal(expected, PacketDecoder.TryDecodeTcp(LinkType.Ipv4, ip, ip.Length, out _));
    }

    [Theory]
    [InlineData(1)] // ICMP
    [InlineData(17)] // UDP, not GTP
    [InlineData(47)] // GRE
    [InlineData(50)] // ESP
    [InlineData(132)] // SCTP
    public void TryDecodeTcp_IPv4OtherProtocol_ReportsNotTcp(byte protocol)
    {
        var ip = PacketFrames.IPv4Tcp(TcpSpec.Default());
        ip[9] = protocol;

        Assert.Equal(DecodeStatus.NotTcp, PacketDecoder.TryDecodeTcp(LinkType.Ipv4, ip, ip.Length, out _));
    }

    [Fact]
    public void TryDecodeTcp_EthernetPaddingAndFcs_AreNotPayload()
    {
        // A bare ACK is 54 bytes: Ethernet pads it to 60, and some captures keep the 4-byte FCS.
        var spec = TcpSpec.Default() with { Flags = TcpControl.Ack, Payload = [], Options = [] };
        var frame = PacketFrames.Concat(PacketFrames.EthernetIPv4Tcp(spec, ClientV4, ServerV4), PacketFrames.FromHex("ffeeddccbbaa 0badf00d"));
        Assert.Equal(64, frame.Length);

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, frame);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(DecodedSegment.Expected(spec, ClientV4, ServerV4), segment);
        Assert.Equal(string.Empty, segment!.PayloadHex);
    }

    [Fact]
    public void TryDecodeTcp_EthernetTrailerAfterIPv6_IsNotPayload()
    {
        var spec = TcpSpec.Default();
        var frame = PacketFrames.Concat(PacketFrames.EthernetHeader(0x86DD), PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6), PacketFrames.FromHex("0badf00d"));

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, frame);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(DecodedSegment.Expected(spec, ClientV6, ServerV6), segment);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 100)]
    [InlineData(true, 1)]
    [InlineData(true, 999)]
    public void TryDecodeTcp_SnapLengthCutPayload_ReportsFullOriginalPayloadLength(bool ipv6, int missingBytes)
    {
        var spec = TcpSpec.Default() with { Payload = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray() };
        var frame = ipv6
            ? PacketFrames.Concat(PacketFrames.EthernetHeader(0x86DD), PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6))
            : PacketFrames.EthernetIPv4Tcp(spec, ClientV4, ServerV4);
        var captured = frame.AsSpan(0, frame.Length - missingBytes);

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, captured, originalLength: frame.Length);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(1000, segment!.OriginalPayloadLength);
        Assert.Equal(PacketFrames.ToHex(spec.Payload.AsSpan(0, 1000 - missingBytes)), segment.PayloadHex);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TryDecodeTcp_IPLengthBeyondWireLength_ReportsMalformed(bool ipv6)
    {
        var spec = TcpSpec.Default();
        var ip = ipv6 ? PacketFrames.IPv6Tcp(spec) : PacketFrames.IPv4Tcp(spec);
        var lengthOffset = ipv6 ? 4 : 2;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(lengthOffset), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(lengthOffset)) + 1));

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp(LinkType.Raw, ip, ip.Length, out _));
    }

    [Theory]
    [InlineData(19)]
    [InlineData(1)]
    public void TryDecodeTcp_IPv4TotalLengthBelowHeader_ReportsMalformed(int totalLength)
    {
        var ip = PacketFrames.IPv4Tcp(TcpSpec.Default());
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)totalLength);

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp(LinkType.Ipv4, ip, ip.Length, out _));
    }

    [Fact]
    public void TryDecodeTcp_IPv4TotalLengthZero_TakesLengthFromWireAsTsoCapture()
    {
        var spec = TcpSpec.Default();
        var frame = PacketFrames.EthernetIPv4Tcp(spec, ClientV4, ServerV4);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 2), 0);

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, frame);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(DecodedSegment.Expected(spec, ClientV4, ServerV4), segment);
    }

    [Theory]
    [InlineData(6, DecodeStatus.Malformed)] // jumbogram: out of scope
    [InlineData(59, DecodeStatus.NotTcp)] // nothing follows: a well-formed empty packet
    public void TryDecodeTcp_IPv6PayloadLengthZero_ReportsJumboMalformed(byte nextHeader, DecodeStatus expected)
    {
        var ip = PacketFrames.IPv6Tcp(TcpSpec.Default());
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(4), 0);
        ip[6] = nextHeader;

        Assert.Equal(expected, PacketDecoder.TryDecodeTcp(LinkType.Ipv6, ip, ip.Length, out _));
    }

    [Theory]
    [InlineData(228, 0x60)]
    [InlineData(229, 0x45)]
    [InlineData(101, 0x55)]
    [InlineData(101, 0x05)]
    public void TryDecodeTcp_WrongIPVersion_ReportsMalformed(uint linkType, byte firstByte)
    {
        var ip = new byte[60];
        ip[0] = firstByte;

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp((LinkType)linkType, ip, ip.Length, out _));
    }

    /// <summary>
    /// Chains of "kind/bytes" extension headers between the IPv6 header and TCP. Kinds: 0 hop-by-hop,
    /// 43 routing, 60 destination options, 51 AH, 44 fragment (atomic, first, last), 50 ESP, 59 none.
    /// </summary>
    [Theory]
    [InlineData("0/8", DecodeStatus.Tcp)]
    [InlineData("0/8 60/16 43/24", DecodeStatus.Tcp)]
    [InlineData("0/2048", DecodeStatus.Tcp)] // largest hop-by-hop: (255 + 1) * 8
    [InlineData("60/8 60/8 60/8 60/8 60/8 60/8 60/8 60/8", DecodeStatus.Tcp)]
    [InlineData("51/24", DecodeStatus.Tcp)]
    [InlineData("0/8 51/16 60/8", DecodeStatus.Tcp)]
    [InlineData("44/atomic", DecodeStatus.Tcp)]
    [InlineData("0/8 44/atomic 60/8", DecodeStatus.Tcp)]
    [InlineData("44/first", DecodeStatus.IpFragment)]
    [InlineData("0/8 44/last", DecodeStatus.IpFragment)]
    [InlineData("50/8", DecodeStatus.NotTcp)]
    [InlineData("0/8 59/8", DecodeStatus.NotTcp)]
    public void TryDecodeTcp_IPv6ExtensionChain_WalksToTcp(string chain, DecodeStatus expected)
    {
        var spec = TcpSpec.Default();
        var headers = chain.Split(' ').Select(ParseExtension).ToArray();
        var ip = PacketFrames.WithIPv6Extensions(PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6), headers);
        var frame = PacketFrames.Concat(PacketFrames.EthernetHeader(0x86DD, (0x8100, 7)), ip);

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, frame);

        Assert.Equal(expected, status);
        if (expected == DecodeStatus.Tcp)
        {
            Assert.Equal(DecodedSegment.Expected(spec, ClientV6, ServerV6), segment);
        }
    }

    [Fact]
    public void TryDecodeTcp_IPv6ExtensionHeaderBeyondPayloadLength_ReportsMalformed()
    {
        var ip = PacketFrames.WithIPv6Extensions(PacketFrames.IPv6Tcp(TcpSpec.Default()), PacketFrames.OptionsHeader(60, 8));
        ip[41] = 200; // (200 + 1) * 8 bytes: far past the packet

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp(LinkType.Ipv6, ip, ip.Length, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void TryDecodeTcp_TcpDataOffsetBelowFive_ReportsMalformed(int dataOffsetWords)
    {
        var ip = PacketFrames.IPv4Tcp(TcpSpec.Default());
        ip[20 + 12] = (byte)((dataOffsetWords << 4) | (ip[20 + 12] & 0x0F));

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp(LinkType.Ipv4, ip, ip.Length, out _));
    }

    [Fact]
    public void TryDecodeTcp_TcpDataOffsetBeyondIPLength_ReportsMalformed()
    {
        // 20-byte header and 10 payload bytes, but the data offset claims 60 bytes of header.
        var spec = TcpSpec.Default() with { Options = [], Payload = new byte[10] };
        var frame = PacketFrames.Concat(PacketFrames.EthernetIPv4Tcp(spec), new byte[64]);
        frame[14 + 20 + 12] = 0xF0;

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp(LinkType.Ethernet, frame, frame.Length, out _));
    }

    [Fact]
    public void TryDecodeTcp_TcpOptionsOfEveryLength_SkipsToPayload()
    {
        for (var words = 0; words <= 10; words++)
        {
            var options = Enumerable.Repeat((byte)1, words * 4).ToArray(); // NOPs
            var spec = TcpSpec.Default() with { Options = options };
            var (status, segment) = DecodedSegment.Decode(LinkType.Raw, PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4));

            Assert.Equal(DecodeStatus.Tcp, status);
            Assert.Equal(DecodedSegment.Expected(spec, ClientV4, ServerV4), segment);
        }
    }

    private static (byte Kind, byte[] Bytes) ParseExtension(string text)
    {
        var parts = text.Split('/');
        var kind = byte.Parse(parts[0], CultureInfo.InvariantCulture);
        return (kind, parts[1]) switch
        {
            (44, "atomic") => PacketFrames.FragmentHeader(0, moreFragments: false),
            (44, "first") => PacketFrames.FragmentHeader(0, moreFragments: true),
            (44, "last") => PacketFrames.FragmentHeader(100, moreFragments: false),
            (51, var length) => PacketFrames.AuthenticationHeader(int.Parse(length, CultureInfo.InvariantCulture)),
            (50 or 59, var length) => (kind, new byte[int.Parse(length, CultureInfo.InvariantCulture)]),
            (_, var length) => PacketFrames.OptionsHeader(kind, int.Parse(length, CultureInfo.InvariantCulture)),
        };
    }
}
