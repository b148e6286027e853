using WsCloseSniffer.Tls;

namespace WsCloseSniffer.Tests.Tls;

public sealed class TlsKeyLogTests
{
    private const string Random = "04e1f94a2fb45ad2fe818acf765dea966d27c9e2a46d17852609fe8b093ef478";

    [Fact]
    public void Add_Tls13AndTls12Lines_AreFoundByClientRandom()
    {
        var log = new TlsKeyLog();
        log.Add($"""
            # comment
            SERVER_HANDSHAKE_TRAFFIC_SECRET {Random} {new string('a', 64)}
            CLIENT_TRAFFIC_SECRET_0 {Random.ToUpperInvariant()} {new string('b', 96)}
            EXPORTER_SECRET {Random} {new string('c', 64)}
            CLIENT_RANDOM {new string('1', 64)} {new string('d', 96)}
            """);

        var tls13 = log.Find(Convert.FromHexString(Random));
        var tls12 = log.Find(Convert.FromHexString(new string('1', 64)));

        Assert.NotNull(tls13);
        Assert.Equal(Convert.FromHexString(new string('a', 64)), tls13.ServerHandshakeTrafficSecret);
        Assert.Equal(48, tls13.ClientTrafficSecret0!.Length);
        Assert.Null(tls13.ClientHandshakeTrafficSecret);
        Assert.Equal(48, tls12!.MasterSecret!.Length);
        Assert.Null(log.Find(new byte[32]));
        Assert.Equal(0, log.MalformedLines);
    }

    [Theory]
    [InlineData("CLIENT_RANDOM 1234 abcd")]
    [InlineData("CLIENT_RANDOM zz")]
    [InlineData("SERVER_TRAFFIC_SECRET_0 " + Random + " not-hex")]
    [InlineData("CLIENT_RANDOM " + Random + " abcd")]
    public void Add_MalformedLine_IsCountedWithItsNumber(string line)
    {
        var log = new TlsKeyLog();
        log.Add($"CLIENT_RANDOM {Random} {new string('d', 96)}\n{line}\n");

        Assert.Equal(1, log.MalformedLines);
        Assert.Equal(2, log.FirstMalformedLine);
    }

    [Fact]
    public void Find_FallsBackToTheOuterLog()
    {
        var outer = new TlsKeyLog();
        outer.Add($"CLIENT_RANDOM {Random} {new string('d', 96)}");
        var inner = new TlsKeyLog(outer);

        Assert.NotNull(inner.Find(Convert.FromHexString(Random))?.MasterSecret);
        Assert.Equal(1, inner.Count);
    }
}
