using System.Security.Cryptography;
using System.Text;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tls;

namespace WsCloseSniffer.Tests.Tls;

/// <summary>Hand-built TLS streams (hellos as bytes, records sealed here with the platform's AEADs) through the decorator.</summary>
public sealed class TlsStreamHandlerTests
{
    private const FlowDirection Client = FlowDirection.FromOriginator;
    private const FlowDirection Server = FlowDirection.FromResponder;
    private static readonly Timestamp s_time = new(1_000_000_000);
    private static readonly byte[] s_clientRandom = Enumerable.Range(0x40, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] s_serverRandom = Enumerable.Range(0x80, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] s_chts = Enumerable.Repeat((byte)0x01, 32).ToArray();
    private static readonly byte[] s_shts = Enumerable.Repeat((byte)0x02, 32).ToArray();
    private static readonly byte[] s_cts0 = Enumerable.Repeat((byte)0x03, 32).ToArray();
    private static readonly byte[] s_sts0 = Enumerable.Repeat((byte)0x04, 32).ToArray();
    private static readonly TlsCipherSuite s_suite = TlsCipherSuite.FromId(0x1301);

    [Fact]
    public void Tls13_WithAllSecrets_DecryptsApplicationDataAfterFinished_AndReadsSniAndAlpn()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        Handshake(handler);
        handler.OnData(Server, Sealed(s_shts, 0, 22, [.. EncryptedExtensions("http/1.1"), .. Finished()]), s_time);
        handler.OnData(Client, Sealed(s_chts, 0, 22, Finished()), s_time);
        handler.OnData(Client, Sealed(s_cts0, 0, 23, "GET / HTTP/1.1\r\n"u8.ToArray()), s_time);
        handler.OnData(Server, Sealed(s_sts0, 0, 23, "HTTP/1.1 101\r\n"u8.ToArray()), s_time);
        handler.OnConnectionEnd(new ConnectionEnd(TcpCloseKind.EndOfInput, s_time, false, false));

