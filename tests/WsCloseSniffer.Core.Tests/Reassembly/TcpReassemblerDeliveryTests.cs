using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.Tests.TestInfrastructure.ReassemblyFeed;

namespace WsCloseSniffer.Tests.Reassembly;

/// <summary>
/// Segment lists against the deliveries they must give. Streams start mid-stream at sequence 1000 (client) or
/// 5000 (server) unless a case says otherwise; every case ends with FlushAll.
/// </summary>
public sealed class TcpReassemblerDeliveryTests
{
    private sealed record Case(Seg[] Segments, string Expected, long DuplicateBytes = 0, long Ignored = 0);

    private static readonly Dictionary<string, Case> s_cases = new()
    {
        ["in order"] = new([C(1000, "abc"), C(1003, "def"), C(1006, "g")], "O:abcdefg | end EndOfInput"),
        ["both directions"] = new(
            [C(1000, "GET"), S(5000, "HTTP"), C(1003, "!")],
            "O:GET | R:HTTP | O:! | end EndOfInput"),
        ["reorder"] = new([C(1000, "ab"), C(1005, "fg"), C(1002, "cde")], "O:abcdefg | end EndOfInput"),
        ["reverse order of three"] = new(
            [C(1000, "a"), C(1003, "d"), C(1002, "c"), C(1001, "b")],
            "O:abcd | end EndOfInput"),
        ["exact retransmission"] = new(
            [C(1000, "abc"), C(1000, "abc"), C(1003, "d")],
            "O:abcd | end EndOfInput", DuplicateBytes: 3),
        ["retransmission of a buffered segment"] = new(
            [C(1000, "a"), C(1002, "cd"), C(1002, "XY"), C(1001, "b")],
            "O:abcd | end EndOfInput", DuplicateBytes: 2),
        ["in-order segment overlapping delivered bytes"] = new(
            [C(1000, "abc"), C(1001, "XYde")],
            "O:abcde | end EndOfInput", DuplicateBytes: 2),
        ["new segment covers a buffered one"] = new(
            [C(1000, "a"), C(1003, "D"), C(1001, "bcXe")],
            "O:abcDe | end EndOfInput", DuplicateBytes: 1),
        ["partial overlap at the head of a buffered segment"] = new(
            [C(1000, "a"), C(1003, "DEF"), C(1001, "bcXY")],
            "O:abcDEF | end EndOfInput", DuplicateBytes: 2),
        ["partial overlap at the tail of a buffered segment"] = new(
            [C(1000, "a"), C(1002, "CD"), C(1003, "XEF"), C(1001, "b")],
            "O:abCDEF | end EndOfInput", DuplicateBytes: 1),
        ["segment inside a buffered one"] = new(
            [C(1000, "a"), C(1002, "CDEF"), C(1003, "XY"), C(1001, "b")],
            "O:abCDEF | end EndOfInput", DuplicateBytes: 2),
        ["segment spanning several buffered ones"] = new(
            [C(1000, "a"), C(1002, "C"), C(1004, "E"), C(1001, "bXdXf")],
            "O:abCdEf | end EndOfInput", DuplicateBytes: 2),
        ["out-of-order segment spanning several buffered ones"] = new(
            [C(1000, "a"), C(1003, "D"), C(1005, "F"), C(1002, "cXeXg"), C(1001, "b")],
            "O:abcDeFg | end EndOfInput", DuplicateBytes: 2),
        ["sequence wrap at 2^32"] = new(
            [C(0xFFFF_FFFE, "ab"), C(2, "ef"), C(0, "cd"), C(4, "g")],
            "O:abcdefg | end EndOfInput"),
        ["wrap inside one segment"] = new(
            [C(0xFFFF_FFFD, "abc"), C(0xFFFF_FFFF, "XYZ"), C(2, "f")],
            "O:abcYZf | end EndOfInput", DuplicateBytes: 1),
        ["gap with exact length at end of input"] = new(
            [C(1000, "ab"), C(1005, "fg"), C(1010, "k")],
            "O:ab | O:gap 3 | O:fg | O:gap 3 | O:k | end EndOfInput"),
        ["data entirely before the start of the stream"] = new(
            [C(1005, "fg"), C(1000, "abcde"), C(1007, "h")],
            "O:fgh | end EndOfInput", Ignored: 1),
        ["data straddling the start of the stream"] = new(
            [C(1005, "fg"), C(1003, "deFGh")],
            "O:fgh | end EndOfInput", DuplicateBytes: 2),
        ["snap length cut an in-order segment"] = new(
            [C(1000, "abcdef", captured: 2), C(1006, "gh")],
            "O:ab | O:gap 4 | O:gh | end EndOfInput"),
        ["snap length cut everything"] = new(
            [C(1000, "abcdef", captured: 0), C(1006, "gh")],
            "O:gap 6 | O:gh | end EndOfInput"),
        ["snap length cut a buffered segment"] = new(
            [C(1000, "a"), C(1004, "efgh", captured: 1), C(1001, "bcd"), C(1008, "i")],
            "O:abcde | O:gap 3 | O:i | end EndOfInput"),
        ["retransmission does not fill a snap-length gap"] = new(
            [C(1000, "abcd", captured: 1), C(1000, "abcd")],
            "O:a | O:gap 3 | end EndOfInput", DuplicateBytes: 4),
        ["peer ACK past a hole declares it"] = new(
            [C(1000, "ab"), C(1005, "fg"), S(5000, ack: 1007), C(1007, "h")],
            "O:ab | O:gap 3 | O:fgh | end EndOfInput"),
        ["peer ACK inside a hole declares only what it covers"] = new(
            [C(1000, "ab"), C(1005, "fg"), S(5000, ack: 1003), C(1003, "de")],
            "O:ab | O:gap 1 | O:defg | end EndOfInput"),
        ["peer ACK of delivered bytes declares nothing"] = new(
            [C(1000, "ab"), C(1005, "fg"), S(5000, ack: 1002), C(1002, "cde")],
            "O:abcdefg | end EndOfInput"),
        ["pure ACK does not start a stream"] = new(
            [S(4999, ack: 1000), C(1000, "a"), S(5000, "b")],
            "R:a | O:b | end EndOfInput"),
    };

