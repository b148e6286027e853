using System.Buffers.Binary;
using System.Security.Cryptography;

namespace WsCloseSniffer.TestSupport;

/// <summary>The AEAD ciphers TLS 1.2 and 1.3 seal records with.</summary>
public enum TlsAead
{
    AesGcm = 0,
    ChaCha20Poly1305 = 1,
}

/// <summary>TLS records sealed with .NET's own AEADs, independent of our decryptor.</summary>
public static class TlsRecords
{
    private const int TagBytes = 16;

    /// <summary>A record header: type, version 3.3 (TLS 1.2 on the wire, also for 1.3), length.</summary>
    public static byte[] Header(byte type, int length)
    {
        var header = new byte[5];
        header[0] = type;
        header[1] = 3;
        header[2] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(3), (ushort)length);
        return header;
    }

    /// <summary>The per-record nonce: the IV with the sequence number XORed into its last 8 bytes (RFC 8446 section 5.3, RFC 7905 section 2).</summary>
    public static byte[] Nonce(byte[] iv, ulong sequence)
    {
        ArgumentNullException.ThrowIfNull(iv);
        var nonce = (byte[])iv.Clone();
        for (var i = 0; i < 8; i++)
        {
            nonce[4 + i] ^= (byte)(sequence >> (56 - (8 * i)));
        }

        return nonce;
    }

    /// <summary>
    /// A TLS 1.3 record (RFC 8446 section 5.2): <paramref name="content"/>, its real type and
    /// <paramref name="padding"/> zero bytes, sealed as application data with the header as additional data.
    /// </summary>
    public static byte[] SealTls13(TlsAead aead, byte[] key, byte[] iv, ulong sequence, ReadOnlySpan<byte> content, byte innerType, int padding = 0)
    {
        var inner = new byte[content.Length + 1 + padding];
        content.CopyTo(inner);
        inner[content.Length] = innerType;
        var header = Header(23, inner.Length + TagBytes);
        var output = new byte[header.Length + inner.Length + TagBytes];
        header.CopyTo(output, 0);
        Seal(aead, key, Nonce(iv, sequence), inner, output.AsSpan(header.Length, inner.Length), output.AsSpan(header.Length + inner.Length), header);
        return output;
    }

    public static void Seal(TlsAead aead, byte[] key, byte[] nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> additionalData)
    {
        if (aead == TlsAead.AesGcm)
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Encrypt(nonce, plaintext, ciphertext, tag, additionalData);
        }
        else
        {
            using var chacha = new ChaCha20Poly1305(key);
            chacha.Encrypt(nonce, plaintext, ciphertext, tag, additionalData);
        }
    }
}
