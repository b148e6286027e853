using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.Hardening;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

/// <summary>The diagnosis says why a session ended: idle time, a matching well-known timeout, keepalive, message sizes.</summary>
public class WhyDiagnosisTests
{
    private static SessionDriver Chatted() =>
        new SessionDriver().Open().Client(ClientText("hello")).Server(ServerText("hello"));

    [Fact]
    public void Diagnose_RstAfterSixtySecondsIdleWithoutPings_NamesWhoHowIdleTimeoutAndMissingKeepalive()
    {
        var record = Chatted().Wait(60.3).ServerClosed(TcpCloseKind.Rst).End(TcpCloseKind.Rst);

        Assert.Equal("abnormal_closure", record.Classification);
        Assert.StartsWith("The connection ended with a TCP reset (RST) from the server and no close frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("; the server ended it after 60.3 s without a frame (60.3 s after the connection started)", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains(", which matches an idle timeout of about 60 s (nginx's proxy_read_timeout or an AWS ALB's default idle timeout", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("send pings more often than that or raise the timeout; no keepalive pings were running.", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_FrameAnsweringTheFinAfterSixtySecondsIdle_IdleTimeCountsUpToTheFin()
    {
        // A proxy's idle timeout sends the server a FIN; the server still writes a frame (here a message) before it
        // closes its side: the quiet minute before the FIN is what ended the session, not the frame after it.
        var record = Chatted().Wait(60.3).ClientClosed(TcpCloseKind.Fin)
            .Server(ServerText("too late")).ServerClosed(TcpCloseKind.Fin)
            .End(TcpCloseKind.Fin);

        Assert.Equal(60_301_000, record.IdleBeforeEndMicroseconds);
        Assert.Contains("the client ended it after 60.3 s without a frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("matches an idle timeout of about 60 s", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_FinAfterHundredSecondsIdle_NamesCloudflare()
    {
        var record = Chatted().Wait(99.0).ClientClosed(TcpCloseKind.Fin).End(TcpCloseKind.Fin);

        Assert.StartsWith("The connection ended with a TCP FIN from the client and no close frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("the client ended it after 99.0 s without a frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("about 100 s (Cloudflare's proxy read timeout)", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_IdleFarFromEveryKnownTimeout_SaysTheIdleTimeButNoTimeout()
    {
        var record = Chatted().Wait(3.0).ServerClosed(TcpCloseKind.Rst).End(TcpCloseKind.Rst);

        Assert.Contains("the server ended it after 3.0 s without a frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.DoesNotContain("which matches", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("no keepalive pings were running", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_AnsweredPingsThenSixtySecondsIdle_MatchesTheTimeoutWithoutSayingNoKeepalive()
    {
        var record = Chatted().Client(Frame(Ping, [1], mask: ClientMask)).Server(Frame(Pong, [1]))
            .Wait(60.0).ServerClosed(TcpCloseKind.Rst).End(TcpCloseKind.Rst);

        Assert.Contains("which matches an idle timeout of about 60 s", record.Diagnosis, StringComparison.Ordinal);
        Assert.DoesNotContain("no keepalive", record.Diagnosis, StringComparison.Ordinal);
        Assert.DoesNotContain("keepalive ping timeout", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_DurationMatchesButIdleShort_StillNamesTheTimeout()
    {
        var record = Chatted().Wait(58.5).Client(ClientText("late")).Wait(1.5).ServerClosed(TcpCloseKind.Rst).End(TcpCloseKind.Rst);

        Assert.Contains("after 1.5 s without a frame (60.0 s after the connection started), which matches an idle timeout of about 60 s", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_CutWithinASecondOfTheLastFrame_SaysNoIdleTime()
    {
        var record = Chatted().Wait(0.5).ClientClosed(TcpCloseKind.Rst).End(TcpCloseKind.Rst);

        Assert.DoesNotContain("without a frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.DoesNotContain("keepalive", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_ServerPingsUnansweredThen1011_IsAKeepalivePingTimeoutWithTheWait()
    {
        var record = Chatted().Server(Frame(Ping, [1])).Wait(20.0).Server(ServerClose(1011, "keepalive ping timeout"))
            .ServerClosed(TcpCloseKind.Fin).End(TcpCloseKind.Fin);

        Assert.Equal("internal_error", record.Classification);
        Assert.StartsWith("The server closed with 1011 Internal Error, reason \"keepalive ping timeout\", after 1 keepalive ping(s) of its own got no pong from the client for 20.0 s: a keepalive ping timeout, and the client did not echo it in the capture; check that the client answers pings promptly", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(1, record.UnansweredPings);
    }

    [Fact]
    public void Diagnose_1011AfterAnsweredPings_IsTheUsualInternalError()
    {
        var record = Chatted().Server(Frame(Ping, [1])).Client(Frame(Pong, [1], mask: ClientMask)).Server(ServerClose(1011, "boom"))
            .Client(ClientClose(1011)).End(TcpCloseKind.Fin);

        Assert.Contains("it hit an unexpected condition", record.Diagnosis, StringComparison.Ordinal);
        Assert.DoesNotContain("keepalive", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_1011FromTheSideWhosePingsWereAnswered_IsTheUsualInternalError()
    {
        // The client's ping waits for a pong, but it is the server that closes: not the server's ping timeout.
        var record = Chatted().Client(Frame(Ping, [1], mask: ClientMask)).Server(ServerClose(1011, "boom")).End(TcpCloseKind.Fin);

        Assert.Contains("it hit an unexpected condition", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_PingsUnansweredThenServerAborts_OneSidedEndIsAKeepalivePingTimeout()
    {
        // Kestrel with a KeepAliveTimeout aborts the connection without a close frame when no pong comes.
        var record = Chatted().Server(Frame(Ping, [1])).Wait(1.0).Server(Frame(Ping, [2])).Wait(1.5)
            .ServerClosed(TcpCloseKind.Fin).End(TcpCloseKind.Fin);

        Assert.Equal("abnormal_closure", record.Classification);
        Assert.Contains("; keepalive ping timeout: 2 ping(s) from the server got no pong from the client in the 2.5 s from the first of them to the end", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("the server ended it after 1.5 s without a frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.DoesNotContain("no keepalive pings", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_1009AfterALargeClientMessage_SaysItsSizeAndSender()
    {
        var record = Chatted().Client(Frame(Binary, new byte[70_000], mask: ClientMask))
            .Server(ServerClose(1009, "too big")).Client(ClientClose(1009)).End(TcpCloseKind.Fin);

        Assert.Equal("message_too_big", record.Classification);
        Assert.Contains("a message from the client exceeded its size limit (the last message before the close was 70000 bytes from the client, and the client's largest was 70000 bytes); raise the server's receive limit", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal("client:70000", record.LastMessageBytes);
    }

    [Fact]
    public void Diagnose_1009InTheMiddleOfAFragmentedMessage_SaysTheBytesSoFar()
    {
        var record = Chatted()
            .Client(Frame(Binary, new byte[40_000], fin: false, mask: ClientMask))
            .Client(Frame(Continuation, new byte[30_000], fin: false, mask: ClientMask))
            .Server(ServerClose(1009, "too big")).End(TcpCloseKind.Fin);

        Assert.Contains("(the client was sending a message of 70000 bytes so far (its largest whole message: 5 bytes))", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_1009WithoutAnyMessageFromThePeer_SaysNoneWasSeen()
    {
        var record = new SessionDriver().Open().Server(ServerClose(1009)).End(TcpCloseKind.Fin);

        Assert.Contains("(no whole message from the client was seen in the capture)", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_1001AfterTenMinutesIdle_SaysTheIdleTimeAndApiGateway()
    {
        var record = Chatted().Wait(600.5).Server(ServerClose(1001, "Going away")).Client(ClientClose(1001)).End(TcpCloseKind.Fin);

        Assert.Equal("going_away", record.Classification);
        Assert.Contains("; the server sent it after 600.5 s without a frame (600.5 s after the connection started), which matches an idle timeout of about 600 s (AWS API Gateway's WebSocket idle timeout", record.Diagnosis, StringComparison.Ordinal);
        Assert.EndsWith("; no keepalive pings were running.", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_1001RightAfterAMessage_SaysNoIdleTime()
    {
        var record = Chatted().Server(ServerClose(1001, "bye")).Client(ClientClose(1001)).End(TcpCloseKind.Fin);

        Assert.DoesNotContain("without a frame", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_1006SentOnTheWireAfterIdle_SaysTheIdleTime()
    {
        var record = Chatted().Wait(30.2).Server(ServerClose(1006)).End(TcpCloseKind.Fin);

        Assert.Equal("invalid_close_code", record.Classification);
        Assert.Contains("the server sent it after 30.2 s without a frame", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("about 30 s", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_PeerFrameLaterThanTheCloseInPacketTime_SaysNoIdleTime()
    {
        // The client's frame is delivered after the server's close but was sent later: the session was not idle.
        var driver = Chatted().Wait(60.0);
        var closeAt = driver.Now;
        driver.Server(ServerClose(1001)).Client(ClientText("late"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.True(closeAt < driver.Now);
        Assert.DoesNotContain("without a frame", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Pipeline_BuiltCaptureIdleSixtySecondsThenServerRst_DiagnosisNamesTheSixtySecondTimeout()
    {
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientText("subscribe")).Server(ServerText("ok")).ClientAck()
            .Wait(60.0)
            .ServerRst();

        var run = HostileCaptures.Run(SessionPacketBuilder.ToPcap(connection));

        var session = Assert.Single(run.Sessions);
        Assert.Equal("abnormal_closure", session.Classification);
        Assert.Equal("rst", session.TcpEnd);
        Assert.Equal("server", session.TcpEndBy);
        Assert.Equal(60_002_000, session.IdleBeforeEndMicroseconds);
        Assert.Contains("the server ended it after 60.0 s without a frame", session.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("an idle timeout of about 60 s (nginx's proxy_read_timeout", session.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("no keepalive pings were running", session.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_BuiltCaptureOfThreeSessionsIdleSixtySeconds_OneLineNamingTheTimeout()
    {
        var connections = Enumerable.Range(0, 3).Select(i => new SessionPacketBuilder(clientPort: (ushort)(51000 + i), startUnixSeconds: 1_800_000_000 + i * 7)
            .Connect()
            .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols())
            .Wait(59.6 + i * 0.3)
            .ServerRst()).ToArray();
        var sessions = SessionPacketBuilder.Analyze(out var statistics, connections);
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture) { NewLine = "\n" };

        WsCloseSniffer.Reporting.SummaryWriter.Write(text, sessions, statistics, inputCount: 1);

        Assert.Contains(
            "\n3 sessions ended after 59.9 s +-0.3 s of idle time: an idle timeout of about 60 s between client and server (nginx's proxy_read_timeout",
            text.ToString(), StringComparison.Ordinal);
    }
}
