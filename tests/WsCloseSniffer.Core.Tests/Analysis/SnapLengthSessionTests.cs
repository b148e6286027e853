using System.Text;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

/// <summary>
/// Sessions captured with a snap length: Ethernet, IPv4 and TCP frames by PacketDotNet, each cut to its first
/// 96 bytes as <c>tcpdump -s 96</c> keeps it (54 bytes of headers, so 42 bytes of TCP payload).
/// </summary>
public sealed class SnapLengthSessionTests
{
    private const int SnapLength = 96;

    private static readonly byte[] s_longText = Encoding.UTF8.GetBytes(new string('x', 300));

    [Fact]
    public void Analyze_CutUpgradeAnsweredBy101_ReportsSessionWithUnknownHandshakeFacts()
    {
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request("/chat", "example.test", "permessage-deflate"))
            .Server(SessionHandshake.SwitchingProtocols("permessage-deflate"))
            .Client(Frame(Text, s_longText, mask: ClientMask))
            .Server(Frame(Text, s_longText))
            .Client(ClientClose(1000, "bye"))
            .Server(ServerClose(1000, "bye"))
            .CloseTcp();

        var sessions = SessionPacketBuilder.Analyze(SnapLength, out var statistics, connection);

        var session = Assert.Single(sessions);
        Assert.Equal("/chat", session.Path);

        // "GET /chat HTTP/1.1\r\n" and "Host: example.test\r\n" are the first 40 of the 42 captured bytes.
        Assert.Equal("example.test", session.Host);
        Assert.Null(session.OfferedExtensions);
        Assert.Null(session.AcceptedExtensions);
        Assert.Equal(101, session.HandshakeStatus);
        Assert.Equal("normal_closure", session.Classification);
        Assert.Equal(1000, session.CloseCode);
        Assert.Equal("bye", session.CloseReason);
        Assert.Equal(1000, session.ReplyCloseCode);
        Assert.Equal(2, session.ClientFrames);
        Assert.Equal(2, session.ServerFrames);
        Assert.DoesNotContain("cut short", session.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(305, session.ClientPayloadBytes);
        Assert.Equal([Notice.CaptureSnapLength], session.Notices);
        Assert.Contains("the upgrade request and response were cut", session.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("the key, the accept and the extensions after the cut are not known", session.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(SnapLength, statistics.SnapLengthBytes);
        Assert.Equal(4, statistics.PacketsCutBySnapLength);
    }

    [Fact]
    public void Analyze_OldDefaultSnapLength68_StillFindsTheSessionAndItsCloseCodes()
    {
        // 68 bytes leave 14 of payload behind a 20-byte TCP header: "GET /chat HTTP" and "HTTP/1.1 101 S".
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request())
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(Frame(Text, s_longText, mask: ClientMask))
            .Server(ServerClose(1008, "policy"))
            .Client(ClientClose(1008))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(68, out var statistics, connection));

        Assert.Equal("/chat", session.Path);
        Assert.Null(session.Host);
        Assert.Equal("server", session.CloseInitiator);
        Assert.Equal(1008, session.CloseCode);
        Assert.Equal("policy", session.CloseReason);
        Assert.DoesNotContain("cut short", session.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(2, session.ClientFrames);
        Assert.Contains(Notice.CaptureSnapLength, session.Notices);
        Assert.Equal(68, statistics.SnapLengthBytes);
    }

    [Fact]
    public void Analyze_OnlyTheRequestCut_KeepsWhatTheWholeResponseSays()
    {
        // The response comes in segments shorter than the 42 bytes kept, so it is captured whole.
        var response = SessionHandshake.SwitchingProtocols("permessage-deflate");
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request("/chat", "example.test", "permessage-deflate"));
        for (var at = 0; at < response.Length; at += 40)
        {
            connection.Server(response[at..Math.Min(response.Length, at + 40)]);
        }

        connection.Client(ClientClose(1000)).Server(ServerClose(1000)).CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(SnapLength, out _, connection));

