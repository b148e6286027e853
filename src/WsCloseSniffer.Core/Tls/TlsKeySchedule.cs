using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace WsCloseSniffer.Tls;

/// <summary>Key derivation from logged secrets: TLS 1.3 HKDF-Expand-Label (RFC 8446 7.1, 7.3) and the TLS 1.2 PRF (RFC 5246 5, 6.3).</summary>
public static class TlsKeySchedule
{
    private const int Tls13IvBytes = 12;

    /// <summary>RFC 8446 7.1: HKDF-Expand(secret, HkdfLabel(length, "tls13 " + label, context), length).</summary>
    public static byte[] HkdfExpandLabel(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> context, int length)
    {
        ArgumentNullException.ThrowIfNull(label);
        var fullLabel = Encoding.ASCII.GetBytes("tls13 " + label);
        var info = new byte[2 + 1 + fullLabel.Length + 1 + context.Length];
        BinaryPrimitives.WriteUInt16BigEndian(info, (ushort)length);
        info[2] = (byte)fullLabel.Length;
        fullLabel.CopyTo(info, 3);
        info[3 + fullLabel.Length] = (byte)context.Length;
        context.CopyTo(info.AsSpan(4 + fullLabel.Length));
        var output = new byte[length];
        HKDF.Expand(hash, secret, output, info);
        return output;
    }

    /// <summary>RFC 8446 7.3: a traffic secret's write key and IV.</summary>
    public static (byte[] Key, byte[] Iv) Tls13TrafficKeys(TlsCipherSuite suite, ReadOnlySpan<byte> trafficSecret)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return (HkdfExpandLabel(suite.Hash, trafficSecret, "key", [], suite.KeyBytes),
            HkdfExpandLabel(suite.Hash, trafficSecret, "iv", [], Tls13IvBytes));
    }

    /// <summary>RFC 8446 7.2: application_traffic_secret_N+1 after a KeyUpdate.</summary>
    public static byte[] Tls13NextTrafficSecret(TlsCipherSuite suite, ReadOnlySpan<byte> trafficSecret)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return HkdfExpandLabel(suite.Hash, trafficSecret, "traffic upd", [], suite.HashBytes);
    }

    /// <summary>RFC 5246 5: PRF(secret, label, seed) = P_hash(secret, label + seed), <paramref name="output"/>'s length of it.</summary>
    public static void Tls12Prf(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> seed, Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(label);
        var labelSeed = new byte[label.Length + seed.Length];
        Encoding.ASCII.GetBytes(label, labelSeed);
        seed.CopyTo(labelSeed.AsSpan(label.Length));

        var hashBytes = hash == HashAlgorithmName.SHA384 ? 48 : 32;
        Span<byte> a = stackalloc byte[hashBytes];
        Span<byte> block = stackalloc byte[hashBytes];
        var input = new byte[hashBytes + labelSeed.Length];
        labelSeed.CopyTo(input, hashBytes);

        // A(1) = HMAC(secret, seed); each block = HMAC(secret, A(i) + seed); A(i+1) = HMAC(secret, A(i)).
        Hmac(hash, secret, labelSeed, a);
        var written = 0;
        while (written < output.Length)
        {
            a.CopyTo(input);
            Hmac(hash, secret, input, block);
            var take = Math.Min(hashBytes, output.Length - written);
            block[..take].CopyTo(output[written..]);
            written += take;
            Hmac(hash, secret, a.ToArray(), a);
        }
    }

    /// <summary>RFC 5246 6.3: the key block's write keys and IVs (AEAD suites have no MAC keys).</summary>
    public static (byte[] ClientKey, byte[] ServerKey, byte[] ClientIv, byte[] ServerIv) Tls12KeyBlock(
        TlsCipherSuite suite, ReadOnlySpan<byte> masterSecret, ReadOnlySpan<byte> clientRandom, ReadOnlySpan<byte> serverRandom)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var seed = new byte[64];
        serverRandom.CopyTo(seed);
        clientRandom.CopyTo(seed.AsSpan(32));
        var keyBytes = suite.KeyBytes;
        var ivBytes = suite.Tls12FixedIvBytes;
        var block = new byte[(2 * keyBytes) + (2 * ivBytes)];
        Tls12Prf(suite.Hash, masterSecret, "key expansion", seed, block);
        return (block[..keyBytes], block[keyBytes..(2 * keyBytes)], block[(2 * keyBytes)..((2 * keyBytes) + ivBytes)], block[((2 * keyBytes) + ivBytes)..]);
    }

    private static void Hmac(HashAlgorithmName hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (hash == HashAlgorithmName.SHA384)
        {
            HMACSHA384.HashData(key, data, destination);
        }
        else
        {
            HMACSHA256.HashData(key, data, destination);
        }
    }
}
