using System.Text;

using WsCloseSniffer.Http;

namespace WsCloseSniffer.Tests.Http;

public class UpgradeTests
{
    private static HttpHead Parse(string text)
    {
        var parser = new HttpHeadParser();
        Assert.Equal(HttpHeadStatus.Complete, parser.Append(Encoding.ASCII.GetBytes(text), out _));
        return parser.Head!;
    }

    private static HttpHead Request(params string[] fieldLines) =>
        Parse("GET /chat?room=1 HTTP/1.1\r\n" + string.Concat(fieldLines.Select(line => line + "\r\n")) + "\r\n");

    [Fact]
    public void TryFrom_BrowserRequest_ReadsHandshakeFields()
    {
        HttpHead head = Request(
            "Host: sandbox.kaazing.net",
            "Sec-WebSocket-Version: 13",
            "Origin: http://kaazing.org",
            "Sec-WebSocket-Protocol: x-kaazing-handshake",
            "Sec-WebSocket-Extensions: permessage-deflate",
            "Sec-WebSocket-Key: vf3bSlxjI9R5oosJfwM/8Q==",
            "Connection: keep-alive, Upgrade",
            "Upgrade: websocket");

        Assert.True(UpgradeRequest.TryFrom(head, out UpgradeRequest? request));

        Assert.Equal("/chat?room=1", request.Target);
        Assert.Equal("sandbox.kaazing.net", request.Host);
        Assert.Equal("vf3bSlxjI9R5oosJfwM/8Q==", request.Key);
        Assert.Equal("13", request.Version);
        Assert.Equal("x-kaazing-handshake", request.Protocol);
        Assert.Equal("http://kaazing.org", request.Origin);
        Assert.Equal("permessage-deflate", request.OfferedExtensionsText);
        Assert.Equal(["permessage-deflate"], request.Extensions.Names);
    }

    [Theory]
    [InlineData("Upgrade: websocket", "Connection: Upgrade")]
    [InlineData("Upgrade: WebSocket", "Connection: Upgrade")]
    [InlineData("upgrade: websocket", "connection: upgrade")]
    [InlineData("UPGRADE: WEBSOCKET", "CONNECTION: UPGRADE")]
    [InlineData("Upgrade: websocket", "Connection: keep-alive, Upgrade")]
    [InlineData("Upgrade: websocket", "Connection: Upgrade,keep-alive")]
    [InlineData("Upgrade: h2c, websocket", "Connection: upgrade")]
    public void TryFrom_UpgradeAndConnectionVariants_AreUpgrades(string upgrade, string connection)
    {
        HttpHead head = Request("host: example.com", upgrade, connection, "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==");

        Assert.True(UpgradeRequest.TryFrom(head, out UpgradeRequest? request));
        Assert.Equal("example.com", request.Host);
        Assert.Equal("dGhlIHNhbXBsZSBub25jZQ==", request.Key);
        Assert.Equal("", request.OfferedExtensionsText);
        Assert.Empty(request.Extensions.Items);
        Assert.Null(request.Protocol);
    }

    [Theory]
    [InlineData("Host: example.com")]
    [InlineData("Connection: Upgrade")]
    [InlineData("Upgrade: h2c", "Connection: Upgrade")]
    [InlineData("Upgrade: websockets", "Connection: Upgrade")]
    public void TryFrom_GetWithoutUpgradeWebsocket_IsNotAnUpgrade(params string[] fields)
    {
        Assert.False(UpgradeRequest.TryFrom(Request(fields), out UpgradeRequest? request));
        Assert.Null(request);
    }

    [Fact]
    public void TryFrom_ValidRequest_HasNoProblems()
    {
        HttpHead head = Request("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13");

        Assert.True(UpgradeRequest.TryFrom(head, out UpgradeRequest? request));
        Assert.Empty(request.Problems);
    }

