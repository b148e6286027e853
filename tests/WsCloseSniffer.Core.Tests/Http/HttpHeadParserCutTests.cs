using System.Text;

using WsCloseSniffer.Http;

namespace WsCloseSniffer.Tests.Http;

/// <summary><see cref="HttpHeadParser.CutHead"/>: what a head cut by the capture's snap length still shows.</summary>
public sealed class HttpHeadParserCutTests
{
    private static HttpHead? Cut(string captured)
    {
        var parser = new HttpHeadParser();
        Assert.Equal(HttpHeadStatus.NeedMoreData, parser.Append(Encoding.ASCII.GetBytes(captured), out _));
        return parser.CutHead();
    }

    [Theory]
    [InlineData("GET /chat HTTP/1.1\r\nHost: exa", "/chat", null)]
    [InlineData("GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgr", "/chat", "example.test")]
    [InlineData("GET /chat?room=1 HTTP/1.1", "/chat?room=1", null)]
    [InlineData("GET / HTTP/1.1\r", "/", null)]
    public void CutHead_RequestLineCaptured_GivesTargetAndWholeFields(string captured, string target, string? host)
    {
        var head = Cut(captured);

        Assert.NotNull(head);
        Assert.True(head.IsRequest);
        Assert.True(head.IsCutByCapture);
        Assert.Equal("GET", head.Method);
        Assert.Equal(target, head.Target);
        Assert.Equal("HTTP/1.1", head.Version);
        Assert.Equal(host, head.Get("Host"));
    }

    [Theory]
    [InlineData("GET /chat HTTP", "HTTP")]
    [InlineData("GET /chat ", "")]
    public void CutHead_VersionCut_GivesTheTarget(string captured, string version)
    {
        // What a 68-byte snap length leaves of a request on Ethernet with a 20-byte TCP header: 14 bytes.
        var head = Cut(captured);

        Assert.NotNull(head);
        Assert.Equal("/chat", head.Target);
        Assert.Equal(version, head.Version);
    }

    [Theory]
    [InlineData("HTTP/1.1 101 Switching Protoco", 101, "Switching Protoco")]
    [InlineData("HTTP/1.1 101", 101, "")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Acc", 101, "Switching Protocols")]
    [InlineData("HTTP/1.1 404 Not", 404, "Not")]
    public void CutHead_StatusCodeCaptured_GivesStatus(string captured, int status, string reason)
    {
        var head = Cut(captured);

        Assert.NotNull(head);
        Assert.False(head.IsRequest);
        Assert.True(head.IsCutByCapture);
        Assert.Equal(status, head.StatusCode);
        Assert.Equal(reason, head.ReasonPhrase);
    }

    [Theory]
    [InlineData("GE")]
    [InlineData("GET /chat")]
    [InlineData("GET /a-long-target-cut-in-the-mid")]
    [InlineData("HTTP/1.1 10")]
    [InlineData("HTTP/1")]
    public void CutHead_StartLineNotCapturedFarEnough_IsNull(string captured) => Assert.Null(Cut(captured));

    [Fact]
    public void CutHead_CompleteHead_IsNull()
    {
        var parser = new HttpHeadParser();
        Assert.Equal(HttpHeadStatus.Complete, parser.Append("HTTP/1.1 101 Switching Protocols\r\n\r\n"u8, out _));

        Assert.Null(parser.CutHead());
    }

    [Fact]
    public void UpgradeRequestTryFromCut_UpgradeFieldNotWebSocket_IsNotAnUpgrade()
    {
        var head = Cut("GET /h2 HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgr");

        Assert.False(UpgradeRequest.TryFromCut(head!, out _));
    }

    [Fact]
    public void UpgradeRequestTryFromCut_FieldsAfterTheCutUnknown_NamesNoProblemAndNoExtensions()
    {
        var head = Cut("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate\r\nConn");

        Assert.True(UpgradeRequest.TryFromCut(head!, out var request));
        Assert.True(request.IsCutByCapture);
        Assert.True(request.AsksForWebSocket);
        Assert.Empty(request.Problems);
        Assert.Equal(string.Empty, request.OfferedExtensionsText);
        Assert.Null(request.Key);
    }

    [Fact]
    public void UpgradeResponseFrom_CutHead_LeavesExtensionsUnknown()
    {
        var head = Cut("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Extensions: permessage-deflate\r\nSec-Web");

        var response = UpgradeResponse.From(head!);

        Assert.True(response.IsSwitchingProtocols);
        Assert.True(response.IsCutByCapture);
        Assert.Equal(string.Empty, response.AcceptedExtensionsText);
    }
}
