using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;
using WsCloseSniffer.Pipeline;

namespace WsCloseSniffer.Tests.Pipeline;

public sealed class OfflineAnalysisTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wscs-offline-" + Guid.NewGuid().ToString("N"));

    public OfflineAnalysisTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static AnalysisResult RunSamples() =>
        OfflineAnalysis.Run(CaptureGroups.DetectRotations(CaptureInputs.Expand([RepositoryPaths.Samples]), new()), new AnalyzerOptions());

    private static string Csv(IEnumerable<SessionRecord> sessions) => ReportText.Csv(sessions);

    [Fact]
    public void CaptureAnalyzer_PacketsDecodedOnTheReadingThread_SameSessionsAndCounters()
    {
        // Big files are read through PrefetchingPacketSource, which decodes on its own thread: same results, IP
        // fragments included (the defragmenter runs on the analysis thread, from the packets' bytes).
        long reassembled = 0;
        foreach (var file in PacketCaptureFiles.SamplesAndPublicCaptures())
        {
            var direct = new List<SessionRecord>();
            var prefetched = new List<SessionRecord>();
            using var directAnalyzer = new CaptureAnalyzer("f", new AnalyzerOptions(), direct.Add);
            using var prefetchedAnalyzer = new CaptureAnalyzer("f", new AnalyzerOptions(), prefetched.Add);
            using (var source = CaptureFile.Open(file))
            {
                while (source.TryReadNext(out var packet))
                {
                    directAnalyzer.Process(packet, DecodedTcp.Decode(packet));
                }
            }

            using (var source = new PrefetchingPacketSource<DecodedTcp>(CaptureFile.Open(file)))
            {
                while (source.TryReadNext(out var packet, out var decoded))
                {
                    prefetchedAnalyzer.Process(packet, decoded);
                }
            }

            directAnalyzer.Finish();
            prefetchedAnalyzer.Finish();
            Assert.Equal(Csv(direct), Csv(prefetched));
            var (a, b) = (directAnalyzer.Statistics, prefetchedAnalyzer.Statistics);
            Assert.Equal(
                (a.Packets, a.Bytes, a.TcpSegments, a.NotTcp, a.IpFragments, a.Malformed, a.Connections, a.Sessions, a.GapCount, a.GapBytes),
                (b.Packets, b.Bytes, b.TcpSegments, b.NotTcp, b.IpFragments, b.Malformed, b.Connections, b.Sessions, b.GapCount, b.GapBytes));
            Assert.Equal(
                (a.IpDatagramsReassembled, a.IpDatagramsIncomplete, a.IpDatagramsOverlapping, a.IpDuplicateFragments, a.SegmentsOutsideWindow),
                (b.IpDatagramsReassembled, b.IpDatagramsIncomplete, b.IpDatagramsOverlapping, b.IpDuplicateFragments, b.SegmentsOutsideWindow));
            reassembled += a.IpDatagramsReassembled;
            Assert.Equal(a.UnsupportedLinkTypes.OrderBy(e => e.Key), b.UnsupportedLinkTypes.OrderBy(e => e.Key));
            Assert.Equal(a.Notices.OrderBy(e => e.Key), b.Notices.OrderBy(e => e.Key));
        }

        // The fragmented samples are among them.
        Assert.True(reassembled > 0, "no IP datagram was reassembled in the samples");
    }

    private static SessionPacketBuilder CleanSession(SessionPacketBuilder builder) =>
        builder.Connect()
            .Client(SessionHandshake.Request())
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientClose(1000))
            .Server(ServerClose(1000))
            .CloseTcp();

    private CaptureInput WriteCapture(string name, params SessionPacketBuilder[] connections)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, SessionPacketBuilder.ToPcap(connections));
        return new CaptureInput(path, name);
    }

    /// <summary>Sessions in the samples as the end-to-end baseline has them (samples are added over time).</summary>
    private static int SampleSessionCount() => Rfc4180.Parse(File.ReadAllText(RepositoryPaths.SamplesBaselineCsv)).Count - 1;

    [Fact]
    public void Run_Samples_TwoRunsGiveByteIdenticalCsv()
    {
        var first = Csv(RunSamples().Sessions.Sorted().ToList());
        var second = Csv(RunSamples().Sessions.Sorted().ToList());

        Assert.Equal(first, second);
        // Header and one row per session of the baseline: the wss:// samples count only where the capture carries its own
        // TLS secrets; the rotated sample (three files read as one) and its whole copy give one session each.
        Assert.Equal(SampleSessionCount() + 1, Rfc4180.Parse(first).Count);
    }

    [Fact]
    public void Run_Samples_AreNumberedFromOneInStartTimeThenFileOrder()
    {
        var inputs = CaptureInputs.Expand([RepositoryPaths.Samples]);
        using var result = OfflineAnalysis.Run(inputs, new AnalyzerOptions());
        var sessions = result.Sessions.Sorted().ToList();

        Assert.Empty(result.Problems);

        // Files read apart give two sessions more than the baseline's joined run: the rotated sample's one session is
        // three pieces then, its first file's half with the upgrade and the other two found by their frames alone.
        Assert.Equal(SampleSessionCount() + 2, sessions.Count);
        Assert.Equal(Enumerable.Range(1, sessions.Count).Select(i => (long)i), sessions.Select(s => s.SessionId));
        var fileIndex = inputs.Select((input, index) => (input.DisplayName, index)).ToDictionary(p => p.DisplayName, p => p.index);
        for (var i = 1; i < sessions.Count; i++)
        {
            var before = sessions[i - 1];
            var after = sessions[i];
            Assert.True(string.CompareOrdinal(before.StartTime, after.StartTime) <= 0, $"{before.StartTime} > {after.StartTime}");
            if (before.StartTime == after.StartTime)
            {
                Assert.True(fileIndex[before.CaptureFile] < fileIndex[after.CaptureFile]);
            }
        }

        // The gzip copy starts at the same time as its original and comes right after it (input order).
        var original = sessions.Single(s => s.CaptureFile == "01-client-close-1000.pcap");
        var copy = sessions.Single(s => s.CaptureFile == "01-client-close-1000.pcap.gz");
        Assert.Equal(original.StartTime, copy.StartTime);
        Assert.Equal(original.SessionId + 1, copy.SessionId);
        Assert.Equal(ReportColumns.Cells(original, null).Skip(2), ReportColumns.Cells(copy, null).Skip(2));
    }

    // file, client, server, close_initiator, close_code, close_reason, reply, classification, frames and bytes (client, server)
    [Theory]
    [InlineData("01-client-close-1000.pcap", "127.0.0.1:35996", "127.0.0.1:38921", "client", 1000, "bye", 1000, "normal_closure", 2, 2, 10, 10)]
    [InlineData("02-server-close-1000.pcap", "127.0.0.1:47460", "127.0.0.1:40103", "server", 1000, "done", 1000, "normal_closure", 3, 2, 17, 11)]
    [InlineData("03-mandatory-extension-1010.pcap", "127.0.0.1:56266", "127.0.0.1:35085", "client", 1010, "permessage-deflate", 1010, "mandatory_extension", 1, 1, 20, 20)]
    [InlineData("04-deflate-1000.pcap", "127.0.0.1:57604", "127.0.0.1:46349", "client", 1000, "bye", 1000, "normal_closure", 4, 4, 61, 61)]
    [InlineData("05-abnormal-rst.pcap", "127.0.0.1:59486", "127.0.0.1:38893", null, null, null, null, "abnormal_closure", 1, 1, 5, 5)]
    [InlineData("06-rejected-403.pcap", "127.0.0.1:56670", "127.0.0.1:44065", null, null, null, null, "handshake_rejected", 0, 0, 0, 0)]
    [InlineData("07-ipv6-going-away-1001.pcapng", "::1:42482", "::1:41447", "server", 1001, "server shutting down", 1001, "going_away", 8, 7, 76, 68)]
    [InlineData("08-application-close-4000.pcap", "127.0.0.1:54206", "127.0.0.1:43523", "server", 4000, "session expired", 4000, "application", 3, 2, 36, 22)]
    [InlineData("09-fragmented-1000.pcap", "127.0.0.1:49742", "127.0.0.1:39439", "client", 1000, "bye", 1000, "normal_closure", 6, 3, 35, 35)]
    [InlineData("17-ipv4-fragments-1000.pcap", "127.0.0.1:41770", "127.0.0.1:39585", "client", 1000, "bye", 1000, "normal_closure", 3, 3, 24005, 24005)]
    [InlineData("18-ipv6-fragments-1000.pcap", "::1:42370", "::1:40369", "client", 1000, "bye", 1000, "normal_closure", 3, 3, 24005, 24005)]
    [InlineData("19-ipv4-fragments-reordered-duplicated-1000.pcap", "127.0.0.1:41770", "127.0.0.1:39585", "client", 1000, "bye", 1000, "normal_closure", 3, 3, 24005, 24005)]
    public void Run_Samples_MatchTheirDocumentedOutcome(
        string file, string client, string server, string? initiator, int? code, string? reason, int? reply, string classification,
        long clientFrames, long serverFrames, long clientBytes, long serverBytes)
    {
        var path = Path.Combine(RepositoryPaths.Samples, file);

        using var result = OfflineAnalysis.Run([new CaptureInput(path, file)], new AnalyzerOptions());
        var sessions = result.Sessions.Sorted().ToList();

        var s = Assert.Single(sessions);
        Assert.Equal(1, s.SessionId);
        Assert.Equal(client, $"{s.ClientIp}:{s.ClientPort}");
        Assert.Equal(server, $"{s.ServerIp}:{s.ServerPort}");
        Assert.Equal(initiator, s.CloseInitiator);
        Assert.Equal(code, s.CloseCode);
        Assert.Equal(reason, s.CloseReason);
        Assert.Equal(reply, s.ReplyCloseCode);
        Assert.Equal(classification, s.Classification);
        Assert.Equal(clientFrames, s.ClientFrames);
        Assert.Equal(serverFrames, s.ServerFrames);
        Assert.Equal(clientBytes, s.ClientPayloadBytes);
        Assert.Equal(serverBytes, s.ServerPayloadBytes);
    }

    [Fact]
    public void Run_SessionsOfSeveralFiles_AreOrderedByStartTimeAcrossFiles()
    {
        var late = WriteCapture("a-late.pcap", CleanSession(new SessionPacketBuilder(clientPort: 1111, startUnixSeconds: 1_800_000_100)));
        var early = WriteCapture("b-early.pcap", CleanSession(new SessionPacketBuilder(clientPort: 2222, startUnixSeconds: 1_800_000_000)));
        var middle = WriteCapture("c-middle.pcap", CleanSession(new SessionPacketBuilder(clientPort: 3333, startUnixSeconds: 1_800_000_050)));

        using var result = OfflineAnalysis.Run([late, early, middle], new AnalyzerOptions());
        var sessions = result.Sessions.Sorted().ToList();

        Assert.Equal(["b-early.pcap", "c-middle.pcap", "a-late.pcap"], sessions.Select(s => s.CaptureFile));
        Assert.Equal([1L, 2L, 3L], sessions.Select(s => s.SessionId));
    }

    [Fact]
    public void Run_SameStartTimeInTwoFiles_FollowsInputOrder()
    {
        var second = WriteCapture("z.pcap", CleanSession(new SessionPacketBuilder(clientPort: 1111)));
        var first = WriteCapture("a.pcap", CleanSession(new SessionPacketBuilder(clientPort: 2222)));

        using var result = OfflineAnalysis.Run([second, first], new AnalyzerOptions());
        var sessions = result.Sessions.Sorted().ToList();

        Assert.Equal(["z.pcap", "a.pcap"], sessions.Select(s => s.CaptureFile));
    }

    [Fact]
    public void Run_SameStartTimeInOneFile_FollowsCaptureOrder()
    {
        // Both connections' first packets carry the same timestamp; the SYN with the larger ISN comes first in the file.
        var capture = WriteCapture(
            "tie.pcap",
            CleanSession(new SessionPacketBuilder(clientPort: 1111, clientIsn: 3_000_000_000)),
            CleanSession(new SessionPacketBuilder(clientPort: 2222, clientIsn: 10)));

        using var result = OfflineAnalysis.Run([capture], new AnalyzerOptions());
        var sessions = result.Sessions.Sorted().ToList();

        Assert.Equal(2, sessions.Count);
        Assert.Equal(sessions[0].StartTime, sessions[1].StartTime);
        Assert.Equal([1111, 2222], sessions.Select(s => s.ClientPort));
    }

    [Fact]
    public void Run_MissingFile_IsAnUnreadableProblemAndOtherFilesStillReport()
    {
        var good = WriteCapture("good.pcap", CleanSession(new SessionPacketBuilder()));
        var missing = new CaptureInput(Path.Combine(_directory, "missing.pcap"), "missing.pcap");

        using var result = OfflineAnalysis.Run([missing, good], new AnalyzerOptions());
        var sessions = result.Sessions.Sorted().ToList();

        var problem = Assert.Single(result.Problems);
        Assert.Equal("missing.pcap", problem.File);
        Assert.Equal(InputProblemKind.Unreadable, problem.Kind);
        Assert.Equal("good.pcap", Assert.Single(sessions).CaptureFile);
    }

    [Fact]
    public void Run_Statistics_AddUpOverFiles()
    {
        var one = WriteCapture("one.pcap", CleanSession(new SessionPacketBuilder()));
        var two = WriteCapture("two.pcap", CleanSession(new SessionPacketBuilder()), CleanSession(new SessionPacketBuilder(clientPort: 4444)));

        using var result = OfflineAnalysis.Run([one, two], new AnalyzerOptions());
        var sessions = result.Sessions.Sorted().ToList();

        Assert.Equal(3, result.Statistics.Sessions);
        Assert.Equal(3, result.Statistics.Connections);
        Assert.Equal(3 * CleanSession(new SessionPacketBuilder()).Packets.Count, result.Statistics.Packets);
    }
}
