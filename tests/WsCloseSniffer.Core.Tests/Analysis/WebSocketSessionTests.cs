using System.Text;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

public class WebSocketSessionTests
{
    [Fact]
    public void Session_ClientClosesWith1000AndServerEchoes_IsNormalClosureWithExactCounts()
    {
        var driver = new SessionDriver().Open()
            .Client(ClientText("hello"))
            .Server(ServerText("hello"))
            .Client(ClientClose(1000, "bye"))
            .Server(ServerClose(1000, "bye"))
            .ServerClosed(TcpCloseKind.Fin)
            .ClientClosed(TcpCloseKind.Fin);

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(SessionPhase.Open, driver.Session.Phase);
        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal("client", record.CloseInitiator);
        Assert.Equal(1000, record.CloseCode);
        Assert.Equal("bye", record.CloseReason);
        Assert.Equal(1000, record.ReplyCloseCode);
        Assert.Equal(2, record.ClientFrames);
        Assert.Equal(2, record.ServerFrames);
        Assert.Equal(10, record.ClientPayloadBytes);
        Assert.Equal(10, record.ServerPayloadBytes);
        Assert.Equal("192.0.2.10", record.ClientIp);
        Assert.Equal(51000, record.ClientPort);
        Assert.Equal("198.51.100.20", record.ServerIp);
        Assert.Equal(8080, record.ServerPort);
        Assert.Equal("example.test", record.Host);
        Assert.Equal("/chat", record.Path);
        Assert.Null(record.OfferedExtensions);
        Assert.Null(record.AcceptedExtensions);
        Assert.Equal(101, record.HandshakeStatus);
        Assert.Contains("client closed the session normally", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("echoed the close (1000)", record.Diagnosis, StringComparison.Ordinal);
        Assert.Empty(record.Notices);
        Assert.Single(driver.Ended);
    }

    [Fact]
    public void Session_ServerClosesWith1000AndClientEchoes_IsNormalClosureFromServer()
    {
        var driver = new SessionDriver().Open()
            .Client(ClientText("logout"))
            .Server(ServerClose(1000, "done"))
            .Client(ClientClose(1000, "done"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal("server", record.CloseInitiator);
        Assert.Equal(1000, record.CloseCode);
        Assert.Equal("done", record.CloseReason);
        Assert.Equal(1000, record.ReplyCloseCode);
        Assert.Equal(2, record.ClientFrames);
        Assert.Equal(1, record.ServerFrames);
        Assert.Equal(12, record.ClientPayloadBytes);
        Assert.Equal(6, record.ServerPayloadBytes);
        Assert.Empty(record.Notices);
    }

    [Fact]
    public void Session_ServerSentTheSyn_ClientIsStillTheGetSender()
    {
        var driver = new SessionDriver(clientIsOriginator: false).Open()
            .Client(ClientClose(1000))
            .Server(ServerClose(1000));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(FlowDirection.FromResponder, driver.Session.ClientDirection);
        Assert.Equal("192.0.2.10", record.ClientIp);
        Assert.Equal(51000, record.ClientPort);
        Assert.Equal("198.51.100.20", record.ServerIp);
        Assert.Equal(8080, record.ServerPort);
        Assert.Equal("client", record.CloseInitiator);
        Assert.Equal(1, record.ClientFrames);
        Assert.Equal(2, record.ClientPayloadBytes);
        Assert.Empty(record.Notices);
    }

    [Fact]
    public void Session_101AndFramesInOneSegment_DecodesTheFrames()
    {
        var driver = new SessionDriver()
            .Client(SessionHandshake.Request())
            .ServerSegment(SessionHandshake.SwitchingProtocols(), ServerText("welcome"), ServerClose(1001, "restart"))
            .Client(ClientClose(1001, "restart"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("going_away", record.Classification);
        Assert.Equal("server", record.CloseInitiator);
        Assert.Equal(2, record.ServerFrames);
        Assert.Equal(16, record.ServerPayloadBytes);
        Assert.Equal(1001, record.ReplyCloseCode);
    }

    [Fact]
    public void Session_RequestAndFirstFrameInOneSegment_CountsTheFrame()
    {
        var driver = new SessionDriver()
            .ClientSegment(SessionHandshake.Request(), ClientText("early"))
            .Server(SessionHandshake.SwitchingProtocols());

        var record = driver.End();

        Assert.Equal(1, record.ClientFrames);
        Assert.Equal(5, record.ClientPayloadBytes);
    }

    [Fact]
    public void Session_HandshakeSplitOneByteAtATime_OpensAndDecodes()
    {
        var driver = new SessionDriver();
        foreach (var b in SessionHandshake.Request())
        {
            driver.Client([b]);
        }

        foreach (var b in PacketFrames.Concat(SessionHandshake.SwitchingProtocols(), ServerClose(1000, "x")))
        {
            driver.Server([b]);
        }

        var record = driver.End();

        Assert.Equal(SessionPhase.Open, driver.Session.Phase);
        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal("server", record.CloseInitiator);
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void Session_UpgradeWithoutConnectionHeaderAnswered426_IsRejectedNamingTheHeader()
    {
        var driver = new SessionDriver()
            .Client(Ascii("GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
            .Server(Ascii("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("handshake_rejected", record.Classification);
        Assert.Equal(426, record.HandshakeStatus);
        Assert.Equal("/chat", record.Path);
        Assert.StartsWith("The server answered the upgrade with 426 Upgrade Required instead of 101 Switching Protocols, because the request had no Connection: Upgrade header;", record.Diagnosis, StringComparison.Ordinal);
        Assert.DoesNotContain(Notice.HttpInvalidUpgradeAccepted, record.Notices);
    }

    [Fact]
    public void Session_WrongVersionAnswered400WithSupportedVersion_DiagnosisNamesBoth()
    {
        var driver = new SessionDriver()
            .Client(Ascii("GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"))
            .Server(Ascii("HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("handshake_rejected", record.Classification);
        Assert.Contains("because the request had Sec-WebSocket-Version: 8 instead of 13 (the server asks for Sec-WebSocket-Version: 13);", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_MissingKeyAnswered101Anyway_IsAnalyzedWithNotice()
    {
        var driver = new SessionDriver()
            .Client(Ascii("GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"))
            .Server(Ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
            .Client(ClientClose(1000, "bye"))
            .Server(ServerClose(1000, "bye"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(SessionPhase.Open, driver.Session.Phase);
        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal(1000, record.CloseCode);
        Assert.Equal(1, record.ClientFrames);
        Assert.Contains(Notice.HttpInvalidUpgradeAccepted, record.Notices);
        Assert.Contains("the server switched protocols although the upgrade request had no Sec-WebSocket-Key header", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_403Response_IsHandshakeRejected()
    {
        var driver = new SessionDriver()
            .Client(SessionHandshake.Request("/forbidden"))
            .Server(SessionHandshake.Response(403, "Forbidden"))
            .ClientClosed(TcpCloseKind.Fin)
            .ServerClosed(TcpCloseKind.Fin);

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(SessionPhase.Rejected, driver.Session.Phase);
        Assert.Equal("handshake_rejected", record.Classification);
        Assert.Equal(403, record.HandshakeStatus);
        Assert.Contains("403 Forbidden", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("origin", record.Diagnosis, StringComparison.Ordinal);
        Assert.Null(record.CloseInitiator);
        Assert.Null(record.CloseCode);
        Assert.Equal(0, record.ClientFrames);
        Assert.Equal(0, record.ServerFrames);
        Assert.Equal("/forbidden", record.Path);
    }

    [Fact]
    public void Session_100ContinueBefore101_OpensOnThe101()
    {
        var driver = new SessionDriver()
            .Client(SessionHandshake.Request())
            .Server(SessionHandshake.Continue())
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientClose(1000))
            .Server(ServerClose(1000));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(SessionPhase.Open, driver.Session.Phase);
        Assert.Equal(101, record.HandshakeStatus);
        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal(1, record.ServerFrames);
        Assert.Empty(record.Notices);
    }

    [Fact]
    public void Session_100ContinueAnd101InOneSegment_OpensOnThe101()
    {
        var driver = new SessionDriver()
            .Client(SessionHandshake.Request())
            .ServerSegment(SessionHandshake.Continue(), SessionHandshake.SwitchingProtocols(), ServerClose(1000));

        var record = driver.End();

        Assert.Equal(SessionPhase.Open, driver.Session.Phase);
        Assert.Equal("server", record.CloseInitiator);
        Assert.Equal(1, record.ServerFrames);
    }

    [Fact]
    public void Session_Client1010NamingDeflateNotAccepted_DiagnosisNamesOfferedAcceptedMissingAndFix()
    {
        var driver = new SessionDriver()
            .Open(offered: "permessage-deflate; client_max_window_bits")
            .Client(ClientClose(1010, "permessage-deflate"))
            .Server(ServerClose(1010, "permessage-deflate"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("mandatory_extension", record.Classification);
        Assert.Equal("permessage-deflate; client_max_window_bits", record.OfferedExtensions);
        Assert.Null(record.AcceptedExtensions);
        Assert.Equal(1010, record.CloseCode);
        Assert.Equal(1010, record.ReplyCloseCode);
        Assert.Contains("offered: permessage-deflate", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("accepted: none", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("did not negotiate permessage-deflate", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("enable permessage-deflate on the server", record.Diagnosis, StringComparison.Ordinal);

        // The server echoing the client's 1010 is what RFC 6455 7.4.1 asks for.
        Assert.DoesNotContain(Notice.WsMandatoryExtensionFromServer, record.Notices);
    }

    [Fact]
    public void Session_Client1010WithoutReason_MissingIsWhatWasOfferedButNotAccepted()
    {
        var driver = new SessionDriver()
            .Open(offered: "permessage-deflate, x-webkit-deflate-frame", accepted: "x-webkit-deflate-frame")
            .Client(ClientClose(1010));

        var record = driver.End();

        Assert.Equal("mandatory_extension", record.Classification);
        Assert.Contains("offered: permessage-deflate, x-webkit-deflate-frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("accepted: x-webkit-deflate-frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("did not negotiate permessage-deflate ", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_ServerStarts1010_IsFlaggedAndDiagnosedAsServerFault()
    {
        var driver = new SessionDriver()
            .Open(offered: "permessage-deflate")
            .Server(ServerClose(1010))
            .Client(ClientClose(1010));

        var record = driver.End();

        Assert.Equal("mandatory_extension", record.Classification);
        Assert.Equal("server", record.CloseInitiator);
        Assert.Contains(Notice.WsMandatoryExtensionFromServer, record.Notices);
        Assert.Contains("only clients may send", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_FinWithoutCloseFrame_IsAbnormalClosureNamingFinAndWho()
    {
        var driver = new SessionDriver().Open()
            .Client(ClientText("hi"))
            .ServerClosed(TcpCloseKind.Fin)
            .ClientClosed(TcpCloseKind.Fin);

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("abnormal_closure", record.Classification);
        Assert.Null(record.CloseInitiator);
        Assert.Null(record.CloseCode);
        Assert.Contains("TCP FIN from the server", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("1006", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_RstWithoutCloseFrame_IsAbnormalClosureMentioningRst()
    {
        var driver = new SessionDriver().Open()
            .Client(ClientText("Hello"))
            .Server(ServerText("Hello"))
            .ClientClosed(TcpCloseKind.Rst)
            .ServerClosed(TcpCloseKind.Rst);

        var record = driver.End(TcpCloseKind.Rst);

        Assert.Equal("abnormal_closure", record.Classification);
        Assert.Contains("RST", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("from the client", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(1, record.ClientFrames);
        Assert.Equal(1, record.ServerFrames);
    }

    [Fact]
    public void Session_CaptureEndsWhileOpen_IsUnfinished()
    {
        var record = new SessionDriver().Open().Client(ClientText("still here")).End(TcpCloseKind.EndOfInput);

        Assert.Equal("unfinished", record.Classification);
        Assert.Contains("capture ended", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_CaptureEndsBeforeResponse_IsUnfinishedAwaitingResponse()
    {
        var driver = new SessionDriver().Client(SessionHandshake.Request());

        var record = driver.End(TcpCloseKind.EndOfInput);

        Assert.Equal(SessionPhase.AwaitingResponse, driver.Session.Phase);
        Assert.Equal("unfinished", record.Classification);
        Assert.Null(record.HandshakeStatus);
        Assert.Contains("before the server answered", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_IdleTimeout_IsUnfinishedMentioningIdle()
    {
        var record = new SessionDriver().Open().End(TcpCloseKind.Timeout);

        Assert.Equal("unfinished", record.Classification);
        Assert.Contains("idle", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_EmptyCloseFrame_IsNoStatus()
    {
        var record = new SessionDriver().Open()
            .Client(ClientClose(null))
            .Server(ServerClose(null))
            .End(TcpCloseKind.Fin);

        Assert.Equal("no_status", record.Classification);
        Assert.Equal("client", record.CloseInitiator);
        Assert.Null(record.CloseCode);
        Assert.Null(record.ReplyCloseCode);
        Assert.Contains("1005", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("without a code", record.Diagnosis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1001, "going_away")]
    [InlineData(1002, "protocol_error")]
    [InlineData(1003, "unsupported_data")]
    [InlineData(1007, "invalid_payload")]
    [InlineData(1008, "policy_violation")]
    [InlineData(1009, "message_too_big")]
    [InlineData(1011, "internal_error")]
    [InlineData(1012, "service_restart")]
    [InlineData(1013, "try_again_later")]
    [InlineData(1014, "bad_gateway")]
    [InlineData(3000, "application")]
    [InlineData(4999, "application")]
    [InlineData(999, "invalid_close_code")]
    [InlineData(1005, "invalid_close_code")]
    [InlineData(1006, "invalid_close_code")]
    [InlineData(1015, "invalid_close_code")]
    [InlineData(5000, "invalid_close_code")]
    public void Session_ServerCloseCode_GivesContractClassificationAndDiagnosis(int code, string classification)
    {
        var record = new SessionDriver().Open().Server(ServerClose(code, "why")).Client(ClientClose(code)).End(TcpCloseKind.Fin);

        Assert.Equal(classification, record.Classification);
        Assert.Equal(code, record.CloseCode);
        Assert.Equal("why", record.CloseReason);
        Assert.EndsWith(".", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("server", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(classification == "invalid_close_code", record.Notices.Contains(Notice.WsCloseCodeInvalid));
    }

    [Fact]
    public void Session_OneByteClosePayload_IsInvalidCloseCode()
    {
        var record = new SessionDriver().Open().Client(Frame(Close, [0x03], mask: ClientMask)).End();

        Assert.Equal("invalid_close_code", record.Classification);
        Assert.Null(record.CloseCode);
        Assert.Contains(Notice.WsClosePayloadOneByte, record.Notices);
        Assert.Contains("1-byte payload", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_GapInsideDataPayload_CountsStayExactAndNoticeIsAttached()
    {
        var big = ClientClose(1000, "bye");
        var data = Frame(Binary, new byte[1000], mask: ClientMask); // 8-byte header + 1000
        var driver = new SessionDriver().Open()
            .Client(data[..100])
            .ClientGap(500)
            .Client(PacketFrames.Concat(data[600..], big))
            .Server(ServerClose(1000, "bye"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal(2, record.ClientFrames);
        Assert.Equal(1005, record.ClientPayloadBytes);
        Assert.Contains(Notice.TcpGapInStream, record.Notices);
        Assert.DoesNotContain(Notice.TcpGapOverFrameHeader, record.Notices);
        Assert.False(driver.Session.FramesLost);
    }

    [Fact]
    public void Session_GapOverFrameHeader_StopsThatDirectionAndDiagnosisSaysSo()
    {
        var driver = new SessionDriver().Open()
            .Client(ClientText("one"))
            .ClientGap(20)
            .Client(ClientClose(1000))
            .Server(ServerText("two"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.True(driver.Session.FramesLost);
        Assert.Contains(Notice.TcpGapOverFrameHeader, record.Notices);
        Assert.Equal(1, record.ClientFrames);
        Assert.Equal(1, record.ServerFrames);
        Assert.Contains("over frame headers", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_FrameCountsAndPayloadBytes_CountEveryOpcode()
    {
        var driver = new SessionDriver().Open()
            .Client(
                Frame(Text, "frag"u8, fin: false, mask: ClientMask),
                Frame(Continuation, "ment"u8, fin: false, mask: ClientMask),
                Frame(Continuation, "ed"u8, mask: ClientMask),
                Frame(Ping, "12345678"u8, mask: ClientMask),
                Frame(Binary, new byte[70_000], mask: ClientMask))
            .Server(
                Frame(Pong, "12345678"u8),
                Frame(Text, "fragmented"u8),
                Frame(Binary, new byte[300]))
            .Client(ClientClose(1000, "bye"))
            .Server(ServerClose(1000, "bye"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(6, record.ClientFrames);
        Assert.Equal(4, record.ServerFrames);
        Assert.Equal(10 + 8 + 70_000 + 5, record.ClientPayloadBytes);
        Assert.Equal(8 + 10 + 300 + 5, record.ServerPayloadBytes);
        Assert.Empty(record.Notices);
    }

    [Fact]
    public void Session_ExtensionsOfferedOnSeveralLines_AreJoinedAsSent()
    {
        var driver = new SessionDriver()
            .Client(SessionHandshake.Request("/x", "h", "permessage-deflate; client_max_window_bits", "x-custom; a=\"b c\""))
            .Server(SessionHandshake.SwitchingProtocols("permessage-deflate; client_max_window_bits=15"));

        var record = driver.End();

        Assert.Equal("permessage-deflate; client_max_window_bits, x-custom; a=\"b c\"", record.OfferedExtensions);
        Assert.Equal("permessage-deflate; client_max_window_bits=15", record.AcceptedExtensions);
    }

    [Fact]
    public void Session_PlainHttpGet_IsNotReported()
    {
        var driver = new SessionDriver()
            .Client(SessionHandshake.PlainGet())
            .Server(SessionHandshake.PlainOk());

        driver.EndOnly(TcpCloseKind.Fin);

        Assert.False(driver.Session.IsWebSocket);

        // Kept alive, the connection could still carry an upgrade: it is only waited for, never reported.
        Assert.Equal(SessionPhase.Detecting, driver.Session.Phase);
        Assert.Empty(driver.Ended);
    }

    [Fact]
    public void Session_UpgradeAfterPlainRequestsOnKeptAliveConnection_IsReported()
    {
        var record = new SessionDriver()
            .Client(SessionHandshake.PlainGet("/api/token"))
            .Server(SessionHandshake.PlainOk())
            .Client(SessionHandshake.PlainGet("/api/me"))
            .Server(Encoding.ASCII.GetBytes("HTTP/1.1 204 No Content\r\n\r\n"))
            .Client(SessionHandshake.Request("/ws"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientClose(1000))
            .Server(ServerClose(1000))
            .End(TcpCloseKind.Fin);

        Assert.Equal("/ws", record.Path);
        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal(1, record.ClientFrames);
        Assert.Equal(1, record.ServerFrames);
    }

    [Fact]
    public void Session_UpgradeRefusedThenRetriedWithCredentials_ReportsTheRetriedSession()
    {
        var record = new SessionDriver()
            .Client(SessionHandshake.Request("/ws"))
            .Server(SessionHandshake.Response(401, "Unauthorized"))
            .Client(SessionHandshake.Request("/ws?token=abc"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Server(ServerClose(1011, "boom"))
            .Client(ClientClose(1011))
            .End(TcpCloseKind.Fin);

        Assert.Equal("/ws?token=abc", record.Path);
        Assert.Equal("internal_error", record.Classification);
        Assert.Equal("server", record.CloseInitiator);
        Assert.Equal(101, record.HandshakeStatus);
    }

    [Fact]
    public void Session_UpgradeRefusedAndNotRetried_StaysRejected()
    {
        var record = new SessionDriver()
            .Client(SessionHandshake.Request("/ws"))
            .Server(SessionHandshake.Response(403, "Forbidden"))
            .End(TcpCloseKind.Fin);

        Assert.Equal("handshake_rejected", record.Classification);
        Assert.Equal(403, record.HandshakeStatus);
        Assert.Contains("403 Forbidden", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_OfferOverTheHeadCap_IsReportedWithWhatWasParsedAndTheRestSteppedOver()
    {
        // Hundreds of extension offers, 60+ KiB past the 64 KiB cap, split over segments as TCP would carry them.
        var head = new StringBuilder("GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(SessionHandshake.Key).Append("\r\nSec-WebSocket-Version: 13\r\n");
        for (int i = 0; i < 2000; i++)
        {
            head.Append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15; x=").Append(i).Append("\r\n");
        }

        var bytes = Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
        Assert.InRange(bytes.Length, 130_000, 200_000);
        var driver = new SessionDriver();
        for (int at = 0; at < bytes.Length; at += 1448)
        {
            driver.Client(bytes[at..Math.Min(bytes.Length, at + 1448)]);
        }

        var record = driver
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientText("hi"))
            .Server(ServerText("hi"))
            .Client(ClientClose(1000))
            .Server(ServerClose(1000))
            .End(TcpCloseKind.Fin);

        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal("example.test", record.Host);
        Assert.Equal(2, record.ClientFrames);
        Assert.Equal(2, record.ServerFrames);
        Assert.Contains(Notice.HttpHeadTruncated, record.Notices);
        Assert.DoesNotContain(Notice.HttpHeadTooLarge, record.Notices);
        Assert.StartsWith("permessage-deflate; client_max_window_bits=15; x=0, permessage-deflate", record.OfferedExtensions, StringComparison.Ordinal);
        Assert.Matches(@"\.\.\.\[\d+ more characters cut\]$", record.OfferedExtensions);
        Assert.Equal(1024 + record.OfferedExtensions!.Length - record.OfferedExtensions.IndexOf("...[", StringComparison.Ordinal), record.OfferedExtensions.Length);
        Assert.Contains("head longer than the head cap", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_ResponseHeadOverTheCap_OpensWithNotice()
    {
        var record = new SessionDriver()
            .Client(SessionHandshake.Request())
            .Server(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + $"Sec-WebSocket-Accept: {SessionHandshake.Accept}\r\nX-Padding: " + new string('p', 70_000) + "\r\nX-Late: 1\r\n\r\n"))
            .Server(ServerClose(1001))
            .End(TcpCloseKind.Fin);

        Assert.Equal(101, record.HandshakeStatus);
        Assert.Equal("going_away", record.Classification);
        Assert.Contains(Notice.HttpHeadTruncated, record.Notices);
        Assert.DoesNotContain(Notice.HttpAcceptMismatch, record.Notices);
    }

    [Fact]
    public void Session_UpgradeAfterChunkedPlainResponse_IsReported()
    {
        var record = new SessionDriver()
            .Client(SessionHandshake.PlainGet())
            .Server(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"))
            .Server(Encoding.ASCII.GetBytes("lo\r\n1b;ext=1\r\nHTTP/1.1 101 inside the body\r\n0\r\nX-Trailer: 1\r\n\r\n"))
            .Client(SessionHandshake.Request("/ws"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientClose(1000))
            .Server(ServerClose(1000))
            .End(TcpCloseKind.Fin);

        Assert.Equal("/ws", record.Path);
        Assert.Equal(101, record.HandshakeStatus);
        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal(1, record.ClientFrames);
        Assert.Equal(1, record.ServerFrames);
        Assert.Empty(record.Notices);
    }

    [Fact]
    public void Session_UpgradeAfterChunkedPlainRequest_IsReported()
    {
        var record = new SessionDriver()
            .Client(Encoding.ASCII.GetBytes("POST /api HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
            .Server(SessionHandshake.Response(204, "No Content"))
            .Client(SessionHandshake.Request("/ws"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Server(ServerClose(1001))
            .End(TcpCloseKind.Fin);

        Assert.Equal("/ws", record.Path);
        Assert.Equal("going_away", record.Classification);
    }

    [Fact]
    public void Session_UpgradeAfterResponseReadUntilClose_IsStillFoundFromTheClientSide()
    {
        // A response without Content-Length runs until close (RFC 9112 6.3 item 8) as far as its head tells; a
        // client that sends an upgrade next shows the body was empty after all (a HEAD, say).
        var record = new SessionDriver()
            .Client(Encoding.ASCII.GetBytes("HEAD / HTTP/1.1\r\nHost: example.test\r\n\r\n"))
            .Server(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"))
            .Client(SessionHandshake.Request("/ws"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientClose(1000))
            .Server(ServerClose(1000))
            .End(TcpCloseKind.Fin);

        Assert.Equal("/ws", record.Path);
        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal(1, record.ServerFrames);
    }

    [Fact]
    public void Session_MalformedChunkedBodyAndNoUpgrade_IsNotReported()
    {
        var driver = new SessionDriver()
            .Client(SessionHandshake.PlainGet())
            .Server(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
            .Client(SessionHandshake.PlainGet("/other"));

        driver.EndOnly(TcpCloseKind.Fin);

        Assert.False(driver.Session.IsWebSocket);
        Assert.Empty(driver.Ended);
    }

    [Fact]
    public void Session_GapInsideChunkData_StillFindsTheUpgrade()
    {
        var record = new SessionDriver()
            .Client(SessionHandshake.PlainGet())
            .Server(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n0123456789"))
            .ServerGap(80)
            .Server(Encoding.ASCII.GetBytes("0123456789\r\n0\r\n\r\n"))
            .Client(SessionHandshake.Request("/ws"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Server(ServerClose(1000))
            .End(TcpCloseKind.Fin);

        Assert.Equal("/ws", record.Path);
        Assert.Equal(1000, record.CloseCode);
    }

    [Fact]
    public void Session_TlsBytes_AreNotReported()
    {
        var driver = new SessionDriver()
            .Client(SessionHandshake.TlsClientHello())
            .Server(SessionHandshake.TlsServerHello())
            .Client(SessionHandshake.Request()); // even an upgrade-looking text after TLS starts is not an upgrade

        driver.EndOnly(TcpCloseKind.Fin);

        Assert.False(driver.Session.IsWebSocket);
        Assert.Equal(SessionPhase.NotWebSocket, driver.Session.Phase);
        Assert.Empty(driver.Ended);
    }

    [Fact]
    public void Session_NoDataAtAll_IsNotReported()
    {
        var driver = new SessionDriver().ClientClosed(TcpCloseKind.Fin).ServerClosed(TcpCloseKind.Fin);

        driver.EndOnly(TcpCloseKind.Fin);

        Assert.Empty(driver.Ended);
    }

    [Fact]
    public void Session_EndTime_IsTheConnectionsLastPacket()
    {
        var driver = new SessionDriver().Open();

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("2027-01-15T08:00:00.000000Z", record.StartTime);
        Assert.Equal(driver.Now.ToIso8601(), record.EndTime);
        Assert.Equal("2027-01-15T08:00:00.003000Z", record.EndTime);
    }

    [Fact]
    public void Session_CloseReasonWithUnicode_IsReportedAsUtf8Text()
    {
        var record = new SessionDriver().Open().Server(ServerClose(4001, "größe überschritten ✓")).End();

        Assert.Equal("größe überschritten ✓", record.CloseReason);
        Assert.Equal("application", record.Classification);
        Assert.Contains("4001", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount("größe überschritten ✓") + 2, record.ServerPayloadBytes);
    }

    [Fact]
    public void Session_OversizedCloseFrame_ReportsItsCodeAndReasonWithNotice()
    {
        var reason = new string('r', 250);
        var record = new SessionDriver().Open()
            .Server(Frame(Close, ClosePayload(1008, reason)))
            .Client(ClientClose(1008))
            .End(TcpCloseKind.Fin);

        Assert.Equal("policy_violation", record.Classification);
        Assert.Equal(1008, record.CloseCode);
        Assert.Equal(reason, record.CloseReason);
        Assert.Equal(252, record.ServerPayloadBytes);
        Assert.Contains(Notice.WsControlFrameTooLong, record.Notices);
        Assert.Contains("longer than 125 bytes", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_GapBeforeTheResponse_IsAHandshakeGapNamedInTheDiagnosis()
    {
        var driver = new SessionDriver().Client(SessionHandshake.Request()).ServerGap(129).Server(ServerText("lost 101"));

        var record = driver.End(TcpCloseKind.EndOfInput);

        Assert.Equal(SessionPhase.AwaitingResponse, driver.Session.Phase);
        Assert.Contains(Notice.TcpGapInHandshake, record.Notices);
        Assert.Equal(0, record.ServerFrames);
        Assert.Contains("packets missing from the capture during the handshake", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_GapOverWholeClosePayload_IsNotReportedAsEmptyClose()
    {
        var close = ClientClose(1011, "boom"); // 6-byte header + 6-byte payload
        var driver = new SessionDriver().Open()
            .Client(close[..6])
            .ClientGap(6)
            .Server(ServerClose(1011));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Contains(Notice.TcpGapInStream, record.Notices);
        Assert.NotEqual("no_status", record.Classification);
        Assert.DoesNotContain("without a status code", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_GapAfterFirstClosePayloadByte_IsNotAOneBytePayload()
    {
        var close = ClientClose(1011, "boom");
        var driver = new SessionDriver().Open()
            .Client(close[..7])
            .ClientGap(5)
            .Server(ServerClose(1011));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.DoesNotContain(Notice.WsClosePayloadOneByte, record.Notices);
        Assert.NotEqual("invalid_close_code", record.Classification);
    }

    [Fact]
    public void Session_ClientCloseDeliveredAfterTheReplyButSentFirst_ClientIsTheInitiator()
    {
        // After a capture hole the client's direction is delivered late: the server's echo reaches the session
        // first, but its packet time is later than the client's close.
        var driver = new SessionDriver().Open(offered: "permessage-deflate");
        var session = driver.Session;
        var clientClose = SessionDriver.Start.UnixNanoseconds + (5 * Timestamp.NanosecondsPerSecond);
        session.OnData(driver.ServerDirection, ServerClose(1010), new Timestamp(clientClose + 1_000_000));
        session.OnData(driver.ClientDirection, ClientClose(1010, "permessage-deflate"), new Timestamp(clientClose));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal("client", record.CloseInitiator);
        Assert.Equal(1010, record.CloseCode);
        Assert.Equal("permessage-deflate", record.CloseReason);
        Assert.Equal(1010, record.ReplyCloseCode);
        Assert.Equal("mandatory_extension", record.Classification);
        Assert.DoesNotContain(Notice.WsMandatoryExtensionFromServer, record.Notices);
    }

    [Fact]
    public void Session_DeflateNegotiatedAndRsv2Set_IsFlagged()
    {
        // RSV2: permessage-deflate defines only RSV1 (RFC 7692).
        var frame = Frame(Text, "hi"u8, rsv2: true);
        var record = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Server(frame)
            .End();

        Assert.Contains(Notice.WsRsv2WithoutExtension, record.Notices);
        Assert.DoesNotContain(Notice.WsRsv1WithoutExtension, record.Notices);
    }
}