    [Theory]
    [InlineData("no Connection: Upgrade header", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13")]
    [InlineData("a Connection header without Upgrade (\"Connection: keep-alive\")", "Upgrade: websocket", "Connection: keep-alive", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13")]
    [InlineData("no Sec-WebSocket-Key header", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13")]
    [InlineData("a Sec-WebSocket-Key that is not 16 bytes in base64 (\"c2hvcnQ=\")", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: c2hvcnQ=", "Sec-WebSocket-Version: 13")]
    [InlineData("a Sec-WebSocket-Key that is not 16 bytes in base64 (\"not base64 at all, 24 ch\")", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: not base64 at all, 24 ch", "Sec-WebSocket-Version: 13")]
    [InlineData("no Sec-WebSocket-Version header", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")]
    [InlineData("Sec-WebSocket-Version: 8 instead of 13", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 8")]
    public void TryFrom_InvalidUpgradeRequest_IsAnUpgradeNamingTheFault(string problem, params string[] fields)
    {
        Assert.True(UpgradeRequest.TryFrom(Request(fields), out UpgradeRequest? request));

        Assert.Equal([problem], request.Problems);
    }

    [Fact]
    public void TryFrom_SeveralFaults_ListsEachInRequestOrderOfChecks()
    {
        Assert.True(UpgradeRequest.TryFrom(Request("Upgrade: websocket"), out UpgradeRequest? request));

        Assert.Equal(["no Connection: Upgrade header", "no Sec-WebSocket-Key header", "no Sec-WebSocket-Version header"], request.Problems);
    }

    [Fact]
    public void TryFrom_HugeWrongVersion_IsQuotedCut()
    {
        var version = new string('9', 5000);

        Assert.True(UpgradeRequest.TryFrom(Request("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: " + version), out UpgradeRequest? request));

        Assert.Equal($"Sec-WebSocket-Version: {new string('9', 40)}... instead of 13", Assert.Single(request.Problems));
    }

    [Fact]
    public void OfferedExtensionsText_LongerThanTheCap_IsCutWithAMarker()
    {
        var line = new string('e', 1500);

        Assert.True(UpgradeRequest.TryFrom(Request("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Extensions: " + line), out UpgradeRequest? request));

        Assert.Equal(new string('e', 1024) + "...[476 more characters cut]", request.OfferedExtensionsText);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("get")]
    [InlineData("HEAD")]
    public void TryFrom_OtherMethodWithUpgradeFields_IsNotAnUpgrade(string method)
    {
        HttpHead head = Parse($"{method} /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");

        Assert.False(UpgradeRequest.TryFrom(head, out _));
    }

    [Fact]
    public void TryFrom_Response_IsNotAnUpgradeRequest()
    {
        HttpHead head = Parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");

        Assert.False(UpgradeRequest.TryFrom(head, out _));
    }

    [Fact]
    public void TryFrom_SeveralExtensionLines_JoinsTextAsSentAndParsesAll()
    {
        HttpHead head = Request(
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
            "Sec-WebSocket-Extensions: x-webkit-deflate-frame",
            "Sec-WebSocket-Protocol: chat",
            "Sec-WebSocket-Protocol: superchat");

        Assert.True(UpgradeRequest.TryFrom(head, out UpgradeRequest? request));

        Assert.Equal("permessage-deflate; client_max_window_bits, x-webkit-deflate-frame", request.OfferedExtensionsText);
        Assert.Equal(2, request.ExtensionHeaderValues.Count);
        Assert.Equal(["permessage-deflate", "x-webkit-deflate-frame"], request.Extensions.Names);
        Assert.Equal("chat, superchat", request.Protocol);
    }

    [Fact]
    public void TryFrom_ExtensionTextWithOddSpacing_IsKeptAsSent()
    {
        HttpHead head = Request(
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Extensions: permessage-deflate;client_max_window_bits ;server_no_context_takeover");

        Assert.True(UpgradeRequest.TryFrom(head, out UpgradeRequest? request));

        Assert.Equal("permessage-deflate;client_max_window_bits ;server_no_context_takeover", request.OfferedExtensionsText);
        Assert.Equal(2, request.Extensions.Items[0].Parameters.Count);
    }

    [Fact]
    public void From_SwitchingProtocols_ReadsAcceptAndExtensions()
    {
        HttpHead head = Parse(
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: T1n8SghTv5PjT/G4qZqJNm6UK3c=\r\n" +
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12\r\n" +
            "\r\n");

        UpgradeResponse response = UpgradeResponse.From(head);

        Assert.Equal(101, response.StatusCode);
        Assert.True(response.IsSwitchingProtocols);
        Assert.True(response.HasUpgradeFields);
        Assert.Equal("Switching Protocols", response.ReasonPhrase);
        Assert.True(response.AcceptMatches("Vc7O8lujVLWTE2dqdfliyw=="));
        Assert.False(response.AcceptMatches("dGhlIHNhbXBsZSBub25jZQ=="));
        Assert.Equal("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", response.AcceptedExtensionsText);
        WebSocketExtension deflate = Assert.Single(response.Extensions.Items);
        Assert.Equal(new ExtensionParameter("server_max_window_bits", "12"), deflate.Parameters[0]);
        Assert.Null(response.Protocol);
    }

    [Theory]
    [InlineData("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 403, "Forbidden")]
    [InlineData("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, "Bad Request")]
    public void From_Rejection_HasNoAcceptNorExtensions(string text, int status, string reason)
    {
        UpgradeResponse response = UpgradeResponse.From(Parse(text));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(reason, response.ReasonPhrase);
        Assert.False(response.IsSwitchingProtocols);
        Assert.False(response.HasUpgradeFields);
        Assert.Null(response.Accept);
        Assert.Equal("", response.AcceptedExtensionsText);
        Assert.Same(ExtensionList.Empty, response.Extensions);
        Assert.False(response.AcceptMatches("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Fact]
    public void From_RequestHead_GivesStatusZeroWithoutThrowing()
    {
        UpgradeResponse response = UpgradeResponse.From(Request("Upgrade: websocket"));

        Assert.Equal(0, response.StatusCode);
        Assert.False(response.IsSwitchingProtocols);
    }
}
