using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

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
public static class PipelineWarmUp
{
    private const byte Fin = 0x01;
    private const byte Syn = 0x02;
    private const byte Psh = 0x08;
    private const byte Ack = 0x10;

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
            var number = 0L;
            foreach (var frame in SessionFrames())
            {
                number++;
                var packet = new CapturedPacket(Timestamp.FromSeconds(1_700_000_000, number * 1000), LinkType.Ethernet, frame, frame.Length, number);
                analyzer.Process(packet, DecodedTcp.Decode(packet));
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

    /// <summary>Ethernet frames of one clean session: handshakes, a message each way, close 1000 both ways, FINs.</summary>
    private static IEnumerable<byte[]> SessionFrames()
    {
        const uint clientIsn = 1000;
        const uint serverIsn = 5000;
        var request = Encoding.ASCII.GetBytes(
            "GET /warm-up HTTP/1.1\r\nHost: warm-up\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
            "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
        var response = Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        byte[] clientFrames = [0x81, 0x82, 1, 2, 3, 4, (byte)('h' ^ 1), (byte)('i' ^ 2), 0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2];
        byte[] serverFrames = [0x81, 0x02, (byte)'o', (byte)'k', 0x88, 0x02, 0x03, 0xE8];
        var c = clientIsn + 1;
        var s = serverIsn + 1;
        yield return Frame(true, clientIsn, 0, Syn, []);
        yield return Frame(false, serverIsn, c, Syn | Ack, []);
        yield return Frame(true, c, s, Ack, []);
        yield return Frame(true, c, s, Psh | Ack, request);
        c += (uint)request.Length;
        yield return Frame(false, s, c, Psh | Ack, response);
        s += (uint)response.Length;
        yield return Frame(true, c, s, Psh | Ack, clientFrames);
        c += (uint)clientFrames.Length;
        yield return Frame(false, s, c, Psh | Ack, serverFrames);
        s += (uint)serverFrames.Length;
        yield return Frame(false, s, c, Fin | Ack, []);
        yield return Frame(true, c, s + 1, Fin | Ack, []);
        yield return Frame(false, s + 1, c + 1, Ack, []);
    }

    private static byte[] Frame(bool fromClient, uint sequence, uint acknowledgment, byte flags, byte[] payload)
    {
        const int ethernet = 14;
        const int ip = 20;
        const int tcp = 20;
        var frame = new byte[ethernet + ip + tcp + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
        var ipHeader = frame.AsSpan(ethernet);
        ipHeader[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ipHeader[2..], (ushort)(ip + tcp + payload.Length));
        ipHeader[8] = 64;
        ipHeader[9] = 6;
        byte[] client = [10, 0, 0, 1];
        byte[] server = [10, 0, 0, 2];
        (fromClient ? client : server).CopyTo(ipHeader[12..]);
        (fromClient ? server : client).CopyTo(ipHeader[16..]);
        var tcpHeader = ipHeader[ip..];
        BinaryPrimitives.WriteUInt16BigEndian(tcpHeader, fromClient ? (ushort)50000 : (ushort)80);
        BinaryPrimitives.WriteUInt16BigEndian(tcpHeader[2..], fromClient ? (ushort)80 : (ushort)50000);
        BinaryPrimitives.WriteUInt32BigEndian(tcpHeader[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcpHeader[8..], acknowledgment);
        tcpHeader[12] = 0x50;
        tcpHeader[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcpHeader[14..], 65535);
        payload.CopyTo(tcpHeader[tcp..]);
        return frame;
    }
}
