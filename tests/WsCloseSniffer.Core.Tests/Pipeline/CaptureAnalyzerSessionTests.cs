using WsCloseSniffer.Analysis;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;

namespace WsCloseSniffer.Tests.Pipeline;

/// <summary>Whole-pipeline checks: PacketDotNet-built Ethernet/IPv4/TCP packets through <see cref="CaptureAnalyzer"/>.</summary>
public class CaptureAnalyzerSessionTests
{
    private static SessionPacketBuilder OpenSession(SessionPacketBuilder builder, bool serverSendsSyn = false) =>
        builder.Connect(serverSendsSyn)
            .Client(SessionHandshake.Request("/echo", "ws.example.test"))
            .Server(SessionHandshake.SwitchingProtocols());

    [Fact]
    public void Analyze_CleanClientClose_GivesOneNormalClosureRecord()
    {
        var connection = OpenSession(new SessionPacketBuilder())
            .Client(ClientText("hello"))
            .Server(ServerText("hello"))
            .Client(ClientClose(1000, "bye"))
            .Server(ServerClose(1000, "bye"))
            .CloseTcp();

        var records = SessionPacketBuilder.Analyze(out var statistics, connection);

        var record = Assert.Single(records);
        Assert.Equal("built.pcap", record.CaptureFile);
        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal("client", record.CloseInitiator);
        Assert.Equal(1000, record.CloseCode);
        Assert.Equal("bye", record.CloseReason);
        Assert.Equal(1000, record.ReplyCloseCode);
        Assert.Equal("192.0.2.10", record.ClientIp);
        Assert.Equal(51000, record.ClientPort);
        Assert.Equal("198.51.100.20", record.ServerIp);
        Assert.Equal(8080, record.ServerPort);
        Assert.Equal("ws.example.test", record.Host);
        Assert.Equal("/echo", record.Path);
        Assert.Equal(2, record.ClientFrames);
        Assert.Equal(2, record.ServerFrames);
        Assert.Equal(10, record.ClientPayloadBytes);
        Assert.Equal(10, record.ServerPayloadBytes);
        Assert.Equal(connection.FirstTime.ToIso8601(), record.StartTime);
        Assert.Empty(record.Notices);
        Assert.Equal(1, statistics.Sessions);
        Assert.Equal(1, statistics.Connections);
        Assert.Equal(connection.Packets.Count, statistics.Packets);
        Assert.Equal(connection.Packets.Count, statistics.TcpSegments);
    }

    [Fact]
    public void Analyze_SessionEndingWithTheSecondFin_EndTimeIsThatFin()
    {
        var connection = OpenSession(new SessionPacketBuilder()).Client(ClientClose(1000)).Server(ServerClose(1000)).ServerFin().ClientFin();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal(connection.Packets[^1].Time.ToIso8601(), record.EndTime);
    }

    [Fact]
    public void Analyze_FinalAckAfterBothFins_IsTheEndTime()
    {
        var connection = OpenSession(new SessionPacketBuilder()).Client(ClientClose(1000)).Server(ServerClose(1000)).CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal(connection.Packets[^1].Time.ToIso8601(), record.EndTime);
    }

    [Fact]
    public void Analyze_ServerSentTheSyn_ClientIsTheGetSender()
    {
        var connection = OpenSession(new SessionPacketBuilder(), serverSendsSyn: true)
            .Client(ClientClose(1000))
            .Server(ServerClose(1000))
            .CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("192.0.2.10", record.ClientIp);
        Assert.Equal(51000, record.ClientPort);
        Assert.Equal("198.51.100.20", record.ServerIp);
        Assert.Equal(8080, record.ServerPort);
        Assert.Equal("client", record.CloseInitiator);
        Assert.Equal(1, record.ClientFrames);
        Assert.Equal(1, record.ServerFrames);
    }

