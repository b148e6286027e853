using WsCloseSniffer.Capture;
using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

public class FrameDecoderTests
{
    private static readonly byte[] s_otherMask = [0xde, 0xad, 0xbe, 0xef];

    private sealed record Expected(byte Opcode, bool Fin, bool Masked, byte[] Payload, int HeaderLength)
    {
        public bool IsControl => (Opcode & 0x8) != 0;
    }

    private static (byte[] Stream, List<Expected> Frames) MixedStream()
    {
        var binary300 = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var parts = new List<(byte[] Bytes, Expected Frame)>
        {
            (FrameBuilder.Frame(FrameBuilder.Text, "Hello"u8, mask: FrameBuilder.ClientMask), new(0x1, true, true, "Hello"u8.ToArray(), 6)),
            (FrameBuilder.Frame(FrameBuilder.Text, "frag"u8, fin: false), new(0x1, false, false, "frag"u8.ToArray(), 2)),
            (FrameBuilder.Frame(FrameBuilder.Continuation, "ment"u8), new(0x0, true, false, "ment"u8.ToArray(), 2)),
            (FrameBuilder.CloseFrame(1000, "bye", s_otherMask), new(0x8, true, true, PacketFrames.FromHex("03 e8 62 79 65"), 6)),
            (FrameBuilder.Frame(FrameBuilder.Ping, []), new(0x9, true, false, [], 2)),
            (FrameBuilder.Frame(FrameBuilder.Binary, binary300, mask: s_otherMask), new(0x2, true, true, binary300, 8)),
            (FrameBuilder.Frame(FrameBuilder.Binary, binary300.AsSpan(0, 10), form: FrameLengthForm.SixtyFour), new(0x2, true, false, binary300[..10], 10)),
            (FrameBuilder.Frame(FrameBuilder.Pong, "pong!"u8, mask: FrameBuilder.ClientMask), new(0xA, true, true, "pong!"u8.ToArray(), 6)),
            (FrameBuilder.Frame(0x3, []), new(0x3, true, false, [], 2)),
            (FrameBuilder.Frame(0xB, "abc"u8, mask: s_otherMask), new(0xB, true, true, "abc"u8.ToArray(), 6)),

            // Larger than every control frame before it: the held payload grows.
            (FrameBuilder.Frame(FrameBuilder.Ping, binary300.AsSpan(0, 125), mask: FrameBuilder.ClientMask), new(0x9, true, true, binary300[..125], 6)),
            (FrameBuilder.Frame(FrameBuilder.Close, [], mask: FrameBuilder.ClientMask), new(0x8, true, true, [], 6)),
        };
        return (PacketFrames.Concat([.. parts.Select(p => p.Bytes)]), parts.Select(p => p.Frame).ToList());
    }

    private static FrameRecorder DecodeInChunks(byte[] stream, IEnumerable<int> chunkSizes, out FrameDecoder decoder)
    {
        decoder = new FrameDecoder();
        var recorder = new FrameRecorder();
        var offset = 0;
        var tick = 0;
        foreach (var size in chunkSizes)
        {
            var take = Math.Min(size, stream.Length - offset);
            decoder.Decode(stream.AsSpan(offset, take), recorder, new Timestamp(++tick));
            offset += take;
            if (offset == stream.Length)
            {
                break;
            }
        }

        Assert.Equal(stream.Length, offset);
        return recorder;
    }

    private static void AssertExpected(List<Expected> expected, FrameRecorder recorder, FrameDecoder decoder)
    {
        Assert.Equal(expected.Count, recorder.Frames.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var actual = recorder.Frames[i];
            Assert.Equal(e.Opcode, actual.Header.RawOpcode);
            Assert.Equal(e.Fin, actual.Header.Fin);
            Assert.Equal(e.Masked, actual.Header.IsMasked);
            Assert.Equal((ulong)e.Payload.Length, actual.Header.PayloadLength);
            Assert.Equal(e.HeaderLength, actual.Header.HeaderLength);
            Assert.True(actual.IsComplete);

            // Control payloads are held and unmasked; data payloads never are.
            Assert.Equal(e.IsControl ? e.Payload : [], actual.ControlPayload);
        }

        Assert.Equal(expected.Count, decoder.Frames);
        Assert.Equal(expected.Sum(e => (long)e.Payload.Length), decoder.PayloadBytes);
        Assert.False(decoder.IsStopped);
        Assert.False(decoder.IsMidFrame);
    }