        var info = inner.Info!;
        Assert.Equal("GET / HTTP/1.1\r\n", inner.Text(Client));
        Assert.Equal("HTTP/1.1 101\r\n", inner.Text(Server));
        Assert.True(info.Decrypted);
        Assert.Equal("TLS 1.3", info.Version);
        Assert.Equal("TLS_AES_128_GCM_SHA256", info.CipherSuite);
        Assert.Equal("example.test", info.ServerName);
        Assert.Equal("http/1.1", info.Alpn);
        Assert.Equal(Client, info.ClientDirection);
        Assert.Empty(info.Notices);
    }

    [Fact]
    public void Tls13_OnlyTrafficSecrets_FindsTheFirstApplicationRecord()
    {
        var (handler, inner) = Create(KeyLog(handshake: false));
        Handshake(handler);
        handler.OnData(Server, Sealed(s_shts, 0, 22, Finished()), s_time);
        handler.OnData(Server, Sealed(s_sts0, 0, 23, "one"u8.ToArray()), s_time);
        handler.OnData(Server, Sealed(s_sts0, 1, 23, "two"u8.ToArray()), s_time);

        Assert.Equal("onetwo", inner.Text(Server));
        Assert.True(inner.Info!.Decrypted);
    }

    [Fact]
    public void Tls13_KeyUpdate_SwitchesToTheNextTrafficSecret()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        Handshake(handler);
        handler.OnData(Server, Sealed(s_shts, 0, 22, Finished()), s_time);
        handler.OnData(Server, Sealed(s_sts0, 0, 22, [24, 0, 0, 1, 0]), s_time);
        var next = TlsKeySchedule.Tls13NextTrafficSecret(s_suite, s_sts0);
        handler.OnData(Server, Sealed(next, 0, 23, "after"u8.ToArray()), s_time);

        Assert.Equal("after", inner.Text(Server));
        Assert.Contains(TlsNotice.KeyUpdate, inner.Info!.Notices);
    }

    [Fact]
    public void Tls13_NoKeys_NamesTheMissingLines_AndIsNotDecrypted()
    {
        var (handler, inner) = Create(new TlsKeyLog());
        Handshake(handler);
        handler.OnData(Server, Sealed(s_shts, 0, 22, Finished()), s_time);
        handler.OnData(Server, Sealed(s_sts0, 0, 23, "x"u8.ToArray()), s_time);
        handler.OnConnectionEnd(new ConnectionEnd(TcpCloseKind.Fin, s_time, true, false));

        var info = inner.Info!;
        Assert.False(info.Decrypted);
        Assert.Equal(string.Empty, inner.Text(Server));
        Assert.Contains(Convert.ToHexStringLower(s_clientRandom), info.MissingKeyLines, StringComparison.Ordinal);
        Assert.Contains(TlsNotice.NotDecrypted, info.Notices);
    }

    [Fact]
    public void PlainStream_PassesThroughUntouched()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        handler.OnData(Client, "GET /ws HTTP/1.1\r\n"u8, s_time);
        handler.OnGap(Client, 5, s_time);
        handler.OnData(Client, "more"u8, s_time);

        Assert.Null(inner.Info);
        Assert.Equal("GET /ws HTTP/1.1\r\nmore", inner.Text(Client));
        Assert.Equal(5, inner.Gaps[(int)Client]);
    }

    [Fact]
    public void RecordsSplitByteByByte_DecryptTheSame()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        Handshake(handler);
        byte[] stream = [.. Sealed(s_shts, 0, 22, Finished()), .. Sealed(s_sts0, 0, 23, "split"u8.ToArray())];
        foreach (var b in stream)
        {
            handler.OnData(Server, [b], s_time);
        }

        Assert.Equal("split", inner.Text(Server));
    }

    [Fact]
    public void RecordOverTheLimit_IsANotice_AndStopsThatDirection()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        Handshake(handler);
        handler.OnData(Server, [23, 3, 3, 0x41, 0x01, 0, 0, 0], s_time);

        Assert.Contains(TlsNotice.RecordTooLong, inner.Info!.Notices);
        handler.OnData(Server, Sealed(s_shts, 0, 22, Finished()), s_time);
        Assert.DoesNotContain(TlsNotice.DecryptFailed, inner.Info.Notices);
    }

    [Fact]
    public void GapInsideARecord_LosesThatRecordOnly()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        Handshake(handler);
        handler.OnData(Server, Sealed(s_shts, 0, 22, Finished()), s_time);
        handler.OnData(Server, Sealed(s_sts0, 0, 23, "first"u8.ToArray()), s_time);
        var lost = Sealed(s_sts0, 1, 23, "lost!"u8.ToArray());
        handler.OnData(Server, lost.AsSpan(0, 8), s_time);
        handler.OnGap(Server, lost.Length - 8, s_time);
        handler.OnData(Server, Sealed(s_sts0, 2, 23, "third"u8.ToArray()), s_time);

        Assert.Equal("firstthird", inner.Text(Server));
        Assert.Equal(5, inner.Gaps[(int)Server]);
        Assert.Contains(TlsNotice.RecordLostInGap, inner.Info!.Notices);
        Assert.DoesNotContain(TlsNotice.DecryptFailed, inner.Info.Notices);
    }

    [Fact]
    public void GapOverARecordHeader_StopsThatDirection_WithoutGuessing()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        Handshake(handler);
        handler.OnData(Server, Sealed(s_shts, 0, 22, Finished()), s_time);
        handler.OnData(Server, Sealed(s_sts0, 0, 23, "first"u8.ToArray()), s_time);
        handler.OnGap(Server, 3, s_time);
        handler.OnData(Server, Sealed(s_sts0, 1, 23, "after"u8.ToArray()), s_time);

        Assert.Equal("first", inner.Text(Server));
        Assert.Contains(TlsNotice.GapOverRecordHeader, inner.Info!.Notices);
    }

    [Fact]
    public void WrongKey_IsDecryptFailed()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        Handshake(handler);
        handler.OnData(Server, Sealed(s_chts, 0, 22, Finished()), s_time);

        Assert.Contains(TlsNotice.DecryptFailed, inner.Info!.Notices);
        Assert.False(inner.Info.Decrypted);
    }

    [Fact]
    public void PlaintextAlert_IsNamed_AsAHandshakeFailure()
    {
        var (handler, inner) = Create(new TlsKeyLog());
        handler.OnData(Client, Record(22, ClientHello()), s_time);
        handler.OnData(Server, Record(21, [2, 40]), s_time);

        Assert.Equal("handshake_failure", inner.Info!.Alert);
        Assert.Equal(Server, inner.Info.AlertFrom);
        Assert.True(inner.Info.AlertInHandshake);
        Assert.Contains(TlsNotice.Alert, inner.Info.Notices);
    }

    [Fact]
    public void HelloRetryRequest_IsNoticed_AndTheRealServerHelloCounts()
    {
        var (handler, inner) = Create(KeyLog(handshake: true));
        handler.OnData(Client, Record(22, ClientHello()), s_time);
        handler.OnData(Server, Record(22, ServerHello(Convert.FromHexString("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C"))), s_time);
        handler.OnData(Client, Record(22, ClientHello()), s_time);
        handler.OnData(Server, Record(22, ServerHello(s_serverRandom)), s_time);
        handler.OnData(Server, Sealed(s_shts, 0, 22, Finished()), s_time);
        handler.OnData(Server, Sealed(s_sts0, 0, 23, "ok"u8.ToArray()), s_time);

        Assert.Contains(TlsNotice.HelloRetryRequest, inner.Info!.Notices);
        Assert.Equal("ok", inner.Text(Server));
    }

    [Fact]
    public void HostileStreams_NeverThrow_AndDeliverOnlyAuthenticatedBytes()
    {
        // Valid hellos, then random records, random lengths, random gaps, cut at random places: whatever comes,
        // nothing throws and nothing reaches the next stage (no record is authentic), so garbage is never fed on.
        var random = new Random(1234);
        for (var round = 0; round < 500; round++)
        {
            var (handler, inner) = Create(KeyLog(handshake: round % 2 == 0));
            Handshake(handler);
            for (var piece = 0; piece < 12; piece++)
            {
                var direction = random.Next(2) == 0 ? Client : Server;
                var bytes = new byte[random.Next(0, 700)];
                random.NextBytes(bytes);
                if (bytes.Length >= 5 && random.Next(3) > 0)
                {
                    // A plausible header (known type, version 3.3) with a random length, often beyond the piece.
                    bytes[0] = (byte)random.Next(20, 25);
                    bytes[1] = 3;
                    bytes[2] = 3;
                }

                if (random.Next(5) == 0)
                {
                    handler.OnGap(direction, random.Next(1, 40_000), s_time);
                }

                handler.OnData(direction, bytes, s_time);
            }

            handler.OnConnectionEnd(new ConnectionEnd(TcpCloseKind.EndOfInput, s_time, false, false));
            Assert.Equal(string.Empty, inner.Text(Client));
            Assert.Equal(string.Empty, inner.Text(Server));
        }
    }

    private static (TlsStreamHandler Handler, SpyHandler Inner) Create(TlsKeyLog keyLog)
    {
        var inner = new SpyHandler();
        return (new TlsStreamHandler(inner, keyLog), inner);
    }

    private static TlsKeyLog KeyLog(bool handshake)
    {
        var random = Convert.ToHexStringLower(s_clientRandom);
        var text = new StringBuilder()
            .AppendLine($"CLIENT_TRAFFIC_SECRET_0 {random} {Convert.ToHexStringLower(s_cts0)}")
            .AppendLine($"SERVER_TRAFFIC_SECRET_0 {random} {Convert.ToHexStringLower(s_sts0)}");
        if (handshake)
        {
            text.AppendLine($"CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {Convert.ToHexStringLower(s_chts)}")
                .AppendLine($"SERVER_HANDSHAKE_TRAFFIC_SECRET {random} {Convert.ToHexStringLower(s_shts)}");
        }

        var log = new TlsKeyLog();
        log.Add(text.ToString());
        return log;
    }

    private static void Handshake(TlsStreamHandler handler)
    {
        handler.OnData(Client, Record(22, ClientHello()), s_time);
        handler.OnData(Server, Record(22, ServerHello(s_serverRandom)), s_time);

        // The middlebox-compatibility change_cipher_spec of TLS 1.3, ignored.
        handler.OnData(Server, Record(20, [1]), s_time);
    }

    private static byte[] ClientHello()
    {
        byte[] sni = [.. U16(15), 0, .. U16(12), .. "example.test"u8];
        byte[] alpn = [.. U16(9), 8, .. "http/1.1"u8];
        byte[] extensions = [.. U16(0), .. U16(sni.Length), .. sni, .. U16(16), .. U16(alpn.Length), .. alpn];
        byte[] body = [3, 3, .. s_clientRandom, 0, .. U16(2), 0x13, 0x01, 1, 0, .. U16(extensions.Length), .. extensions];
        return Message(1, body);
    }

    private static byte[] ServerHello(byte[] random)
    {
        byte[] extensions = [.. U16(43), .. U16(2), 3, 4];
        byte[] body = [3, 3, .. random, 0, 0x13, 0x01, 0, .. U16(extensions.Length), .. extensions];
        return Message(2, body);
    }

    private static byte[] EncryptedExtensions(string alpn)
    {
        byte[] list = [.. U16(alpn.Length + 1), (byte)alpn.Length, .. Encoding.ASCII.GetBytes(alpn)];
        byte[] extensions = [.. U16(16), .. U16(list.Length), .. list];
        return Message(8, [.. U16(extensions.Length), .. extensions]);
    }

    private static byte[] Finished() => Message(20, new byte[32]);

    private static byte[] Message(byte type, byte[] body) => [type, 0, (byte)(body.Length >> 8), (byte)body.Length, .. body];

    private static byte[] Record(byte type, byte[] fragment) => [type, 3, 3, .. U16(fragment.Length), .. fragment];

    private static byte[] U16(int value) => [(byte)(value >> 8), (byte)value];

    /// <summary>A TLS 1.3 record (RFC 8446 5.2) sealed with the key and IV derived from <paramref name="secret"/>.</summary>
    private static byte[] Sealed(byte[] secret, ulong sequence, byte innerType, byte[] content)
    {
        var (key, iv) = TlsKeySchedule.Tls13TrafficKeys(s_suite, secret);
        return TlsRecords.SealTls13(TlsAead.AesGcm, key, iv, sequence, content, innerType);
    }

    private sealed class SpyHandler : ITcpStreamHandler, ITlsSessionObserver
    {
        private readonly MemoryStream[] _data = [new(), new()];

        public TlsSessionInfo? Info { get; private set; }

        public long[] Gaps { get; } = new long[2];

        public string Text(FlowDirection direction) => Encoding.ASCII.GetString(_data[(int)direction].ToArray());

        public void OnData(FlowDirection direction, ReadOnlySpan<byte> data, Timestamp time) => _data[(int)direction].Write(data);

        public void OnGap(FlowDirection direction, long missingBytes, Timestamp time) => Gaps[(int)direction] += missingBytes;

        public void OnClosed(FlowDirection direction, TcpCloseKind kind, Timestamp time)
        {
        }

        public void OnConnectionEnd(in ConnectionEnd connectionEnd)
        {
        }

        public void OnTlsSession(TlsSessionInfo info) => Info = info;
    }
}
