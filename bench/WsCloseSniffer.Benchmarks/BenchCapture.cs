using WsCloseSniffer.Bench.Generator;
using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Benchmarks;

/// <summary>The generated capture every stage benchmark reads: made once per process, kept in memory.</summary>
internal static class BenchCapture
{
    public const int SizeMb = 50;
    public const ulong Seed = 4;

    private static byte[]? s_bytes;

    /// <summary>The capture file's bytes (50 MiB, seed 4: the same on every run).</summary>
    public static byte[] Bytes => s_bytes ??= Generate();

    /// <summary>Every frame of the capture, copied once into one array, with its time and offsets.</summary>
    public static Frames ReadFrames()
    {
        using var reader = new PcapReader(new MemoryStream(Bytes, writable: false), "bench");
        var data = new MemoryStream(Bytes.Length);
        var offsets = new List<int>();
        var lengths = new List<int>();
        var times = new List<Timestamp>();
        while (reader.TryReadNext(out var packet))
        {
            offsets.Add((int)data.Position);
            lengths.Add(packet.Data.Length);
            times.Add(packet.Timestamp);
            data.Write(packet.Data);
        }

        return new Frames(data.ToArray(), [.. offsets], [.. lengths], [.. times]);
    }

    private static byte[] Generate()
    {
        var path = Path.Combine(Path.GetTempPath(), $"wscs-bench-{SizeMb}m-s{Seed}-{Environment.ProcessId}.pcap");
        try
        {
            CaptureGenerator.Generate(path, SizeMb * 1024L * 1024, Seed, concurrency: 64);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".expected.csv");
        }
    }
}

/// <summary>Frames laid end to end in one array (no per-frame object), as a reader hands them out.</summary>
internal sealed record Frames(byte[] Data, int[] Offsets, int[] Lengths, Timestamp[] Times)
{
    public int Count => Offsets.Length;

    public ReadOnlySpan<byte> this[int index] => Data.AsSpan(Offsets[index], Lengths[index]);
}
