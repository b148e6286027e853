using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Hardening;

/// <summary>What reading one capture through the whole pipeline gave.</summary>
internal sealed record PipelineRun(long Packets, CaptureDamage? Damage, List<SessionRecord> Sessions, AnalysisStatistics Statistics);

/// <summary>Hostile inputs (samples to damage, random bytes) and a pipeline runner over in-memory files.</summary>
internal static class HostileCaptures
{
    public static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(RepositoryPaths.Samples, name));

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Reads <paramref name="file"/> with CaptureFile.Open and feeds every packet through a CaptureAnalyzer.</summary>
    public static PipelineRun Run(byte[] file, AnalyzerOptions? options = null, Action<long, CaptureAnalyzer>? afterPacket = null)
    {
        var sessions = new List<SessionRecord>();
        using var source = CaptureFile.Open(new MemoryStream(file, writable: false), "hostile.pcap");
        using var analyzer = new CaptureAnalyzer(source.Name, options ?? new AnalyzerOptions(), sessions.Add);
        long packets = 0;
        while (source.TryReadNext(out var packet))
        {
            analyzer.Process(packet, DecodedTcp.Decode(packet));
            packets++;
            afterPacket?.Invoke(packets, analyzer);
        }

        analyzer.Finish();
        return new PipelineRun(packets, source.Damage, sessions, analyzer.Statistics);
    }

    /// <summary>Reads every packet of a capture stream without analysis; returns the count and the damage.</summary>
    public static (long Packets, CaptureDamage? Damage) ReadAll(Stream stream)
    {
        using var source = CaptureFile.Open(stream, "hostile.pcap");
        long packets = 0;
        while (source.TryReadNext(out _))
        {
            packets++;
        }

        return (packets, source.Damage);
    }

    /// <summary>A little-endian microsecond pcap header (Ethernet) with the given snap length.</summary>
    public static byte[] PcapHeader(uint snapLength = 65535) =>
        new PcapFileBuilder(snapLength: snapLength).ToArray();

    /// <summary>Deterministic random bytes.</summary>
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>Memory measurements: allocation on this thread, and what stays reachable after a full collection.</summary>
internal static class Memory
{
    public const long KiB = 1024;
    public const long MiB = 1024 * 1024;

    public static long AllocatedBy(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public static long Retained() => GC.GetTotalMemory(forceFullCollection: true);
}

/// <summary>Memory tests measure process-wide heap sizes: they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    public const string Name = "memory measurements";
}
