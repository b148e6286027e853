
using SharpPcap;
using SharpPcap.LibPcap;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Capture;

/// <summary>
/// Our reader against libpcap's (SharpPcap's CaptureFileReaderDevice) on real third-party captures,
/// samples/pcaps, and files written by our test builders: same packets, timestamps, bytes and link type.
/// </summary>
public class LibpcapCrossCheckTests
{
    private const string NoCaptures = "(no captures found)";
    private const string PublicPrefix = "public/";
    private const string SamplesPrefix = "samples/";

    public static TheoryData<string> CorpusCaptures
    {
        get
        {
            var data = new TheoryData<string>();
            if (CaptureCorpus.PublicCaptures is { } publicDirectory)
            {
                foreach (var file in CaptureCorpus.CaptureFilesUnder(publicDirectory))
                {
                    data.Add(PublicPrefix + Path.GetRelativePath(publicDirectory, file).Replace('\\', '/'));
                }
            }

            if (CaptureCorpus.Samples is { } samplesDirectory)
            {
                foreach (var file in CaptureCorpus.CaptureFilesUnder(samplesDirectory))
                {
                    data.Add(SamplesPrefix + Path.GetRelativePath(samplesDirectory, file).Replace('\\', '/'));
                }
            }

            if (data.Count == 0)
            {
                data.Add(NoCaptures);
            }

            return data;
        }
    }

    public static TheoryData<string> BuiltFormats => new()
    {
        // libpcap refuses a later section in the other byte order, so the mixed-order file is checked in CaptureFileTests only.
        "pcap-le-micro", "pcap-be-micro", "pcap-le-nano", "pcap-be-nano", "pcap-le-modified", "pcap-be-modified",
        "pcapng-two-le-sections",
    };

    [SkippableTheory]
    [MemberData(nameof(CorpusCaptures))]
    public void Read_CorpusCapture_MatchesLibpcap(string capture)
    {
        Skip.If(capture == NoCaptures, "no captures to cross-check: neither <repo>/../shared/captures/public nor <repo>/samples/pcaps was found (or both are empty)");
        LibpcapAvailability.SkipOrFailIfMissing();

        string path = capture.StartsWith(PublicPrefix, StringComparison.Ordinal)
            ? Path.Combine(CaptureCorpus.PublicCaptures!, capture[PublicPrefix.Length..])
            : Path.Combine(CaptureCorpus.Samples!, capture[SamplesPrefix.Length..]);
        AssertSameAsLibpcap(path);
    }

    [SkippableTheory]
    [MemberData(nameof(BuiltFormats))]
    public void Read_BuilderWrittenCapture_MatchesLibpcap(string format)
    {
        LibpcapAvailability.SkipOrFailIfMissing();
        string path = Path.Combine(Path.GetTempPath(), $"wscs-{format}-{Guid.NewGuid():N}.cap");
        File.WriteAllBytes(path, CaptureFileTests.Build(format));
        try
        {
            AssertSameAsLibpcap(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertSameAsLibpcap(string path)
    {
        // libpcap cannot read gzip: it gets the decompressed bytes, our reader the compressed file.
        string libpcapPath = path;
        var head = new byte[2];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(head);
        }

        if (head[0] == 0x1F && head[1] == 0x8B)
        {
            libpcapPath = Path.Combine(Path.GetTempPath(), $"wscs-gunzip-{Guid.NewGuid():N}.cap");
            using var input = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
            using var output = File.Create(libpcapPath);
            input.CopyTo(output);
        }

        try
        {
            AssertSameAsLibpcap(path, libpcapPath);
        }
        finally
        {
            if (libpcapPath != path)
            {
                File.Delete(libpcapPath);
            }
        }
    }

    private static void AssertSameAsLibpcap(string path, string libpcapPath)
    {
        var (expected, refusal) = ReadWithLibpcap(libpcapPath);
        Skip.If(refusal is not null, $"libpcap cannot read {Path.GetFileName(path)} ({refusal}); nothing to compare with");

        using var source = CaptureFile.Open(path);
        var actual = CaptureTestSupport.ReadAll(source);

        Assert.Null(source.Damage);
        Assert.Equal(expected!.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var a = actual[i];
            if (e.Timestamp != a.Timestamp || e.LinkType != a.LinkType || e.OriginalLength != a.OriginalLength || !e.Data.AsSpan().SequenceEqual(a.Data))
            {
                Assert.Fail($"packet {i + 1} of {Path.GetFileName(path)} differs: libpcap {Describe(e)}, ours {Describe(a)}");
            }
        }
    }

    private static string Describe(ReadPacket p) =>
        $"{p.Timestamp.UnixNanoseconds} ns, link type {(uint)p.LinkType}, {p.Data.Length}/{p.OriginalLength} bytes";

    private static (List<ReadPacket>? Packets, string? Refusal) ReadWithLibpcap(string path)
    {
        using var device = new CaptureFileReaderDevice(path);
        try
        {
            device.Open(new DeviceConfiguration { TimestampResolution = TimestampResolution.Nanosecond });
        }
        catch (PcapException ex)
        {
            return (null, ex.Message);
        }

        var linkType = FromDataLinkType((uint)device.LinkType);
        var packets = new List<ReadPacket>();
        while (true)
        {
            var status = device.GetNextPacket(out PacketCapture capture);
            if (status == GetPacketStatus.NoRemainingPackets)
            {
                return (packets, null);
            }

            if (status != GetPacketStatus.PacketRead)
            {
                return (null, $"libpcap stopped after {packets.Count} packets: {device.LastError}");
            }

            var header = (PcapHeader)capture.Header;
            var timeval = header.Timeval;
            long nanoseconds = (long)((timeval.Value - timeval.Seconds) * 1_000_000_000m);
            packets.Add(new ReadPacket(
                Timestamp.FromSeconds((long)timeval.Seconds, nanoseconds),
                linkType,
                capture.Data.ToArray(),
                (int)header.PacketLength,
                packets.Count + 1));
        }
    }

    /// <summary>libpcap hands out DLT_ values; files (and our reader) carry LINKTYPE_ values (pcap-common.c).</summary>
    private static LinkType FromDataLinkType(uint dataLinkType) => dataLinkType switch
    {
        11 => (LinkType)100,
        12 or 14 => LinkType.Raw,
        15 => (LinkType)102,
        16 => (LinkType)103,
        _ => (LinkType)dataLinkType,
    };
}

/// <summary>
/// The shared third-party captures and the repository's samples (see <see cref="RepositoryPaths"/>), null when absent.
/// </summary>
internal static class CaptureCorpus
{
    private static readonly string[] s_nonCaptureExtensions = [".md", ".json", ".py", ".txt", ".csv", ".sh", ".keylog"];

    public static string? PublicCaptures => RepositoryPaths.HasSharedCaptures ? RepositoryPaths.SharedCaptures : null;

    public static string? Samples => Directory.Exists(RepositoryPaths.Samples) ? RepositoryPaths.Samples : null;

    public static IEnumerable<string> CaptureFilesUnder(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => !s_nonCaptureExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
}
