using System.Net;
using System.Net.NetworkInformation;

using PacketDotNet;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Pcap;
using WsCloseSniffer.Tests.Capture;

namespace WsCloseSniffer.Tests.Pcap;

public class BpfPacketFilterTests
{
    [SkippableFact]
    public void Matches_TcpPort80Expression_MatchesTcp80AndNotUdp()
    {
        LibpcapAvailability.SkipOrFailIfMissing();
        using var filter = BpfPacketFilter.Create("tcp port 80");

        var tcp = EthernetFrame(TcpPacket(51000, 80));
        var tcpOtherPort = EthernetFrame(TcpPacket(51000, 8080));
        var udp = EthernetFrame(new UdpPacket(51000, 80));

        Assert.True(filter.Matches(LinkType.Ethernet, tcp, tcp.Length));
        Assert.False(filter.Matches(LinkType.Ethernet, tcpOtherPort, tcpOtherPort.Length));
        Assert.False(filter.Matches(LinkType.Ethernet, udp, udp.Length));
        Assert.Equal("tcp port 80", filter.Expression);
    }

    [SkippableFact]
    public void Matches_RawIpAndLinuxSllLinkTypes_CompilesPerLinkType()
    {
        LibpcapAvailability.SkipOrFailIfMissing();
        using var filter = BpfPacketFilter.Create("tcp dst port 80");

        var ip = IpPacket(TcpPacket(51000, 80)).Bytes;
        var ipReply = IpPacket(TcpPacket(80, 51000)).Bytes;

        Assert.True(filter.Matches(LinkType.Raw, ip, ip.Length));
        Assert.False(filter.Matches(LinkType.Raw, ipReply, ipReply.Length));
        Assert.True(filter.Matches(LinkType.Ipv4, ip, ip.Length));
        Assert.True(filter.Matches(LinkType.Raw, ip, ip.Length));
        Assert.Empty(filter.RejectedLinkTypes);
    }

    [SkippableFact]
    public void Matches_ExpressionNotValidForLinkType_NeverMatchesAndRecordsLibpcapMessage()
    {
        LibpcapAvailability.SkipOrFailIfMissing();
        using var filter = BpfPacketFilter.Create("ether host 02:00:00:00:00:01");
        var ip = IpPacket(TcpPacket(1, 2)).Bytes;

        Assert.False(filter.Matches(LinkType.Raw, ip, ip.Length));
        Assert.Contains(LinkType.Raw, filter.RejectedLinkTypes.Keys);
        Assert.False(string.IsNullOrEmpty(filter.RejectedLinkTypes[LinkType.Raw]));
    }

    [SkippableFact]
    public void Create_InvalidExpression_ThrowsWithLibpcapMessage()
    {
        LibpcapAvailability.SkipOrFailIfMissing();

        var ex = Assert.Throws<PacketFilterException>(() => BpfPacketFilter.Create("tcp port 80 andd"));

        Assert.Contains("tcp port 80 andd", ex.Message, StringComparison.Ordinal);
        Assert.Contains("syntax error", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Create_PortOutOfRange_ThrowsWithLibpcapMessage()
    {
        LibpcapAvailability.SkipOrFailIfMissing();

        var ex = Assert.Throws<PacketFilterException>(() => BpfPacketFilter.Create("port 70000"));

        Assert.Contains("port 70000", ex.Message, StringComparison.Ordinal);
        Assert.Contains("70000", ex.Message.Replace("'port 70000'", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void PcapUnavailableException_DefaultMessage_TellsHowToInstall()
    {
        var ex = new PcapUnavailableException();

        Assert.Contains("apt-get install libpcap0.8", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Npcap", ex.Message, StringComparison.Ordinal);
    }

    private static TcpPacket TcpPacket(ushort sourcePort, ushort destinationPort) =>
        new(sourcePort, destinationPort) { Flags = 0x18, SequenceNumber = 1000, AcknowledgmentNumber = 2000, WindowSize = 512 };

    private static IPv4Packet IpPacket(Packet transport)
    {
        var ip = new IPv4Packet(IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2")) { PayloadPacket = transport };
        ip.UpdateCalculatedValues();
        return ip;
    }

    private static byte[] EthernetFrame(Packet transport)
    {
        var ethernet = new EthernetPacket(PhysicalAddress.Parse("02-00-00-00-00-01"), PhysicalAddress.Parse("02-00-00-00-00-02"), EthernetType.IPv4)
        {
            PayloadPacket = IpPacket(transport),
        };
        return ethernet.Bytes;
    }
}
