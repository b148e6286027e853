using System.Buffers.Binary;
using System.IO.Compression;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Hardening;

/// <summary>What reading one capture through the whole pipeline gave.</summary>
internal sealed record PipelineRun(long Packets, CaptureDamage? Damage, List<SessionRecord> Sessions, AnalysisStatistics Statistics);

/// <summary>Builders of hostile capture files and a pipeline runner over in-memory files.</summary>
internal static class HostileCaptures
{
    // Ethernet / IPv4 / TCP SYN, 54 bytes, checksums zero (the decoder does not verify them, as Wireshark by default).
    private static readonly byte[] s_synTemplate = Convert.FromHexString(
        "020000000002" + "020000000001" + "0800" +
        "45000028" + "00004000" + "40060000" + "0a000001" + "0a000002" +
        "c0000050" + "00000001" + "00000000" + "5002faf0" + "00000000");

    /// <summary>A SYN from 10.0.0.1:<paramref name="sourcePort"/> (ports wrap, the host varies) to 10.0.0.2:80.</summary>
    public static byte[] Syn(int index)
    {
        var frame = (byte[])s_synTemplate.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(34), (ushort)(1024 + (index % 60000)));
        frame[29] = (byte)(1 + (index / 60000)); // source 10.0.0.N: more than 65535 distinct connections
        return frame;
    }

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

    /// <summary>
    /// A gzip stream made of <paramref name="members"/> identical gzip members (RFC 1952 section 2.2 allows
    /// several), each the compression of <paramref name="memberContent"/>: gigabytes of output from a small input.
    /// </summary>
    public static byte[] GzipMembers(byte[] memberContent, int members)
    {
        using var one = new MemoryStream();
        using (var gzip = new GZipStream(one, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(memberContent);
        }

        var member = one.ToArray();
        var all = new byte[member.Length * members];
        for (var i = 0; i < members; i++)
        {
            member.CopyTo(all, i * member.Length);
        }

        return all;
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
