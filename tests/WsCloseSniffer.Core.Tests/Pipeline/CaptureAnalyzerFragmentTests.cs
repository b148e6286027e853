using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Pipeline;

/// <summary>Sessions whose IPv4 packets were fragmented on the way: the same report as unfragmented.</summary>
public sealed class CaptureAnalyzerFragmentTests
{
    private const int EthernetHeaderBytes = 14;

    private static SessionPacketBuilder Session() =>
        new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request("/echo", "ws.example.test"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientText(new string('c', 3000)))
            .Server(ServerText(new string('s', 5000)))
            .Client(ClientClose(1000, "bye"))
            .Server(ServerClose(1000, "bye"))
            .CloseTcp();

    private static (List<SessionRecord> Records, AnalysisStatistics Statistics) Analyze(IEnumerable<(Timestamp Time, byte[] Frame)> packets)
    {
        var records = new List<SessionRecord>();
        using var analyzer = new CaptureAnalyzer("built.pcap", new AnalyzerOptions(), records.Add);
        long number = 0;
        foreach (var (time, frame) in packets)
        {
            var captured = new CapturedPacket(time, LinkType.Ethernet, frame, frame.Length, ++number);
            analyzer.Process(captured, DecodedTcp.Decode(captured));
        }

        analyzer.Finish();
        return (records, analyzer.Statistics);
    }

    /// <summary>Each packet with more than <paramref name="maxData"/> bytes of IP data cut into fragments, optionally last first.</summary>
    private static List<(Timestamp, byte[])> Fragmented(SessionPacketBuilder session, int maxData, bool reversed)
    {
        var packets = new List<(Timestamp, byte[])>();
        ushort identification = 1;
        foreach (var packet in session.Packets)
        {
            var ethernet = packet.Frame[..EthernetHeaderBytes];
            var fragments = IpFragmentBuilder.IPv4(packet.Frame[EthernetHeaderBytes..], maxData, identification++);
            if (reversed)
            {
                fragments.Reverse();
            }

            packets.AddRange(fragments.Select(ip => (packet.Time, PacketFrames.Concat(ethernet, ip))));
        }

        return packets;
    }

    private static string Csv(IEnumerable<SessionRecord> sessions) => ReportText.Csv(sessions);

    [Theory]
    [InlineData(1480, false)]
    [InlineData(512, false)]
    [InlineData(512, true)]
    public void Process_FragmentedPackets_SameSessionAsUnfragmented(int maxData, bool reversed)
    {
        var session = Session();
        var (plain, plainStatistics) = Analyze(session.Packets.Select(p => (p.Time, p.Frame)));
        var fragmented = Fragmented(session, maxData, reversed);

        var (records, statistics) = Analyze(fragmented);

        Assert.Equal(Csv(plain), Csv(records));
        Assert.Equal("normal_closure", Assert.Single(records).Classification);
        Assert.Equal(plainStatistics.TcpSegments, statistics.TcpSegments);
        Assert.Equal(fragmented.Count - session.Packets.Count(p => p.Frame.Length - EthernetHeaderBytes - 20 <= maxData), statistics.IpFragments);
        Assert.True(statistics.IpDatagramsReassembled >= 2);
        Assert.Equal(0, statistics.IpDatagramsIncomplete);
        Assert.Equal(0, statistics.GapCount);
    }

    [Fact]
    public void Process_OneFragmentOfTheServerMessageMissing_AGapOfItsSegmentAndTheRestStaysExact()
    {
        var session = Session();
        var fragmented = Fragmented(session, 1480, reversed: false);

        // The second fragment of the server's 5,000-byte message: its whole segment, frame header and all, is lost to TCP.
        var serverMessage = fragmented.FindIndex(p => p.Item2.Length > 1400 && p.Item2[EthernetHeaderBytes + 12] == 198);
        fragmented.RemoveAt(serverMessage + 1);

        var (records, statistics) = Analyze(fragmented);

        var record = Assert.Single(records);
        Assert.Equal(1, statistics.IpDatagramsIncomplete);
        Assert.Equal(1, statistics.GapCount);
        Assert.Equal(1000, record.CloseCode);
        Assert.Contains(Notice.TcpGapOverFrameHeader, record.Notices);
    }

    private static readonly TcpSpec s_bigSegment = TcpSpec.Default() with { Payload = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray() };

    private static (Timestamp, byte[]) Ethernet(byte[] ip, int second = 0) =>
        (Timestamp.FromSeconds(1_800_000_000 + second, 0), PacketFrames.Concat(PacketFrames.EthernetHeader(0x0800), ip));

    /// <summary>An outer IPv4 header (protocol 4, IP-in-IP) around <paramref name="inner"/>, built by PacketDotNet.</summary>
    private static byte[] InIPv4(byte[] inner, byte protocol) => PacketFrames.Encapsulated(inner, protocol, "203.0.113.1", "203.0.113.2");

    [Fact]
    public void Process_FragmentsCarriedInFragmentedTunnelPackets_BothLevelsReassembled()
    {
        // The inner packet was fragmented at 1,480 bytes, then each piece tunnelled and fragmented again at 1,000.
        var inner = PacketFrames.IPv4Tcp(s_bigSegment);
        var frames = new List<(Timestamp, byte[])>();
        ushort outerId = 100;
        foreach (var innerFragment in IpFragmentBuilder.IPv4(inner, 1480, identification: 7))
        {
            frames.AddRange(IpFragmentBuilder.IPv4(InIPv4(innerFragment, 4), 1000, outerId++).Select(f => Ethernet(f)));
        }

        var (_, statistics) = Analyze(frames);

        // The inner pieces carry 1,480, 1,480 and 72 bytes: the last one's tunnel packet needs no fragmenting.
        Assert.Equal(2 + 2 + 1, frames.Count);
        Assert.Equal(1, statistics.TcpSegments);
        Assert.Equal(1, statistics.Connections);
        Assert.Equal(2 + 1, statistics.IpDatagramsReassembled);
        Assert.Equal(4 + 3, statistics.IpFragments);
        Assert.Equal(0, statistics.Malformed);
    }

    [Fact]
    public void Process_FragmentedGtpUserPlaneDatagram_ReassembledAndItsTcpDecoded()
    {
        // The outer UDP datagram: only its first fragment shows port 2152; the later ones join it.
        var gtp = PacketFrames.Gtp(0x30, 0xFF, "", PacketFrames.IPv4Tcp(s_bigSegment, "10.140.206.74", "18.135.206.102"));
        var fragments = IpFragmentBuilder.IPv4(PacketFrames.IPv4Udp(2152, 2152, gtp), 1480);

        var (_, statistics) = Analyze(fragments.Select(f => Ethernet(f)));

        Assert.Equal(3, fragments.Count);
        Assert.Equal(1, statistics.IpDatagramsReassembled);
        Assert.Equal(1, statistics.TcpSegments);
        Assert.Equal(0, statistics.NotTcp);
    }

    [Fact]
    public void Process_FragmentedDnsAnswer_NotHeldAndCountedAsNotTcp()
    {
        var fragments = IpFragmentBuilder.IPv4(PacketFrames.IPv4Udp(53, 40000, new byte[4000]), 1480);

        var (_, statistics) = Analyze(fragments.Select(f => Ethernet(f)));

        Assert.Equal(3, statistics.NotTcp);
        Assert.Equal(0, statistics.IpFragments);
        Assert.Equal(0, statistics.IpDatagramsIncomplete);
    }
}
