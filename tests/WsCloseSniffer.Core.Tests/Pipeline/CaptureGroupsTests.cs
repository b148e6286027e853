using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Pipeline;

public sealed class CaptureGroupsTests : IDisposable
{
    private const uint BaseSeconds = 1_700_000_000;

    private readonly string _directory = Directory.CreateTempSubdirectory("wscs-groups-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A pcap file with packets at the given seconds after <see cref="BaseSeconds"/>.</summary>
    private CaptureInput FileOfLinkType(string name, uint linkType, params uint[] seconds)
    {
        var pcap = new PcapFileBuilder(snapLength: 262144, linkType: linkType);
        foreach (var second in seconds)
        {
            pcap.Packet(BaseSeconds + second, 0, CaptureBytes.Frame(60, (byte)second));
        }

        var path = Path.Combine(_directory, name);
        System.IO.File.WriteAllBytes(path, pcap.ToArray());
        return new CaptureInput(path, name);
    }

    private CaptureInput File(string name, params uint[] seconds) => FileOfLinkType(name, 1, seconds);

    private static IReadOnlyList<CaptureGroup> Detect(params CaptureInput[] inputs) =>
        CaptureGroups.DetectRotations(inputs, new ReassemblyOptions());

    [Fact]
    public void DetectRotations_TcpdumpCountSetThatFollowsOn_OneGroupInTimeOrder()
    {
        var first = File("trace.pcap", 0, 5, 9);
        var second = File("trace.pcap1", 9, 12);
        var third = File("trace.pcap2", 13, 20);
        var other = File("other.pcap", 1, 2);

        var groups = Detect(first, second, third, other);

        Assert.Equal(2, groups.Count);
        Assert.Equal([first, second, third], groups[0].Files);
        Assert.Contains("tcpdump -C", groups[0].Reason, StringComparison.Ordinal);
        Assert.Contains("LINKTYPE_ETHERNET", groups[0].Reason, StringComparison.Ordinal);
        Assert.Equal([other], groups[1].Files);
        Assert.Null(groups[1].Reason);
    }

    [Fact]
    public void Expand_DirectoryOfATcpdumpCountRotation_FindsTheNumberedFilesAndJoinsThem()
    {
        File("trace.pcap", 0, 5);
        File("trace.pcap1", 6, 8);
        File("trace.pcap2", 9);
        System.IO.File.WriteAllText(Path.Combine(_directory, "trace.pcap.txt1"), "notes");

        var inputs = CaptureInputs.Expand([_directory]);
        var group = Assert.Single(CaptureGroups.DetectRotations(inputs, new ReassemblyOptions()));

        Assert.Equal(["trace.pcap", "trace.pcap1", "trace.pcap2"], inputs.Select(i => i.DisplayName));
        Assert.Equal(["trace.pcap", "trace.pcap1", "trace.pcap2"], group.Files.Select(f => f.DisplayName));
    }

    [Fact]
    public void DetectRotations_TcpdumpRingThatWrapped_JoinedFromTheOldestFile()
    {
        // tcpdump -C 1 -W 3 reuses trace.pcap0 after trace.pcap2: time order is 1, 2, 0.
        var zero = File("trace.pcap0", 20, 25);
        var one = File("trace.pcap1", 0, 5);
        var two = File("trace.pcap2", 10, 15);

        var group = Assert.Single(Detect(zero, one, two));

        Assert.Equal([one, two, zero], group.Files);
    }

    [Fact]
    public void DetectRotations_DumpcapRingAndTimeNames_Joined()
    {
        var ring = Detect(File("ring_00001_20261203101500.pcap", 0, 3), File("ring_00002_20261203101504.pcap", 4, 8));
        var timed = Detect(File("t-20261203-101500.pcap", 0, 3), File("t-20261203-101504.pcap", 4, 8), File("t-20261203-101509.pcap", 9));

        Assert.Contains("dumpcap", Assert.Single(ring).Reason, StringComparison.Ordinal);
        Assert.Equal(3, Assert.Single(timed).Files.Count);
    }

    [Fact]
    public void DetectRotations_FileWithoutPackets_JoinsWithoutTakingPartInTheTimes()
    {
        var empty = File("t-20261203-101459.pcap");
        var first = File("t-20261203-101500.pcap", 0, 3);
        var second = File("t-20261203-101504.pcap", 4, 8);

        var group = Assert.Single(Detect(empty, first, second));

        Assert.Equal([first, second, empty], group.Files);
    }

    [Fact]
    public void DetectRotations_FilesOverlappingInTime_NotJoined()
    {
        // Same stem, but the second starts 4 s before the first one's last packet: two captures at once, not a rotation.
        var groups = Detect(File("trace.pcap", 0, 9), File("trace.pcap1", 5, 12));

        Assert.Equal(2, groups.Count);
        Assert.All(groups, g => Assert.False(g.IsJoined));
    }

    [Fact]
    public void DetectRotations_GapLongerThanTheIdleTimeout_NotJoined()
    {
        var idle = (uint)new ReassemblyOptions().IdleTimeoutSeconds;

        var groups = Detect(File("trace.pcap", 0, 9), File("trace.pcap1", 9 + idle + 1));

        Assert.Equal(2, groups.Count);
    }

    [Fact]
    public void DetectRotations_DifferentLinkTypes_NotJoined()
    {
        var groups = Detect(FileOfLinkType("trace.pcap", 1, 0, 9), FileOfLinkType("trace.pcap1", 113, 10));

        Assert.Equal(2, groups.Count);
    }

    [Fact]
    public void DetectRotations_DumpcapRingWithAnInterfaceMore_NotJoined()
    {
        // Default pcapng resolution: microseconds.
        CaptureInput PcapNg(string name, int interfaces, uint second)
        {
            var pcapNg = new PcapNgFileBuilder().Section();
            for (var i = 0; i < interfaces; i++)
            {
                pcapNg.Interface(1);
            }

            pcapNg.EnhancedPacket(0, (ulong)(BaseSeconds + second) * 1_000_000, CaptureBytes.Frame(60, 1));
            var path = Path.Combine(_directory, name);
            System.IO.File.WriteAllBytes(path, pcapNg.ToArray());
            return new CaptureInput(path, name);
        }

        var same = Detect(PcapNg("a_00001_20261203101500.pcapng", 1, 0), PcapNg("a_00002_20261203101501.pcapng", 1, 1));
        var more = Detect(PcapNg("b_00001_20261203101500.pcapng", 1, 0), PcapNg("b_00002_20261203101501.pcapng", 2, 1));

        Assert.Contains("all pcapng with 1 interface, LINKTYPE_ETHERNET (1)", Assert.Single(same).Reason, StringComparison.Ordinal);
        Assert.Equal(2, more.Count);
    }

    [Fact]
    public void DetectRotations_NamesOutOfTimeOrder_NotJoined()
    {
        // Time-named files whose times run against their names were not written by one rotation.
        var groups = Detect(File("t-20261203-101500.pcap", 10, 12), File("t-20261203-101504.pcap", 0, 9));

        Assert.Equal(2, groups.Count);
    }

    [Fact]
    public void DetectRotations_NumberedHostNames_NotJoined()
    {
        var groups = Detect(File("web1.pcap", 0, 9), File("web2.pcap", 10, 12));

        Assert.Equal(2, groups.Count);
    }

    [Fact]
    public void DetectRotations_DamagedMember_NotJoined()
    {
        var damaged = Path.Combine(_directory, "trace.pcap1");
        System.IO.File.WriteAllBytes(damaged, [.. new PcapFileBuilder().Packet(BaseSeconds + 10, 0, CaptureBytes.Frame(60, 1)).ToArray(), 1, 2, 3]);

        var groups = Detect(File("trace.pcap", 0, 9), new CaptureInput(damaged, "trace.pcap1"));

        Assert.Equal(2, groups.Count);
    }

    [Fact]
    public void AsOne_ManyFiles_OneGroupReadWithAFewOpenAtOnce()
    {
        // 200 files of a rotation (and not named like one): --as-one merges them with at most two open at once.
        var inputs = Enumerable.Range(0, 200).Select(i => File($"part-{i:D3}.pcap", (uint)(i * 10), (uint)(i * 10) + 5, (uint)(i * 10) + 10)).ToList();

        var groups = CaptureGroups.AsOne(inputs);
        using var result = OfflineAnalysis.Run(groups, new AnalyzerOptions());

        Assert.StartsWith("part-000.pcap, part-001.pcap, ... part-199.pcap (200 files): --as-one", Assert.Single(groups).Describe(), StringComparison.Ordinal);
        Assert.Equal(600, result.Statistics.Packets);
        Assert.Empty(result.Problems);
        Assert.InRange(result.PeakOpenFilesPerGroup, 1, 2);
    }

    [Fact]
    public void AsOne_SampleSplitIntoAlternatingFiles_SameReportAsTheWholeCapture()
    {
        // Every packet of a real session alternately into two files (as two interfaces would see them), plus one file
        // per packet: both read as one give the whole capture's report.
        var whole = Path.Combine(RepositoryPaths.Samples, "41-rotated-1000-whole.pcap");
        var packets = new List<(Timestamp Time, byte[] Data, int OriginalLength)>();
        using (var source = CaptureFile.Open(whole))
        {
            while (source.TryReadNext(out var packet))
            {
                packets.Add((packet.Timestamp, packet.Data.ToArray(), packet.OriginalLength));
            }
        }

        CaptureInput Write(string name, IEnumerable<(Timestamp Time, byte[] Data, int OriginalLength)> part)
        {
            var pcap = new PcapFileBuilder(nanosecond: true, snapLength: 262144);
            foreach (var (time, data, originalLength) in part)
            {
                pcap.Packet((uint)(time.UnixNanoseconds / 1_000_000_000), (uint)(time.UnixNanoseconds % 1_000_000_000), data, (uint)originalLength);
            }

            var path = Path.Combine(_directory, name);
            System.IO.File.WriteAllBytes(path, pcap.ToArray());
            return new CaptureInput(path, name);
        }

        var alternating = new[] { Write("even.pcap", packets.Where((_, i) => i % 2 == 0)), Write("odd.pcap", packets.Where((_, i) => i % 2 == 1)) };
        var single = packets.Select((p, i) => Write($"packet-{i:D2}.pcap", [p])).ToList();

        var expected = Report(OfflineAnalysis.Run([new CaptureInput(whole, "whole.pcap")], new AnalyzerOptions()));
        var interleaved = OfflineAnalysis.Run(CaptureGroups.AsOne(alternating), new AnalyzerOptions());
        var perPacket = OfflineAnalysis.Run(CaptureGroups.AsOne(single), new AnalyzerOptions());

        Assert.Equal(2, interleaved.PeakOpenFilesPerGroup);
        Assert.Equal(packets.Count, perPacket.Statistics.Packets);
        Assert.Equal("normal_closure", Assert.Single(expected)[ReportColumns.All.ToList().IndexOf("classification") - 2]);
        Assert.Equal(expected, Report(interleaved));
        Assert.Equal(expected, Report(perPacket));
    }

    [Fact]
    public void AsOne_TwoInterfacesOverlappingInTime_EachSessionUnderTheFileItCameFrom()
    {
        // eth0 holds a session at 0 s and another at 5 s; eth1, which starts at 2 s, one at 2 s. The session at 5 s
        // began after eth1's first packet, but in eth0: a name taken from the time alone would say eth1.
        CaptureInput Write(string name, params (string Sample, double StartSeconds)[] sessions)
        {
            var pcap = new PcapFileBuilder(nanosecond: true, snapLength: 262144);
            var packets = new List<(long Time, byte[] Data, int OriginalLength)>();
            foreach (var (sample, start) in sessions)
            {
                using var source = CaptureFile.Open(Path.Combine(RepositoryPaths.Samples, sample));
                long? first = null;
                while (source.TryReadNext(out var packet))
                {
                    first ??= packet.Timestamp.UnixNanoseconds;
                    var time = ((long)BaseSeconds * 1_000_000_000) + (long)(start * 1e9) + (packet.Timestamp.UnixNanoseconds - first.Value);
                    packets.Add((time, packet.Data.ToArray(), packet.OriginalLength));
                }
            }

            foreach (var (time, data, originalLength) in packets.OrderBy(p => p.Time))
            {
                pcap.Packet((uint)(time / 1_000_000_000), (uint)(time % 1_000_000_000), data, (uint)originalLength);
            }

            var path = Path.Combine(_directory, name);
            System.IO.File.WriteAllBytes(path, pcap.ToArray());
            return new CaptureInput(path, name);
        }

        var eth0 = Write("eth0.pcap", ("01-client-close-1000.pcap", 0), ("02-server-close-1000.pcap", 5));
        var eth1 = Write("eth1.pcap", ("03-mandatory-extension-1010.pcap", 2));

        using var result = OfflineAnalysis.Run(CaptureGroups.AsOne([eth1, eth0]), new AnalyzerOptions());
        var files = result.Sessions.Sorted().Select(r => (r.CaptureFile, r.Classification)).ToList();

        Assert.Equal(
            [("eth0.pcap", "normal_closure"), ("eth1.pcap", "mandatory_extension"), ("eth0.pcap", "normal_closure")],
            files);
    }

    /// <summary>Every column but session_id and capture_file (the file names differ by construction).</summary>
    private static List<List<string?>> Report(AnalysisResult result)
    {
        using (result)
        {
            return [.. result.Sessions.Sorted().Select(r => ReportColumns.Cells(r, null).Skip(2).Select(c => c?.ToString()).ToList())];
        }
    }
}
