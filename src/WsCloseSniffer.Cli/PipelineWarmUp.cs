using System.Reflection;
using System.Runtime.CompilerServices;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Cli;

/// <summary>
/// Runs the pipeline once on a small built-in WebSocket session, on a background thread while the process
/// starts: code runs the first time at a cost (JIT compilation of the per-packet methods, which are marked
/// <see cref="MethodImplOptions.AggressiveOptimization"/> and so never precompiled; generic instantiations;
/// type loading), and paying it on a core that is idle at start-up spares the analysis and the report
/// (measured in bench/README.md). Nothing of the warm-up run is kept.
/// </summary>
/// <remarks>
/// The session is a capture file embedded in this assembly (<see cref="SessionCaptureName"/>), read by the same
/// reader and decoder as a real file: the product holds no code that builds packets. The file is written by the
/// tests' one builder (WsCloseSniffer.TestSupport), and a test fails when the two differ.
/// </remarks>
public static class PipelineWarmUp
{
    /// <summary>The embedded capture's resource name: handshakes, a message each way, close 1000 both ways, FINs.</summary>
    public const string SessionCaptureName = "warm-up.pcap";

    private static int s_started;

    /// <summary>Starts the warm-up once per process; returns at once.</summary>
    public static void Start()
    {
        if (Environment.ProcessorCount < 2 || Interlocked.Exchange(ref s_started, 1) == 1)
        {
            return;
        }

        new Thread(Run) { IsBackground = true, Name = "warm-up" }.Start();
    }

    /// <summary>
    /// The per-packet methods, by type and method name (overloads included): each is marked
    /// <c>[MethodImpl(MethodImplOptions.AggressiveOptimization)]</c>, so it is never precompiled and is compiled
    /// here ahead instead. A test checks that this list and the marked methods of the core assembly are the same.
    /// </summary>
    public static IReadOnlyList<(string Type, string Method)> HotMethodNames { get; } =
    [
        ("WsCloseSniffer.Capture.CaptureBuffer", "Ensure"),
        ("WsCloseSniffer.Capture.PcapReader", "TryReadNext"),
        ("WsCloseSniffer.Capture.DecodingPacketSource`1", "TryReadNext"),
        ("WsCloseSniffer.Capture.PrefetchingPacketSource`1", "TryReadNext"),
        ("WsCloseSniffer.Capture.PrefetchingPacketSource`1", "ReadAll"),
        ("WsCloseSniffer.Decoding.DecodedTcp", ".ctor"),
        ("WsCloseSniffer.Decoding.DecodedTcp", "Decode"),
        ("WsCloseSniffer.Decoding.PacketDecoder", "TryDecodeTcp"),
        ("WsCloseSniffer.Decoding.PacketDecoder", "Decode"),
        ("WsCloseSniffer.Decoding.PacketDecoder", "DecodeEtherType"),
        ("WsCloseSniffer.Decoding.PacketDecoder", "DecodeIP"),
        ("WsCloseSniffer.Decoding.PacketDecoder", "DecodeIPv4"),
        ("WsCloseSniffer.Decoding.PacketDecoder", "DecodeIPv6"),
        ("WsCloseSniffer.Decoding.PacketDecoder", "DecodeTcp"),
        ("WsCloseSniffer.Reassembly.ConnectionList", "MoveToEnd"),
        ("WsCloseSniffer.Reassembly.TcpReassembler", "Process"),
        ("WsCloseSniffer.Reassembly.TcpReassembler", "ExpireIdle"),
        ("WsCloseSniffer.Reassembly.TcpReassembler", "Handle"),
        ("WsCloseSniffer.Reassembly.TcpReassembler", "AddSegmentData"),
        ("WsCloseSniffer.Reassembly.TcpReassembler", "AddPiece"),
        ("WsCloseSniffer.Reassembly.TcpReassembler", "ApplyPeerAck"),
        ("WsCloseSniffer.Reassembly.TcpReassembler", "DrainContiguous"),
        ("WsCloseSniffer.Reassembly.TcpReassembler", "CheckFinReached"),
        ("WsCloseSniffer.WebSockets.FrameHeader", "TryParse"),
        ("WsCloseSniffer.WebSockets.FrameDecoder", "Decode"),
        ("WsCloseSniffer.WebSockets.FrameDecoder", "ConsumeHeader"),
        ("WsCloseSniffer.WebSockets.FrameDecoder", "ConsumePayload"),
        ("WsCloseSniffer.WebSockets.FrameDecoder", "HoldControlBytes"),
        ("WsCloseSniffer.WebSockets.FrameDecoder", "CompleteFrame"),
        ("WsCloseSniffer.Analysis.WebSocketSession", "OnData"),
        ("WsCloseSniffer.Analysis.WebSocketSession", "OnFrame"),
        ("WsCloseSniffer.Analysis.WebSocketSession", "CheckReservedBits"),
        ("WsCloseSniffer.Analysis.WebSocketSession+DirectionState", "OnData"),
        ("WsCloseSniffer.Analysis.WebSocketSession+DirectionState", "TrackFragmentation"),
        ("WsCloseSniffer.Pipeline.CaptureAnalyzer", "Process"),
        ("WsCloseSniffer.Pipeline.CaptureAnalyzer", "Dispatch"),
        ("WsCloseSniffer.Pipeline.OfflineAnalysis", "ReadAll"),
    ];

