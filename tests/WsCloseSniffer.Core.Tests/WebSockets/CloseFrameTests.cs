using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

public class CloseFrameTests
{
    [Fact]
    public void Parse_EmptyPayload_HasNoStatus()
    {
        var close = CloseFrame.Parse([]);

        Assert.Equal(CloseFramePayloadStatus.Empty, close.Status);
        Assert.Null(close.Code);
        Assert.Equal(string.Empty, close.Reason);
        Assert.True(close.ReasonIsValidUtf8);
    }

    [Fact]
    public void Parse_OneBytePayload_IsOneByteWithoutCode()
    {
        var close = CloseFrame.Parse(PacketFrames.FromHex("03"));

        Assert.Equal(CloseFramePayloadStatus.OneByte, close.Status);
        Assert.Null(close.Code);
        Assert.Equal(string.Empty, close.Reason);
    }

    [Theory]
    [InlineData("03 e8", 1000, "")]
    [InlineData("03 e8 62 79 65", 1000, "bye")]
    [InlineData("03 f2 70 65 72 6d 65 73 73 61 67 65 2d 64 65 66 6c 61 74 65", 1010, "permessage-deflate")]
    [InlineData("0f a0 e2 82 ac", 4000, "€")]
    [InlineData("00 00", 0, "")]
    [InlineData("ff ff 00", 65535, "\0")]
    public void Parse_CodeAndReason_ReadsBoth(string hex, int code, string reason)
    {
        var close = CloseFrame.Parse(PacketFrames.FromHex(hex));

        Assert.Equal(CloseFramePayloadStatus.CodeAndReason, close.Status);
        Assert.Equal(code, close.Code);
        Assert.Equal(reason, close.Reason);
        Assert.True(close.ReasonIsValidUtf8);
    }

    [Theory]
    [InlineData("03 e8 ff fe", "\uFFFD\uFFFD")]
    [InlineData("03 e8 61 c3 28", "a\uFFFD(")]
    [InlineData("03 e8 c0 af", "\uFFFD\uFFFD")] // overlong encoding of '/'
    [InlineData("03 e8 e2 82", "\uFFFD")] // truncated sequence
    [InlineData("03 e8 ed a0 80", "\uFFFD\uFFFD\uFFFD")] // UTF-16 surrogate encoded in UTF-8
    public void Parse_InvalidUtf8Reason_ShowsReplacementCharactersAndSaysInvalid(string hex, string reason)
    {
        var close = CloseFrame.Parse(PacketFrames.FromHex(hex));

        Assert.Equal(1000, close.Code);
        Assert.Equal(reason, close.Reason);
        Assert.False(close.ReasonIsValidUtf8);
    }

    [Theory]
    [InlineData("03e8 646f6e", false, true)]
    [InlineData("03e8 646f6e65", true, false)]
    [InlineData("03e8", false, true)]
    public void Parse_PayloadCutByTheCapture_SaysTheReasonIsCut(string hex, bool isComplete, bool cut)
    {
        var close = CloseFrame.Parse(PacketFrames.FromHex(hex), isComplete);

        Assert.Equal(1000, close.Code);
        Assert.Equal(cut, close.ReasonIsCut);
        Assert.StartsWith(close.Reason, "done", StringComparison.Ordinal);
    }
}
