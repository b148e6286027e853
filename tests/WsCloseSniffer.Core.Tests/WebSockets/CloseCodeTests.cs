using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

public class CloseCodeTests
{
    [Theory]
    [InlineData(0, "invalid_close_code")]
    [InlineData(999, "invalid_close_code")]
    [InlineData(1000, "normal_closure")]
    [InlineData(1001, "going_away")]
    [InlineData(1002, "protocol_error")]
    [InlineData(1003, "unsupported_data")]
    [InlineData(1004, "invalid_close_code")]
    [InlineData(1005, "invalid_close_code")]
    [InlineData(1006, "invalid_close_code")]
    [InlineData(1007, "invalid_payload")]
    [InlineData(1008, "policy_violation")]
    [InlineData(1009, "message_too_big")]
    [InlineData(1010, "mandatory_extension")]
    [InlineData(1011, "internal_error")]
    [InlineData(1012, "service_restart")]
    [InlineData(1013, "try_again_later")]
    [InlineData(1014, "bad_gateway")]
    [InlineData(1015, "invalid_close_code")]
    [InlineData(1016, "invalid_close_code")]
    [InlineData(2999, "invalid_close_code")]
    [InlineData(3000, "application")]
    [InlineData(3999, "application")]
    [InlineData(4000, "application")]
    [InlineData(4999, "application")]
    [InlineData(5000, "invalid_close_code")]
    [InlineData(65535, "invalid_close_code")]
    public void Classify_EveryContractWordAndBoundary_GivesTheContractWord(int code, string expected)
    {
        Assert.Equal(expected, CloseCode.Classify(code));
        Assert.Equal(expected != "invalid_close_code", CloseCode.IsValidOnWire(code));
    }

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
