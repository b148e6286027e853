using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.Tests.TestInfrastructure.ReassemblyFeed;

namespace WsCloseSniffer.Tests.Reassembly;

/// <summary>
/// The advertised window as a bound on how far ahead a segment may start, where both SYNs were seen. The client's
/// ISN is 1000 and the server's 5000; the server's data is checked against the client's window.
/// </summary>
public sealed class TcpReassemblerWindowTests
{
    private const uint ServerData = 5001;
    private const int OneMebibyte = 1024 * 1024;

    private static readonly string s_segment = new('x', 1400);

    private static (TcpReassembler Reassembler, RecordingHandlerFactory Factory) New()
    {
        var factory = new RecordingHandlerFactory();
        return (new TcpReassembler(factory, new ReassemblyOptions()), factory);
    }

    private static Seg ClientSyn(sbyte scale, ushort window = 64240) =>
        C(1000, flags: TcpFlags.Syn) with { Window = window, WindowScale = scale };

    private static Seg ServerSynAck(sbyte scale, ushort window = 65160) =>
        S(5000, flags: TcpFlags.Syn | TcpFlags.Ack, ack: 1001) with { Window = window, WindowScale = scale };

    private static Seg ClientAck(ushort window, uint ack = ServerData) => C(1001, ack: ack) with { Window = window };

    /// <summary>A first server segment at the start, then one whose first byte is <paramref name="ahead"/> bytes past the next expected one.</summary>
    private static Seg[] ServerDataAhead(long ahead) =>
    [
        S(ServerData, s_segment, ack: 1001),
        S((uint)(ServerData + s_segment.Length + ahead), s_segment, ack: 1001),
    ];

    private static (ReassemblyStatistics Statistics, RecordingStreamHandler Handler) Run(params IEnumerable<Seg>[] parts)
    {
        var (reassembler, factory) = New();
        FeedAll(reassembler, parts.SelectMany(p => p));
        reassembler.FlushAll(At(1));
        return (reassembler.Statistics, Assert.Single(factory.Handlers));
    }

    private static void AssertKept((ReassemblyStatistics Statistics, RecordingStreamHandler Handler) run, long ahead)
    {
        Assert.Equal(0, run.Statistics.SegmentsOutsideWindow);
        Assert.Equal(2 * s_segment.Length, run.Handler.Bytes(FlowDirection.FromResponder).Length);
        Assert.Equal(ahead, run.Handler.GapBytes(FlowDirection.FromResponder));
    }

    private static void AssertDropped((ReassemblyStatistics Statistics, RecordingStreamHandler Handler) run)
    {
        Assert.Equal(1, run.Statistics.SegmentsOutsideWindow);
        Assert.Equal(1, run.Statistics.SegmentsOutsideAdvertisedWindow);
        Assert.Equal(s_segment.Length, run.Handler.Bytes(FlowDirection.FromResponder).Length);
        Assert.Equal(0, run.Handler.GapBytes(FlowDirection.FromResponder));
    }

    [Fact]
    public void Process_BothSynsScale_TheScaledWindowBoundsTheSegment()
    {
        // The client advertises 20,000 << 7 = 2,560,000 bytes: four of those reach 10,240,000.
        Seg[] handshake = [ClientSyn(7), ServerSynAck(7), ClientAck(20_000)];

        AssertKept(Run(handshake, ServerDataAhead(OneMebibyte)), OneMebibyte);
        AssertKept(Run(handshake, ServerDataAhead(10_240_000)), 10_240_000);
        AssertDropped(Run(handshake, ServerDataAhead(10_240_001)));
    }

    [Fact]
    public void Process_OnlyTheSynCarriesWindowScale_WindowsAreNotScaled()
    {
        // RFC 7323 section 2.2: no scaling either way unless both SYNs carry the option. The client's largest window
        // is then its SYN's 64,240 bytes, four of which are 256,960.
        Seg[] handshake = [ClientSyn(7), ServerSynAck(TcpSegment.NoWindowScale), ClientAck(20_000)];

        AssertKept(Run(handshake, ServerDataAhead(256_960)), 256_960);
        AssertDropped(Run(handshake, ServerDataAhead(OneMebibyte)));
    }

    [Fact]
    public void Process_NeitherSynScales_TheUnscaledWindowBounds()
    {
        Seg[] handshake = [ClientSyn(TcpSegment.NoWindowScale, 65535), ServerSynAck(TcpSegment.NoWindowScale), ClientAck(65535)];

        AssertKept(Run(handshake, ServerDataAhead(4 * 65535)), 4 * 65535);
        AssertDropped(Run(handshake, ServerDataAhead((4 * 65535) + 1)));
    }

    [Fact]
    public void Process_TheSynsWindow_IsNeverScaled()
    {
        // Only the SYN's window is known (no later client segment): 65,535 bytes, not 65,535 << 14.
        AssertDropped(Run([ClientSyn(14, 65535), ServerSynAck(14)], ServerDataAhead(OneMebibyte)));
    }

