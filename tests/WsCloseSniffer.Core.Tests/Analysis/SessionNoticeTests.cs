using System.Reflection;
using System.Text;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

public class SessionNoticeTests
{
    /// <summary>Every notice name declared in <see cref="Notice"/>.</summary>
    public static TheoryData<string> AllNotices()
    {
        var data = new TheoryData<string>();
        foreach (var name in NoticeNames())
        {
            data.Add(name);
        }

        return data;
    }

    private static IEnumerable<string> NoticeNames() =>
        typeof(Notice).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    /// <summary>The smallest input that should raise <paramref name="notice"/>, and nothing that makes it a different case.</summary>
    private static SessionDriver Trigger(string notice)
    {
        var d = new SessionDriver();
        switch (notice)
        {
            case Notice.TcpGapInStream:
                var data = Frame(Binary, new byte[20], mask: ClientMask);
                return d.Open().Client(data[..10]).ClientGap(5).Client(data[15..]);
            case Notice.TcpGapOverFrameHeader:
                return d.Open().Client(ClientText("a")).ClientGap(3);
            case Notice.TcpGapInHandshake:
                return d.Client(SessionHandshake.Request()).ServerGap(40);
            case Notice.HttpHeadTooLarge:
                // Not even the status line fits under the cap.
                return d.Client(SessionHandshake.Request())
                    .Server(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching" + new string('a', 70_000)));
            case Notice.HttpHeadTruncated:
                return d.Client(SessionHandshake.Request())
                    .Server(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-Padding: " + new string('a', 70_000) + "\r\n\r\n"));
            case Notice.HttpMalformedResponse:
                return d.Client(SessionHandshake.Request()).Server(SessionHandshake.TlsServerHello());
            case Notice.HttpAcceptMismatch:
                return d.Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols(accept: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="));
            case Notice.HttpAcceptNotOffered:
                return d.Open(offered: null, accepted: "permessage-deflate");
            case Notice.HttpInvalidUpgradeAccepted:
                return d.Client(Encoding.ASCII.GetBytes($"GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {SessionHandshake.Key}\r\n\r\n"))
                    .Server(SessionHandshake.SwitchingProtocols());
            case Notice.HttpExtensionsMalformed:
                return d.Open(offered: "permessage-deflate, ;bad");
            case Notice.WsUnmaskedClientFrame:
                return d.Open().Client(TextFrame("plain"));
            case Notice.WsMaskedServerFrame:
                return d.Open().Server(TextFrame("masked", ClientMask));
            case Notice.WsRsv1WithoutExtension:
                return d.Open().Server(Frame(Text, "x"u8, rsv1: true));
            case Notice.WsRsv2WithoutExtension:
                return d.Open().Server(Frame(Text, "x"u8, rsv2: true));
            case Notice.WsRsv3WithoutExtension:
                return d.Open().Server(Frame(Text, "x"u8, rsv3: true));
            case Notice.WsClosePayloadOneByte:
                return d.Open().Server(Frame(Close, [0x03]));
            case Notice.WsControlFrameTooLong:
                return d.Open().Server(Frame(Ping, new byte[126]));
            case Notice.WsControlFrameFragmented:
                return d.Open().Server(Frame(Ping, "p"u8, fin: false));
            case Notice.WsCloseCodeInvalid:
                return d.Open().Server(ServerClose(1006));
            case Notice.WsCloseReasonInvalidUtf8:
                return d.Open().Server(Frame(Close, PacketFrames.FromHex("03 e8 ff")));
            case Notice.WsUnknownOpcode:
                return d.Open().Server(Frame(0x3, []));
            case Notice.WsMandatoryExtensionFromServer:
                return d.Open().Server(ServerClose(1010));
            case Notice.WsDataAfterClose:
                return d.Open().Server(ServerClose(1000), ServerText("late"));
            case Notice.WsContinuationWithoutStart:
                return d.Open().Server(Frame(Continuation, "x"u8));
            case Notice.WsFragmentedMessageInterrupted:
                return d.Open().Server(Frame(Text, "a"u8, fin: false), Frame(Binary, "b"u8));
            case Notice.WsFrameLengthInvalid:
                return d.Open().Server(PacketFrames.FromHex("82 7f 80 00 00 00 00 00 00 01"));
            case Notice.WsDeflateParametersInvalid:
                return d.Open(offered: "permessage-deflate", accepted: "permessage-deflate; server_max_window_bits=99");
            case Notice.WsDeflateInvalidData:
                return d.Open(offered: "permessage-deflate", accepted: "permessage-deflate").Server(Frame(Binary, [0xFF, 0xFF], rsv1: true));
            case Notice.WsDeflateContextMissing:
                var units = DeflateFrames.SyncFlushed(Encoding.ASCII.GetBytes(Letters(300)), Encoding.ASCII.GetBytes(Letters(300)));
                var first = Frame(Text, units[0], rsv1: true);
                return d.Open(offered: "permessage-deflate", accepted: "permessage-deflate")
                    .Server(first[..10]).ServerGap(first.Length - 10).Server(Frame(Text, units[1], rsv1: true));
            case Notice.WsDeflateRatioSuspicious:
                return d.Open(offered: "permessage-deflate", accepted: "permessage-deflate")
                    .Server(Frame(Binary, DeflateFrames.SyncFlushed(new byte[2 << 20])[0], rsv1: true));
            case Notice.WsDeflateNotInflated:
                return new SessionDriver(inflaters: new InflaterBudget(0)).Open(offered: "permessage-deflate", accepted: "permessage-deflate")
                    .Server(Frame(Text, DeflateFrames.SyncFlushed("x"u8.ToArray())[0], rsv1: true));
            case Notice.WsInflateCapReached:
                return new SessionDriver(options: new AnalyzerOptions { MaxInflatedMessageBytes = 10 })
                    .Open(offered: "permessage-deflate", accepted: "permessage-deflate")
                    .Server(Frame(Text, DeflateFrames.SyncFlushed(new byte[100])[0], rsv1: true));
            case Notice.WsTextInvalidUtf8:
                return d.Open(offered: "permessage-deflate", accepted: "permessage-deflate")
                    .Server(Frame(Text, DeflateFrames.SyncFlushed([0xC3, 0x28])[0], rsv1: true));
            case Notice.CaptureSnapLength:
                return d.Open().Server(Frame(Binary, new byte[40])[..12]).ServerCut(30);
            case Notice.HandshakeNotCaptured:
                return new SessionDriver(sawSyn: false)
                    .Client(ClientText("a")).Server(ServerText("b")).Client(ClientText("c")).Server(ServerText("d"));
            default:
                throw new ArgumentException($"No trigger written for notice {notice}: add one.", nameof(notice));
        }
    }

    // Letters a reader cannot guess: a repeat of them compresses only by referring back to the first.
    private static string Letters(int length)
    {
        var random = new Random(length);
        return new string([.. Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(26)))]);
    }

    [Theory]
    [MemberData(nameof(AllNotices))]
    public void Notice_MinimalTrigger_IsPresentOnTheSessionAndRecord(string notice)
    {
        var driver = Trigger(notice);

        var record = driver.End(TcpCloseKind.EndOfInput);

        Assert.True(driver.Session.HasNotice(notice), $"{notice} missing; got: {string.Join(", ", driver.Session.Notices)}");
        Assert.Contains(notice, record.Notices);
        Assert.Equal(record.Notices.OrderBy(n => n, StringComparer.Ordinal), record.Notices);
        Assert.NotEqual(notice, Notice.Describe(notice));
    }

    [Fact]
    public void Notice_NamesAreUniqueSnakeCaseWithLayerPrefix()
    {
        var names = NoticeNames().ToList();

        Assert.Equal(35, names.Count);
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());

        // handshake_not_captured is about the capture as a whole, not one layer, and is published under that name.
        Assert.All(names.Where(n => n != Notice.HandshakeNotCaptured), n => Assert.Matches("^(capture|tcp|http|ws)_[a-z0-9]+(_[a-z0-9]+)*$", n));
    }

