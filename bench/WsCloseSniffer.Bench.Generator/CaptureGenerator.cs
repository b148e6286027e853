using System.Text;

using WsCloseSniffer.TestSupport;

namespace WsCloseSniffer.Bench.Generator;

/// <summary>What a generation run produced.</summary>
internal readonly record struct GenerationSummary(long Bytes, long Packets, long Sessions, long CaptureMicroseconds);

/// <summary>
/// Interleaves sessions in packet time: a fixed number run at once, each asking for its next packet after its
/// own delay; the earliest due packet is always written next, so timestamps never go backwards.
/// </summary>
internal static class CaptureGenerator
{
    /// <summary>2026-01-15T09:00:00Z, as microseconds since the Unix epoch.</summary>
    private const long StartMicroseconds = 1_768_467_600L * 1_000_000;

    private const int Servers = 4;
    private const int SnapLength = 262_144;
    private const int CorpusBytes = 192 * 1024;

    public static GenerationSummary Generate(string path, long targetBytes, ulong seed, int concurrency)
    {
        var random = new SplitMix64(seed);
        var corpus = BuildCorpus(random);
        var clock = new Clock { NowMicroseconds = StartMicroseconds };
        var queue = new PriorityQueue<SessionRun, (long Time, long Index)>();
        long planned = 0;
        long started = 0;
        var active = 0;

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.SequentialScan);
        using var buffered = new BufferedStream(file, 4 << 20);
        var writer = new PcapFileBuilder(snapLength: SnapLength, output: buffered);
        using var expected = new ExpectedReport(path + ".expected.csv", Path.GetFileName(path));
        while (true)
        {
            // Stop starting sessions once the ones started are expected to fill the requested size.
            while (active < concurrency && planned < targetBytes)
            {
                var plan = SessionPlan.Create(started, new SplitMix64(random.NextUInt64()), Servers);
                var run = new SessionRun(plan, writer, clock, new SplitMix64(random.NextUInt64()), corpus);
                planned += plan.EstimatedBytes;
                queue.Enqueue(run, (clock.NowMicroseconds + random.Exponential(20_000), started));
                started++;
                active++;
            }

            if (!queue.TryDequeue(out var next, out var due))
            {
                break;
            }

            clock.NowMicroseconds = due.Time;
            if (next.Step())
            {
                queue.Enqueue(next, (due.Time + next.Delay, due.Index));
            }
            else
            {
                expected.Write(next);
                next.Dispose();
                active--;
            }
        }

        buffered.Flush();
        return new GenerationSummary(writer.Length, writer.Packets, started, clock.NowMicroseconds - StartMicroseconds);
    }

    /// <summary>JSON-looking text that messages are cut from (ASCII, so text frames hold valid UTF-8).</summary>
    private static ReadOnlyMemory<byte> BuildCorpus(SplitMix64 random)
    {
        string[] types = ["tick", "quote", "trade", "presence", "chat", "ack", "update", "heartbeat"];
        string[] symbols = ["EURUSD", "BTC-USD", "AAPL", "MSFT", "ETH-EUR", "TSLA", "GOOG", "NVDA"];
        var text = new StringBuilder(CorpusBytes + 256);
        while (text.Length < CorpusBytes)
        {
            text.Append("{\"type\":\"").Append(random.Pick(types))
                .Append("\",\"seq\":").Append(random.Next(1, 10_000_000))
                .Append(",\"symbol\":\"").Append(random.Pick(symbols))
                .Append("\",\"price\":").Append(random.Next(1, 100_000)).Append('.').Append(random.Next(10, 100))
                .Append(",\"user\":\"u").Append(random.Next(1000, 99_999)).Append("\"}\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, CorpusBytes));
    }
}
