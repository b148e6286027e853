using WsCloseSniffer.Capture;
using WsCloseSniffer.Pcap;
using WsCloseSniffer.Tests.Capture;

namespace WsCloseSniffer.Tests.Pcap;

public class BpfPacketFilterTests
{
    private const string Source = "192.0.2.1";
    private const string Destination = "192.0.2.2";

    [SkippableFact]
    public void Matches_TcpPort80Expression_MatchesTcp80AndNotUdp()
    {
        LibpcapAvailability.SkipOrFailIfMissing();
        using var filter = BpfPacketFilter.Create("tcp port 80");

        var tcp = PacketFrames.EthernetIPv4Tcp(Segment(51000, 80), Source, Destination);
        var tcpOtherPort = PacketFrames.EthernetIPv4Tcp(Segment(51000, 8080), Source, Destination);
        var udp = PacketFrames.Concat(PacketFrames.EthernetHeader(0x0800), PacketFrames.IPv4Udp(51000, 80, [], Source, Destination));

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

        var ip = PacketFrames.IPv4Tcp(Segment(51000, 80), Source, Destination);
        var ipReply = PacketFrames.IPv4Tcp(Segment(80, 51000), Source, Destination);

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
        var ip = PacketFrames.IPv4Tcp(Segment(1, 2), Source, Destination);

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

    private static TcpSpec Segment(ushort sourcePort, ushort destinationPort) =>
        new(sourcePort, destinationPort, Sequence: 1000, Acknowledgment: 2000, TcpControl.Psh | TcpControl.Ack, Window: 512, Payload: [], Options: []);
}
