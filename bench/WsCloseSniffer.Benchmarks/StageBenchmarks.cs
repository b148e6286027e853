using BenchmarkDotNet.Attributes;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Benchmarks;

/// <summary>
/// One operation = one pass over the whole 50 MiB generated capture (about 110,000 packets), so
/// "Allocated" divided by the packet count is the allocation per packet of that stage.
/// </summary>
[MemoryDiagnoser]
public class StageBenchmarks
{
    private byte[] _capture = [];
    private Frames _frames = null!;
    private SegmentRecord[] _segments = [];
    private byte[] _frameStream = [];

    [GlobalSetup]
    public void Setup()
    {
        _capture = BenchCapture.Bytes;
        _frames = BenchCapture.ReadFrames();
        _segments = SegmentRecord.DecodeAll(_frames);
        _frameStream = FrameStream.Build(16 << 20);
    }

    /// <summary>PcapReader over a MemoryStream: record headers, spans into the read buffer.</summary>
    [Benchmark]
    public long Reader()
    {
        long bytes = 0;
        using var reader = new PcapReader(new MemoryStream(_capture, writable: false), "bench");
        while (reader.TryReadNext(out var packet))
        {
            bytes += packet.Data.Length;
        }

        return bytes;
    }

    /// <summary>PacketDecoder.TryDecodeTcp over frames already in memory: Ethernet, IPv4/IPv6, TCP.</summary>
    [Benchmark]
    public long Decoder()
    {
        long payload = 0;
        var frames = _frames;
        for (var i = 0; i < frames.Count; i++)
        {
            if (PacketDecoder.TryDecodeTcp(LinkType.Ethernet, frames[i], frames.Lengths[i], out var segment) == DecodeStatus.Tcp)
            {
                payload += segment.Payload.Length;
            }
        }

        return payload;
    }

    /// <summary>TcpReassembler over pre-decoded segments, handlers doing nothing: connection table and ordering.</summary>
    [Benchmark]
    public long Reassembler()
    {
        var handlers = new NullHandlerFactory();
        var reassembler = new TcpReassembler(handlers, new ReassemblyOptions());
        var frames = _frames;
        foreach (ref readonly var s in _segments.AsSpan())
        {
            var segment = s.ToSegment(frames.Data);
            reassembler.Process(segment, ConnectionKey.Of(segment), s.Time, packetNumber: -1);
        }

        reassembler.FlushAll(_segments[^1].Time);
        return handlers.Bytes;
    }

    /// <summary>FrameDecoder over 16 MiB of frames (the capture's message mix) fed in 1448-byte segments.</summary>
    [Benchmark]
    public long FrameDecoder()
    {
        var decoder = new FrameDecoder();
        var handler = new NullFrameHandler();
        var stream = _frameStream.AsSpan();
        var time = new Timestamp(1);
        for (var offset = 0; offset < stream.Length; offset += 1448)
        {
            decoder.Decode(stream.Slice(offset, Math.Min(1448, stream.Length - offset)), handler, time);
        }

        return decoder.Frames + handler.Frames;
    }

    /// <summary>The whole pipeline for one file: reader, decoder, reassembler, sessions, records.</summary>
    [Benchmark]
    public long CaptureAnalyzer()
    {
        long sessions = 0;
        using var reader = new PcapReader(new MemoryStream(_capture, writable: false), "bench");
        using var analyzer = new CaptureAnalyzer("bench", new AnalyzerOptions(), _ => sessions++);
        while (reader.TryReadNext(out var packet))
        {
            analyzer.Process(packet, DecodedTcp.Decode(packet));
        }

        analyzer.Finish();
        return sessions;
    }

    private sealed class NullHandlerFactory : ITcpStreamHandlerFactory
    {
        private readonly NullHandler _handler;

        public NullHandlerFactory() => _handler = new NullHandler(this);

        public long Bytes { get; set; }

        // One shared handler: the benchmark measures the reassembler, not the allocation of handlers.
        public ITcpStreamHandler Create(in ConnectionInfo connection) => _handler;
    }

    private sealed class NullHandler(NullHandlerFactory owner) : ITcpStreamHandler
    {
        public void OnData(FlowDirection direction, ReadOnlySpan<byte> data, Timestamp time) => owner.Bytes += data.Length;

        public void OnGap(FlowDirection direction, long missingBytes, Timestamp time)
        {
        }

        public void OnClosed(FlowDirection direction, TcpCloseKind kind, Timestamp time)
        {
        }

        public void OnConnectionEnd(in ConnectionEnd connectionEnd)
        {
        }
    }

    private sealed class NullFrameHandler : IFrameHandler
    {
        public long Frames { get; private set; }

        public void OnFrame(in FrameHeader header, in ControlPayload controlPayload, Timestamp time) => Frames++;
    }
}
