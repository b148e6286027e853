using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.Tests.TestInfrastructure.ReassemblyFeed;

namespace WsCloseSniffer.Tests.Reassembly;

public sealed class TcpReassemblerLifecycleTests
{
    private const TcpFlags Syn = TcpFlags.Syn;
    private const TcpFlags SynAck = TcpFlags.Syn | TcpFlags.Ack;
    private const TcpFlags FinAck = TcpFlags.Fin | TcpFlags.Ack;
    private const TcpFlags Rst = TcpFlags.Rst;

    private static readonly Seg[] s_handshake =
    [
        C(100, flags: Syn),
        S(900, flags: SynAck, ack: 101),
        C(101, ack: 901),
    ];

    private readonly RecordingHandlerFactory _factory = new();

    private TcpReassembler Run(ReassemblyOptions options, params Seg[][] parts)
    {
        var reassembler = new TcpReassembler(_factory, options);
        foreach (var part in parts)
        {
            FeedAll(reassembler, part);
        }

        return reassembler;
    }

    private TcpReassembler Run(params Seg[][] parts) => Run(new ReassemblyOptions(), parts);

    [Fact]
    public void Process_HandshakeDataAndBothFins_EndsWithFinAfterBothClosed()
    {
        var reassembler = Run(s_handshake,
        [
            C(101, "hello", ack: 901),
            S(901, "world", ack: 106),
            C(106, flags: FinAck, ack: 906),
            S(906, flags: FinAck, ack: 107),
            C(107, ack: 907),
        ]);

        var handler = Assert.Single(_factory.Handlers);
        Assert.Equal("O:hello | R:world | O:closed Fin | R:closed Fin | end Fin", handler.Transcript);
        Assert.True(handler.Info.SawSyn);
        Assert.Equal(Client(), handler.Info.Originator);
        Assert.Equal(Server, handler.Info.Responder);
        Assert.Equal(0, handler.Info.Ordinal);
        Assert.Equal(new ConnectionEnd(TcpCloseKind.Fin, At(0), SawFin: true, SawRst: false), handler.End);
        Assert.Equal(1, reassembler.Statistics.ConnectionsEndedByFin);

        // The connection ends on the ACK of the second FIN: that ACK is its last packet, not a stray.
        Assert.Equal(0, reassembler.Statistics.SegmentsAfterClose);
        reassembler.FlushAll(At(10));
        _factory.AssertAllEnded();
        Assert.Single(_factory.Handlers);
    }

