using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Decoding;

public class PacketDecoderLinkLayerTests
{
    private const string ClientV4 = "192.0.2.10";
    private const string ServerV4 = "198.51.100.20";
    private const string ClientV6 = "2001:db8::10";
    private const string ServerV6 = "2001:db8::20";

    private const string Macs = "020000000002 020000000001";

    /// <summary>Link type, the link header in hex (the IP packet follows it), whether the packet is IPv6.</summary>
    public static TheoryData<string, uint, string, bool> LinkHeaders => new()
    {
        { "Ethernet IPv4", 1, Macs + "0800", false },
        { "Ethernet IPv6", 1, Macs + "86dd", true },
        { "802.1Q", 1, Macs + "8100 0064 0800", false },
        { "802.1ad + 802.1Q", 1, Macs + "88a8 00c8 8100 0064 86dd", true },
        { "9100 QinQ, three tags", 1, Macs + "9100 0001 9100 0002 8100 0003 0800", false },
        { "eight tags", 1, Macs + "8100 0001 8100 0002 8100 0003 8100 0004 8100 0005 8100 0006 8100 0007 8100 0008 0800", false },
        { "SLL IPv4", 113, "0000 0001 0006 020000000001 0000 0800", false },
        { "SLL IPv6 outgoing", 113, "0004 0001 0006 020000000001 0000 86dd", true },
        { "SLL VLAN", 113, "0000 0001 0006 020000000001 0000 8100 0064 0800", false },
        { "SLL2 IPv4", 276, "0800 0000 00000002 0001 00 06 0200000000010000", false },
        { "SLL2 IPv6", 276, "86dd 0000 00000002 0001 04 06 0200000000010000", true },
        { "NULL AF_INET little-endian", 0, "02000000", false },
        { "NULL AF_INET big-endian", 0, "00000002", false },
        { "NULL AF_INET6 Linux", 0, "0a000000", true },
        { "NULL AF_INET6 OpenBSD", 0, "18000000", true },
        { "NULL AF_INET6 FreeBSD", 0, "1c000000", true },
        { "NULL AF_INET6 macOS", 0, "1e000000", true },
        { "NULL AF_INET6 macOS big-endian", 0, "0000001e", true },
        { "LOOP AF_INET", 108, "00000002", false },
        { "LOOP AF_INET6", 108, "00000018", true },
        { "RAW IPv4", 101, "", false },
        { "RAW IPv6", 101, "", true },
        { "IPV4", 228, "", false },
        { "IPV6", 229, "", true },
    };

