using System.Buffers.Binary;
using System.Net;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Decoding;

public class PacketDecoderTunnelTests
{
    private const string ClientV4 = "10.140.206.74";
    private const string ServerV4 = "18.135.206.102";
    private const string ClientV6 = "2001:db8:1::10";
    private const string ServerV6 = "2001:db8:2::20";

    /// <summary>GTP flags, message type, optional fields and extension headers (hex), inner IPv6, expected status.</summary>
    [Theory]
    [InlineData(0x30, 0xFF, "", false, DecodeStatus.Tcp)] // as in ndpi/http_origin_different_than_host.pcap
    [InlineData(0x30, 0xFF, "", true, DecodeStatus.Tcp)]
    [InlineData(0x32, 0xFF, "1234 00 00", false, DecodeStatus.Tcp)] // S: sequence number present
    [InlineData(0x31, 0xFF, "0000 07 85", false, DecodeStatus.Tcp)] // PN only: next-extension byte is not interpreted
    [InlineData(0x34, 0xFF, "0000 00 85 01 0009 00", false, DecodeStatus.Tcp)] // E: PDU session container
    [InlineData(0x36, 0xFF, "0001 00 85 02 1005 00000000 40 01 0868 00", true, DecodeStatus.Tcp)] // two extension headers
    [InlineData(0x34, 0xFF, "0000 00 85 00 0009 00", false, DecodeStatus.Malformed)] // extension length 0
    [InlineData(0x34, 0xFF, "0000 00 85 3f 0009 00", false, DecodeStatus.Malformed)] // extension longer than the message
    [InlineData(0x30, 0x01, "", false, DecodeStatus.NotTcp)] // echo request
    [InlineData(0x30, 0xFE, "", false, DecodeStatus.NotTcp)] // end marker
    [InlineData(0x48, 0xFF, "", false, DecodeStatus.NotTcp)] // GTPv2 header on the port
    [InlineData(0x20, 0xFF, "", false, DecodeStatus.NotTcp)] // PT = 0: GTP'
    public void TryDecodeTcp_GtpUserPlane_DecodesInnerTcp(byte flags, byte messageType, string optionalHex, bool innerIPv6, DecodeStatus expected)
    {
        var spec = TcpSpec.Default();
        var inner = innerIPv6 ? PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6) : PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4);
        var frame = GtpFrame(PacketFrames.Gtp(flags, messageType, optionalHex, inner));

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, frame);

        Assert.Equal(expected, status);
        if (expected == DecodeStatus.Tcp)
        {
            var expectedSegment = innerIPv6
                ? DecodedSegment.Expected(spec, ClientV6, ServerV6)
                : DecodedSegment.Expected(spec, ClientV4, ServerV4);
            Assert.Equal(expectedSegment, segment);
        }
    }

    [Fact]
    public void TryDecodeTcp_GtpLengthBeyondUdpDatagram_ReportsMalformed()
    {
        var gtp = PacketFrames.Gtp(0x30, 0xFF, "", PacketFrames.IPv4Tcp(TcpSpec.Default()));
        BinaryPrimitives.WriteUInt16BigEndian(gtp.AsSpan(2), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(gtp.AsSpan(2)) + 1));
        var frame = GtpFrame(gtp);

        Assert.Equal(DecodeStatus.Malformed, PacketDecoder.TryDecodeTcp(LinkType.Ethernet, frame, frame.Length, out _));
    }

    [Fact]
    public void TryDecodeTcp_GtpCarryingUdp_ReportsNotTcp()
    {
        var frame = GtpFrame(PacketFrames.Gtp(0x30, 0xFF, "", PacketFrames.IPv4Udp(5353, 53, new byte[20])));

        Assert.Equal(DecodeStatus.NotTcp, PacketDecoder.TryDecodeTcp(LinkType.Ethernet, frame, frame.Length, out _));
    }

    [Fact]
    public void TryDecodeTcp_GtpOnSourcePortOnly_DecodesInnerTcp()
    {
        var spec = TcpSpec.Default();
        var gtp = PacketFrames.Gtp(0x30, 0xFF, "", PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4));
        var frame = PacketFrames.Concat(PacketFrames.EthernetHeader(0x0800), PacketFrames.IPv4Udp(2152, 40000, gtp));

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, frame);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(DecodedSegment.Expected(spec, ClientV4, ServerV4), segment);
    }

    [Fact]
    public void TryDecodeTcp_GtpInnerPacketCutBySnapLength_ReportsInnerOriginalPayloadLength()
    {
        var spec = TcpSpec.Default() with { Payload = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray() };
        var frame = GtpFrame(PacketFrames.Gtp(0x32, 0xFF, "0001 00 00", PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4)));

        var (status, segment) = DecodedSegment.Decode(LinkType.Ethernet, frame.AsSpan(0, frame.Length - 200), originalLength: frame.Length);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(300, segment!.OriginalPayloadLength);
        Assert.Equal(PacketFrames.ToHex(spec.Payload.AsSpan(0, 100)), segment.PayloadHex);
    }

    /// <summary>Outer IP version, protocol number of the tunnel, inner IP version.</summary>
    [Theory]
    [InlineData(false, 4, false)]
    [InlineData(false, 41, true)]
    [InlineData(true, 4, false)]
    [InlineData(true, 41, true)]
    public void TryDecodeTcp_IPInIP_DecodesInnerTcp(bool outerIPv6, byte protocol, bool innerIPv6)
    {
        var spec = TcpSpec.Default();
        var inner = innerIPv6 ? PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6) : PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4);
        var outer = Encapsulate(inner, protocol, outerIPv6);

        var (status, segment) = DecodedSegment.Decode(LinkType.Raw, outer);

        Assert.Equal(DecodeStatus.Tcp, status);
        var expected = innerIPv6 ? DecodedSegment.Expected(spec, ClientV6, ServerV6) : DecodedSegment.Expected(spec, ClientV4, ServerV4);
        Assert.Equal(expected, segment);
    }

    [Theory]
    [InlineData(PacketDecoder.MaxTunnelDepth, DecodeStatus.Tcp)]
    [InlineData(PacketDecoder.MaxTunnelDepth + 1, DecodeStatus.Malformed)]
    public void TryDecodeTcp_NestedTunnels_StopsAtMaxDepth(int tunnels, DecodeStatus expected)
    {
        var packet = PacketFrames.IPv4Tcp(TcpSpec.Default(), ClientV4, ServerV4);
        for (var i = 0; i < tunnels; i++)
        {
            packet = i % 2 == 0 ? Encapsulate(packet, 4, outerIPv6: true) : Encapsulate(packet, 41, outerIPv6: false);
        }

        Assert.Equal(expected, PacketDecoder.TryDecodeTcp(LinkType.Raw, packet, packet.Length, out _));
    }

    [Fact]
    public void TryDecodeTcp_GtpInsideIPInIP_DecodesInnerTcp()
    {
        var spec = TcpSpec.Default();
        var gtp = PacketFrames.Gtp(0x30, 0xFF, "", PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4));
        var packet = Encapsulate(PacketFrames.IPv4Udp(2152, 2152, gtp), 4, outerIPv6: false);

        var (status, segment) = DecodedSegment.Decode(LinkType.Ipv4, packet);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(DecodedSegment.Expected(spec, ClientV4, ServerV4), segment);
    }

    /// <summary>Ethernet + two 802.1Q tags + IPv4 + UDP 2152/2152, the shape of the nDPI captures.</summary>
    private static byte[] GtpFrame(byte[] gtp) => PacketFrames.Concat(
        PacketFrames.EthernetHeader(0x0800, (0x8100, 0x0D42), (0x8100, 0x0071)),
        PacketFrames.IPv4Udp(2152, 2152, gtp, "10.134.25.5", "10.132.15.176"));

    private static byte[] Encapsulate(byte[] inner, byte protocol, bool outerIPv6) => outerIPv6
        ? PacketFrames.Encapsulated(inner, protocol, "2001:db8:ffff::1", "2001:db8:ffff::2")
        : PacketFrames.Encapsulated(inner, protocol, "203.0.113.1", "203.0.113.2");
}
