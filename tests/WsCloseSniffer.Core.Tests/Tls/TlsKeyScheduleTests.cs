using System.Security.Cryptography;
using WsCloseSniffer.Tls;

namespace WsCloseSniffer.Tests.Tls;

public sealed class TlsKeyScheduleTests
{
    private static readonly TlsCipherSuite s_aes128 = TlsCipherSuite.FromId(0x1301);

    // RFC 8448 3 (Simple 1-RTT Handshake): the handshake traffic secrets and the write keys and IVs derived from them.
    [Theory]
    [InlineData("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30")]
    [InlineData("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21", "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f")]
    public void Tls13TrafficKeys_Rfc8448HandshakeSecrets_GiveTheRfcKeyAndIv(string secret, string key, string iv)
    {
        var (derivedKey, derivedIv) = TlsKeySchedule.Tls13TrafficKeys(s_aes128, Convert.FromHexString(secret));

        Assert.Equal(key, Convert.ToHexStringLower(derivedKey));
        Assert.Equal(iv, Convert.ToHexStringLower(derivedIv));
    }

    [Fact]
    public void HkdfExpandLabel_BuildsTheRfc8446Label()
    {
        // RFC 8448 3 shows the key's info as "00 10 09 74 6c 73 31 33 20 6b 65 79 00": expanding by hand with that
        // info must give the same bytes as the label helper.
        var secret = Convert.FromHexString("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
        var byHand = new byte[16];
        HKDF.Expand(HashAlgorithmName.SHA256, secret, byHand, Convert.FromHexString("001009746c733133206b657900"));

        Assert.Equal(byHand, TlsKeySchedule.HkdfExpandLabel(HashAlgorithmName.SHA256, secret, "key", [], 16));
    }

    [Fact]
    public void Tls13NextTrafficSecret_IsTrafficUpdLabel_AndChangesTheKey()
    {
        var secret = Convert.FromHexString("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");

        var next = TlsKeySchedule.Tls13NextTrafficSecret(s_aes128, secret);

        Assert.Equal(TlsKeySchedule.HkdfExpandLabel(HashAlgorithmName.SHA256, secret, "traffic upd", [], 32), next);
        Assert.NotEqual(secret, next);
    }

    // The P_SHA256 vector circulated on the IETF TLS working group's list (secret, seed, "test label", 100 bytes).
    [Fact]
    public void Tls12Prf_Sha256_MatchesThePublishedVector()
    {
        var output = new byte[100];
        TlsKeySchedule.Tls12Prf(HashAlgorithmName.SHA256, Convert.FromHexString("9bbe436ba940f017b17652849a71db35"), "test label",
            Convert.FromHexString("a0ba9f936cda311827a6f796ffd5198c"), output);

        Assert.Equal(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
            + "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66",
            Convert.ToHexStringLower(output));
    }

    [Fact]
    public void Tls12KeyBlock_SplitsThePrfOutput_ClientKeyServerKeyClientIvServerIv()
    {
        var suite = TlsCipherSuite.FromId(0xC02F);
        var master = Enumerable.Range(0, 48).Select(i => (byte)i).ToArray();
        var clientRandom = Enumerable.Repeat((byte)0x11, 32).ToArray();
        var serverRandom = Enumerable.Repeat((byte)0x22, 32).ToArray();
        var block = new byte[40];
        TlsKeySchedule.Tls12Prf(HashAlgorithmName.SHA256, master, "key expansion", [.. serverRandom, .. clientRandom], block);

        var (clientKey, serverKey, clientIv, serverIv) = TlsKeySchedule.Tls12KeyBlock(suite, master, clientRandom, serverRandom);

        Assert.Equal(block[..16], clientKey);
        Assert.Equal(block[16..32], serverKey);
        Assert.Equal(block[32..36], clientIv);
        Assert.Equal(block[36..40], serverIv);
    }
}