    [Theory]
    [MemberData(nameof(LinkHeaders))]
    public void TryDecodeTcp_EachLinkType_DecodesEveryTcpField(string name, uint linkType, string headerHex, bool ipv6)
    {
        var spec = TcpSpec.Default();
        var ip = ipv6 ? PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6) : PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4);
        var frame = PacketFrames.Concat(PacketFrames.FromHex(headerHex), ip);

        var (status, segment) = DecodedSegment.Decode((LinkType)linkType, frame);

        Assert.True(status == DecodeStatus.Tcp, $"{name}: {status}");
        var expected = ipv6
            ? DecodedSegment.Expected(spec, ClientV6, ServerV6)
            : DecodedSegment.Expected(spec, ClientV4, ServerV4);
        Assert.Equal(expected, segment);
    }

    [Fact]
    public void TryDecodeTcp_EthernetFrameBuiltByPacketDotNet_DecodesEveryTcpField()
    {
        var spec = TcpSpec.Default() with { Flags = TcpControl.Syn | TcpControl.Ece | TcpControl.Cwr, Payload = [] };
        var frame = PacketFrames.EthernetIPv4Tcp(spec, ClientV4, ServerV4);

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, frame);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(DecodedSegment.Expected(spec, ClientV4, ServerV4), segment);
    }

    [Fact]
    public void TryDecodeTcp_NineVlanTags_ReportsMalformed()
    {
        var tags = Enumerable.Range(1, PacketDecoder.MaxVlanTags + 1).Select(i => ((ushort)0x8100, (ushort)i)).ToArray();
        var frame = PacketFrames.Concat(PacketFrames.EthernetHeader(0x0800, tags), PacketFrames.IPv4Tcp(TcpSpec.Default()));

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp(LinkType.Ethernet, frame, frame.Length, out _));
    }

    [Theory]
    [InlineData(105)] // 802.11
    [InlineData(127)] // radiotap
    [InlineData(9)] // PPP
    [InlineData(12)] // DLT_RAW on some systems, never a LINKTYPE_ value
    [InlineData(239)] // NFLOG
    [InlineData(99999)]
    public void TryDecodeTcp_OtherLinkType_ReportsUnsupported(uint linkType)
    {
        var frame = PacketFrames.IPv4Tcp(TcpSpec.Default());

        var status = PacketDecoder.TryDecodeTcp((LinkType)linkType, frame, frame.Length, out var segment);

        Assert.Equal(DecodeStatus.UnsupportedLinkType, status);
        Assert.Equal(0, segment.SourcePort);
        Assert.False(PacketDecoder.IsSupported((LinkType)linkType));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(101)]
    [InlineData(108)]
    [InlineData(113)]
    [InlineData(228)]
    [InlineData(229)]
    [InlineData(276)]
    public void IsSupported_DecodedLinkType_ReturnsTrue(uint linkType) =>
        Assert.True(PacketDecoder.IsSupported((LinkType)linkType));

    [Theory]
    [InlineData("ARP", 1, Macs + "0806 0001 0800 0604 0001")]
    [InlineData("802.3 length field with LLC", 1, Macs + "0026 4242 03 0000")]
    [InlineData("LLDP", 1, Macs + "88cc 0207 04")]
    [InlineData("VLAN then ARP", 1, Macs + "8100 0064 0806 0001 0800 0604 0001")]
    [InlineData("SLL ARP", 113, "0000 0001 0006 020000000001 0000 0806 0001 0800 0604")]
    [InlineData("SLL2 ARP", 276, "0806 0000 00000002 0001 00 06 0200000000010000 0001")]
    [InlineData("NULL AF_APPLETALK", 0, "10000000 0000")]
    [InlineData("LOOP unknown family", 108, "00000007 0000")]
    public void TryDecodeTcp_NonIPFrame_ReportsNotTcp(string name, uint linkType, string hex)
    {
        var frame = PacketFrames.FromHex(hex);

        var status = PacketDecoder.TryDecodeTcp((LinkType)linkType, frame, frame.Length, out _);

        Assert.True(status == DecodeStatus.NotTcp, $"{name}: {status}");
    }

    [Theory]
    [InlineData(0, "LINKTYPE_NULL (0)")]
    [InlineData(1, "LINKTYPE_ETHERNET (1)")]
    [InlineData(101, "LINKTYPE_RAW (101)")]
    [InlineData(105, "LINKTYPE_IEEE802_11 (105)")]
    [InlineData(113, "LINKTYPE_LINUX_SLL (113)")]
    [InlineData(127, "LINKTYPE_IEEE802_11_RADIOTAP (127)")]
    [InlineData(147, "LINKTYPE_USER0 (147)")]
    [InlineData(162, "LINKTYPE_USER15 (162)")]
    [InlineData(239, "LINKTYPE_NFLOG (239)")]
    [InlineData(276, "LINKTYPE_LINUX_SLL2 (276)")]
    [InlineData(12, "unknown link type (12)")]
    [InlineData(4000000000, "unknown link type (4000000000)")]
    public void Describe_LinkType_ReturnsNameAndNumber(uint linkType, string expected) =>
        Assert.Equal(expected, LinkTypeNames.Describe((LinkType)linkType));
}