        Assert.Null(session.OfferedExtensions);
        Assert.Equal("permessage-deflate", session.AcceptedExtensions);
        Assert.Equal("normal_closure", session.Classification);
        Assert.DoesNotContain(Notice.HttpAcceptNotOffered, session.Notices);
        Assert.DoesNotContain(Notice.HttpAcceptMismatch, session.Notices);
        Assert.Contains("the upgrade request was cut, so its Sec-WebSocket-Key and offered extensions after the cut are not known", session.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_CutGetAnsweredBy200_ReportsNoSession()
    {
        var plainGet = Encoding.ASCII.GetBytes("GET /index.html HTTP/1.1\r\nHost: example.test\r\nAccept: text/html,application/xhtml+xml\r\n\r\n");
        var connection = new SessionPacketBuilder().Connect()
            .Client(plainGet)
            .Server(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\nhello world"))
            .CloseTcp();

        var sessions = SessionPacketBuilder.Analyze(SnapLength, out var statistics, connection);

        Assert.Empty(sessions);
        Assert.Equal(2, statistics.PacketsCutBySnapLength);
    }

    [Fact]
    public void Analyze_CutRequestWhoseUpgradeFieldWasCaptured_IsRejectedWhenTheAnswerIsNot101()
    {
        var request = Encoding.ASCII.GetBytes("GET /c HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + SessionHandshake.Key + "\r\n\r\n");
        var connection = new SessionPacketBuilder().Connect()
            .Client(request)
            .Server(Encoding.ASCII.GetBytes("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nforbidden"))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(SnapLength, out _, connection));

        Assert.Equal("handshake_rejected", session.Classification);
        Assert.Equal(403, session.HandshakeStatus);
        Assert.Contains(Notice.CaptureSnapLength, session.Notices);
    }

    [Fact]
    public void Analyze_101AndFirstFrameInOneCutSegment_ResumesAtTheNextFrame()
    {
        // The first server frame's header lies in the cut tail of the 101's segment: it is lost, the next ones are not.
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request())
            .Server(PacketFrames.Concat(SessionHandshake.SwitchingProtocols(), ServerText("welcome")))
            .Server(Frame(Text, s_longText))
            .Client(ClientClose(1001, "leaving"))
            .Server(ServerClose(1001))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(SnapLength, out _, connection));

        Assert.Equal(2, session.ServerFrames);
        Assert.Equal(1, session.ClientFrames);
        Assert.Equal("going_away", session.Classification);
        Assert.Equal(1001, session.ReplyCloseCode);
        Assert.DoesNotContain(Notice.TcpGapOverFrameHeader, session.Notices);
    }

    [Fact]
    public void Analyze_SeveralFramesInACutSegment_CountsThoseWhoseHeaderWasCaptured()
    {
        // Three 20-byte server frames in one segment: two lie whole in the 42 captured bytes, the third's header
        // starts at byte 40 and is cut after its first two bytes, which still give its length.
        var twenty = new string('y', 18);
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request())
            .Server(SessionHandshake.SwitchingProtocols())
            .Server(PacketFrames.Concat(ServerText(twenty), ServerText(twenty), ServerText(twenty)))
            .Server(ServerClose(1000))
            .Client(ClientClose(1000))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(SnapLength, out _, connection));

        Assert.Equal(4, session.ServerFrames);
        Assert.Equal("server", session.CloseInitiator);
        Assert.Equal("normal_closure", session.Classification);
    }

    [Fact]
    public void Analyze_UncutCapture_HasNoSnapLengthNotice()
    {
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request())
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientClose(1000))
            .Server(ServerClose(1000))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(out var statistics, connection));

        Assert.DoesNotContain(Notice.CaptureSnapLength, session.Notices);
        Assert.Equal(0, statistics.PacketsCutBySnapLength);
        Assert.Equal(0, statistics.SnapLengthBytes);
    }
}
