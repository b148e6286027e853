using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

public class CloseCodeTests
{
    [Theory]
    [InlineData(1000, "Normal Closure")]
    [InlineData(1004, "Reserved")]
    [InlineData(1005, "No Status Received")]
    [InlineData(1006, "Abnormal Closure")]
    [InlineData(1010, "Mandatory Extension")]
    [InlineData(1015, "TLS Handshake")]
    [InlineData(3000, "registered application code")]
    [InlineData(4999, "private application code")]
    [InlineData(5000, "not a valid close code")]
    public void Name_KnownCodesAndRanges_AreNamed(int code, string name)
    {
        Assert.Equal(name, CloseCode.Name(code));
    }
}
