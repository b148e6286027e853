using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Benchmarks;

/// <summary>
/// permessage-deflate without context takeover, as a client sends it: one operation inflates 2,000 masked messages
/// (JSON-like and random-record text, 300-3,000 bytes, each compressed at level 6 as its own sync-flushed stream),
/// text checked as UTF-8. DeflateStream with a new inflater per message is how it was done before the runtime's zlib
/// was called directly (the fallback, still reachable through an AppContext switch); Reset is what a direction
/// without context takeover now does through the per-thread pool.
/// </summary>
[MemoryDiagnoser]
public class InflateBenchmarks
{
    private const int Messages = 2_000;
    private const uint MaskKey = 0x37fa213d;

    // MessageInflater.UseDeflateStreamSwitch (internal there).
    private const string UseDeflateStreamSwitch = "WsCloseSniffer.WebSockets.MessageInflater.UseDeflateStream";

    private byte[][] _wire = [];
    private long _expectedBytes;

    [GlobalSetup(Targets = [nameof(DeflateStreamNewPerMessage)])]
    public void SetupDeflateStream() => Setup(useDeflateStream: true);

    [GlobalSetup(Targets = [nameof(ZLibNewPerMessage), nameof(ZLibResetPerMessage)])]
    public void SetupZLib() => Setup(useDeflateStream: false);

    [Benchmark(Baseline = true)]
    public long DeflateStreamNewPerMessage() => NewPerMessage();

    /// <summary>The runtime's zlib called directly, still initialized and ended per message.</summary>
    [Benchmark]
    public long ZLibNewPerMessage() => NewPerMessage();

    [Benchmark]
    public long ZLibResetPerMessage()
    {
        long bytes = 0;
        using var inflater = new MessageInflater();
        foreach (var wire in _wire)
        {
            inflater.Reset();
            bytes += InflateOne(inflater, wire);
        }

        return Check(bytes);
    }

    private long NewPerMessage()
    {
        long bytes = 0;
        foreach (var wire in _wire)
        {
            using var inflater = new MessageInflater();
            bytes += InflateOne(inflater, wire);
        }

        return Check(bytes);
    }

    private static long InflateOne(MessageInflater inflater, byte[] wire)
    {
        var unit = new InflatedUnit(long.MaxValue, checkUtf8: true);
        if (inflater.Inflate(wire, MaskKey, 0, ref unit) != InflateStatus.Ok || inflater.EndUnit(ref unit) != InflateStatus.Ok)
        {
            throw new InvalidOperationException("a benchmark message did not inflate");
        }

        return unit.Bytes;
    }

    private long Check(long bytes) =>
        bytes == _expectedBytes ? bytes : throw new InvalidOperationException($"inflated {bytes} bytes, expected {_expectedBytes}");

    private void Setup(bool useDeflateStream)
    {
        AppContext.SetSwitch(UseDeflateStreamSwitch, useDeflateStream);
        var random = new Random(7);
        _wire = new byte[Messages][];
        _expectedBytes = 0;
        for (var i = 0; i < Messages; i++)
        {
            var length = random.Next(300, 3001);
            var text = i % 2 == 0 ? JsonLike(random, length) : Records(random, length);
            _expectedBytes += text.Length;
            var compressed = Compress(text);
            for (var j = 0; j < compressed.Length; j++)
            {
                compressed[j] ^= (byte)(MaskKey >> (24 - ((j & 3) * 8)));
            }

            _wire[i] = compressed;
        }
    }

    /// <summary>Level 6, a new stream per message, sync-flushed and the 00 00 FF FF tail cut (RFC 7692 7.2.1).</summary>
    private static byte[] Compress(byte[] text)
    {
        var output = new MemoryStream();
        using var deflate = new DeflateStream(output, new ZLibCompressionOptions { CompressionLevel = 6 }, leaveOpen: true);
        deflate.Write(text);
        deflate.Flush();
        return output.ToArray()[..^4];
    }

    private static byte[] JsonLike(Random random, int length)
    {
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append($"{{\"seq\":{random.Next(1_000_000)},\"symbol\":\"S{random.Next(300)}\",\"bid\":{random.NextDouble() * 100:F4},");
            text.Append($"\"ask\":{random.NextDouble() * 100:F4},\"side\":\"{(random.Next(2) == 0 ? "buy" : "sell")}\",\"ts\":{1_800_000_000_000L + random.Next()}}},");
        }

        return Encoding.UTF8.GetBytes(text.ToString(0, length));
    }

    private static byte[] Records(Random random, int length)
    {
        var text = new StringBuilder();
        while (text.Length < length)
        {
            var word = random.Next(4, 16);
            for (var i = 0; i < word; i++)
            {
                text.Append((char)('a' + random.Next(26)));
            }

            text.Append('|').Append(random.Next(100_000)).Append('|').Append(random.Next(2) == 0 ? "ok" : "retry").Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }
}
