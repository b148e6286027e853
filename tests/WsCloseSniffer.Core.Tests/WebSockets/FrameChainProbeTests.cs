using WsCloseSniffer.WebSockets;

using static WsCloseSniffer.TestSupport.PacketFrames;

namespace WsCloseSniffer.Tests.WebSockets;

/// <summary><see cref="FrameChainProbe"/> on byte literals: each string is one segment's bytes.</summary>
public sealed class FrameChainProbeTests
{
    // Client frames masked with 37 fa 21 3d: "Hi" is 48 69 -> 7f 93.
    private const string ClientHi = "81 82 37fa213d 7f93";
    private const string ServerHi = "81 02 4869";
    private const string ServerClose1000 = "88 02 03e8";

    // Close 1000 "bye" masked: payload 03 e8 62 79 65 -> 34 12 43 44 52.
    private const string ClientClose1000 = "88 85 37fa213d 3412434452";

    private static FrameChainProbe FeedAll(params string[] segments)
    {
        var probe = default(FrameChainProbe);
        foreach (var segment in segments)
        {
            probe.Feed(FromHex(segment), atSegmentStart: true);
        }

        return probe;
    }

    [Fact]
    public void Feed_TwoServerFramesEachEndingASegment_ShowsUnmaskedFrames()
    {
        var probe = FeedAll(ServerHi, ServerHi);

        Assert.True(probe.ShowsFrames);
        Assert.False(probe.IsMasked);
        Assert.Equal(2, probe.Frames);
        Assert.Equal(2, probe.AlignedFrames);
    }

    [Fact]
    public void Feed_OneFrame_IsNotEnough()
    {
        var probe = FeedAll(ClientHi);

        Assert.True(probe.IsChaining);
        Assert.True(probe.IsMasked);
        Assert.False(probe.ShowsFrames);
    }

    [Theory]
    [InlineData(ClientClose1000)]
    [InlineData(ServerClose1000)]
    [InlineData("88 00")]
    public void Feed_CloseFrameEndingASegment_ShowsFrames(string close) => Assert.True(FeedAll(close).ShowsFrames);

    [Fact]
    public void Feed_SeveralFramesInOneSegment_OnlyTheLastEndsIt()
    {
        var probe = FeedAll(ServerHi + ServerHi + ServerHi);

        Assert.Equal(3, probe.Frames);
        Assert.Equal(1, probe.AlignedFrames);
        Assert.False(probe.ShowsFrames);
    }

    [Fact]
    public void Feed_FrameSplitOverSegments_ContinuesTheChain()
    {
        var probe = default(FrameChainProbe);

        Assert.Equal(FrameChainStep.Continues, probe.Feed(FromHex("81 05 6865"), atSegmentStart: true));
        Assert.Equal(FrameChainStep.Continues, probe.Feed(FromHex("6c6c6f"), atSegmentStart: true));
        Assert.Equal(FrameChainStep.Continues, probe.Feed(FromHex(ServerHi), atSegmentStart: true));

        Assert.Equal(2, probe.Frames);
        Assert.True(probe.ShowsFrames);
    }

    [Theory]
    [InlineData("83 02 4869", "reserved opcode 3")]
    [InlineData("a1 02 4869", "RSV2 without an extension that could define it")]
    [InlineData("09 00", "a fragmented ping")]
    [InlineData("89 7e 007e" , "a ping longer than 125 bytes")]
    [InlineData("82 7e 0005 0102030405", "a 16-bit length below 126")]
    [InlineData("81 02 c328", "text that is not UTF-8")]
    [InlineData("81 02 eda0", "a UTF-16 surrogate in UTF-8")]
    [InlineData("81 02 c0af", "an overlong UTF-8 sequence")]
    [InlineData("88 02 03ed", "close code 1005, which is never sent")]
    [InlineData("88 02 03e7", "close code 999")]
    [InlineData("88 01 03", "a one-byte close payload")]
    [InlineData("c0 02 4869", "RSV1 on a continuation")]
    [InlineData("81 82 00000000 4869", "a masked frame in an unmasked chain")]
    public void Feed_InvalidSecondFrame_BreaksTheChain(string second, string why)
    {
        var probe = default(FrameChainProbe);
        Assert.Equal(FrameChainStep.Continues, probe.Feed(FromHex(ServerHi), atSegmentStart: true));

        var step = probe.Feed(FromHex(second), atSegmentStart: true);

        Assert.True(step == FrameChainStep.Broken, why);
        Assert.False(probe.IsChaining);
        Assert.Equal(0, probe.Frames);
    }

    [Fact]
    public void Feed_TextFragmentedAcrossFramesWithACharacterSplit_IsValid()
    {
        // "é" is c3 a9: its two bytes in two fragments of one message, a ping between them.
        var probe = FeedAll("01 01 c3", "89 00", "80 01 a9");

        Assert.True(probe.IsChaining);
        Assert.Equal(3, probe.Frames);
    }