    [Fact]
    public void Notice_CleanSessionWithEveryFrameKind_HasNone()
    {
        var driver = new SessionDriver()
            .Open(offered: "permessage-deflate; client_max_window_bits", accepted: "permessage-deflate")
            .Client(Frame(Text, DeflateFrames.SyncFlushed("c"u8.ToArray())[0], rsv1: true, mask: ClientMask))
            .Client(Frame(Text, "fr"u8, fin: false, mask: ClientMask), Frame(Continuation, "ag"u8, mask: ClientMask))
            .Client(Frame(Ping, "1"u8, mask: ClientMask))
            .Server(Frame(Pong, "1"u8), Frame(Binary, DeflateFrames.SyncFlushed(new byte[200])[0], rsv1: true))
            .Server(Frame(Binary, "a"u8, fin: false), Frame(Ping, []), Frame(Continuation, "b"u8))
            .Client(ClientClose(1000, "bye"))
            .Server(ServerClose(1000, "bye"))
            .ServerClosed(TcpCloseKind.Fin)
            .ClientClosed(TcpCloseKind.Fin);

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Empty(driver.Session.Notices);
        Assert.Empty(record.Notices);
        Assert.DoesNotContain("also seen", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal("normal_closure", record.Classification);
    }

    [Theory]
    [InlineData(Notice.HttpAcceptMismatch, "Sec-WebSocket-Accept")]
    [InlineData(Notice.WsUnmaskedClientFrame, "unmasked client frames")]
    [InlineData(Notice.WsFrameLengthInvalid, "most significant bit")]
    [InlineData(Notice.TcpGapOverFrameHeader, "over frame headers")]
    public void Notice_WorthSaying_IsNamedInTheDiagnosis(string notice, string phrase)
    {
        var record = Trigger(notice).End(TcpCloseKind.EndOfInput);

        Assert.Contains("(also seen: ", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains(phrase, record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Notice_ServerEchoOf1010_IsNotFlagged()
    {
        var record = new SessionDriver().Open(offered: "permessage-deflate")
            .Client(ClientClose(1010, "permessage-deflate"))
            .Server(ServerClose(1010, "permessage-deflate"))
            .End(TcpCloseKind.Fin);

        Assert.DoesNotContain(Notice.WsMandatoryExtensionFromServer, record.Notices);
        Assert.DoesNotContain(Notice.WsDataAfterClose, record.Notices);
    }

    [Fact]
    public void Notice_CloseEchoFromOtherSide_IsNotDataAfterClose()
    {
        var record = new SessionDriver().Open()
            .Client(ClientClose(1000))
            .Server(ServerText("in flight"), ServerClose(1000))
            .End(TcpCloseKind.Fin);

        Assert.Empty(record.Notices);
    }

    [Fact]
    public void Notice_GapBeforeAnyUpgrade_IsNotAHandshakeGap()
    {
        var driver = new SessionDriver().ClientGap(100).Server(SessionHandshake.PlainOk());

        driver.EndOnly();

        Assert.Empty(driver.Session.Notices);
        Assert.Empty(driver.Ended);
    }
}