    [Fact]
    public void Process_SynAckNotCaptured_OnlyTheFixedBound()
    {
        // The server's side starts mid-stream: its window scale is unknown, so is the client's.
        AssertKept(Run([ClientSyn(7), ClientAck(100)], ServerDataAhead(20 * OneMebibyte)), 20 * OneMebibyte);
    }

    [Fact]
    public void Process_SynRetransmittedWithAnotherWindowScale_OnlyTheFixedBound()
    {
        // Some stacks drop options from a retried SYN: which one the server answered is not known.
        Seg[] handshake = [ClientSyn(7), ClientSyn(TcpSegment.NoWindowScale), ServerSynAck(7), ClientAck(100)];

        AssertKept(Run(handshake, ServerDataAhead(OneMebibyte)), OneMebibyte);
    }

    [Fact]
    public void Process_ReceiverAcknowledgedBytesNeverCaptured_OnlyTheFixedBoundAfterwards()
    {
        // The client acknowledges 100,000 bytes past what the capture showed of the server: the capture lost them,
        // and perhaps the window updates that let the server go further.
        Seg[] lossShown = [ClientSyn(TcpSegment.NoWindowScale), ServerSynAck(TcpSegment.NoWindowScale), S(ServerData, s_segment, ack: 1001), ClientAck(65535, ServerData + 100_000)];
        var ahead = OneMebibyte;

        var run = Run(lossShown, [S((uint)(ServerData + s_segment.Length + ahead), s_segment, ack: 1001)]);

        Assert.Equal(0, run.Statistics.SegmentsOutsideWindow);
        Assert.Equal(2 * s_segment.Length, run.Handler.Bytes(FlowDirection.FromResponder).Length);
    }

    [Fact]
    public void Process_SegmentsAheadWithinTheWindow_BufferedAndDeliveredInOrder()
    {
        // A real out-of-order flight: every segment within one window of the next expected byte.
        var (reassembler, factory) = New();
        FeedAll(reassembler, [ClientSyn(7), ServerSynAck(7), ClientAck(512)]);
        for (var i = 40; i >= 0; i--)
        {
            Feed(reassembler, S((uint)(ServerData + (i * s_segment.Length)), s_segment, ack: 1001));
        }

        reassembler.FlushAll(At(1));

        Assert.Equal(0, reassembler.Statistics.SegmentsOutsideWindow);
        Assert.Equal(41 * s_segment.Length, Assert.Single(factory.Handlers).Bytes(FlowDirection.FromResponder).Length);
        Assert.Equal(0, reassembler.Statistics.Gaps);
    }

    [Fact]
    public void Process_BehindTheNextByte_OnlyTheFixedBound()
    {
        // Retransmissions of old bytes are dropped as duplicates anyway; the window bound looks ahead only.
        var (reassembler, factory) = New();
        FeedAll(reassembler, [ClientSyn(TcpSegment.NoWindowScale), ServerSynAck(TcpSegment.NoWindowScale), ClientAck(1000)]);
        for (var i = 0; i < 2000; i++)
        {
            Feed(reassembler, S((uint)(ServerData + (i * s_segment.Length)), s_segment, ack: 1001));
        }

        Feed(reassembler, S(ServerData, s_segment, ack: 1001));
        reassembler.FlushAll(At(1));

        Assert.Equal(0, reassembler.Statistics.SegmentsOutsideWindow);
        Assert.Equal(2000 * s_segment.Length, Assert.Single(factory.Handlers).Bytes(FlowDirection.FromResponder).Length);
    }

    [Fact]
    public void Process_SamplesAndPublicCaptures_NoRealSegmentLiesEvenOneAdvertisedWindowAhead()
    {
        // With the factor at 1 (no slack at all) every real segment still lies within the receiver's window: the
        // default of 4 leaves room for what a capture misses. (TcpReassemblerCaptureTests compares the streams with
        // Wireshark's at the default.)
        var options = new AnalyzerOptions { Reassembly = new ReassemblyOptions { AdvertisedWindowFactor = 1 } };
        var files = 0;
        foreach (var file in PacketCaptureFiles.SamplesAndPublicCaptures())
        {
            using var source = CaptureFile.Open(file);
            using var analyzer = new CaptureAnalyzer("f", options, _ => { });
            while (source.TryReadNext(out var packet))
            {
                analyzer.Process(packet, DecodedTcp.Decode(packet));
            }

            analyzer.Finish();
            Assert.True(analyzer.Statistics.SegmentsOutsideWindow == 0, $"{file}: {analyzer.Statistics.SegmentsOutsideWindow} segments outside the window");
            files++;
        }

        Assert.True(files > 20, $"only {files} captures");
    }
}