    [Fact]
    public void Decode_MixedStreamInOneChunk_GivesEveryFrameWithUnmaskedControlPayloads()
    {
        var (stream, expected) = MixedStream();

        var recorder = DecodeInChunks(stream, [stream.Length], out var decoder);

        AssertExpected(expected, recorder, decoder);
    }

    [Fact]
    public void Decode_SplitAtEveryBytePosition_GivesIdenticalFrames()
    {
        var (stream, expected) = MixedStream();

        for (var split = 0; split <= stream.Length; split++)
        {
            var recorder = DecodeInChunks(stream, [split, stream.Length - split], out var decoder);
            AssertExpected(expected, recorder, decoder);
        }
    }

    [Fact]
    public void Decode_OneByteAtATime_GivesIdenticalFrames()
    {
        var (stream, expected) = MixedStream();

        var recorder = DecodeInChunks(stream, Enumerable.Repeat(1, stream.Length), out var decoder);

        AssertExpected(expected, recorder, decoder);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    [InlineData(6455)]
    public void Decode_RandomChunkSizes_GivesIdenticalFrames(int seed)
    {
        var (stream, expected) = MixedStream();
        var random = new Random(seed);

        var recorder = DecodeInChunks(stream, Enumerable.Range(0, stream.Length).Select(_ => random.Next(1, 20)), out var decoder);

        AssertExpected(expected, recorder, decoder);
    }

    [Fact]
    public void Decode_MaskedCloseSplitAtEveryPosition_UnmasksCodeAndReason()
    {
        var frame = FrameBuilder.CloseFrame(4000, "session expired", FrameBuilder.ClientMask);

        for (var split = 1; split < frame.Length; split++)
        {
            for (var second = split + 1; second <= frame.Length; second++)
            {
                var recorder = DecodeInChunks(frame, [split, second - split, frame.Length - second], out _);
                var close = CloseFrame.Parse(Assert.Single(recorder.Frames).ControlPayload);
                Assert.Equal(4000, close.Code);
                Assert.Equal("session expired", close.Reason);
            }
        }
    }

    [Fact]
    public void Decode_FrameCompletes_AtTheTimeOfItsLastByte()
    {
        var frame = FrameBuilder.ClientText("abcdef");

        var recorder = DecodeInChunks(frame, [3, 3, 3, 3], out _);

        Assert.Equal(new Timestamp(4), Assert.Single(recorder.Frames).Time);
    }

    [Fact]
    public void Decode_LargeDataPayload_IsCountedNotHeld()
    {
        var payload = new byte[200_000];
        var frame = FrameBuilder.Frame(FrameBuilder.Binary, payload, mask: FrameBuilder.ClientMask);
        var random = new Random(5);

        var recorder = DecodeInChunks(frame, Enumerable.Range(0, frame.Length).Select(_ => random.Next(1, 3000)), out var decoder);

        var only = Assert.Single(recorder.Frames);
        Assert.Equal(200_000ul, only.Header.PayloadLength);
        Assert.Equal(14, only.Header.HeaderLength);
        Assert.Empty(only.ControlPayload);
        Assert.Equal(200_000, decoder.PayloadBytes);
    }

    [Theory]
    [InlineData("81 00")]
    [InlineData("88 00")]
    [InlineData("89 80 11 22 33 44")]
    [InlineData("80 00")]
    public void Decode_ZeroLengthFrame_CompletesWithEmptyPayload(string hex)
    {
        var recorder = DecodeInChunks(PacketFrames.FromHex(hex), [100], out var decoder);

        var only = Assert.Single(recorder.Frames);
        Assert.Equal(0ul, only.Header.PayloadLength);
        Assert.Empty(only.ControlPayload);
        Assert.True(only.IsComplete);
        Assert.Equal(1, decoder.Frames);
        Assert.Equal(0, decoder.PayloadBytes);
    }

    [Fact]
    public void Decode_SeveralFramesInOneChunk_GivesThemInOrder()
    {
        var stream = PacketFrames.FromHex("81 01 61 89 00 82 02 01 02 8a 01 7a 88 02 03 e8");

        var recorder = DecodeInChunks(stream, [stream.Length], out var decoder);

        Assert.Equal(new byte[] { 0x1, 0x9, 0x2, 0xA, 0x8 }, recorder.Frames.Select(f => f.Header.RawOpcode));
        Assert.Equal("z"u8.ToArray(), recorder.Frames[3].ControlPayload);
        Assert.Equal(PacketFrames.FromHex("03 e8"), recorder.Frames[4].ControlPayload);
        Assert.Equal(5, decoder.Frames);
        Assert.Equal(6, decoder.PayloadBytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(100)]
    public void Decode_SixtyFourBitLengthWithMsbSet_StopsWithInvalidLength(int chunk)
    {
        var stream = PacketFrames.FromHex("81 01 61  82 7f 80 00 00 00 00 00 00 05  81 01 62");

        var recorder = DecodeInChunks(stream, Enumerable.Repeat(chunk, stream.Length), out var decoder);

        Assert.Single(recorder.Frames);
        Assert.Equal(FrameDecoderStop.InvalidLength, decoder.Stop);
        Assert.True(decoder.IsStopped);
        Assert.Equal(1, decoder.Frames);
    }

    [Fact]
    public void SkipGap_InsideDataPayload_ContinuesExactlyWithTheNextFrame()
    {
        var decoder = new FrameDecoder();
        var recorder = new FrameRecorder();
        var data = FrameBuilder.Frame(FrameBuilder.Binary, new byte[10], mask: FrameBuilder.ClientMask); // 6 + 10 bytes
        var next = FrameBuilder.ClientClose(1000, "ok");

        decoder.Decode(data.AsSpan(0, 9), recorder, new Timestamp(1));
        var continued = decoder.SkipGap(4, recorder, new Timestamp(2));
        decoder.Decode(PacketFrames.Concat(data[13..], next), recorder, new Timestamp(3));

        Assert.True(continued);
        Assert.False(decoder.IsStopped);
        Assert.Equal(2, recorder.Frames.Count);
        Assert.Equal(10ul, recorder.Frames[0].Header.PayloadLength);
        Assert.True(recorder.Frames[0].IsComplete);
        var close = CloseFrame.Parse(recorder.Frames[1].ControlPayload);
        Assert.Equal(1000, close.Code);
        Assert.Equal("ok", close.Reason);
        Assert.Equal(2, decoder.Frames);
        Assert.Equal(14, decoder.PayloadBytes);
    }

    [Fact]
    public void SkipGap_EndingExactlyAtPayloadEnd_CompletesTheFrameAndGoesOn()
    {
        var decoder = new FrameDecoder();
        var recorder = new FrameRecorder();
        var data = FrameBuilder.Frame(FrameBuilder.Binary, new byte[10]);

        decoder.Decode(data.AsSpan(0, 4), recorder, new Timestamp(1));
        var continued = decoder.SkipGap(8, recorder, new Timestamp(2));

        Assert.True(continued);
        Assert.Equal(new Timestamp(2), Assert.Single(recorder.Frames).Time);
        decoder.Decode(FrameBuilder.ServerText("x"), recorder, new Timestamp(3));
        Assert.Equal(2, recorder.Frames.Count);
        Assert.Equal(11, decoder.PayloadBytes);
    }

    [Theory]
    [InlineData(0, 1)] // at a frame boundary: the gap covers the next header
    [InlineData(1, 1)] // mid-header
    [InlineData(1, 5)]
    [InlineData(4, 9)] // past the payload's end into the next header
    public void SkipGap_CoveringHeaderBytes_StopsWithGapOverHeader(int decodedBytes, int gap)
    {
        var decoder = new FrameDecoder();
        var recorder = new FrameRecorder();
        var data = FrameBuilder.Frame(FrameBuilder.Binary, new byte[6]); // 2 + 6 bytes

        decoder.Decode(data.AsSpan(0, decodedBytes), recorder, new Timestamp(1));
        var continued = decoder.SkipGap(gap, recorder, new Timestamp(2));
        decoder.Decode(FrameBuilder.ServerText("after"), recorder, new Timestamp(3));

        Assert.False(continued);
        Assert.Equal(FrameDecoderStop.GapOverHeader, decoder.Stop);
        Assert.Empty(recorder.Frames);
        Assert.Equal(0, decoder.Frames);
    }

    [Fact]
    public void SkipGap_OfZeroBytes_ChangesNothing()
    {
        var decoder = new FrameDecoder();
        var recorder = new FrameRecorder();

        Assert.True(decoder.SkipGap(0, recorder, new Timestamp(1)));
        decoder.Decode(FrameBuilder.ServerText("x"), recorder, new Timestamp(2));

        Assert.Single(recorder.Frames);
        Assert.False(decoder.IsStopped);
    }

    [Fact]
    public void SkipGap_InsideControlPayload_YieldsIncompletePayload()
    {
        var decoder = new FrameDecoder();
        var recorder = new FrameRecorder();
        var close = FrameBuilder.ClientClose(1001, "gone away"); // 6 + 11 bytes

        decoder.Decode(close.AsSpan(0, 8), recorder, new Timestamp(1));
        Assert.True(decoder.SkipGap(3, recorder, new Timestamp(2)));
        decoder.Decode(close.AsSpan(11), recorder, new Timestamp(3));

        var only = Assert.Single(recorder.Frames);
        Assert.False(only.IsComplete);
        Assert.Equal(PacketFrames.FromHex("03 e9"), only.ControlPayload);
        Assert.Equal(11, decoder.PayloadBytes);
        Assert.False(decoder.IsStopped);
    }

    [Fact]
    public void Decode_OversizedControlFrame_IsHeldWhole()
    {
        // 252 bytes: twice the RFC 6455 5.5 limit, as some broken servers send.
        var reason = new string('r', 250);
        var frame = FrameBuilder.Frame(FrameBuilder.Close, FrameBuilder.ClosePayload(1008, reason));

        var recorder = DecodeInChunks(frame, Enumerable.Repeat(17, frame.Length), out _);

        var only = Assert.Single(recorder.Frames);
        Assert.Equal(252ul, only.Header.PayloadLength);
        Assert.True(only.IsComplete);
        var close = CloseFrame.Parse(only.ControlPayload);
        Assert.Equal(1008, close.Code);
        Assert.Equal(reason, close.Reason);
    }

    [Fact]
    public void Decode_ControlFrameLongerThanHeldMaximum_HoldsTheCapAndSaysIncomplete()
    {
        var payload = Enumerable.Range(0, FrameDecoder.MaxHeldControlPayloadBytes + 500).Select(i => (byte)(i * 7)).ToArray();
        var frame = FrameBuilder.Frame(FrameBuilder.Ping, payload, mask: FrameBuilder.ClientMask);

        var recorder = DecodeInChunks(frame, Enumerable.Repeat(100, frame.Length), out var decoder);

        var only = Assert.Single(recorder.Frames);
        Assert.False(only.IsComplete);
        Assert.Equal(payload[..FrameDecoder.MaxHeldControlPayloadBytes], only.ControlPayload);
        Assert.Equal(payload.Length, decoder.PayloadBytes);
    }

    [Fact]
    public void Decode_AfterStop_IgnoresFurtherBytesAndGaps()
    {
        var decoder = new FrameDecoder();
        var recorder = new FrameRecorder();

        decoder.Decode(PacketFrames.FromHex("82 7f ff 00 00 00 00 00 00 00"), recorder, new Timestamp(1));
        decoder.Decode(FrameBuilder.ServerText("x"), recorder, new Timestamp(2));

        Assert.False(decoder.SkipGap(5, recorder, new Timestamp(3)));
        Assert.Equal(FrameDecoderStop.InvalidLength, decoder.Stop);
        Assert.Empty(recorder.Frames);
    }
}
