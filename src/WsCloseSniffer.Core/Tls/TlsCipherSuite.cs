using System.Security.Cryptography;

namespace WsCloseSniffer.Tls;

/// <summary>The record protection a cipher suite uses.</summary>
public enum TlsBulkCipher : byte
{
    /// <summary>A suite this analyzer cannot decrypt (CBC, CCM, export, ...): reported by name only.</summary>
    Unsupported = 0,
    AesGcm = 1,
    ChaCha20Poly1305 = 2,
}

/// <summary>A cipher suite (IANA registry name and number) and what decrypting it takes.</summary>
public sealed record TlsCipherSuite(ushort Id, string Name, TlsBulkCipher Cipher, int KeyBytes, HashAlgorithmName Hash)
{
    private static readonly Dictionary<ushort, TlsCipherSuite> s_known = new TlsCipherSuite[]
    {
        // TLS 1.3 (RFC 8446 B.4)
        new(0x1301, "TLS_AES_128_GCM_SHA256", TlsBulkCipher.AesGcm, 16, HashAlgorithmName.SHA256),
        new(0x1302, "TLS_AES_256_GCM_SHA384", TlsBulkCipher.AesGcm, 32, HashAlgorithmName.SHA384),
        new(0x1303, "TLS_CHACHA20_POLY1305_SHA256", TlsBulkCipher.ChaCha20Poly1305, 32, HashAlgorithmName.SHA256),
        new(0x1304, "TLS_AES_128_CCM_SHA256", TlsBulkCipher.Unsupported, 16, HashAlgorithmName.SHA256),

        // TLS 1.2 AEAD suites (RFC 5288, 5289, 7905)
        new(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", TlsBulkCipher.AesGcm, 16, HashAlgorithmName.SHA256),
        new(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", TlsBulkCipher.AesGcm, 32, HashAlgorithmName.SHA384),
        new(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", TlsBulkCipher.AesGcm, 16, HashAlgorithmName.SHA256),
        new(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", TlsBulkCipher.AesGcm, 32, HashAlgorithmName.SHA384),
        new(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TlsBulkCipher.AesGcm, 16, HashAlgorithmName.SHA256),
        new(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", TlsBulkCipher.AesGcm, 32, HashAlgorithmName.SHA384),
        new(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TlsBulkCipher.AesGcm, 16, HashAlgorithmName.SHA256),
        new(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", TlsBulkCipher.AesGcm, 32, HashAlgorithmName.SHA384),
        new(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TlsBulkCipher.ChaCha20Poly1305, 32, HashAlgorithmName.SHA256),
        new(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", TlsBulkCipher.ChaCha20Poly1305, 32, HashAlgorithmName.SHA256),
        new(0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", TlsBulkCipher.ChaCha20Poly1305, 32, HashAlgorithmName.SHA256),

        // Common CBC suites: named, not decrypted.
        new(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", TlsBulkCipher.Unsupported, 16, HashAlgorithmName.SHA256),
        new(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", TlsBulkCipher.Unsupported, 32, HashAlgorithmName.SHA256),
        new(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", TlsBulkCipher.Unsupported, 16, HashAlgorithmName.SHA256),
        new(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", TlsBulkCipher.Unsupported, 32, HashAlgorithmName.SHA256),
        new(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", TlsBulkCipher.Unsupported, 16, HashAlgorithmName.SHA256),
        new(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", TlsBulkCipher.Unsupported, 32, HashAlgorithmName.SHA256),
        new(0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", TlsBulkCipher.Unsupported, 16, HashAlgorithmName.SHA256),
        new(0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", TlsBulkCipher.Unsupported, 32, HashAlgorithmName.SHA384),
    }.ToDictionary(suite => suite.Id);

    /// <summary>The suite for <paramref name="id"/>; an unknown number gets a hexadecimal name and is not decrypted.</summary>
    public static TlsCipherSuite FromId(ushort id) =>
        s_known.TryGetValue(id, out var suite) ? suite : new TlsCipherSuite(id, $"0x{id:X4}", TlsBulkCipher.Unsupported, 0, HashAlgorithmName.SHA256);

    public bool IsTls13 => Id is >= 0x1301 and <= 0x1305;

    public int HashBytes => Hash == HashAlgorithmName.SHA384 ? 48 : 32;

    /// <summary>TLS 1.2 AEAD: bytes of the fixed IV taken from the key block (RFC 5288 3: 4 for GCM; RFC 7905 2: 12 for ChaCha20).</summary>
    public int Tls12FixedIvBytes => Cipher == TlsBulkCipher.AesGcm ? 4 : 12;
}
