using System.Text;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

/// <summary>
/// Captures that start after the handshake (no SYN, no upgrade): Ethernet, IPv4 and TCP by PacketDotNet, frames
/// from byte builders. WebSocket is recognised by its frames; other protocols' bytes never make a session.
/// </summary>
public sealed class MidStreamSessionTests
{
    [Fact]
    public void Analyze_FramesBothWaysWithoutHandshake_ReportsSessionWithEmptyHandshakeColumns()
    {
        var connection = new SessionPacketBuilder()
            .Client(ClientText("one")).Server(ServerText("one"))
            .Client(ClientText("two")).Server(ServerText("two"))
            .Client(ClientClose(1000, "bye")).Server(ServerClose(1000, "bye"))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("192.0.2.10", session.ClientIp);
        Assert.Equal(8080, session.ServerPort);
        Assert.Null(session.Host);
        Assert.Null(session.Path);
        Assert.Null(session.OfferedExtensions);
        Assert.Null(session.AcceptedExtensions);
        Assert.Null(session.HandshakeStatus);
        Assert.Equal("normal_closure", session.Classification);
        Assert.Equal("client", session.CloseInitiator);
        Assert.Equal(1000, session.ReplyCloseCode);
        Assert.Equal(3, session.ClientFrames);
        Assert.Equal(3, session.ServerFrames);
        Assert.Equal([Notice.HandshakeNotCaptured], session.Notices);
        Assert.Contains("the capture starts after the WebSocket handshake", session.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_ServerSpeaksFirst_ClientIsTheMaskedSide()
    {
        // The first packet seen is the server's: the originator is the server, yet the client is whoever masks.
        var connection = new SessionPacketBuilder()
            .Server(ServerText("tick")).Server(ServerText("tick"))
            .Client(Frame(Ping, [], mask: ClientMask)).Server(Frame(Pong, []))
            .Client(Frame(Ping, [], mask: ClientMask)).Server(Frame(Pong, []));

        var session = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("192.0.2.10", session.ClientIp);
        Assert.Equal("198.51.100.20", session.ServerIp);
        Assert.Equal(2, session.ClientPings);
        Assert.Equal(2, session.ServerPongs);
        Assert.Equal(4, session.ServerFrames);
        Assert.Equal("unfinished", session.Classification);
    }

    [Fact]
    public void Analyze_OnlyTheClosePair_IsEnough()
    {
        var connection = new SessionPacketBuilder()
            .Server(ServerClose(1001, "restart")).Client(ClientClose(1001))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("server", session.CloseInitiator);
        Assert.Equal(1001, session.CloseCode);
        Assert.Equal("restart", session.CloseReason);
        Assert.Equal("going_away", session.Classification);
    }

    [Fact]
    public void Analyze_CaptureStartsInsideALargeMessage_RecognisesTheFramesAfterIt()
    {
        // The first segment is the middle of a 5000-byte binary frame: it is not a frame start, the next ones are.
        var large = Frame(Binary, Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray());
        var connection = new SessionPacketBuilder()
            .Server(large[3000..])
            .Server(ServerText("a")).Client(ClientText("b"))
            .Server(ServerText("c")).Client(ClientText("d"))
            .Client(ClientClose(1000)).Server(ServerClose(1000))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal(3, session.ServerFrames);
        Assert.Equal(3, session.ClientFrames);
        Assert.Equal("normal_closure", session.Classification);
    }

    [Fact]
    public void Analyze_CaptureStartsInsideALargeTextMessage_RecognisesTheFramesAfterIt()
    {
        // The first segments are the middle of a text frame of letters, which look like the start of an HTTP method
        // until the second segment: the frames are looked for from the segment after that.
        var words = Encoding.ASCII.GetBytes(new string('a', 3000));
        var large = Frame(Text, words);
        var connection = new SessionPacketBuilder()
            .Server(large[1000..1020]).Server(large[1020..2000]).Server(large[2000..])
            .Server(ServerText("a")).Client(ClientText("b"))
            .Server(ServerText("c")).Client(ClientText("d"))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal(2, session.ServerFrames);
        Assert.Equal(2, session.ClientFrames);
        Assert.Equal("abnormal_closure", session.Classification);
    }

    [Fact]
    public void Analyze_CaptureStartsInsideAResponseBodyThenAnUpgrade_ReportsTheUpgradedSession()
    {
        // Kept-alive HTTP joined inside a download: the body's bytes are not frames, the next request is HTTP, and
        // the upgrade that follows on the connection is found with its handshake.
        var random = new Random(7);
        var body = new byte[3000];
        random.NextBytes(body);
        var connection = new SessionPacketBuilder()
            .Server(body[..1400]).Server(body[1400..])
            .Client(SessionHandshake.Request("/live"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Server(Frame(Text, "x"u8, rsv1: true))
            .Client(ClientClose(1000)).Server(ServerClose(1000))
            .CloseTcp();

        var session = Assert.Single(SessionPacketBuilder.Analyze(connection));

        Assert.Equal("/live", session.Path);
        Assert.Equal(101, session.HandshakeStatus);
        Assert.Equal("normal_closure", session.Classification);
        Assert.DoesNotContain(Notice.HandshakeNotCaptured, session.Notices);

        // The handshake negotiated no extension, so RSV1 is unexplained again once the connection showed HTTP.
        Assert.Contains(Notice.WsRsv1WithoutExtension, session.Notices);
    }

    [Fact]
    public void Analyze_FramesInOneDirectionOnly_ReportsNoSession()
    {
        var connection = new SessionPacketBuilder()
            .Server(ServerText("a")).Server(ServerText("b")).Server(ServerText("c")).Server(ServerClose(1000))
            .ClientAck()
            .CloseTcp();

        Assert.Empty(SessionPacketBuilder.Analyze(connection));
    }

    [Fact]
    public void Analyze_BothSidesUnmasked_ReportsNoSession()
    {
        var connection = new SessionPacketBuilder()
            .Client(ServerText("a")).Server(ServerText("a"))
            .Client(ServerText("b")).Server(ServerText("b"))
            .Client(ServerClose(1000)).Server(ServerClose(1000))
            .CloseTcp();

        Assert.Empty(SessionPacketBuilder.Analyze(connection));
    }

    [Fact]
    public void Analyze_ChainStartsSpentOnGarbage_GivesUpBeforeLaterFrames()
    {
        var connection = new SessionPacketBuilder();
        for (var i = 0; i <= FrameChainProbe.MaxChainStarts; i++)
        {
            // Each starts like a frame and breaks on a reserved opcode.
            connection.Client([0x82, 0x81, 1, 2, 3, 4, 5, 0x83, 0x00]).Server([0x82, 0x01, 0x00, 0x83, 0x00]);
        }

        connection.Client(ClientText("one")).Server(ServerText("one"))
            .Client(ClientText("two")).Server(ServerText("two"))
            .Client(ClientClose(1000)).Server(ServerClose(1000));

        Assert.Empty(SessionPacketBuilder.Analyze(connection));
    }

    public static TheoryData<string, byte[][], byte[][]> NotWebSocket()
    {
        var random = new Random(6455);
        byte[] Random(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        byte[][] RandomSegments(int count) => [.. Enumerable.Range(0, count).Select(_ => Random(random.Next(1, 1400)))];

        byte[] TlsRecord(byte type, int length) => [type, 0x03, 0x03, (byte)(length >> 8), (byte)length, .. Random(length)];

        byte[] SshPacket(int length)
        {
            // RFC 4253 section 6, as on the wire after the key exchange: the length is encrypted too.
            return Random(length);
        }

        byte[] Http2Frame(byte type, byte flags, int stream, byte[] payload) =>
            [(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags, 0, 0, 0, (byte)stream, .. payload];

        var ascii = Encoding.ASCII;
        return new TheoryData<string, byte[][], byte[][]>
        {
            {
                "HTTP/1.1 requests and responses",
                [ascii.GetBytes("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), ascii.GetBytes("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")],
                [ascii.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), ascii.GetBytes("HTTP/1.1 204 No Content\r\n\r\n")]
            },
            {
                "an HTTP/1.1 response body, mid-stream",
                [ascii.GetBytes("\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")],
                RandomSegments(40)
            },
            {
                "TLS application data, mid-stream",
                [TlsRecord(23, 100), TlsRecord(23, 40), TlsRecord(23, 700), TlsRecord(21, 26)],
                [TlsRecord(23, 1200), Random(1400), Random(600), TlsRecord(23, 80), TlsRecord(23, 33)]
            },
            {
                "SSH banners and packets",
                [ascii.GetBytes("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"), SshPacket(36), SshPacket(36), SshPacket(52), SshPacket(36)],
                [ascii.GetBytes("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), SshPacket(44), SshPacket(36), SshPacket(300), SshPacket(36)]
            },
            {
                "SSH packets only, mid-stream",
                [.. Enumerable.Range(0, 60).Select(_ => SshPacket(36))],
                [.. Enumerable.Range(0, 60).Select(_ => SshPacket(36 + (16 * random.Next(0, 4))))]
            },
            {
                "random bytes",
                RandomSegments(200),
                RandomSegments(200)
            },
            {
                "HTTP/2 with prior knowledge",
                [ascii.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Http2Frame(4, 0, 0, Random(18)), Http2Frame(1, 5, 1, Random(30)), Http2Frame(4, 1, 0, [])],
                [Http2Frame(4, 0, 0, Random(12)), Http2Frame(4, 1, 0, []), Http2Frame(1, 4, 1, Random(40)), Http2Frame(0, 1, 1, Random(500))]
            },
            {
                "HTTP/2 frames, mid-stream",
                [.. Enumerable.Range(0, 30).Select(i => Http2Frame(0, 0, (i * 2) + 1, Random(random.Next(0, 200))))],
                [.. Enumerable.Range(0, 30).Select(i => Http2Frame(i % 2 == 0 ? (byte)1 : (byte)0, 4, (i * 2) + 1, Random(random.Next(0, 200))))]
            },
            {
                "zero-filled payloads",
                [.. Enumerable.Range(0, 20).Select(_ => new byte[64])],
                [.. Enumerable.Range(0, 20).Select(_ => new byte[128])]
            },
        };
    }

    [Theory]
    [MemberData(nameof(NotWebSocket))]
    public void Analyze_NotWebSocketTraffic_ReportsNoSession(string traffic, byte[][] client, byte[][] server)
    {
        foreach (var withSyn in (bool[])[true, false])
        {
            var connection = new SessionPacketBuilder();
            if (withSyn)
            {
                connection.Connect();
            }

            for (var i = 0; i < Math.Max(client.Length, server.Length); i++)
            {
                if (i < client.Length)
                {
                    connection.Client(client[i]);
                }

                if (i < server.Length)
                {
                    connection.Server(server[i]);
                }
            }

            connection.CloseTcp();
            var sessions = SessionPacketBuilder.Analyze(connection);

            Assert.True(sessions.Count == 0, $"{traffic} ({(withSyn ? "with" : "without")} SYN) was reported as WebSocket: {sessions.FirstOrDefault()?.Diagnosis}");
        }
    }
}
