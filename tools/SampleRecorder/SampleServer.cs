using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>
/// What the server does on one path. Every path echoes each complete message back as one frame;
/// a path with a <see cref="CloseTrigger"/> starts the close handshake itself when that text message arrives.
/// </summary>
internal sealed record ServerBehavior(
    bool EnableCompression,
    string? CloseTrigger = null,
    WebSocketCloseStatus CloseStatus = WebSocketCloseStatus.NormalClosure,
    string? CloseReason = null,
    TimeSpan? PingInterval = null,
    TimeSpan? PongTimeout = null);

/// <summary>
/// A Kestrel server on one loopback address and an ephemeral port, started once per scenario.
/// </summary>
internal sealed class SampleServer : IAsyncDisposable
{
    public const string EchoPath = "/echo";
    public const string EchoDeflatePath = "/echo-deflate";
    public const string ServerClosePath = "/server-close";
    public const string GoingAwayPath = "/going-away";
    public const string ApplicationClosePath = "/app-close";
    public const string ForbiddenPath = "/forbidden";
    public const string ChunkedConfigPath = "/config";
    public const string PingTimeoutPath = "/echo-ping-timeout";

    // Echoed messages are small; a bound keeps a misbehaving client from growing the buffer.
    private const int MaxMessageBytes = 64 * 1024;

    private static readonly Dictionary<string, ServerBehavior> s_behaviors = new(StringComparer.Ordinal)
    {
        [EchoPath] = new(EnableCompression: false),
        [EchoDeflatePath] = new(EnableCompression: true),
        [ServerClosePath] = new(false, "logout", WebSocketCloseStatus.NormalClosure, "done"),
        [GoingAwayPath] = new(false, "shutdown", WebSocketCloseStatus.EndpointUnavailable, "server shutting down"),
        [ApplicationClosePath] = new(false, "expire-session", (WebSocketCloseStatus)4000, "session expired"),

        // Pings every second; no pong within a second aborts the connection (ASP.NET Core's KeepAliveTimeout).
        [PingTimeoutPath] = new(false, PingInterval: TimeSpan.FromSeconds(1), PongTimeout: TimeSpan.FromSeconds(1)),
    };

    // Self-signed, made once per run: the key never leaves the process, and the captures' keys are in the key log anyway.
    private static readonly Lazy<X509Certificate2> LoopbackCertificate = new(CreateLoopbackCertificate);

    private readonly WebApplication _app;
    private readonly TimeSpan _sessionTimeout;
    private readonly TaskCompletionSource<string> _sessionEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleServer(WebApplication app, TimeSpan sessionTimeout)
    {
        _app = app;
        _sessionTimeout = sessionTimeout;
    }

    public int Port { get; private set; }

    /// <summary>Completes with a short outcome text when the server has finished its (single) session.</summary>
    public Task<string> SessionEnded => _sessionEnded.Task;