    /// <summary>The methods of <see cref="HotMethodNames"/>, generic types closed as the pipeline uses them.</summary>
    public static IEnumerable<MethodBase> HotMethods()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var core = typeof(CaptureAnalyzer).Assembly;
        foreach (var (typeName, methodName) in HotMethodNames)
        {
            var type = core.GetType(typeName, throwOnError: true)!;
            if (type.IsGenericTypeDefinition)
            {
                // The one instantiation the pipeline reads through.
                type = type.MakeGenericType(typeof(DecodedTcp));
            }

            // Overloads that are not on the per-packet path are not marked, and not compiled ahead.
            foreach (var method in type.GetMember(methodName, MemberTypes.Method | MemberTypes.Constructor, all).Cast<MethodBase>()
                .Where(method => (method.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0))
            {
                yield return method;
            }
        }
    }

    /// <summary>
    /// The built-in session through the analyzer, the sorter (spilled) and every report writer; returns its
    /// record. Public so a test can check the warm-up exercises what it claims to.
    /// </summary>
    public static SessionRecord RunSession()
    {
        SessionRecord? record = null;
        using (var analyzer = new CaptureAnalyzer("warm-up", new AnalyzerOptions(), r => record = r))
        {
            using (var source = new DecodingPacketSource<DecodedTcp>(CaptureFile.Open(OpenSessionCapture(), SessionCaptureName)))
            {
                while (source.TryReadNext(out var packet, out var headers))
                {
                    analyzer.Process(packet, headers);
                }
            }

            analyzer.Finish();
            using var sorter = new SessionSorter(maxInMemory: 1);
            sorter.Add(record ?? throw new InvalidOperationException("the warm-up session was not reported"), 0);
            sorter.Add(record with { FlowOrder = 2 }, 0);
            var sorted = sorter.Sorted().ToList();
            using (var csv = new CsvSessionWriter(TextWriter.Null))
            using (var json = new JsonLinesSessionWriter(Stream.Null))
            {
                csv.Write(sorted[0]);
                json.Write(sorted[0]);
            }

            SummaryWriter.Write(TextWriter.Null, sorter.Sorted(), sorter.ClassificationCounts, sorter.EndingTimes, analyzer.Statistics, inputCount: 1);
        }

        return record;
    }

    /// <summary>The embedded capture of <see cref="SessionCaptureName"/>.</summary>
    public static Stream OpenSessionCapture() =>
        typeof(PipelineWarmUp).Assembly.GetManifestResourceStream(SessionCaptureName)
        ?? throw new InvalidOperationException($"the resource {SessionCaptureName} is not in {typeof(PipelineWarmUp).Assembly.GetName().Name}");

    private static void Run()
    {
        foreach (var method in HotMethods())
        {
            // Compiling ahead only saves time: if anything refuses, the method is compiled on first call as usual.
            try
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
            {
            }
        }

        try
        {
            RunSession();
        }
        catch (IOException)
        {
            // No temporary directory to spill to: the real run will say so if it needs one.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
