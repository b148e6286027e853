using System.Text;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

/// <summary>
/// Without context takeover a direction's inflater is handed back after every message and a reset one taken for the
/// next: what that inflater remembers must be nothing, and the budget must count it as before.
/// </summary>
public class DirectionInflaterReuseTests
{
    private static readonly byte[] Quotes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 300).Select(i => $"quote {i % 17} ")));

    [Fact]
    public void Inflate_NoContextTakeoverAgreedButTheSenderRefersBack_TheSecondMessageFailsAndTheThirdInflates()
    {
        // One compressor for both: the second message is mostly a reference into the first, which a sender that
        // agreed to reset its window must not make.
        var kept = DeflateFrames.SyncFlushed(Quotes, Quotes);
        Assert.True(kept[1].Length < Quotes.Length / 10, $"{kept[1].Length}");
        var fresh = DeflateFrames.SyncFlushed(Encoding.UTF8.GetBytes("a message of its own"))[0];
        var budget = new InflaterBudget(4);
        var driver = new SessionDriver(inflaters: budget).Open(offered: "permessage-deflate; client_max_window_bits", accepted: DeflateFrames.Accepted(15, contextTakeover: false));

        driver.Client(Frame(Text, kept[0], mask: ClientMask, rsv1: true));
        Assert.Equal(0, budget.Live);
        driver.Client(Frame(Text, kept[1], mask: ClientMask, rsv1: true));
        Assert.Equal(0, budget.Live);
        driver.Client(Frame(Text, fresh, mask: ClientMask, rsv1: true));
        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(1, record.InflateErrors);
        Assert.Contains(Notice.WsDeflateInvalidData, record.Notices);
        Assert.DoesNotContain(Notice.WsDeflateContextMissing, record.Notices);
        Assert.Equal("client:20", record.LastMessageBytes);
        Assert.Equal(Quotes.Length, record.ClientLargestMessageBytes);
        Assert.Equal((2, Quotes.Length + 20L, 0), (budget.InflatedUnits, budget.InflatedBytes, budget.Live));
    }

    [Fact]
    public void Inflate_NoContextTakeoverWithOneSlot_EachMessageTakesAndReturnsIt()
    {
        var units = Enumerable.Range(0, 6).Select(i => DeflateFrames.SyncFlushed([.. Quotes, (byte)('0' + i)])[0]).ToList();
        var budget = new InflaterBudget(1);
        var driver = new SessionDriver(inflaters: budget).Open(offered: "permessage-deflate; client_max_window_bits", accepted: DeflateFrames.Accepted(15, contextTakeover: false));
        foreach (var unit in units)
        {
            driver.Client(Frame(Binary, unit, mask: ClientMask, rsv1: true));
            driver.Server(Frame(Binary, unit, rsv1: true));
            Assert.Equal(0, budget.Live);
        }

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal((0L, 12L, 0), (budget.Refused, budget.InflatedUnits, budget.Live));
        Assert.Equal(12 * (Quotes.Length + 1L), budget.InflatedBytes);
        Assert.Equal(0, record.InflateErrors);
        Assert.Empty(record.Notices);
    }
}