    [Theory]
    [InlineData(443, 80)]
    [InlineData(22, 5432)]
    [InlineData(65535, 1)]
    public void Analyze_UpgradeOnAnyPort_IsFound(ushort clientPort, ushort serverPort)
    {
        var connection = OpenSession(new SessionPacketBuilder(clientPort: clientPort, serverPort: serverPort))
            .Server(ServerClose(4000, "session expired"))
            .Client(ClientClose(4000, "session expired"))
            .CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal(clientPort, record.ClientPort);
        Assert.Equal(serverPort, record.ServerPort);
        Assert.Equal("application", record.Classification);
        Assert.Equal(4000, record.CloseCode);
    }

    [Fact]
    public void Analyze_SwitchingProtocolsWithFramesInTheSameSegment_CountsThem()
    {
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request())
            .Server(PacketFrames.Concat(SessionHandshake.SwitchingProtocols(), ServerText("hi"), ServerClose(1001)))
            .Client(ClientClose(1001))
            .CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("going_away", record.Classification);
        Assert.Equal(2, record.ServerFrames);
        Assert.Equal(4, record.ServerPayloadBytes);
    }

    [Fact]
    public void Analyze_Rejected403_IsHandshakeRejected()
    {
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request("/forbidden"))
            .Server(SessionHandshake.Response(403, "Forbidden"))
            .ClientFin().ServerAck().ServerFin().ClientAck();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("handshake_rejected", record.Classification);
        Assert.Equal("/forbidden", record.Path);
        Assert.Contains("403", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_Mandatory1010_DiagnosisNamesTheMissingExtension()
    {
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request("/echo", "h", "permessage-deflate; client_max_window_bits"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientClose(1010, "permessage-deflate"))
            .Server(ServerClose(1010, "permessage-deflate"))
            .CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("mandatory_extension", record.Classification);
        Assert.Equal("permessage-deflate; client_max_window_bits", record.OfferedExtensions);
        Assert.Null(record.AcceptedExtensions);
        Assert.Contains("did not negotiate permessage-deflate", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("accepted: none", record.Diagnosis, StringComparison.Ordinal);
        Assert.DoesNotContain(Notice.WsMandatoryExtensionFromServer, record.Notices);
    }

    [Fact]
    public void Analyze_ClientRstWithoutClose_IsAbnormalClosureMentioningRst()
    {
        var connection = OpenSession(new SessionPacketBuilder())
            .Client(ClientText("Hello"))
            .Server(ServerText("Hello"))
            .ClientRst();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("abnormal_closure", record.Classification);
        Assert.Contains("RST", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("from the client", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(1, record.ClientFrames);
        Assert.Equal(1, record.ServerFrames);
    }

    [Fact]
    public void Analyze_ServerFinWithoutClose_IsAbnormalClosureNamingFinAndServer()
    {
        var connection = OpenSession(new SessionPacketBuilder()).CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("abnormal_closure", record.Classification);
        Assert.Contains("TCP FIN from the server", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_CaptureEndsWhileOpen_IsUnfinished()
    {
        var connection = OpenSession(new SessionPacketBuilder()).Client(ClientText("x"));

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("unfinished", record.Classification);
        Assert.Equal(connection.Packets[^1].Time.ToIso8601(), record.EndTime);
    }

    [Fact]
    public void Analyze_LostSegmentInsideDataPayload_CountsStayExact()
    {
        var data = Frame(Binary, new byte[3000], mask: ClientMask); // 8 + 3000 bytes
        var connection = OpenSession(new SessionPacketBuilder())
            .Client(data[..1000])
            .ClientLoses(1000)
            .Client(data[2000..])
            .ServerAck()
            .Client(ClientClose(1000))
            .Server(ServerClose(1000))
            .CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(out var statistics, connection));

        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal(2, record.ClientFrames);
        Assert.Equal(3002, record.ClientPayloadBytes);
        Assert.Contains(Notice.TcpGapInStream, record.Notices);
        Assert.Equal(1, statistics.GapCount);
        Assert.Equal(1000, statistics.GapBytes);
        Assert.Equal(1, statistics.Notices[Notice.TcpGapInStream]);
    }

    [Fact]
    public void Analyze_LostSegmentOverFrameHeader_IsNoticedAndDiagnosed()
    {
        var connection = OpenSession(new SessionPacketBuilder())
            .Client(ClientText("one"))
            .ClientLoses(ClientText("two").Length)
            .Client(ClientClose(1000))
            .ServerAck()
            .Server(ServerClose(1000))
            .CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Contains(Notice.TcpGapOverFrameHeader, record.Notices);
        Assert.Contains("over frame headers", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(1, record.ClientFrames);
        Assert.Equal("server", record.CloseInitiator);
    }

    [Fact]
    public void Analyze_PlainHttpAndTlsConnections_GiveNoRecord()
    {
        var http = new SessionPacketBuilder(clientPort: 40001, serverPort: 80).Connect()
            .Client(SessionHandshake.PlainGet()).Server(SessionHandshake.PlainOk()).CloseTcp();
        var tls = new SessionPacketBuilder(clientPort: 40002, serverPort: 443).Connect()
            .Client(SessionHandshake.TlsClientHello()).Server(SessionHandshake.TlsServerHello()).CloseTcp();

        var records = SessionPacketBuilder.Analyze(out var statistics, http, tls);

        Assert.Empty(records);
        Assert.Equal(2, statistics.Connections);
        Assert.Equal(0, statistics.Sessions);
    }

    [Fact]
    public void Analyze_WebSocketBesideOtherConnections_GivesOnlyItsRecord()
    {
        var http = new SessionPacketBuilder(clientPort: 40001, serverPort: 80).Connect()
            .Client(SessionHandshake.PlainGet()).Server(SessionHandshake.PlainOk()).CloseTcp();
        var ws = OpenSession(new SessionPacketBuilder(clientPort: 40003)).Client(ClientClose(1000)).Server(ServerClose(1000)).CloseTcp();

        var record = Assert.Single(SessionPacketBuilder.Analyze(http, ws));

        Assert.Equal(40003, record.ClientPort);
    }

    [Fact]
    public void Analyze_ClockStepsBack_EachSessionKeepsItsOwnPacketTimes()
    {
        // A capture merged from two machines: the later connection's packets come first in the file.
        var later = OpenSession(new SessionPacketBuilder(clientPort: 51001, startUnixSeconds: 1_800_000_100))
            .Client(ClientClose(1000, "a")).Server(ServerClose(1000, "a")).CloseTcp();
        var earlier = OpenSession(new SessionPacketBuilder(clientPort: 51002, startUnixSeconds: 1_800_000_000))
            .Client(ClientClose(1001, "b")).Server(ServerClose(1001, "b")).CloseTcp();
        var records = new List<WsCloseSniffer.Reporting.SessionRecord>();
        using (var analyzer = new CaptureAnalyzer("merged.pcap", new AnalyzerOptions(), records.Add))
        {
            long number = 0;
            foreach (var packet in later.Packets.Concat(earlier.Packets))
            {
                var captured = new WsCloseSniffer.Capture.CapturedPacket(packet.Time, WsCloseSniffer.Capture.LinkType.Ethernet, packet.Frame, packet.Frame.Length, ++number);
                analyzer.Process(captured, DecodedTcp.Decode(captured));
            }

            analyzer.Finish();
        }

        var early = Assert.Single(records, r => r.ClientPort == 51002);
        Assert.Equal(earlier.FirstTime.ToIso8601(), early.StartTime);
        Assert.Equal(earlier.Packets[^1].Time.ToIso8601(), early.EndTime);
        Assert.Equal("going_away", early.Classification);
        Assert.Equal(later.FirstTime.ToIso8601(), Assert.Single(records, r => r.ClientPort == 51001).StartTime);
    }
}