    public static async Task<SampleServer> StartAsync(IPAddress address, TimeSpan sessionTimeout, TlsSetup? tls, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options =>
        {
            // Fewer varying bytes in the 101/403 responses; the Date header cannot be turned off.
            options.AddServerHeader = false;

            // Room for a handshake larger than the analyzer's 64 KiB head cap (Kestrel's default is 32 KiB).
            options.Limits.MaxRequestHeadersTotalSize = 256 * 1024;
            options.Limits.MaxRequestHeaderCount = 4096;
            options.Listen(address, 0, listen =>
            {
                if (tls is not null)
                {
                    listen.Protocols = tls.Http2 ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = LoopbackCertificate.Value;
                        https.SslProtocols = tls.Protocol;
                        https.OnAuthenticate = (_, ssl) =>
                        {
                            // One suite per recording, so each capture shows the suite its name says.
                            ssl.CipherSuitesPolicy = OperatingSystem.IsLinux()
                                ? new CipherSuitesPolicy([tls.CipherSuite])
                                : throw new PlatformNotSupportedException("The wss:// samples pick their cipher suite with CipherSuitesPolicy (Linux).");
                            ssl.ApplicationProtocols = tls.Http2 ? [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11] : [SslApplicationProtocol.Http11];
                        };
                    });
                }
            });
        });

        WebApplication app = builder.Build();
        var server = new SampleServer(app, sessionTimeout);

        app.Use(async (context, next) =>
        {
            if (context.Request.Path == ForbiddenPath)
            {
                // An authorization layer in front of the WebSocket endpoint refusing the upgrade.
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                server._sessionEnded.TrySetResult("rejected with 403");
                return;
            }

            if (context.Request.Path == ChunkedConfigPath)
            {
                // A plain JSON answer written in two flushed pieces without Content-Length: Kestrel sends it chunked.
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"channel\":", context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                await context.Response.WriteAsync("\"/echo\"}", context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });

        // Zero: no unsolicited keep-alive frames from the server, so frame counts do not depend on timing.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Run(server.HandleAsync);

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Single()
            ?? throw new InvalidOperationException("Kestrel did not report its listening address.");
        server.Port = new Uri(url).Port;
        return server;
    }

    /// <summary>Certificate pinning for the scenarios' clients: the one certificate this run made.</summary>
    public static bool IsLoopbackCertificate(X509Certificate? certificate) =>
        certificate is not null && certificate.GetCertHashString() == LoopbackCertificate.Value.GetCertHashString();

    private static X509Certificate2 CreateLoopbackCertificate()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        // Round trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }

    private static bool IsFaultyUpgrade(HttpRequest request, out int status)
    {
        status = 0;
        if (!request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string version = request.Headers.SecWebSocketVersion.ToString();
        status = version.Length > 0 && version != "13" ? StatusCodes.Status400BadRequest : StatusCodes.Status426UpgradeRequired;
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest && IsFaultyUpgrade(context.Request, out int status))
        {
            // What a strict server answers an upgrade that breaks RFC 6455 section 4.1 (section 4.4: name the version
            // it speaks); Kestrel's middleware only says the request is not a WebSocket request.
            context.Response.StatusCode = status;
            context.Response.Headers["Sec-WebSocket-Version"] = "13";
            _sessionEnded.TrySetResult($"refused with {status}");
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest
            || !s_behaviors.TryGetValue(context.Request.Path.Value ?? string.Empty, out ServerBehavior? behavior))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            _sessionEnded.TrySetResult("not found");
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(_sessionTimeout);
        try
        {
            var accept = new WebSocketAcceptContext { DangerousEnableCompression = behavior.EnableCompression };
            if (behavior.PingInterval is TimeSpan interval)
            {
                accept.KeepAliveInterval = interval;
                accept.KeepAliveTimeout = behavior.PongTimeout;
            }

            using WebSocket webSocket = await context.WebSockets.AcceptWebSocketAsync(accept).ConfigureAwait(false);
            string outcome = await RunSessionAsync(webSocket, behavior, timeout.Token).ConfigureAwait(false);
            _sessionEnded.TrySetResult(outcome);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The abnormal scenario ends here: the peer reset the connection without a close frame.
            _sessionEnded.TrySetResult($"aborted ({ex.GetType().Name})");
        }
    }

    private static async Task<string> RunSessionAsync(WebSocket webSocket, ServerBehavior behavior, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxMessageBytes];
        while (true)
        {
            int length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == buffer.Length)
                {
                    await webSocket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "too big", cancellationToken).ConfigureAwait(false);
                    return "closed 1009";
                }

                result = await webSocket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                // RFC 6455 section 5.5.1: answer a close with a close, echoing the status code.
                WebSocketCloseStatus status = webSocket.CloseStatus ?? WebSocketCloseStatus.Empty;
                await webSocket.CloseOutputAsync(status, webSocket.CloseStatusDescription, cancellationToken).ConfigureAwait(false);
                return $"echoed close {(int)status}";
            }

            if (behavior.CloseTrigger is not null
                && result.MessageType == WebSocketMessageType.Text
                && buffer.AsSpan(0, length).SequenceEqual(System.Text.Encoding.UTF8.GetBytes(behavior.CloseTrigger)))
            {
                await webSocket.CloseAsync(behavior.CloseStatus, behavior.CloseReason, cancellationToken).ConfigureAwait(false);
                return $"initiated close {(int)behavior.CloseStatus}, reply {(int?)webSocket.CloseStatus}";
            }

            await webSocket.SendAsync(buffer.AsMemory(0, length), result.MessageType, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
    }
}