    [Theory]
    [InlineData(10, true)]
    [InlineData(299, true)]
    [InlineData(600, true)]
    [InlineData(10, false)]
    [InlineData(299, false)]
    [InlineData(600, false)]
    public void Feed_MaskedTextLongerThanAPiece_CheckedWhole(int badAt, bool valid)
    {
        // A client's 700-byte text frame, checked as UTF-8 after unmasking in pieces: one bad byte anywhere breaks it.
        var text = Enumerable.Repeat((byte)'a', 700).ToArray();
        if (!valid)
        {
            text[badAt] = 0xFF;
        }

        byte[] key = [0x11, 0x22, 0x33, 0x44];
        var frame = TestSupport.FrameBuilder.Frame(TestSupport.FrameBuilder.Text, text, mask: key);
        var ping = TestSupport.FrameBuilder.Frame(TestSupport.FrameBuilder.Ping, [], mask: key);
        var probe = default(FrameChainProbe);

        var step = probe.Feed(frame, atSegmentStart: true);
        if (valid)
        {
            Assert.Equal(FrameChainStep.Continues, step);
            Assert.Equal(FrameChainStep.Continues, probe.Feed(ping, atSegmentStart: true));
            Assert.True(probe.IsMasked);
            Assert.Equal(2, probe.Frames);
        }
        else
        {
            Assert.NotEqual(FrameChainStep.Continues, step);
            Assert.Equal(0, probe.Frames);
        }
    }

    [Theory]
    [InlineData("81 01 41", "81 01 41", true)]
    [InlineData("01 01 41", "81 01 41", false)]
    [InlineData("81 01 41", "80 01 41", false)]
    [InlineData("00 01 41", "80 01 41", true)]
    public void Feed_MessageFragmentation_FollowsRfc6455Section5_4(string first, string second, bool valid)
    {
        var probe = default(FrameChainProbe);
        probe.Feed(FromHex(first), atSegmentStart: true);

        Assert.Equal(valid ? FrameChainStep.Continues : FrameChainStep.Broken, probe.Feed(FromHex(second), atSegmentStart: true));
    }

    [Theory]
    [InlineData("16 03 03 00 40 0102")]
    [InlineData("17 03 03 00 40 0102")]
    [InlineData("53 53 48 2d 32 2e 30")]
    [InlineData("47 45 54 20 2f")]
    [InlineData("50 52 49 20 2a")]
    [InlineData("81")]
    public void Feed_TlsSshHttpOrOneByte_StartsNoChain(string segment)
    {
        var probe = default(FrameChainProbe);

        Assert.Equal(FrameChainStep.NoChain, probe.Feed(FromHex(segment), atSegmentStart: true));
        Assert.Equal(0, probe.Starts);
    }

    [Fact]
    public void Feed_RunOfZeroBytes_IsNoEvidence()
    {
        // Zeros parse as empty continuation frames; those prove nothing.
        var probe = FeedAll("0000 0000", "0000 0000 0000");

        Assert.True(probe.IsChaining);
        Assert.False(probe.ShowsFrames);
    }

    [Fact]
    public void Feed_ChainStartsSpent_IsExhaustedAndStartsNoMore()
    {
        var probe = default(FrameChainProbe);
        for (var i = 0; i < FrameChainProbe.MaxChainStarts; i++)
        {
            // A well-formed first frame, then a reserved opcode: each segment starts a chain that breaks.
            Assert.Equal(FrameChainStep.Broken, probe.Feed(FromHex("82 01 00 83 00"), atSegmentStart: true));
        }

        Assert.True(probe.IsExhausted);
        Assert.Equal(FrameChainStep.NoChain, probe.Feed(FromHex(ServerHi), atSegmentStart: true));
    }

    [Fact]
    public void Feed_ExaminedBytesBeyondTheBudget_IsExhausted()
    {
        var probe = default(FrameChainProbe);
        var junk = new byte[64 * 1024];
        junk.AsSpan().Fill(0xff);
        for (var i = 0; i <= FrameChainProbe.MaxExaminedBytes / junk.Length; i++)
        {
            probe.Feed(junk, atSegmentStart: true);
        }

        Assert.True(probe.IsExhausted);
    }

    [Fact]
    public void SkipGap_InsidePayload_KeepsTheChainOverHeaderBreaksIt()
    {
        var probe = default(FrameChainProbe);
        probe.Feed(FromHex("82 0a 0102"), atSegmentStart: true);

        Assert.Equal(FrameChainStep.Continues, probe.SkipGap(8));
        Assert.Equal(1, probe.Frames);
        Assert.Equal(FrameChainStep.Broken, probe.SkipGap(2));
    }
}
