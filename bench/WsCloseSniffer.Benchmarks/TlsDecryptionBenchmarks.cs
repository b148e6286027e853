using BenchmarkDotNet.Attributes;
using WsCloseSniffer.TestSupport;
using WsCloseSniffer.Tls;

namespace WsCloseSniffer.Benchmarks;

/// <summary>
/// TLS record decryption: one operation opens 16 MiB of full-size records (1024 records of 16 KiB) of one suite,
/// so MB/s = 16 / (mean in seconds). TLS 1.3 records sealed once by the test builder; the decryptor is fresh each operation
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
        var content = new byte[PlaintextBytes];
        var aead = _suite.Cipher == TlsBulkCipher.AesGcm ? TlsAead.AesGcm : TlsAead.ChaCha20Poly1305;
        for (var sequence = 0; sequence < Records; sequence++)
        {
            _records[sequence] = TlsRecords.SealTls13(aead, key, _iv, (ulong)sequence, content, innerType: 23);
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
