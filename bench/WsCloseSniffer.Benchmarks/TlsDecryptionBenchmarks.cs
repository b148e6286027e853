using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using WsCloseSniffer.Tls;

namespace WsCloseSniffer.Benchmarks;

/// <summary>
/// TLS record decryption: one operation opens 16 MiB of full-size records (1024 records of 16 KiB) of one suite,
/// so MB/s = 16 / (mean in seconds). TLS 1.3 records sealed here once; the decryptor is fresh each operation
/// (the sequence numbers start at 0 again).
/// </summary>
[MemoryDiagnoser]
public class TlsDecryptionBenchmarks
{
    private const int Records = 1024;
    private const int PlaintextBytes = 16 * 1024;

    private readonly byte[] _key16 = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
    private readonly byte[] _key32 = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private readonly byte[] _iv = Enumerable.Range(0x30, 12).Select(i => (byte)i).ToArray();
    private readonly byte[] _plaintext = new byte[TlsStreamHandler.MaxRecordFragmentBytes];
    private byte[][] _records = [];
    private TlsCipherSuite _suite = null!;

    [Params((ushort)0x1301, (ushort)0x1302, (ushort)0x1303)]
    public ushort Suite { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _suite = TlsCipherSuite.FromId(Suite);
        var key = _suite.KeyBytes == 16 ? _key16 : _key32;
        _records = new byte[Records][];
        var content = new byte[PlaintextBytes + 1];
        content[^1] = 23;
        using var aes = _suite.Cipher == TlsBulkCipher.AesGcm ? new AesGcm(key, 16) : null;
        using var chacha = _suite.Cipher == TlsBulkCipher.ChaCha20Poly1305 ? new ChaCha20Poly1305(key) : null;
        for (var sequence = 0; sequence < Records; sequence++)
        {
            var length = content.Length + 16;
            var record = new byte[5 + length];
            record[0] = 23;
            record[1] = 3;
            record[2] = 3;
            record[3] = (byte)(length >> 8);
            record[4] = (byte)length;
            var nonce = (byte[])_iv.Clone();
            for (var i = 0; i < 8; i++)
            {
                nonce[4 + i] ^= (byte)((ulong)sequence >> (56 - (8 * i)));
            }

            var header = record.AsSpan(0, 5);
            var ciphertext = record.AsSpan(5, content.Length);
            var tag = record.AsSpan(5 + content.Length, 16);
            if (aes is not null)
            {
                aes.Encrypt(nonce, content, ciphertext, tag, header);
            }
            else
            {
                chacha!.Encrypt(nonce, content, ciphertext, tag, header);
            }

            _records[sequence] = record;
        }
    }

    [Benchmark]
    public long Decrypt16MiB()
    {
        long bytes = 0;
        using var decryptor = new TlsRecordDecryptor(_suite, _suite.KeyBytes == 16 ? _key16 : _key32, _iv, tls13: true);
        foreach (var record in _records)
        {
            if (!decryptor.TryDecrypt(record.AsSpan(0, 5), record.AsSpan(5), _plaintext, out var length, out _))
            {
                throw new InvalidOperationException("benchmark record did not open");
            }

            bytes += length;
        }

        return bytes;
    }
}
