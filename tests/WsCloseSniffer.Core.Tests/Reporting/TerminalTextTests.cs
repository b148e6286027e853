using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.Reporting;

public sealed class TerminalTextTests
{
    [Theory]
    [InlineData("example.org/chat", "example.org/chat")]
    [InlineData("Grüße ✓", "Grüße ✓")]
    [InlineData("a\u001b]0;title\u0007b", "a\\x1b]0;title\\x07b")]
    [InlineData("x\u009b2Jy", "x\\x9b2Jy")]
    [InlineData("tab\there\r\n", "tab\\x09here\\x0d\\x0a")]
    [InlineData("abc\u202Egnp.exe", "abc\\u202egnp.exe")]
    [InlineData("\u2066iso\u2069", "\\u2066iso\\u2069")]
    [InlineData("del\u007f", "del\\x7f")]
    [InlineData("", "")]
    public void Safe_EscapesControlAndBidiCharacters(string input, string expected)
    {
        Assert.Equal(expected, TerminalText.Safe(input));
    }

    [Fact]
    public void Safe_Null_IsEmpty()
    {
        Assert.Equal(string.Empty, TerminalText.Safe(null));
    }
}
