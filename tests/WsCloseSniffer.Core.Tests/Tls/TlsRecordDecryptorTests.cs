using System.Buffers.Binary;
using System.Security.Cryptography;
using WsCloseSniffer.Tls;

namespace WsCloseSniffer.Tests.Tls;

/// <summary>Records sealed by the test builder (.NET's AEADs), as RFC 8446 5.2-5.4 and RFC 5288 3 describe, then opened by the decryptor.</summary>
public sealed class TlsRecordDecryptorTests
{
    private static readonly byte[] s_key16 = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
    private static readonly byte[] s_key32 = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] s_iv = Enumerable.Range(0xA0, 12).Select(i => (byte)i).ToArray();

    [Theory]
    [InlineData(0x1301)]
    [InlineData(0x1302)]
    [InlineData(0x1303)]
    public void TryDecrypt_Tls13Records_InSequence_StripsPaddingAndReadsInnerType(ushort suiteId)
    {
        var suite = TlsCipherSuite.FromId(suiteId);
        var key = suite.KeyBytes == 16 ? s_key16 : s_key32;
        using var decryptor = new TlsRecordDecryptor(suite, key, s_iv, tls13: true);
        var buffer = new byte[256];

        for (ulong sequence = 0; sequence < 3; sequence++)
        {
            var record = SealTls13(suite, key, sequence, "hello"u8.ToArray(), innerType: 23, padding: (int)sequence * 3);

            Assert.True(decryptor.TryDecrypt(record.AsSpan(0, 5), record.AsSpan(5), buffer, out var length, out var type));
            Assert.Equal(TlsContentType.ApplicationData, type);
            Assert.Equal("hello"u8.ToArray(), buffer[..length]);
        }
    }

    [Fact]
    public void TryDecrypt_Tls13_WrongSequence_FailsAuthentication()
    {
        var suite = TlsCipherSuite.FromId(0x1301);
        using var decryptor = new TlsRecordDecryptor(suite, s_key16, s_iv, tls13: true);
        var record = SealTls13(suite, s_key16, sequence: 1, "x"u8.ToArray(), innerType: 22, padding: 0);

        Assert.False(decryptor.TryDecrypt(record.AsSpan(0, 5), record.AsSpan(5), new byte[64], out _, out _));

        // A record lost in a gap used sequence number 1; after skipping it the next one opens.
        decryptor.SkipRecord();
        var next = SealTls13(suite, s_key16, sequence: 2, "y"u8.ToArray(), innerType: 22, padding: 0);
        Assert.True(decryptor.TryDecrypt(next.AsSpan(0, 5), next.AsSpan(5), new byte[64], out _, out var type));
        Assert.Equal(TlsContentType.Handshake, type);
    }

    [Fact]
    public void TryDecrypt_Tls12Gcm_UsesFixedSaltExplicitNonceAndSequenceInAad()
    {
        var suite = TlsCipherSuite.FromId(0xC02F);
        var salt = s_iv[..4];
        using var decryptor = new TlsRecordDecryptor(suite, s_key16, salt, tls13: false);
        var buffer = new byte[128];

        for (ulong sequence = 0; sequence < 2; sequence++)
        {
            var record = SealTls12Gcm(s_key16, salt, sequence, explicitNonce: 0x0102030405060708UL + sequence, "frame"u8.ToArray());

            Assert.True(decryptor.TryDecrypt(record.AsSpan(0, 5), record.AsSpan(5), buffer, out var length, out var type));
            Assert.Equal(TlsContentType.ApplicationData, type);
            Assert.Equal("frame"u8.ToArray(), buffer[..length]);
        }
    }

    [Fact]
    public void TryDecrypt_Tls12ChaCha_XorsSequenceIntoTheIv()
    {
        var suite = TlsCipherSuite.FromId(0xCCA8);
        using var decryptor = new TlsRecordDecryptor(suite, s_key32, s_iv, tls13: false);
        var plaintext = "chacha"u8.ToArray();
        var header = Header(23, plaintext.Length + 16);
        var aad = Tls12Aad(0, 23, plaintext.Length);
        var sealedRecord = new byte[plaintext.Length + 16];
        TlsRecords.Seal(TlsAead.ChaCha20Poly1305, s_key32, TlsRecords.Nonce(s_iv, 0), plaintext, sealedRecord.AsSpan(0, plaintext.Length), sealedRecord.AsSpan(plaintext.Length), aad);

        Assert.True(decryptor.TryDecrypt(header, sealedRecord, new byte[64], out var length, out _));
        Assert.Equal(plaintext.Length, length);
    }

    [Fact]
    public void TryDecrypt_TruncatedFragment_ReturnsFalse()
    {
        using var decryptor = new TlsRecordDecryptor(TlsCipherSuite.FromId(0x1301), s_key16, s_iv, tls13: true);

        Assert.False(decryptor.TryDecrypt(Header(23, 10), new byte[10], new byte[16], out _, out _));
    }

    internal static byte[] SealTls13(TlsCipherSuite suite, byte[] key, ulong sequence, byte[] content, byte innerType, int padding) =>
        TlsRecords.SealTls13(Aead(suite), key, s_iv, sequence, content, innerType, padding);

    private static TlsAead Aead(TlsCipherSuite suite) => suite.Cipher == TlsBulkCipher.AesGcm ? TlsAead.AesGcm : TlsAead.ChaCha20Poly1305;

    private static byte[] SealTls12Gcm(byte[] key, byte[] salt, ulong sequence, ulong explicitNonce, byte[] plaintext)
    {
        var output = new byte[5 + 8 + plaintext.Length + 16];
        Header(23, 8 + plaintext.Length + 16).CopyTo(output, 0);
        BinaryPrimitives.WriteUInt64BigEndian(output.AsSpan(5), explicitNonce);
        var nonce = new byte[12];
        salt.CopyTo(nonce, 0);
        output.AsSpan(5, 8).CopyTo(nonce.AsSpan(4));
        TlsRecords.Seal(TlsAead.AesGcm, key, nonce, plaintext, output.AsSpan(13, plaintext.Length), output.AsSpan(13 + plaintext.Length), Tls12Aad(sequence, 23, plaintext.Length));
        return output;
    }

    private static byte[] Tls12Aad(ulong sequence, byte type, int length)
    {
        var aad = new byte[13];
        BinaryPrimitives.WriteUInt64BigEndian(aad, sequence);
        aad[8] = type;
        aad[9] = 3;
        aad[10] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(aad.AsSpan(11), (ushort)length);
        return aad;
    }

    internal static byte[] Header(byte type, int length) => TlsRecords.Header(type, length);
}
