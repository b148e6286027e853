using WsCloseSniffer.Analysis;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

public class SessionEvidenceTests
{
    [Theory]
    [InlineData(60.0, 60)]
    [InlineData(58.1, 60)]
    [InlineData(61.9, 60)]
    [InlineData(100.4, 100)]
    [InlineData(29.0, 30)]
    [InlineData(3599.5, 3600)]
    [InlineData(601.0, 600)]
    [InlineData(119.0, 120)]
    [InlineData(298.0, 300)]
    public void Match_WithinTwoSecondsOfAKnownTimeout_ReturnsIt(double seconds, int expected) =>
        Assert.Equal(expected, IdleTimeoutTable.Match(seconds)!.Seconds);

    [Theory]
    [InlineData(57.9)]
    [InlineData(62.1)]
    [InlineData(3.0)]
    [InlineData(80.0)]
    public void Match_FarFromEveryKnownTimeout_ReturnsNull(double seconds) =>
        Assert.Null(IdleTimeoutTable.Match(seconds));

    [Fact]
    public void Match_Sixty_NamesNginxAndAlb() =>
        Assert.Contains("proxy_read_timeout", IdleTimeoutTable.Match(60)!.Who, StringComparison.Ordinal);

    [Fact]
    public void Evidence_PingAnsweredThenPingUnansweredThenRst_CountsEachAndTheUnansweredOne()
    {
        var driver = new SessionDriver().Open()
            .Client(Frame(Ping, [1], mask: ClientMask))
            .Server(Frame(Pong, [1]))
            .Client(Frame(Ping, [2], mask: ClientMask))
            .ServerClosed(TcpCloseKind.Rst);

        var record = driver.End(TcpCloseKind.Rst);

        Assert.Equal(2, record.ClientPings);
        Assert.Equal(0, record.ServerPings);
        Assert.Equal(0, record.ClientPongs);
        Assert.Equal(1, record.ServerPongs);
        Assert.Equal(1, record.UnansweredPings);
        Assert.Equal("rst", record.TcpEnd);
        Assert.Equal("server", record.TcpEndBy);
        Assert.NotNull(record.MaxPingGapMicroseconds);
        Assert.Contains("keepalive ping timeout: 1 ping(s) from the client got no pong from the server", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Evidence_FragmentedMessagesAndCompression_SizesJoinFragmentsAndRsv1MisuseCounts()
    {
        var driver = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Client(Frame(Binary, new byte[10], fin: false, mask: ClientMask, rsv1: true))
            .Client(Frame(Continuation, new byte[7], mask: ClientMask))
            .Server(Frame(Text, new byte[3]))
            .Server(Frame(Text, new byte[4], fin: false))
            .Server(Frame(Continuation, new byte[5], rsv1: true))
            .Client(ClientClose(1009, "too big"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(17, record.ClientLargestMessageBytes);
        Assert.Equal(9, record.ServerLargestMessageBytes);
        Assert.Equal("server:9", record.LastMessageBytes);
        Assert.Equal(1, record.CompressedMessages);

        // The RSV1 continuation, and the client's zeros, which are no DEFLATE data (a stored block whose length fails its check).
        Assert.Equal(2, record.InflateErrors);
        Assert.Null(record.MaxPingGapMicroseconds);
    }
}
