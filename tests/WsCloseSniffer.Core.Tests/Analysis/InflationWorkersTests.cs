using System.Text;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.TestSupport;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

public sealed class InflationWorkersTests
{
    private static readonly byte[] Mask = [0x1A, 0x2B, 0x3C, 0x4D];

    private static string Letters(int seed, int length)
    {
        var random = new Random(seed);
        return new string([.. Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(16)))]);
    }

    private static string Csv(IEnumerable<SessionRecord> sessions) => ReportText.Csv(sessions.OrderBy(s => s.FlowOrder));

    private static (string Csv, AnalysisStatistics Statistics) Analyze(string file, int inflationThreads)
    {
        var records = new List<SessionRecord>();
        using var analyzer = new CaptureAnalyzer("f", new AnalyzerOptions { InflationThreads = inflationThreads }, records.Add);
        using (var source = CaptureFile.Open(file))
        {
            while (source.TryReadNext(out var packet))
            {
                analyzer.Process(packet, DecodedTcp.Decode(packet));
            }
        }

        analyzer.Finish();
        return (Csv(records), analyzer.Statistics);
    }

    [Fact]
    public void RealCaptures_InflatedOnWorkers_SameReportAsOnTheAnalysisThread()
    {
        long inflated = 0;
        foreach (var file in PacketCaptureFiles.SamplesAndPublicCaptures())
        {
            var (inline, inlineStatistics) = Analyze(file, 0);
            foreach (var threads in new[] { 1, 3 })
            {
                var (workers, statistics) = Analyze(file, threads);
                Assert.Equal(inline, workers);
                Assert.Equal(
                    (inlineStatistics.Sessions, inlineStatistics.InflatedUnits, inlineStatistics.InflatedBytes),
                    (statistics.Sessions, statistics.InflatedUnits, statistics.InflatedBytes));
                Assert.Equal(inlineStatistics.Notices.OrderBy(e => e.Key), statistics.Notices.OrderBy(e => e.Key));
            }

            inflated += inlineStatistics.InflatedUnits;
        }

        // The samples hold permessage-deflate sessions of several kinds: the comparison covered real inflation.
        Assert.True(inflated > 20, $"{inflated} units inflated");
    }

    /// <summary>
    /// Sessions of every kind at once, their frames interleaved, more payload than a lane's batches hold (so the
    /// analysis waits for the lanes), and a budget small enough to refuse: the same records and budget counts as
    /// when inflating on the calling thread.
    /// </summary>
    [Fact]
    public void ManyInterleavedSessions_InflatedOnWorkers_SameRecordsAndBudgetAsInline()
    {
        var (inline, inlineBudget) = RunInterleaved(workers: null);
        using var workers = new InflationWorkers(2);
        var (onWorkers, workersBudget) = RunInterleaved(workers);

        Assert.Equal(inline, onWorkers);
        Assert.Equal(
            (inlineBudget.InflatedUnits, inlineBudget.InflatedBytes, inlineBudget.Refused, inlineBudget.Live),
            (workersBudget.InflatedUnits, workersBudget.InflatedBytes, workersBudget.Refused, workersBudget.Live));
        Assert.True(inlineBudget.Refused > 0, "the budget refused nothing: the test misses that path");
        Assert.Equal(0, workersBudget.Live);
        Assert.Contains(Notice.WsDeflateInvalidData, inline);
        Assert.Contains(Notice.WsTextInvalidUtf8, inline);
        Assert.Contains(Notice.WsDeflateNotInflated, inline);
        Assert.Contains(Notice.WsDeflateContextMissing, inline);
        Assert.DoesNotContain(Notice.WsDeflateParametersInvalid, inline);
    }

    [Fact]
    public void SessionEndedWhileItsLaneIsBehind_ReportedOnceTheLaneIsDone()
    {
        using var workers = new InflationWorkers(1);
        var text = Letters(3, 5000);
        var frames = DeflateFrames.Messages(fromClient: true, 15, contextTakeover: true, [(text, null)]);
        var driver = new SessionDriver(inflationWorkers: workers).Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Client(frames[0]);

        driver.EndOnly(TcpCloseKind.Fin);

        // The lane has not been handed the batch with this session's frames: the session waits, not half-reported.
        Assert.Empty(driver.Ended);
        workers.Complete();
        var session = Assert.Single(driver.Ended);
        Assert.Equal(5000, session.Evidence.ClientLargestMessageBytes);
        Assert.Equal(1, session.Evidence.CompressedMessages);
    }

    [Fact]
    public void ManySessionsEndingWhileTheirLaneIsBusy_TheAnalysisWaitsAndEachIsReportedOnceWhole()
    {
        // A first session's message inflates to 60 MiB (a while for its lane); many others, each with one
        // uncompressed message in a session that agreed to compression, end while that batch is still being
        // inflated: more wait than the lane keeps waiting, so the analysis waits for the batch on the way.
        const int Sessions = 4 * InflationLane.MaxWaitingSessions;
        using var workers = new InflationWorkers(1);
        var budget = new InflaterBudget(8);
        var accepted = DeflateFrames.Accepted(15, contextTakeover: false);
        var big = new SessionDriver(inflaters: budget, inflationWorkers: workers, ordinal: 0)
            .Open(offered: "permessage-deflate; client_max_window_bits", accepted: accepted);
        var others = Enumerable.Range(1, Sessions)
            .Select(i => new SessionDriver(inflaters: budget, inflationWorkers: workers, ordinal: i).Open(offered: "permessage-deflate; client_max_window_bits", accepted: accepted))
            .ToList();
        var bomb = DeflateFrames.SyncFlushed(new byte[60 * 1024 * 1024])[0];

        big.Client(Frame(Binary, bomb, mask: Mask, rsv1: true));
        for (var i = 0; i < others.Count; i++)
        {
            others[i].Client(Frame(Text, Encoding.ASCII.GetBytes(Letters(i, 10 + (i % 50))), mask: Mask));
        }

        var mostWaiting = 0;
        foreach (var driver in others)
        {
            driver.EndOnly(TcpCloseKind.Fin);
            mostWaiting = Math.Max(mostWaiting, others.Count(d => d.Ended.Count == 0 && d.Session.End is not null));
        }

        big.EndOnly(TcpCloseKind.Fin);
        workers.Complete();

        Assert.True(mostWaiting <= InflationLane.MaxWaitingSessions, $"{mostWaiting} sessions waited at once");
        Assert.Equal(60L * 1024 * 1024, Assert.Single(big.Ended).Evidence.ClientLargestMessageBytes);
        for (var i = 0; i < others.Count; i++)
        {
            Assert.Equal(10 + (i % 50), Assert.Single(others[i].Ended).Evidence.ClientLargestMessageBytes);
        }

        Assert.Equal((1, 60L * 1024 * 1024, 0, 0L), (budget.InflatedUnits, budget.InflatedBytes, budget.Live, budget.Refused));
    }

    private static (string Csv, InflaterBudget Budget) RunInterleaved(InflationWorkers? workers)
    {
        const int Sessions = 96;
        const int Messages = 12;
        var budget = new InflaterBudget(40);
        var drivers = new List<SessionDriver>();
        var script = new List<List<Action<SessionDriver>>>();
        for (var i = 0; i < Sessions; i++)
        {
            var kind = i % 6;
            var takeover = kind is 0 or 2 or 4;
            var fromClient = i % 2 == 0;
            var texts = Enumerable.Range(0, Messages).Select(m => ((string?)Letters(i * 100 + m, 2000 + (m * 700)), (byte[]?)null));
            var frames = DeflateFrames.Messages(fromClient, 15, takeover, texts);
            var steps = new List<Action<SessionDriver>>();
            for (var m = 0; m < frames.Count; m++)
            {
                var frame = frames[m];
                if (kind == 2 && m == 5)
                {
                    // Not DEFLATE: an inflate failure in the middle of a session that keeps its context.
                    frame = Frame(Binary, [0xFF, 0xFF, 0xFF, 0x00], mask: fromClient ? Mask : null, rsv1: true);
                }
                else if (kind == 3 && m == 4)
                {
                    // Compressed text that inflates to bytes that are not UTF-8.
                    var unit = DeflateFrames.SyncFlushed([0x61, 0xC3, 0x28, 0x62])[0];
                    frame = Frame(Text, unit, mask: fromClient ? Mask : null, rsv1: true);
                }

                if (kind == 4 && m == 6)
                {
                    // Half the message lost: what follows refers back into bytes the capture does not hold.
                    steps.Add(d => Send(d, fromClient, frame[..(frame.Length / 2)]));
                    steps.Add(d => Gap(d, fromClient, frame.Length - (frame.Length / 2)));
                    continue;
                }

                // Split in two segments so payloads arrive in pieces.
                var half = frame.Length / 2;
                steps.Add(d => Send(d, fromClient, frame[..half]));
                steps.Add(d => Send(d, fromClient, frame[half..]));
            }

            steps.Add(d => d.Client(ClientClose(1000)).Server(ServerClose(1000)));
            script.Add(steps);
            var accepted = DeflateFrames.Accepted(15, takeover);
            drivers.Add(new SessionDriver(inflaters: budget, inflationWorkers: workers, ordinal: i)
                .Open(offered: "permessage-deflate; client_max_window_bits", accepted: accepted));
        }

        // Round robin over the sessions, ending each as its script runs out: many sessions open at once.
        var ended = new bool[Sessions];
        for (var step = 0; ended.Any(e => !e); step++)
        {
            for (var i = 0; i < Sessions; i++)
            {
                if (ended[i])
                {
                    continue;
                }

                if (step < script[i].Count)
                {
                    script[i][step](drivers[i]);
                }
                else
                {
                    drivers[i].EndOnly(TcpCloseKind.Fin);
                    ended[i] = true;
                }
            }
        }

        workers?.Complete();
        var reported = drivers.Select((d, i) => SessionRecord.From(Assert.Single(d.Ended), "test.pcap", flowOrder: i));
        return (Csv(reported), budget);
    }

    private static void Send(SessionDriver driver, bool fromClient, byte[] bytes)
    {
        if (fromClient)
        {
            driver.Client(bytes);
        }
        else
        {
            driver.Server(bytes);
        }
    }

    private static void Gap(SessionDriver driver, bool fromClient, int bytes)
    {
        if (fromClient)
        {
            driver.ClientGap(bytes);
        }
        else
        {
            driver.ServerGap(bytes);
        }
    }

    private static byte[] ClientClose(ushort code) => Frame(Close, [(byte)(code >> 8), (byte)code], mask: Mask);

    private static byte[] ServerClose(ushort code) => Frame(Close, [(byte)(code >> 8), (byte)code]);
}
