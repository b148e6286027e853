using System.Net.WebSockets;
using System.Text;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>A received WebSocket message (or the close), as the client application sees it.</summary>
internal readonly record struct ReceivedMessage(WebSocketMessageType Type, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);
}

/// <summary>ClientWebSocket helpers shared by the scenarios; each check throws so a bad recording is never kept.</summary>
internal static class ClientSession
{
    private const int MaxMessageBytes = 64 * 1024;

    public static ClientWebSocket Create()
    {
        var client = new ClientWebSocket();

        // Never route loopback test traffic through a proxy from the environment.
        client.Options.Proxy = null;
        client.Options.CollectHttpResponseDetails = true;

        // Zero: no unsolicited keep-alive pongs unless a scenario asks for pings.
        client.Options.KeepAliveInterval = TimeSpan.Zero;

        // wss:// scenarios: the sample server's self-signed certificate, pinned.
        client.Options.RemoteCertificateValidationCallback = static (_, certificate, _, _) => SampleServer.IsLoopbackCertificate(certificate);
        return client;
    }

    public static Task SendTextAsync(WebSocket webSocket, string text, CancellationToken cancellationToken) =>
        webSocket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    public static async Task<ReceivedMessage> ReceiveAsync(WebSocket webSocket, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxMessageBytes];
        int length = 0;
        WebSocketReceiveResult result;
        do
        {
            if (length == buffer.Length)
            {
                throw new InvalidOperationException("Message larger than the scenario expects.");
            }

            result = await webSocket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), cancellationToken).ConfigureAwait(false);
            length += result.Count;
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

        return new ReceivedMessage(result.MessageType, buffer.AsSpan(0, length).ToArray());
    }

    public static async Task ExpectEchoAsync(WebSocket webSocket, WebSocketMessageType type, ReadOnlyMemory<byte> sent, CancellationToken cancellationToken)
    {
        ReceivedMessage echo = await ReceiveAsync(webSocket, cancellationToken).ConfigureAwait(false);
        if (echo.Type != type || !echo.Payload.AsSpan().SequenceEqual(sent.Span))
        {
            throw new InvalidOperationException($"Expected a {type} echo of {sent.Length} bytes, got {echo.Type} of {echo.Payload.Length} bytes.");
        }
    }

    public static async Task SendAndExpectEchoAsync(WebSocket webSocket, string text, CancellationToken cancellationToken)
    {
        await SendTextAsync(webSocket, text, cancellationToken).ConfigureAwait(false);
        await ExpectEchoAsync(webSocket, WebSocketMessageType.Text, Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
    }

    public static async Task SendAndExpectEchoAsync(WebSocket webSocket, byte[] data, CancellationToken cancellationToken)
    {
        await webSocket.SendAsync(data, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        await ExpectEchoAsync(webSocket, WebSocketMessageType.Binary, data, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The server's Sec-WebSocket-Extensions from the 101 response, empty if it sent none.</summary>
    public static string AcceptedExtensions(ClientWebSocket client)
    {
        IReadOnlyDictionary<string, IEnumerable<string>>? headers = client.HttpResponseHeaders;
        if (headers is null)
        {
            return string.Empty;
        }

        return string.Join(", ", headers
            .Where(h => string.Equals(h.Key, "Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase))
            .SelectMany(h => h.Value));
    }

    /// <summary>Reacts to the server's close frame the way RFC 6455 section 5.5.1 asks: echo its status code.</summary>
    public static async Task EchoServerCloseAsync(WebSocket webSocket, WebSocketCloseStatus expected, CancellationToken cancellationToken)
    {
        ReceivedMessage message = await ReceiveAsync(webSocket, cancellationToken).ConfigureAwait(false);
        if (message.Type != WebSocketMessageType.Close || webSocket.CloseStatus != expected)
        {
            throw new InvalidOperationException($"Expected a close {(int)expected} from the server, got {message.Type} {(int?)webSocket.CloseStatus}.");
        }

        await webSocket.CloseOutputAsync(expected, webSocket.CloseStatusDescription, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Client-initiated close; the server's echo must carry the same code.</summary>
    public static async Task CloseAndExpectEchoAsync(WebSocket webSocket, WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        await webSocket.CloseAsync(status, reason, cancellationToken).ConfigureAwait(false);
        if (webSocket.CloseStatus != status)
        {
            throw new InvalidOperationException($"Server replied to close {(int)status} with {(int?)webSocket.CloseStatus}.");
        }
    }
}
