using System.Net.WebSockets;
using System.Text;

namespace WsCloseSniffer.Tests.Live;

/// <summary>One client behaviour and the session the report must show for it.</summary>
internal sealed record ClientScenario(
    string Name,
    string Path,
    Func<Uri, CancellationToken, Task> RunAsync,
    string? CloseInitiator,
    int? CloseCode,
    string Classification,
    bool OffersDeflate,
    bool AcceptsDeflate);

/// <summary>ClientWebSocket driven through the issue's scenarios against <see cref="LoopbackWebSocketServer"/>.</summary>
internal static class WebSocketClientScenarios
{
    public static IReadOnlyList<ClientScenario> All { get; } =
    [
        new("client closes 1000", LoopbackWebSocketServer.EchoPath, ClientCloseAsync, "client", 1000, "normal_closure", false, false),
        new("server closes 1000", LoopbackWebSocketServer.ServerClosePath, ServerCloseAsync, "server", 1000, "normal_closure", false, false),
        new("client requires deflate, 1010", LoopbackWebSocketServer.EchoPath, MandatoryExtensionAsync, "client", 1010, "mandatory_extension", true, false),
        new("deflate negotiated, 1000", LoopbackWebSocketServer.DeflatePath, DeflateAsync, "client", 1000, "normal_closure", true, true),
        new("client aborts", LoopbackWebSocketServer.EchoPath, AbortAsync, null, null, "abnormal_closure", false, false),
    ];

    public static ClientWebSocket Create()
    {
        var client = new ClientWebSocket();

        // Loopback test traffic never goes through a proxy from the environment; no timed pings.
        client.Options.Proxy = null;
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.CollectHttpResponseDetails = true;
        return client;
    }

    public static async Task SendAndExpectEchoAsync(WebSocket webSocket, string text, CancellationToken cancellationToken)
    {
        await webSocket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var (type, payload) = await ReceiveAsync(webSocket, cancellationToken);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal(text, payload);
    }

    private static async Task<(WebSocketMessageType Type, string Payload)> ReceiveAsync(WebSocket webSocket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await webSocket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            length += result.Count;
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

        return (result.MessageType, Encoding.UTF8.GetString(buffer, 0, length));
    }

    private static async Task ClientCloseAsync(Uri server, CancellationToken cancellationToken)
    {
        using var client = Create();
        await client.ConnectAsync(server, cancellationToken);
        await SendAndExpectEchoAsync(client, "hello", cancellationToken);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }

    private static async Task ServerCloseAsync(Uri server, CancellationToken cancellationToken)
    {
        using var client = Create();
        await client.ConnectAsync(server, cancellationToken);
        await SendAndExpectEchoAsync(client, "hello", cancellationToken);
        await client.SendAsync("logout"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var (type, _) = await ReceiveAsync(client, cancellationToken);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);

        // RFC 6455 section 5.5.1: the client answers the server's close with the same code.
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", cancellationToken);
    }

    private static async Task MandatoryExtensionAsync(Uri server, CancellationToken cancellationToken)
    {
        // An application that cannot work without compression leaves with 1010 (RFC 6455 section 7.4.1)
        // when the server's 101 does not accept permessage-deflate.
        using var client = Create();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        await client.ConnectAsync(server, cancellationToken);
        Assert.DoesNotContain("permessage-deflate", AcceptedExtensions(client), StringComparison.OrdinalIgnoreCase);
        await client.CloseAsync(WebSocketCloseStatus.MandatoryExtension, "permessage-deflate", cancellationToken);
        Assert.Equal(WebSocketCloseStatus.MandatoryExtension, client.CloseStatus);
    }

    private static async Task DeflateAsync(Uri server, CancellationToken cancellationToken)
    {
        using var client = Create();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        await client.ConnectAsync(server, cancellationToken);
        Assert.Contains("permessage-deflate", AcceptedExtensions(client), StringComparison.OrdinalIgnoreCase);
        for (int sequence = 1; sequence <= 3; sequence++)
        {
            await SendAndExpectEchoAsync(client, $"{{\"seq\":{sequence},\"data\":\"{new string('a', 200)}\"}}", cancellationToken);
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
    }

    private static async Task AbortAsync(Uri server, CancellationToken cancellationToken)
    {
        using var client = Create();
        await client.ConnectAsync(server, cancellationToken);
        await SendAndExpectEchoAsync(client, "hello", cancellationToken);

        // A crashing client: the connection goes away with no close frame.
        client.Abort();
    }

    private static string AcceptedExtensions(ClientWebSocket client) =>
        client.HttpResponseHeaders is { } headers
            ? string.Join(", ", headers.Where(h => string.Equals(h.Key, "Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase)).SelectMany(h => h.Value))
            : string.Empty;
}