    public static TheoryData<string> CaseNames => [.. s_cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Process_SegmentList_DeliversExpectedStream(string name)
    {
        var @case = s_cases[name];
        var factory = new RecordingHandlerFactory();
        var reassembler = new TcpReassembler(factory, new ReassemblyOptions());

        FeedAll(reassembler, @case.Segments);
        reassembler.FlushAll(At(100));

        factory.AssertAllEnded();
        var handler = Assert.Single(factory.Handlers);
        Assert.Equal(@case.Expected, handler.Transcript);
        Assert.Equal(@case.DuplicateBytes, reassembler.Statistics.DuplicateBytesDropped);
        Assert.Equal(@case.Ignored, reassembler.Statistics.SegmentsIgnored);
        Assert.Equal(0, reassembler.Statistics.BufferedBytes);
        Assert.Equal(0, reassembler.Statistics.ConnectionsActive);
    }

    [Fact]
    public void Process_GapsAtEndOfInput_CountsGapBytes()
    {
        var factory = new RecordingHandlerFactory();
        var reassembler = new TcpReassembler(factory, new ReassemblyOptions());

        FeedAll(reassembler, [C(1000, "ab"), C(1005, "fg"), C(1010, "k"), C(1000, "abcdef", captured: 0, flags: TcpFlags.Ack)]);
        reassembler.FlushAll(At(1));

        Assert.Equal(2, reassembler.Statistics.Gaps);
        Assert.Equal(6, reassembler.Statistics.GapBytes);
        Assert.Equal(2, reassembler.Statistics.OutOfOrderSegmentsBuffered);
        Assert.Equal(1, reassembler.Statistics.TruncatedSegments);
    }

    [Fact]
    public void Process_SnapLengthCutSegment_ReportsTruncation()
    {
        var factory = new RecordingHandlerFactory();
        var reassembler = new TcpReassembler(factory, new ReassemblyOptions());

        FeedAll(reassembler, [C(1000, "abcdef", captured: 2)]);

        Assert.Equal("O:ab | O:gap 4", factory.Handlers[0].Transcript);
        Assert.Equal(1, reassembler.Statistics.TruncatedSegments);
        Assert.Equal(4, reassembler.Statistics.GapBytes);
        reassembler.FlushAll(At(1));
        factory.AssertAllEnded();
    }

    [Fact]
    public void Process_CutTailAndLostSegment_GapsSayTheirCause()
    {
        var factory = new RecordingHandlerFactory();
        var reassembler = new TcpReassembler(factory, new ReassemblyOptions());

        // A cut tail delivered at once, a lost segment (acknowledged by the peer), then a cut tail buffered out of
        // order behind that hole and delivered when the hole is declared.
        FeedAll(reassembler, [C(1000, "abcdef", captured: 2), C(1010, "klmn", captured: 1), S(5000, ack: 1014)]);
        reassembler.FlushAll(At(1));

        var handler = factory.Handlers[0];
        Assert.Equal("O:ab | O:gap 4 | O:gap 4 | O:k | O:gap 3 | end EndOfInput", handler.Transcript);
        Assert.Equal([GapCause.SnapLength, GapCause.NotCaptured, GapCause.SnapLength], handler.GapCauses);
    }

    [Fact]
    public void Process_PeerAckPastHole_CountsAcknowledgedGap()
    {
        var factory = new RecordingHandlerFactory();
        var reassembler = new TcpReassembler(factory, new ReassemblyOptions());

        FeedAll(reassembler, [C(1000, "ab"), C(1005, "fg"), S(5000, ack: 1007)]);

        // Declared as soon as the ACK is seen, not at end of input.
        Assert.Equal("O:ab | O:gap 3 | O:fg", factory.Handlers[0].Transcript);
        Assert.Equal(1, reassembler.Statistics.GapsAcknowledgedByPeer);
        reassembler.FlushAll(At(1));
        factory.AssertAllEnded();
    }
}
