using System.IO.Compression;
using System.Text;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Http;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.Hardening;

/// <summary>
/// A bounded, deterministic stand-in for the AFL++ campaign (fuzz/README.md) that runs with every test run:
/// seeded mutations of the samples and of hand-made inputs through each stage. It catches a regression that
/// throws or breaks an invariant on the kind of input the fuzzer explores; the real fuzzer explores far more.
/// </summary>
public sealed class MutationSmokeTests
{
    private const int Seed = 20261126;

    public static TheoryData<string> Samples
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var file in Directory.GetFiles(RepositoryPaths.Samples, "*.pcap*").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(file));
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Pipeline_MutatedSample_NeverThrowsAndReportsAreWritable(string sample)
    {
        // A gzip sample is mutated inside (then compressed again): mutated deflate data is only ever rejected.
        var compressed = sample.EndsWith(".gz", StringComparison.Ordinal);
        var original = HostileCaptures.Sample(sample);
        if (compressed)
        {
            using var gzip = new GZipStream(new MemoryStream(original), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            original = plain.ToArray();
        }
        var inflates = sample.Contains("deflate", StringComparison.Ordinal);
        var random = new Random(Seed + sample.Sum(c => c));
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 300; i++)
        {
            var input = Mutate(original, random);
            if (compressed)
            {
                input = CaptureBytes.Gzip(input);
            }

            string outcome;
            try
            {
                var run = HostileCaptures.Run(input);
                using var csv = new CsvSessionWriter(TextWriter.Null);
                using var json = new JsonLinesSessionWriter(Stream.Null);
                foreach (var session in run.Sessions)
                {
                    csv.Write(session);
                    json.Write(session);
                }

                if (inflates)
                {
                    // Inflated beside the analysis, the damaged compressed traffic gives the very same report.
                    var onWorkers = HostileCaptures.Run(input, new AnalyzerOptions { InflationThreads = 2 });
                    Assert.Equal(Rows(run.Sessions), Rows(onWorkers.Sessions));
                }

                outcome = run.Damage is null ? "read" : "damaged";
            }
            catch (CaptureFormatException)
            {
                outcome = "rejected";
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // The mutations must reach past the magic number most of the time, or this test checks little.
        Assert.True(outcomes.GetValueOrDefault("read") + outcomes.GetValueOrDefault("damaged") > 150, string.Join(", ", outcomes));
    }

    private static List<string> Rows(IEnumerable<SessionRecord> sessions) =>
        [.. ReportText.Csv(sessions).Split('\n').Order(StringComparer.Ordinal)];

    [Fact]
    public void FrameDecoder_MutatedFrameStreams_FramesCountedAndControlPayloadsBounded()
    {
        var seed = Concat(
            FrameBuilder.ClientText("hello"), FrameBuilder.ClientClose(1000, "bye"),
            FrameBuilder.Frame(FrameBuilder.Ping, new byte[130], mask: null),
            Convert.FromHexString("827E0100"), new byte[256], Convert.FromHexString("827F0000000000010000"));
        var random = new Random(Seed);
        long frames = 0;
        for (var i = 0; i < 5000; i++)
        {
            var input = Mutate(seed, random);
            var decoder = new FrameDecoder();
            var handler = new CheckingFrameHandler();
            var piece = random.Next(1, 40);
            for (var offset = 0; offset < input.Length && !decoder.IsStopped; offset += piece)
            {
                var chunk = input.AsSpan(offset, Math.Min(piece, input.Length - offset));
                if (random.Next(16) == 0)
                {
                    decoder.SkipGap(chunk.Length, handler, default);
                }
                else
                {
                    decoder.Decode(chunk, handler, default);
                }
            }

            Assert.Equal(decoder.Frames, handler.Frames);
            frames += handler.Frames;
        }

        Assert.True(frames > 5000, $"frames {frames}");
    }

    [Fact]
    public void HttpHeadParser_MutatedHandshakes_VerdictWithinCapAndUpgradeReadersNeverThrow()
    {
        var seeds = new[]
        {
            SessionHandshake.Request("/chat", "example.test", "permessage-deflate; client_max_window_bits", "x-foo; a=\"b,c\""),
            SessionHandshake.SwitchingProtocols("permessage-deflate; server_no_context_takeover"),
            SessionHandshake.Response(403, "Forbidden"),
        };
        var random = new Random(Seed);
        var complete = 0;
        for (var i = 0; i < 6000; i++)
        {
            var input = Mutate(seeds[i % seeds.Length], random);
            var parser = new HttpHeadParser(maxHeadBytes: 512);
            var status = HttpHeadStatus.NeedMoreData;
            var piece = random.Next(1, 20);
            for (var offset = 0; offset < input.Length && status == HttpHeadStatus.NeedMoreData; offset += piece)
            {
                status = parser.Append(input.AsSpan(offset, Math.Min(piece, input.Length - offset)), out _);
            }

            Assert.True(parser.HeadByteCount <= 512);
            if (status == HttpHeadStatus.Complete)
            {
                complete++;
                var head = parser.Head!;
                Assert.InRange(head.ByteCount, 1, 512);
                if (UpgradeRequest.TryFrom(head, out var request))
                {
                    Assert.True(head.IsRequest);
                    Assert.All(request.Extensions.Items, WellFormed);
                }

                var response = UpgradeResponse.From(head);
                Assert.Equal(head.StatusCode, response.StatusCode);
            }

            // Whatever the bytes, every extension parsed out of them has a name without separators.
            Assert.All(ExtensionList.Parse(Encoding.Latin1.GetString(input)).Items, WellFormed);
        }

        Assert.True(complete > 1000, $"complete heads {complete}");
    }

    private static void WellFormed(WebSocketExtension extension) =>
        Assert.True(extension.Name.Length > 0 && !extension.Name.Any(c => c is ' ' or '\t' or ',' or ';' or '=' or '"'), extension.Name);

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>One to four AFL-style havoc steps: bit flips, interesting values, cuts, duplicated and deleted blocks.</summary>
    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        var steps = random.Next(1, 5);
        for (var s = 0; s < steps && bytes.Count > 0; s++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)(random.Next(4) switch { 0 => 0x00, 1 => 0xFF, 2 => 0x7F, _ => 0x80 });
                    break;
                case 2:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 64), bytes.Count - at));
                    break;
                case 4:
                    var length = Math.Min(random.Next(1, 64), bytes.Count - at);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }

    private sealed class CheckingFrameHandler : IFrameHandler
    {
        public long Frames { get; private set; }

        public void OnFrame(in FrameHeader header, in ControlPayload controlPayload, Timestamp time)
        {
            Frames++;
            Assert.True(controlPayload.Bytes.Length <= FrameDecoder.MaxHeldControlPayloadBytes);
            if (header.Opcode == WebSocketOpcode.Close)
            {
                var close = CloseFrame.Parse(controlPayload.Bytes);
                Assert.True(close.Reason.Length <= controlPayload.Bytes.Length);
            }
        }
    }
}
