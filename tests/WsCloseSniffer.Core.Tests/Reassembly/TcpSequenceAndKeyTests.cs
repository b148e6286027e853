using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Tests.Reassembly;

public sealed class TcpSequenceAndKeyTests
{
    [Theory]
    [InlineData(0u, 1u, 1)]
    [InlineData(1u, 0u, -1)]
    [InlineData(0xFFFF_FFFFu, 0u, 1)]
    [InlineData(0xFFFF_FFF0u, 0x10u, 0x20)]
    [InlineData(0x10u, 0xFFFF_FFF0u, -0x20)]
    [InlineData(0u, 0x7FFF_FFFFu, int.MaxValue)]
    [InlineData(5u, 5u, 0)]
    public void Distance_AcrossWrap_IsSignedShortestDistance(uint from, uint to, int expected)
    {
        Assert.Equal(expected, TcpSequence.Distance(new TcpSequence(from), new TcpSequence(to)));
        Assert.Equal(expected, new TcpSequence(to) - new TcpSequence(from));
    }

    [Fact]
    public void Comparisons_AcrossWrap_FollowSerialNumberArithmetic()
    {
        var beforeWrap = new TcpSequence(0xFFFF_FFF0);
        var afterWrap = new TcpSequence(0x10);

        Assert.True(beforeWrap < afterWrap);
        Assert.True(afterWrap > beforeWrap);
        Assert.True(beforeWrap <= new TcpSequence(0xFFFF_FFF0));
        Assert.False(afterWrap <= beforeWrap);
        Assert.True(beforeWrap.IsBefore(afterWrap));
        Assert.Equal(-1, beforeWrap.CompareTo(afterWrap));
        Assert.Equal(new TcpSequence(0x10), beforeWrap + 0x20);
        Assert.Equal(new TcpSequence(0xFFFF_FFFF), new TcpSequence(1) + -2);
        Assert.Equal(new TcpSequence(3), new TcpSequence(0xFFFF_FFFF).Add(4L + uint.MaxValue + 1));
    }

    [Fact]
    public void ConnectionKey_BothDirections_SameKeyAndHash()
    {
        var client = new TcpEndpoint(IpAddress.Parse("192.168.1.20"), 51000);
        var server = new TcpEndpoint(IpAddress.Parse("10.0.0.1"), 443);

        var forward = ConnectionKey.Create(client, server);
        var backward = ConnectionKey.Create(server, client);

        Assert.Equal(forward, backward);
        Assert.Equal(forward.GetHashCode(), backward.GetHashCode());
        Assert.Equal(server, forward.Low);
        Assert.Equal(client, forward.High);
    }

    [Fact]
    public void ConnectionKey_SameAddressesDifferentPorts_Differ()
    {
        var address = IpAddress.Parse("10.0.0.1");
        var one = ConnectionKey.Create(new TcpEndpoint(address, 1), new TcpEndpoint(address, 2));
        var other = ConnectionKey.Create(new TcpEndpoint(address, 1), new TcpEndpoint(address, 3));

        Assert.NotEqual(one, other);
        Assert.Equal(new TcpEndpoint(address, 1), one.Low);
    }

    [Fact]
    public void ConnectionKey_IPv4AndMappedIPv6_Differ()
    {
        var v4 = ConnectionKey.Create(IpAddress.Parse("10.0.0.1"), 1, IpAddress.Parse("10.0.0.2"), 2);
        var v6 = ConnectionKey.Create(IpAddress.Parse("::ffff:10.0.0.1"), 1, IpAddress.Parse("::ffff:10.0.0.2"), 2);

        Assert.NotEqual(v4, v6);
    }
}
