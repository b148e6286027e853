using System.IO.Compression;
using System.Text;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;
using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.Analysis;

public class DeflateSessionTests
{
    // Letters from a small alphabet: compressible, but mostly by Huffman coding, so a repeated message shrinks only
    // when the window reaches back into the one before (context takeover).
    private static string Message(int seed, int length)
    {
        var random = new Random(seed);
        return new string([.. Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(16)))]);
    }

    public static TheoryData<int, bool, bool> WindowCases()
    {
        var cases = new TheoryData<int, bool, bool>();
        for (var bits = 9; bits <= 15; bits++)
        {
            foreach (var takeover in new[] { true, false })
            {
                foreach (var fromClient in new[] { true, false })
                {
                    cases.Add(bits, takeover, fromClient);
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(WindowCases))]
    public void Inflate_RealFramesWithEachWindowAndTakeover_CountsDecompressedSizes(int windowBits, bool takeover, bool fromClient)
    {
        // Messages longer than the smallest window, and the same message twice so takeover has something to reuse.
        string[] texts = [Message(1, 3000), Message(1, 3000), Message(2, 700), Message(3, 40_000)];
        var frames = DeflateFrames.Messages(fromClient, windowBits, takeover, texts.Select(t => ((string?)t, (byte[]?)null)));
        var budget = new InflaterBudget(16);
        var driver = new SessionDriver(inflaters: budget).Open(offered: "permessage-deflate; client_max_window_bits", accepted: DeflateFrames.Accepted(windowBits, takeover));
        foreach (var message in frames)
        {
            // One byte at a time for the first message: inflation resumes across every segment boundary.
            foreach (var chunk in message == frames[0] ? message.Select(b => new[] { b }) : [message])
            {
                _ = fromClient ? driver.Client(chunk) : driver.Server(chunk);
            }

            Assert.Equal(takeover ? 1 : 0, budget.Live);
        }

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(0, budget.Live);
        Assert.Equal((4, texts.Sum(t => (long)t.Length)), (budget.InflatedUnits, budget.InflatedBytes));
        Assert.Equal(4, record.CompressedMessages);
        Assert.Equal(0, record.InflateErrors);
        Assert.Equal(40_000, fromClient ? record.ClientLargestMessageBytes : record.ServerLargestMessageBytes);
        Assert.Equal($"{(fromClient ? "client" : "server")}:40000", record.LastMessageBytes);
        Assert.DoesNotContain(record.Notices, n => n.StartsWith("ws_deflate", StringComparison.Ordinal) || n.StartsWith("ws_inflate", StringComparison.Ordinal));
        if (takeover && 1 << windowBits > 3000)
        {
            // The repeated message is mostly a reference into the first one: proof the window was carried over.
            Assert.True(frames[1].Length < frames[0].Length / 4, $"{frames[1].Length} vs {frames[0].Length}");
        }
    }

    [Fact]
    public void Inflate_SnapLengthCutOverAFrameEnd_BreaksTheMessageInsteadOfBlamingTheSender()
    {
        // One compressed message in three frames; the capture cut the first one's tail and lost the second whole, so
        // the third frame's DEFLATE data follows bytes the inflater never saw.
        var unit = DeflateFrames.SyncFlushed(Encoding.ASCII.GetBytes(Message(7, 6000)))[0];
        var third = unit.Length / 3;
        var first = Frame(Text, unit.AsSpan(0, third).ToArray(), fin: false, rsv1: true);
        var second = Frame(Continuation, unit.AsSpan(third, third).ToArray(), fin: false);
        var last = Frame(Continuation, unit.AsSpan(2 * third).ToArray(), fin: true);

        var record = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Server(first[..20]).ServerCut(first.Length - 20 + second.Length)
            .Server(last)
            .End(TcpCloseKind.Fin);

        Assert.Equal(0, record.InflateErrors);
        Assert.DoesNotContain(Notice.WsDeflateInvalidData, record.Notices);
        Assert.Contains(Notice.CaptureSnapLength, record.Notices);
    }

    [Fact]
    public void Inflate_SwitchedOff_KeepsWireSizesAndNeitherInflatesNorFlagsTheData()
    {
        string[] texts = [Message(1, 3000), Message(1, 3000)];
        var frames = DeflateFrames.Messages(fromClient: false, 15, contextTakeover: true, texts.Select(t => ((string?)t, (byte[]?)null)));
        var budget = new InflaterBudget(16);
        var driver = new SessionDriver(options: new AnalyzerOptions { Inflate = false }, inflaters: budget)
            .Open(offered: "permessage-deflate", accepted: "permessage-deflate");
        foreach (var message in frames)
        {
            driver.Server(message);
        }

        // Not DEFLATE at all: inflated, this would be an inflate error.
        driver.Server(Frame(Binary, [0xFF, 0xFF], rsv1: true));
        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal((0, 0L, 0), (budget.InflatedUnits, budget.InflatedBytes, budget.Live));
        Assert.Equal(3, record.CompressedMessages);
        Assert.Equal(0, record.InflateErrors);
        // Server frames are unmasked: the payload follows a 2-byte header, or 4 bytes with a 16-bit length.
        Assert.Equal(frames.Max(f => (long)f.Length - ((f[1] & 0x7F) < 126 ? 2 : 4)), record.ServerLargestMessageBytes);
        Assert.Empty(record.Notices);
    }

    [Fact]
    public void Inflate_DeflateFramePerFrameUnits_JoinsTheFramesInflatedSizes()
    {
        var parts = new[] { Encoding.UTF8.GetBytes(Message(1, 5000)), Encoding.UTF8.GetBytes(Message(1, 5000)), Encoding.UTF8.GetBytes("tail") };
        var units = DeflateFrames.SyncFlushed(parts);
        var driver = new SessionDriver().Open(offered: "x-webkit-deflate-frame", accepted: "x-webkit-deflate-frame")
            .Server(Frame(Text, units[0], fin: false, rsv1: true))
            .Server(Frame(Continuation, units[1], fin: false, rsv1: true))
            .Server(Frame(Continuation, parts[2], fin: true))
            .Client(ClientClose(1000));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(10_004, record.ServerLargestMessageBytes);
        Assert.Equal(1, record.CompressedMessages);
        Assert.Equal(0, record.InflateErrors);
    }

    [Fact]
    public void Inflate_FinalBlockInsideAMessageThenMore_UnitWholeAndTheNextInflatedFresh()
    {
        // RFC 7692 7.2.3.3 lets a sender end a message's data with a BFINAL block; bytes after it are not read.
        var text = Encoding.UTF8.GetBytes(Message(9, 900));
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(text);
        }

        byte[] payload = [.. output.ToArray(), 0x00, 0x00];
        var frame = Frame(Text, payload, mask: ClientMask, rsv1: true);
        var next = DeflateFrames.SyncFlushed(Encoding.UTF8.GetBytes("after the final block"))[0];
        var budget = new InflaterBudget(4);
        var record = new SessionDriver(inflaters: budget).Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Client(frame[..^2])
            .Client(frame[^2..])
            .Client(Frame(Text, next, mask: ClientMask, rsv1: true))
            .End(TcpCloseKind.Fin);

        Assert.Equal(900, record.ClientLargestMessageBytes);
        Assert.Equal("client:21", record.LastMessageBytes);
        Assert.Equal(0, record.InflateErrors);
        Assert.Equal(0, budget.Live);
    }

    [Fact]
    public void Inflate_CorruptDeflateThen1002_CountsOneErrorAndNamesTheFrame()
    {
        var good = DeflateFrames.Messages(fromClient: true, 15, contextTakeover: true, [("hello hello hello", null)])[0];
        var driver = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Client(good)

            // BTYPE 11 is reserved (RFC 1951 3.2.3): no inflater accepts it.
            .Client(Frame(Binary, [0xFF, 0xFF, 0xFF, 0x00], mask: ClientMask, rsv1: true))
            .Server(ServerClose(1002, "invalid deflate"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(2, record.CompressedMessages);
        Assert.Equal(1, record.InflateErrors);
        Assert.Contains(Notice.WsDeflateInvalidData, record.Notices);
        Assert.Contains("the client's message 2 (", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("is not valid DEFLATE data", record.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(17, record.ClientLargestMessageBytes);
    }

    [Fact]
    public void Inflate_GapInAMessageThenABackReference_NoticesMissingContextNotAnError()
    {
        var text = Message(5, 4000);
        var frames = DeflateFrames.Messages(fromClient: false, 15, contextTakeover: true, [(text, null), (text, null), ("fresh", null)]);
        var first = frames[0];
        var driver = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Server(first[..20])
            .ServerGap(first.Length - 20)
            .Server(frames[1])
            .Server(frames[2])
            .Client(ClientClose(1000));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(0, record.InflateErrors);
        Assert.Contains(Notice.WsDeflateContextMissing, record.Notices);
        Assert.DoesNotContain(Notice.WsDeflateInvalidData, record.Notices);
        Assert.Equal(3, record.CompressedMessages);
    }

    [Fact]
    public void Inflate_InvalidUtf8TextThen1007_NoticesAndNamesTheMessage()
    {
        byte[] invalid = [.. Encoding.UTF8.GetBytes("caf"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes(" more text")];
        var unit = DeflateFrames.SyncFlushed(invalid)[0];
        var driver = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Client(Frame(Text, unit, mask: ClientMask, rsv1: true))
            .Server(ServerClose(1007, "invalid utf-8"));

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Contains(Notice.WsTextInvalidUtf8, record.Notices);
        Assert.Equal(0, record.InflateErrors);
        Assert.Contains("the client's text message 1 (", record.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnose_1007AfterUncompressedText_SaysItWasNotCheckedAndNamesTheLastMessage()
    {
        var record = new SessionDriver().Open()
            .Client(Frame(Text, [0x61, 0xC3, 0x28], mask: ClientMask))
            .Server(ServerClose(1007))
            .End(TcpCloseKind.Fin);

        Assert.DoesNotContain(Notice.WsTextInvalidUtf8, record.Notices);
        Assert.Contains("uncompressed text is not read, so it was not checked: look at the client's last message before the close (3 bytes, ", record.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void Inflate_ValidUtf8SplitAcrossFrames_NoNotice()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("grüße €𝄞 ", 300)));
        var unit = DeflateFrames.SyncFlushed(text)[0];
        var driver = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate");
        for (var at = 0; at < unit.Length; at += 7)
        {
            var piece = unit[at..Math.Min(unit.Length, at + 7)];
            driver.Client(Frame(at == 0 ? Text : Continuation, piece, fin: at + 7 >= unit.Length, mask: ClientMask, rsv1: at == 0));
        }

        var record = driver.End(TcpCloseKind.Fin);

        Assert.DoesNotContain(Notice.WsTextInvalidUtf8, record.Notices);
        Assert.Equal(text.Length, record.ClientLargestMessageBytes);
    }

    [Fact]
    public void Inflate_DeflateBombOfOneGibibyte_CapCountsAndSkipsInBoundedMemory()
    {
        const long gibibyte = 1L << 30;
        var bomb = CompressZeros(gibibyte);
        var frame = Frame(Binary, bomb, mask: ClientMask, rsv1: true);
        var options = new AnalyzerOptions();
        var driver = new SessionDriver(options: options).Open(offered: "permessage-deflate", accepted: "permessage-deflate");

        var segments = Enumerable.Range(0, (frame.Length + 65_535) / 65_536)
            .Select(i => frame[(i * 65_536)..Math.Min(frame.Length, (i + 1) * 65_536)]).ToList();
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var segment in segments)
        {
            driver.Session.OnData(driver.ClientDirection, segment, driver.Now);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(options.MaxInflatedMessageBytes, record.ClientLargestMessageBytes);
        Assert.Contains(Notice.WsInflateCapReached, record.Notices);
        Assert.True(record.Notices.Contains(Notice.WsDeflateRatioSuspicious), $"frame {frame.Length} bytes");
        Assert.Equal(0, record.InflateErrors);

        // 64 MiB inflated through per-thread 16 KiB buffers: the managed cost is the inflater object and its pooled buffer.
        Assert.True(allocated < 256 * 1024, $"{allocated} bytes allocated for a {frame.Length}-byte frame");
    }

    [Fact]
    public void Inflate_InflaterCapReached_LaterDirectionsNotInflatedWithANotice()
    {
        var budget = new InflaterBudget(1);
        var client = DeflateFrames.Messages(fromClient: true, 15, contextTakeover: true, [(Message(1, 2000), null)])[0];
        var server = DeflateFrames.Messages(fromClient: false, 15, contextTakeover: true, [(Message(1, 2000), null)])[0];
        var driver = new SessionDriver(inflaters: budget).Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Client(client)
            .Server(server);

        var record = driver.End(TcpCloseKind.Fin);

        Assert.Equal(2000, record.ClientLargestMessageBytes);
        Assert.Equal(server.Length - ((server[1] & 0x7F) < 126 ? 2 : 4), record.ServerLargestMessageBytes);
        Assert.Contains(Notice.WsDeflateNotInflated, record.Notices);
        Assert.Equal(1, budget.Refused);
        Assert.Equal(0, budget.Live);
    }

    [Fact]
    public void Handshake_ServerLimitsAClientWindowItWasNotOffered_NoticesAndStillInflates()
    {
        // RFC 7692 7.1.2.2: without client_max_window_bits in the offer the response must not have it.
        var frame = DeflateFrames.Messages(fromClient: true, 15, contextTakeover: true, [(Message(1, 500), null)])[0];
        var record = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate; client_max_window_bits=10")
            .Client(frame)
            .End(TcpCloseKind.Fin);

        Assert.Contains(Notice.WsDeflateParametersInvalid, record.Notices);
        Assert.Equal(500, record.ClientLargestMessageBytes);
    }

    [Fact]
    public void Inflate_InvalidWindowBitsAccepted_NoticesAndStillInflates()
    {
        var frame = DeflateFrames.Messages(fromClient: true, 15, contextTakeover: true, [(Message(1, 500), null)])[0];
        var record = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate; server_max_window_bits=7; bogus")
            .Client(frame)
            .End(TcpCloseKind.Fin);

        Assert.Contains(Notice.WsDeflateParametersInvalid, record.Notices);
        Assert.Equal(500, record.ClientLargestMessageBytes);
    }

    [Fact]
    public void Inflate_UncompressedTrafficInADeflateSession_SizesAsOnTheWire()
    {
        var record = new SessionDriver().Open(offered: "permessage-deflate", accepted: "permessage-deflate")
            .Client(TextFrame("plain text", ClientMask))
            .Server(Frame(Binary, new byte[300]))
            .End(TcpCloseKind.Fin);

        Assert.Equal(10, record.ClientLargestMessageBytes);
        Assert.Equal(300, record.ServerLargestMessageBytes);
        Assert.Equal(0, record.CompressedMessages);
    }

    private static byte[] CompressZeros(long count)
    {
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (long written = 0; written < count; written += zeros.Length)
            {
                deflate.Write(zeros);
            }

            deflate.Flush();
        }

        return output.ToArray();
    }
}
