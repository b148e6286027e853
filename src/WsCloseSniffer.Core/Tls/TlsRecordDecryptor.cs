using System.Buffers.Binary;
using System.Security.Cryptography;

namespace WsCloseSniffer.Tls;

/// <summary>
/// Opens the AEAD-protected records of one direction under one key: TLS 1.3 (RFC 8446 5.2, 5.3) or TLS 1.2
/// (RFC 5288 3 for GCM with its explicit nonce, RFC 7905 2 for ChaCha20-Poly1305). Counts the record sequence
/// number itself; <see cref="SkipRecord"/> keeps it right when a record is lost in a capture gap.
/// </summary>
public sealed class TlsRecordDecryptor : IDisposable
{
    public const int TagBytes = 16;
    public const int HeaderBytes = 5;
    private const int NonceBytes = 12;
    private const int Tls12ExplicitNonceBytes = 8;

    private readonly AesGcm? _aesGcm;
    private readonly ChaCha20Poly1305? _chaCha;
    private readonly byte[] _iv;
    private readonly bool _tls13;
    private readonly bool _explicitNonce;
    private ulong _sequence;

    public TlsRecordDecryptor(TlsCipherSuite suite, byte[] key, byte[] iv, bool tls13)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(iv);
        _iv = iv;
        _tls13 = tls13;
        switch (suite.Cipher)
        {
            case TlsBulkCipher.AesGcm:
                _aesGcm = new AesGcm(key, TagBytes);
                _explicitNonce = !tls13;
                break;
            case TlsBulkCipher.ChaCha20Poly1305:
                _chaCha = new ChaCha20Poly1305(key);
                break;
            default:
                throw new ArgumentException($"{suite.Name} is not an AEAD suite this analyzer decrypts.", nameof(suite));
        }
    }

    /// <summary>Whether the platform can decrypt the suite (ChaCha20-Poly1305 needs OpenSSL 1.1 or Windows 10 and later).</summary>
    public static bool IsSupported(TlsCipherSuite suite) => suite?.Cipher switch
    {
        TlsBulkCipher.AesGcm => AesGcm.IsSupported,
        TlsBulkCipher.ChaCha20Poly1305 => ChaCha20Poly1305.IsSupported,
        _ => false,
    };

    public ulong Sequence => _sequence;

    /// <summary>Bytes a record of <paramref name="fragmentLength"/> adds around its plaintext (tag, explicit nonce).</summary>
    public int Overhead => TagBytes + (_explicitNonce ? Tls12ExplicitNonceBytes : 0) + (_tls13 ? 1 : 0);

    /// <summary>
    /// Decrypts one record (<paramref name="header"/> as on the wire, <paramref name="fragment"/> its body) into
    /// <paramref name="plaintext"/> (at least as long as the fragment). False when authentication fails (wrong key,
    /// damaged record, lost sequence); the sequence number moves on either way.
    /// </summary>
    public bool TryDecrypt(ReadOnlySpan<byte> header, ReadOnlySpan<byte> fragment, Span<byte> plaintext, out int length, out TlsContentType contentType)
    {
        length = 0;
        contentType = (TlsContentType)header[0];
        var sequence = _sequence++;
        var explicitBytes = _explicitNonce ? Tls12ExplicitNonceBytes : 0;
        if (fragment.Length < TagBytes + explicitBytes + (_tls13 ? 1 : 0))
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[NonceBytes];
        if (_explicitNonce)
        {
            _iv.AsSpan(0, 4).CopyTo(nonce);
            fragment[..Tls12ExplicitNonceBytes].CopyTo(nonce[4..]);
        }
        else
        {
            // RFC 8446 5.3 (and RFC 7905 2): the sequence number, left-padded to the IV's length, XORed into it.
            _iv.CopyTo(nonce);
            Span<byte> padded = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(padded, sequence);
            for (var i = 0; i < 8; i++)
            {
                nonce[NonceBytes - 8 + i] ^= padded[i];
            }
        }

        var ciphertext = fragment[explicitBytes..^TagBytes];
        var tag = fragment[^TagBytes..];
        var output = plaintext[..ciphertext.Length];
        // TLS 1.3: the record header. TLS 1.2 (RFC 5246 6.2.3.3): seq_num + type + version + plaintext length.
        Span<byte> aad = stackalloc byte[13];
        if (_tls13)
        {
            header[..HeaderBytes].CopyTo(aad);
            aad = aad[..HeaderBytes];
        }
        else
        {
            BinaryPrimitives.WriteUInt64BigEndian(aad, sequence);
            header[..3].CopyTo(aad[8..]);
            BinaryPrimitives.WriteUInt16BigEndian(aad[11..], (ushort)ciphertext.Length);
        }

        try
        {
            if (_aesGcm is not null)
            {
                _aesGcm.Decrypt(nonce, ciphertext, tag, output, aad);
            }
            else
            {
                _chaCha!.Decrypt(nonce, ciphertext, tag, output, aad);
            }
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        length = output.Length;
        if (_tls13)
        {
            // RFC 8446 5.4: the real content type is the last non-zero byte; zeros after it are padding.
            while (length > 0 && output[length - 1] == 0)
            {
                length--;
            }

            if (length == 0)
            {
                return false;
            }

            contentType = (TlsContentType)output[length - 1];
            length--;
        }

        return true;
    }

    /// <summary>A record lost in a capture gap still used a sequence number.</summary>
    public void SkipRecord() => _sequence++;

    public void Dispose()
    {
        _aesGcm?.Dispose();
        _chaCha?.Dispose();
    }
}

/// <summary>TLS record content types (RFC 8446 5.1).</summary>
public enum TlsContentType : byte
{
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,
    Heartbeat = 24,
}