    [Fact]
    public void Process_SynCarriesData_DataStartsAfterIsn()
    {
        var reassembler = Run([C(100, "x", flags: Syn), C(102, "y"), S(900, flags: SynAck, ack: 102)]);
        reassembler.FlushAll(At(1));

        Assert.Equal("O:xy | end EndOfInput", _factory.Handlers[0].Transcript);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_SynAckSeenFirst_OriginatorIsTheSynAckReceiver()
    {
        var reassembler = Run([S(900, flags: SynAck, ack: 101), C(101, "GET", ack: 901), S(901, "200", ack: 104)]);
        reassembler.FlushAll(At(1));

        var handler = Assert.Single(_factory.Handlers);
        Assert.Equal(Client(), handler.Info.Originator);
        Assert.False(handler.Info.SawSyn);
        Assert.Equal("O:GET | R:200 | end EndOfInput", handler.Transcript);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_NoSyn_FirstPacketSenderIsOriginator()
    {
        var reassembler = Run([S(5000, "late"), C(1000, "reply")]);
        reassembler.FlushAll(At(1));

        var handler = Assert.Single(_factory.Handlers);
        Assert.Equal(Server, handler.Info.Originator);
        Assert.False(handler.Info.SawSyn);
        Assert.Equal(0, handler.Info.Ordinal);
        Assert.Equal("O:late | R:reply | end EndOfInput", handler.Transcript);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_FinAfterHole_WaitsThenGapsAtEndOfInput()
    {
        var reassembler = Run([C(1000, "ab"), C(1005, "fg", flags: FinAck)]);

        Assert.Equal("O:ab", _factory.Handlers[0].Transcript);
        reassembler.FlushAll(At(1));

        Assert.Equal("O:ab | O:gap 3 | O:fg | O:closed Fin | end EndOfInput", _factory.Handlers[0].Transcript);
        Assert.True(_factory.Handlers[0].End!.Value.SawFin);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_FinAfterHoleAckedByPeer_GapThenClosed()
    {
        var reassembler = Run([C(1000, "ab"), C(1005, "fg", flags: FinAck), S(5000, ack: 1008)]);

        Assert.Equal("O:ab | O:gap 3 | O:fg | O:closed Fin", _factory.Handlers[0].Transcript);
        reassembler.FlushAll(At(1));
        Assert.Equal("O:ab | O:gap 3 | O:fg | O:closed Fin | end EndOfInput", _factory.Handlers[0].Transcript);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_BothFinsLastAckLost_EndsAfterLingerWithLastPacketTime()
    {
        var reassembler = Run(s_handshake,
        [
            C(101, "hi", ack: 901, time: 1),
            C(103, flags: FinAck, ack: 901, time: 2),
            S(901, flags: FinAck, ack: 104, time: 3),
        ]);

        Assert.Null(_factory.Handlers[0].End);
        FeedAll(reassembler, [C(9000, "other", time: 3 + 2.5)]); // any later packet moves packet time past the linger

        Assert.Equal(new ConnectionEnd(TcpCloseKind.Fin, At(3), SawFin: true, SawRst: false), _factory.Handlers[0].End);
        reassembler.FlushAll(At(10));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_FinConsumesOneSequenceNumber_FinOnlyInLastPacket()
    {
        var reassembler = Run(
        [
            C(1000, "ab"),
            C(1002, flags: FinAck),
            C(1002, flags: FinAck), // retransmitted FIN
            S(5000, "x", flags: FinAck, ack: 1003),
            C(1003, ack: 5002),
        ]);

        Assert.Equal("O:ab | O:closed Fin | R:x | R:closed Fin | end Fin", _factory.Handlers[0].Transcript);
        reassembler.FlushAll(At(1));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_BothFinsWithHoleLeft_GapsHoleAndEndsWithFin()
    {
        var reassembler = Run([C(1000, "ab"), C(1005, "fg", flags: FinAck), S(5000, flags: FinAck)]);

        // The server FIN is at its delivery point and closes at once. The client hole may still be filled by a
        // retransmission until the connection ends; no ACK of the FINs follows, so that is the end of input.
        Assert.Equal("O:ab | R:closed Fin", _factory.Handlers[0].Transcript);
        reassembler.FlushAll(At(1));
        Assert.Equal("O:ab | R:closed Fin | O:gap 3 | O:fg | O:closed Fin | end Fin", _factory.Handlers[0].Transcript);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_DataAfterFin_Ignored()
    {
        var reassembler = Run([C(1000, "ab", flags: FinAck), C(1003, "zz")]);
        reassembler.FlushAll(At(1));

        Assert.Equal("O:ab | O:closed Fin | end EndOfInput", _factory.Handlers[0].Transcript);
        Assert.Equal(1, reassembler.Statistics.SegmentsIgnored);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_RstWithBufferedData_DeliversGapAndDataThenClosesBothByRst()
    {
        var reassembler = Run([C(1000, "ab"), C(1004, "ef"), S(5000, "x"), S(5001, flags: Rst)]);

        var handler = Assert.Single(_factory.Handlers);
        Assert.Equal("O:ab | R:x | R:closed Rst | O:gap 2 | O:ef | O:closed Rst | end Rst", handler.Transcript);
        Assert.Equal(TcpCloseKind.Rst, handler.End!.Value.Kind);
        Assert.True(handler.End.Value.SawRst);
        Assert.Equal(FlowDirection.FromResponder, handler.End.Value.ResetBy);
        Assert.Equal(1, reassembler.Statistics.ConnectionsEndedByRst);
        reassembler.FlushAll(At(1));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_RstAfterOneFin_OnlyOpenDirectionClosedByRst()
    {
        var reassembler = Run([C(1000, "ab", flags: FinAck), S(5000, flags: Rst | TcpFlags.Ack)]);
        reassembler.FlushAll(At(1));

        var handler = Assert.Single(_factory.Handlers);
        Assert.Equal("O:ab | O:closed Fin | R:closed Rst | end Rst", handler.Transcript);
        Assert.True(handler.End!.Value.SawFin);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_PacketsAfterRstWithinLinger_DroppedAndCounted()
    {
        var reassembler = Run([C(1000, "ab"), C(1002, flags: Rst, time: 1), S(5000, "late", time: 2.5), C(1002, flags: Rst, time: 2.9)]);

        Assert.Single(_factory.Handlers);
        Assert.Equal(2, reassembler.Statistics.SegmentsAfterClose);
        reassembler.FlushAll(At(3));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_PacketAfterLinger_StartsNewMidStreamConnection()
    {
        var reassembler = Run([C(1000, "ab"), C(1002, flags: Rst, time: 1), S(5000, "late", time: 3.5)]);
        reassembler.FlushAll(At(4));

        Assert.Equal(2, _factory.Handlers.Count);
        Assert.Equal(Server, _factory.Handlers[1].Info.Originator);
        Assert.Equal("O:late | end EndOfInput", _factory.Handlers[1].Transcript);
        Assert.Equal(0, reassembler.Statistics.SegmentsAfterClose);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_RstForUnknownConnection_Ignored()
    {
        var reassembler = Run([C(1000, flags: Rst)]);
        reassembler.FlushAll(At(1));

        Assert.Empty(_factory.Handlers);
        Assert.Equal(1, reassembler.Statistics.SegmentsIgnored);
    }

    [Fact]
    public void Process_NewSynAfterBothFins_StartsSecondConnection()
    {
        var reassembler = Run(s_handshake,
        [
            C(101, "one", flags: FinAck, ack: 901, time: 1),
            S(901, flags: FinAck, ack: 105, time: 1),
            C(105, ack: 902, time: 1),
            C(7000, flags: Syn, time: 1.5),
            S(3000, flags: SynAck, ack: 7001, time: 1.5),
            C(7001, "two", ack: 3001, time: 1.5),
        ]);
        reassembler.FlushAll(At(2));

        Assert.Equal(2, _factory.Handlers.Count);
        Assert.Equal("O:one | O:closed Fin | R:closed Fin | end Fin", _factory.Handlers[0].Transcript);
        Assert.Equal("O:two | end EndOfInput", _factory.Handlers[1].Transcript);
        Assert.True(_factory.Handlers[1].Info.SawSyn);
        Assert.Equal(1, _factory.Handlers[1].Info.Ordinal);
        Assert.Equal(new[] { "#0 end Fin", "#1 created" }, _factory.GlobalLog.Where(l => l.Contains("end", StringComparison.Ordinal) || l.Contains("created", StringComparison.Ordinal)).Skip(1).Take(2));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_RetransmittedOldSynWithinLinger_Dropped()
    {
        var reassembler = Run(s_handshake,
        [
            C(101, flags: Rst, time: 1),
            C(100, flags: Syn, time: 1.5),
        ]);
        reassembler.FlushAll(At(2));

        Assert.Single(_factory.Handlers);
        Assert.Equal(1, reassembler.Statistics.SegmentsAfterClose);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_NewSynOnHalfClosedConnection_EndsOldThenStartsNew()
    {
        var reassembler = Run(s_handshake,
        [
            C(101, "bye", flags: FinAck, ack: 901),
            S(901, "tail", ack: 105),
            C(50_000, flags: Syn, time: 1),
        ]);

        Assert.Equal(2, _factory.Handlers.Count);
        Assert.Equal("O:bye | O:closed Fin | R:tail | end Fin", _factory.Handlers[0].Transcript);
        Assert.Equal(1, reassembler.Statistics.ConnectionsReplacedByNewSyn);
        Assert.Equal(new[] { "#0 end Fin", "#1 created" }, _factory.GlobalLog.TakeLast(2));
        reassembler.FlushAll(At(2));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_RetransmittedSynOnOpenConnection_SameConnection()
    {
        var reassembler = Run([C(100, flags: Syn), C(100, flags: Syn, time: 1), S(900, flags: SynAck, ack: 101, time: 1)]);
        reassembler.FlushAll(At(2));

        Assert.Single(_factory.Handlers);
        Assert.Equal(0, reassembler.Statistics.ConnectionsReplacedByNewSyn);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_IdleLongerThanTimeout_EndsWithTimeoutOnNextPacketTime()
    {
        var options = new ReassemblyOptions { IdleTimeoutSeconds = 10 };
        var reassembler = Run(options,
        [
            C(1000, "ab", time: 0),
            C(1004, "ef", time: 1),
            new Seg(true, 1, "other", Time: 11.5, ClientPort: 40001),
        ]);

        Assert.Equal(2, _factory.Handlers.Count);
        Assert.Equal("O:ab | O:gap 2 | O:ef | end Timeout", _factory.Handlers[0].Transcript);
        Assert.Null(_factory.Handlers[1].End);
        Assert.Equal(1, reassembler.Statistics.ConnectionsEvictedByTimeout);
        Assert.Equal(new[] { "#0 end Timeout", "#1 created", "#1 O:other" }, _factory.GlobalLog.TakeLast(3));
        reassembler.FlushAll(At(12));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_IdleConnectionGetsPacket_OldEndedAndNewStarted()
    {
        var options = new ReassemblyOptions { IdleTimeoutSeconds = 10 };
        var reassembler = Run(options, [C(1000, "ab", time: 0), C(1002, "cd", time: 9), C(1004, "ef", time: 19.5)]);
        reassembler.FlushAll(At(20));

        Assert.Equal(2, _factory.Handlers.Count);
        Assert.Equal("O:abcd | end Timeout", _factory.Handlers[0].Transcript);
        Assert.Equal("O:ef | end EndOfInput", _factory.Handlers[1].Transcript);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_MoreConnectionsThanCap_EvictsLeastRecentlyActive()
    {
        var options = new ReassemblyOptions { MaxConnections = 2 };
        var reassembler = Run(options,
        [
            new Seg(true, 1, "a", Time: 0, ClientPort: 1),
            new Seg(true, 1, "b", Time: 1, ClientPort: 2),
            new Seg(true, 2, "A", Time: 2, ClientPort: 1),
            new Seg(true, 1, "c", Time: 3, ClientPort: 3),
        ]);

        Assert.Equal(3, _factory.Handlers.Count);
        Assert.Equal("O:b | end Timeout", _factory.Handlers[1].Transcript);
        Assert.Null(_factory.Handlers[0].End);
        Assert.Equal(1, reassembler.Statistics.ConnectionsEvictedByConnectionCap);
        Assert.Equal(2, reassembler.Statistics.ConnectionsActive);
        reassembler.FlushAll(At(4));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_ConnectionCapUnderFloodOfNewConnections_KeepsTheOneStillSending()
    {
        // All within one relink interval (600 s / 64): the list is not reordered, the cap still finds the idle ones.
        var segments = new List<Seg> { new(true, 1, "s", Time: 0, ClientPort: 1) };
        for (var port = 2; port <= 30; port++)
        {
            segments.Add(new Seg(true, 1, "n", Time: port * 0.01, ClientPort: port));
            segments.Add(new Seg(true, (uint)port, "s", Time: (port * 0.01) + 0.005, ClientPort: 1));
        }

        var reassembler = Run(new ReassemblyOptions { MaxConnections = 8 }, [.. segments]);

        Assert.Null(_factory.Handlers[0].End);
        Assert.Equal(22, reassembler.Statistics.ConnectionsEvictedByConnectionCap);
        Assert.All(_factory.Handlers.Skip(1).Take(22), handler => Assert.Equal(TcpCloseKind.Timeout, handler.End?.Kind));
        reassembler.FlushAll(At(1));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_HeadActiveAgainPastRelinkInterval_DoesNotHoldBackAnIdleConnection()
    {
        // A 64 s timeout: a connection moves to the end of the activity list once 1 s past its place there.
        var reassembler = Run(new ReassemblyOptions { IdleTimeoutSeconds = 64 },
        [
            new Seg(true, 1, "a", Time: 0, ClientPort: 1),
            new Seg(true, 1, "b", Time: 1, ClientPort: 2),
            new Seg(true, 2, "c", Time: 3, ClientPort: 1),
            new Seg(true, 1, "x", Time: 65.5, ClientPort: 3),
        ]);

        Assert.Equal(TcpCloseKind.Timeout, _factory.Handlers[1].End?.Kind);
        Assert.Null(_factory.Handlers[0].End);
        Assert.Equal(1, reassembler.Statistics.ConnectionsEvictedByTimeout);
        reassembler.FlushAll(At(66));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_HeadActiveWithinRelinkInterval_IdleConnectionBehindEndsAtMostThatIntervalLate()
    {
        // The first connection's last packet (0.9 s) does not move it in the list; the second, idle from 0.2 s, must
        // still end by 0.2 + 64 + 1 s.
        var reassembler = Run(new ReassemblyOptions { IdleTimeoutSeconds = 64 },
        [
            new Seg(true, 1, "a", Time: 0, ClientPort: 1),
            new Seg(true, 1, "b", Time: 0.2, ClientPort: 2),
            new Seg(true, 2, "c", Time: 0.9, ClientPort: 1),
            new Seg(true, 1, "x", Time: 64.5, ClientPort: 3),
            new Seg(true, 2, "y", Time: 65.2, ClientPort: 3),
        ]);

        Assert.Equal(TcpCloseKind.Timeout, _factory.Handlers[1].End?.Kind);
        Assert.Equal(TcpCloseKind.Timeout, _factory.Handlers[0].End?.Kind);
        Assert.Equal(2, reassembler.Statistics.ConnectionsEvictedByTimeout);
        Assert.Null(_factory.Handlers[2].End);
        reassembler.FlushAll(At(66));
        _factory.AssertAllEnded();
    }

    [Fact]
    public void FlushAll_SeveralConnections_EndsThemInCreationOrder()
    {
        var reassembler = Run(
        [
            new Seg(true, 1, "a", ClientPort: 3),
            new Seg(true, 1, "b", ClientPort: 1),
            new Seg(true, 1, "c", ClientPort: 2),
            new Seg(true, 2, "A", ClientPort: 3),
        ]);
        reassembler.FlushAll(At(1));

        Assert.Equal(
            new[] { "#0 end EndOfInput", "#1 end EndOfInput", "#2 end EndOfInput" },
            _factory.GlobalLog.Where(l => l.Contains("end", StringComparison.Ordinal)));
        Assert.Equal(3, reassembler.Statistics.ConnectionsEndedAtEndOfInput);
        _factory.AssertAllEnded();
    }

    [Fact]
    public void Process_SameSegmentsTwice_SameCallsInSameOrder()
    {
        Seg[] segments =
        [
            C(1000, "ab"), new Seg(true, 7, "x", ClientPort: 2), C(1004, "ef"), S(5000, "r"),
            new Seg(false, 9, "y", ClientPort: 2), C(1002, "c"), C(1006, flags: Rst),
        ];
        var first = new RecordingHandlerFactory();
        var second = new RecordingHandlerFactory();
        var one = new TcpReassembler(first, new ReassemblyOptions());
        var two = new TcpReassembler(second, new ReassemblyOptions());

        FeedAll(one, segments);
        FeedAll(two, segments);
        one.FlushAll(At(1));
        two.FlushAll(At(1));

        Assert.Equal(first.GlobalLog, second.GlobalLog);
        Assert.Contains("#0 O:gap 1", first.GlobalLog);
    }
}
