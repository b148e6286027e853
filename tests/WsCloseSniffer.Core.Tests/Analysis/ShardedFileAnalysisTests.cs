using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Analysis;

/// <summary>A file analyzed by several flow-sharded pipelines must report exactly what one pipeline reports.</summary>
public sealed class ShardedFileAnalysisTests
{
    private static IEnumerable<string> SampleFiles() =>
        Directory.EnumerateFiles(RepositoryPaths.Samples, "*.pcap").Order(StringComparer.Ordinal);

    /// <summary>Every sample's packets, one file after the other, as one capture with many connections.</summary>
    private static void FeedSamples(Action<CapturedPacket> consume)
    {
        long number = 0;
        foreach (var file in SampleFiles())
        {
            using var source = CaptureFile.Open(file);
            while (source.TryReadNext(out var packet))
            {
                consume(new CapturedPacket(packet.Timestamp, packet.LinkType, packet.Data, packet.OriginalLength, ++number));
            }
        }
    }

    private static (List<SessionRecord> Sessions, AnalysisStatistics Statistics) RunSingle()
    {
        using var sorter = new SessionSorter();
        using var analyzer = new CaptureAnalyzer("all", new AnalyzerOptions(), r => sorter.Add(r, 0));
        FeedSamples(p => analyzer.Process(p));
        analyzer.Finish();
        return (sorter.Sorted().ToList(), analyzer.Statistics);
    }

    private static (List<SessionRecord> Sessions, AnalysisStatistics Statistics) RunSharded(int shards)
    {
        using var sorter = new SessionSorter();
        using var sharded = new ShardedFileAnalysis("all", new AnalyzerOptions(), r => sorter.Add(r, 0), shards);
        FeedSamples(p => sharded.Process(p, CancellationToken.None));
        var statistics = sharded.Finish();
        return (sorter.Sorted().ToList(), statistics);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Sharded_Samples_SameSessionsAndCountsAsOnePipeline(int shards)
    {
        var single = RunSingle();

        var sharded = RunSharded(shards);

        Assert.Equal(SampleFiles().Count(), single.Sessions.Count);
        Assert.Equal(
            single.Sessions.Select(s => s with { Notices = [] }),
            sharded.Sessions.Select(s => s with { Notices = [] }));
        Assert.Equal(single.Sessions.Select(s => string.Join(",", s.Notices)), sharded.Sessions.Select(s => string.Join(",", s.Notices)));
        Assert.Equal(single.Statistics.Packets, sharded.Statistics.Packets);
        Assert.Equal(single.Statistics.TcpSegments, sharded.Statistics.TcpSegments);
        Assert.Equal(single.Statistics.Connections, sharded.Statistics.Connections);
        Assert.Equal(single.Statistics.Sessions, sharded.Statistics.Sessions);
    }

    [Fact]
    public void Sharded_MoreBatchesThanInFlight_AllPacketsAnalyzed()
    {
        // Enough copies of the samples (about 12 MiB, 70,000 packets) to cycle every pooled batch several times.
        const int Rounds = 400;
        using var sorter = new SessionSorter();
        using var sharded = new ShardedFileAnalysis("many", new AnalyzerOptions(), r => sorter.Add(r, 0), 2);
        long fed = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var shift = Timestamp.NanosecondsPerSecond * 3600L * round;
            FeedSamples(p =>
            {
                fed++;
                sharded.Process(new CapturedPacket(new Timestamp(p.Timestamp.UnixNanoseconds + shift), p.LinkType, p.Data, p.OriginalLength, fed), CancellationToken.None);
            });
        }

        var statistics = sharded.Finish();

        Assert.Equal(fed, statistics.Packets);
        Assert.Equal(Rounds * SampleFiles().Count(), sorter.Count);
    }
}
