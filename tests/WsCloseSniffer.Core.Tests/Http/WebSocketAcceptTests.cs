using WsCloseSniffer.Http;

namespace WsCloseSniffer.Tests.Http;

public class WebSocketAcceptTests
{
    [Theory]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")] // RFC 6455 section 1.3
    [InlineData("vf3bSlxjI9R5oosJfwM/8Q==", "0Zl6vr6NCtorAnmvFsy68nbStvE=")] // zeek websocket.pcap
    [InlineData("Vc7O8lujVLWTE2dqdfliyw==", "T1n8SghTv5PjT/G4qZqJNm6UK3c=")] // suricata-verify websocket-compressed
    public void Compute_KnownKey_GivesPublishedAccept(string key, string accept)
    {
        Assert.Equal(accept, WebSocketAccept.Compute(key));
        Assert.True(WebSocketAccept.Matches(key, accept));
    }

    [Theory]
    [InlineData(null, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==", null)]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo")]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==", "S3PPLMBITXAQ9KYGZZHZRBK+XOO=")]
    [InlineData("dGhlIHNhbXBsZSBub25jZR==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
    public void Matches_MissingOrWrongValue_IsFalse(string? key, string? accept)
    {
        Assert.False(WebSocketAccept.Matches(key, accept));
    }
}
