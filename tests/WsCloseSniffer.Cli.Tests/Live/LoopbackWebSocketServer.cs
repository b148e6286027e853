using System.Net;
using System.Net.WebSockets;
using System.Text;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WsCloseSniffer.Tests.Live;

/// <summary>
/// A Kestrel WebSocket server on one loopback address and an ephemeral port. Every path echoes each
/// message; <see cref="DeflatePath"/> accepts permessage-deflate; on <see cref="ServerClosePath"/> the text
/// message "logout" makes the server close with 1000. Started once per test, disposed at its end.
/// </summary>
internal sealed class LoopbackWebSocketServer : IAsyncDisposable
{
    public const string EchoPath = "/echo";
    public const string DeflatePath = "/echo-deflate";
    public const string ServerClosePath = "/server-close";

    // Echoed messages are a few hundred bytes; the bound keeps a broken test from growing a buffer.
    private const int MaxMessageBytes = 16 * 1024;

    private readonly WebApplication _app;

    private LoopbackWebSocketServer(WebApplication app)
    {
        _app = app;
    }

    public IPAddress Address { get; private set; } = IPAddress.None;

    public int Port { get; private set; }

    public Uri UriFor(string path) => new($"ws://{new IPEndPoint(Address, Port)}{path}");

    public static async Task<LoopbackWebSocketServer> StartAsync(IPAddress address)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options => options.Listen(address, 0));
        var app = builder.Build();

        // No unsolicited pings: frame counts must not depend on timing.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Run(HandleAsync);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await app.StartAsync(timeout.Token);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new LoopbackWebSocketServer(app) { Address = address, Port = new Uri(url).Port };
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    private static async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        string path = context.Request.Path.Value ?? string.Empty;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            using var webSocket = await context.WebSockets.AcceptWebSocketAsync(
                new WebSocketAcceptContext { DangerousEnableCompression = path == DeflatePath });
            await EchoAsync(webSocket, closeOnLogout: path == ServerClosePath, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The abort scenario ends here: the client went away without a close frame.
        }
    }

    private static async Task EchoAsync(WebSocket webSocket, bool closeOnLogout, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxMessageBytes];
        while (true)
        {
            int length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await webSocket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close && length < buffer.Length);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                // RFC 6455 section 5.5.1: answer a close with a close carrying the same code.
                await webSocket.CloseOutputAsync(webSocket.CloseStatus ?? WebSocketCloseStatus.Empty, webSocket.CloseStatusDescription, cancellationToken);
                return;
            }

            if (closeOnLogout && result.MessageType == WebSocketMessageType.Text && Encoding.UTF8.GetString(buffer, 0, length) == "logout")
            {
                await webSocket.CloseAsync(WebSocketCloseStatus.NormalClosure, "logged out", cancellationToken);
                return;
            }

            await webSocket.SendAsync(buffer.AsMemory(0, length), result.MessageType, endOfMessage: true, cancellationToken);
        }
    }
}
