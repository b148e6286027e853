using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Text;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>What a scenario's client needs: where the server is, and when the server is done.</summary>
internal sealed class ScenarioContext(IPEndPoint server, string path, Task<string> serverSessionEnded, TlsSetup? tls, Func<CancellationToken, Task>? startCapture = null)
{
    public IPEndPoint Server { get; } = server;

    public Uri Uri { get; } = new($"{(tls is null ? "ws" : "wss")}://{server}{path}");

    public TlsSetup? Tls { get; } = tls;

    public string Path { get; } = path;

    /// <summary>
    /// For a scenario recorded from the middle of its session (<see cref="Scenario.CaptureStartsLater"/>): the capture
    /// starts now, as when a user starts tcpdump on a connection that is already open. A no-op for the others.
    /// </summary>
    public Task StartCaptureAsync(CancellationToken cancellationToken) => startCapture?.Invoke(cancellationToken) ?? Task.CompletedTask;

    /// <summary>
    /// Waits until the server's handler returned (Kestrel then closes the connection), so the server's FIN
    /// comes first as RFC 6455 section 7.1.1 recommends, before the client disposes its socket.
    /// </summary>
    public async Task WaitForServerAsync(CancellationToken cancellationToken)
    {
        await serverSessionEnded.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Task.Delay(Scenarios.ServerFinGraceMilliseconds, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// One recording: a server path on one loopback address, and the client application's behaviour. With
/// <paramref name="ProxyIdleTimeout"/> the client goes through an <see cref="IdleTimeoutProxy"/> (both legs are
/// captured); with <paramref name="PythonServerScript"/> it talks to that python-websockets server instead of Kestrel.
/// </summary>
internal sealed record Scenario(
    string FileName,
    IPAddress Address,
    string Path,
    Func<ScenarioContext, CancellationToken, Task> RunClientAsync,
    TlsSetup? Tls = null,
    bool ServerSessionExpected = true,
    TimeSpan? ProxyIdleTimeout = null,
    string? PythonServerScript = null,
    string? RotatedCopyDirectory = null,
    int SnapLengthBytes = LoopbackCapture.DefaultSnapLengthBytes,
    bool CaptureStartsLater = false);

/// <summary>
/// A wss:// recording: the protocol version and, on Linux, the one cipher suite the server allows; with
/// <paramref name="Http2"/> the server offers h2 (ALPN) and the client asks for WebSocket over HTTP/2 (RFC 8441).
/// </summary>
internal sealed record TlsSetup(SslProtocols Protocol, TlsCipherSuite CipherSuite, bool Http2 = false);

/// <summary>The recorded scenarios, in file order. Messages are fixed so the captures differ only in timestamps, ports, keys and masks.</summary>
internal static class Scenarios
{
    public const int ServerFinGraceMilliseconds = 100;

    // Scenario 07: pings every 250 ms over a 650 ms idle period gives two ping/pong pairs with 100 ms of slack.
    private static readonly TimeSpan s_keepAliveInterval = TimeSpan.FromMilliseconds(250);
    private const int IdleWithPingsMilliseconds = 650;

    // Scenarios 35 and 36: a proxy that cuts connections idle for 3 s, and clients idle past it.
    private static readonly TimeSpan s_proxyIdleTimeout = TimeSpan.FromSeconds(3);
    private const int IdleClients = 3;
    private const int PastProxyTimeoutMilliseconds = 4500;

    // Scenario 39: past the sample server's 64 KiB receive limit.
    private const int LargeMessageBytes = 100_000;

    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("01-client-close-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, ClientCloseNormalAsync),
        new("02-server-close-1000.pcap", IPAddress.Loopback, SampleServer.ServerClosePath, ServerCloseNormalAsync),
        new("03-mandatory-extension-1010.pcap", IPAddress.Loopback, SampleServer.EchoPath, MandatoryExtensionAsync),
        new("04-deflate-1000.pcap", IPAddress.Loopback, SampleServer.EchoDeflatePath, DeflateAsync),
        new("05-abnormal-rst.pcap", IPAddress.Loopback, SampleServer.EchoPath, AbnormalResetAsync),
        new("06-rejected-403.pcap", IPAddress.Loopback, SampleServer.ForbiddenPath, RejectedAsync),
        new("07-ipv6-going-away-1001.pcap", IPAddress.IPv6Loopback, SampleServer.GoingAwayPath, IPv6GoingAwayAsync),
        new("08-application-close-4000.pcap", IPAddress.Loopback, SampleServer.ApplicationClosePath, ApplicationCloseAsync),
        new("09-fragmented-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, FragmentedAsync),
        new("10-rejected-426-no-connection.pcap", IPAddress.Loopback, SampleServer.EchoPath, NoConnectionHeaderAsync),
        new("11-rejected-400-version-8.pcap", IPAddress.Loopback, SampleServer.EchoPath, WrongVersionAsync),
        new("12-upgrade-after-chunked-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, UpgradeAfterChunkedAsync),
        new("13-huge-offer-rst.pcap", IPAddress.Loopback, SampleServer.EchoPath, HugeOfferAsync),

        // Captured as with tcpdump -s 96: each packet cut to its first 96 bytes (30 bytes of TCP payload on lo).
        new("14-snaplen-96-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, SnapLengthSessionAsync, SnapLengthBytes: 96),

        // Captures started on connections that were already open: no handshake in the file.
        new("15-midstream-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, MidStreamAsync, CaptureStartsLater: true),
        new("16-midstream-close-only-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, MidStreamCloseOnlyAsync, CaptureStartsLater: true),
        // Recorded whole, then fragmented by tools/fragment-pcap.py (Program.cs): 17 at an MTU of 1,500, 18 at
        // IPv6's minimum of 1,280; 19 is 17's recording with each packet's fragments last first, some twice.
        new("17-ipv4-fragments-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, LargeMessagesAsync),
        new("18-ipv6-fragments-1000.pcap", IPAddress.IPv6Loopback, SampleServer.EchoPath, LargeMessagesAsync),

        // Why sessions end: idle timeouts, keepalive ping timeouts, message size limits.
        new("35-idle-proxy-cut-rst.pcap", IPAddress.Loopback, SampleServer.EchoPath, IdleUntilCutAsync, ProxyIdleTimeout: s_proxyIdleTimeout),
        new("36-idle-proxy-pings-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, PingsThroughIdleProxyAsync, ProxyIdleTimeout: s_proxyIdleTimeout),
        new("37-kestrel-ping-timeout-abort.pcap", IPAddress.Loopback, SampleServer.PingTimeoutPath, NeverAnswerPingsAsync),
        new("38-python-ping-timeout-1011.pcap", IPAddress.Loopback, "/", NeverAnswerPingsAsync,
            ServerSessionExpected: false, PythonServerScript: "ping_timeout_server.py"),
        new("39-message-too-big-1009.pcap", IPAddress.Loopback, SampleServer.EchoPath, MessageTooBigAsync),


        // wss://: keys logged by .NET itself (SSLKEYLOGFILE) into wss.keylog beside the captures.
        new("20-wss-tls13-aes128gcm-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, ClientCloseNormalAsync,
            new(SslProtocols.Tls13, TlsCipherSuite.TLS_AES_128_GCM_SHA256)),
        new("21-wss-tls13-aes256gcm-1010.pcap", IPAddress.Loopback, SampleServer.EchoPath, MandatoryExtensionAsync,
            new(SslProtocols.Tls13, TlsCipherSuite.TLS_AES_256_GCM_SHA384)),
        new("22-wss-tls13-chacha20-rst.pcap", IPAddress.Loopback, SampleServer.EchoPath, AbnormalResetAsync,
            new(SslProtocols.Tls13, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256)),
        new("23-wss-tls12-aes128gcm-1000.pcap", IPAddress.Loopback, SampleServer.ServerClosePath, ServerCloseNormalAsync,
            new(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)),
        new("24-wss-tls12-aes256gcm-1010.pcap", IPAddress.Loopback, SampleServer.EchoPath, MandatoryExtensionAsync,
            new(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)),
        new("25-wss-tls12-chacha20-rst.pcap", IPAddress.Loopback, SampleServer.EchoPath, AbnormalResetAsync,
            new(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)),

        // 26 is made from 20 by editcap (a pcapng carrying its secrets).
        new("27-wss-tls12-unknown-ca-alert.pcap", IPAddress.Loopback, SampleServer.EchoPath, OpenSslVerifyingClientAsync,
            new(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), ServerSessionExpected: false),
        new("28-wss-tls13-untrusted-certificate.pcap", IPAddress.Loopback, SampleServer.EchoPath, UntrustedCertificateAsync,
            new(SslProtocols.Tls13, TlsCipherSuite.TLS_AES_128_GCM_SHA256), ServerSessionExpected: false),
        new("29-wss-h2-tls13-1000.pcap", IPAddress.Loopback, SampleServer.EchoPath, Http2CloseNormalAsync,
            new(SslProtocols.Tls13, TlsCipherSuite.TLS_AES_128_GCM_SHA256, Http2: true)),

        // permessage-deflate with the window sizes and context takeover .NET's client asks for; Kestrel agrees.
        new("30-deflate-window9-no-takeover-1000.pcap", IPAddress.Loopback, SampleServer.EchoDeflatePath,
            (context, cancellationToken) => DeflateWindowAsync(context, windowBits: 9, clientTakeover: false, serverTakeover: false, cancellationToken)),
        new("31-deflate-window15-takeover-1000.pcap", IPAddress.Loopback, SampleServer.EchoDeflatePath,
            (context, cancellationToken) => DeflateWindowAsync(context, windowBits: 15, clientTakeover: true, serverTakeover: true, cancellationToken)),
        new("32-deflate-corrupt-frame-rst.pcap", IPAddress.Loopback, SampleServer.EchoDeflatePath, CorruptCompressedFrameAsync),
        new("33-deflate-invalid-utf8-rst.pcap", IPAddress.Loopback, SampleServer.EchoDeflatePath, CompressedInvalidUtf8Async),
        new("34-deflate-window11-server-no-takeover-1000.pcap", IPAddress.Loopback, SampleServer.EchoDeflatePath,
            (context, cancellationToken) => DeflateWindowAsync(context, windowBits: 11, clientTakeover: true, serverTakeover: false, cancellationToken)),
        // The same faults against python-websockets, which answers them with close frames where Kestrel resets.
        new("42-python-deflate-corrupt-1002.pcap", IPAddress.Loopback, "/", PythonCorruptCompressedFrameAsync,
            ServerSessionExpected: false, PythonServerScript: "deflate_echo_server.py"),
        new("43-python-deflate-invalid-utf8-1007.pcap", IPAddress.Loopback, "/", PythonCompressedInvalidUtf8Async,
            ServerSessionExpected: false, PythonServerScript: "deflate_echo_server.py"),
        // One session over three seconds, recorded twice at once: whole by the recorder, and by tcpdump -G 1 cut
        // into one file per second (40-rotated-1000/).
        new("41-rotated-1000-whole.pcap", IPAddress.Loopback, SampleServer.EchoPath, LongClientCloseNormalAsync,
            RotatedCopyDirectory: "40-rotated-1000"),
    ];

    // The same 1,500 seeded-random letters in every message: with context takeover and a window that reaches back
    // (zlib's reach is the window less 262 bytes: 1,786 for 11 bits) the later messages shrink to references into the
    // first; without it each is compressed on its own.
    private static readonly string s_deflatePayload = DeflatePayload();

    private static string DeflatePayload()
    {
#pragma warning disable CA5394 // A fixed seed for repeatable sample content, not security.
        var random = new Random(7);
        return new string([.. Enumerable.Range(0, 1500).Select(_ => (char)('a' + random.Next(23)))]);
#pragma warning restore CA5394
    }

    private static async Task DeflateWindowAsync(ScenarioContext context, int windowBits, bool clientTakeover, bool serverTakeover, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions
        {
            ClientMaxWindowBits = windowBits,
            ServerMaxWindowBits = windowBits,
            ClientContextTakeover = clientTakeover,
            ServerContextTakeover = serverTakeover,
        };
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);

        string accepted = ClientSession.AcceptedExtensions(client);
        if (!accepted.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase)
            || (!serverTakeover && !accepted.Contains("server_no_context_takeover", StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"The server was expected to accept the offered permessage-deflate parameters, accepted '{accepted}'.");
        }

        for (int sequence = 1; sequence <= 3; sequence++)
        {
            await ClientSession.SendAndExpectEchoAsync(client, $"{{\"seq\":{sequence},\"data\":\"{s_deflatePayload}\"}}", cancellationToken).ConfigureAwait(false);
        }

        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // A client whose compressor emits a broken block: a real compressed "hello" with its block type set to the
    // reserved 11 (RFC 1951 3.2.3). What Kestrel answers is recorded as it comes.
    private static async Task CorruptCompressedFrameAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        int? code = await RawWebSocketClient.CompressedFrameThenCloseAsync(context.Server, context.Path, CorruptDeflate(), cancellationToken).ConfigureAwait(false);
        if (code is not null)
        {
            throw new InvalidOperationException($"Kestrel was seen to reset the connection; it sent close {code} this time: rename the sample.");
        }

        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static byte[] CorruptDeflate()
    {
        using var output = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write("hello hello hello"u8);
            deflate.Flush();
        }

        byte[] data = output.ToArray();
        data[0] |= 0x06;
        return data[..^4];
    }

    // A client that sends bytes that are not UTF-8 as a compressed text message (.NET does not check what it sends).
    // Kestrel was seen to reset the connection without a close frame (no 1007).
    private static async Task CompressedInvalidUtf8Async(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "valid first", cancellationToken).ConfigureAwait(false);

        byte[] invalid = [.. "caf"u8, 0xC3, 0x28, .. " au lait"u8];
        await client.SendAsync(invalid, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        try
        {
            ReceivedMessage answer = await ClientSession.ReceiveAsync(client, cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"Kestrel was seen to reset the connection; it sent {answer.Type} {(int?)client.CloseStatus} this time: rename the sample.");
        }
        catch (WebSocketException)
        {
            // The reset.
        }

        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // The corrupt block of scenario 32 sent to python-websockets: zlib cannot inflate it, and the server fails the
    // connection with close 1002 (protocol error) and its FIN; the client echoes the close and waits for that FIN.
    private static async Task PythonCorruptCompressedFrameAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        int? code = await RawWebSocketClient.CompressedFrameThenCloseAsync(context.Server, context.Path, CorruptDeflate(), cancellationToken).ConfigureAwait(false);
        if (code != (int)WebSocketCloseStatus.ProtocolError)
        {
            throw new InvalidOperationException($"python-websockets was seen to close with 1002; it answered {code?.ToString(CultureInfo.InvariantCulture) ?? "without a close frame"} this time: rename the sample.");
        }
    }

    // Scenario 33's messages sent to python-websockets: the second inflates to bytes that are not UTF-8, and the
    // server fails the connection with close 1007 (invalid payload data), then its FIN; the client echoes the close.
    private static async Task PythonCompressedInvalidUtf8Async(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        if (!ClientSession.AcceptedExtensions(client).Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("python-websockets was expected to accept permessage-deflate.");
        }

        await ClientSession.SendAndExpectEchoAsync(client, "valid first", cancellationToken).ConfigureAwait(false);
        byte[] invalid = [.. "caf"u8, 0xC3, 0x28, .. " au lait"u8];
        await client.SendAsync(invalid, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        await ClientSession.EchoServerCloseAsync(client, WebSocketCloseStatus.InvalidPayloadData, cancellationToken).ConfigureAwait(false);

        // python-websockets sends its FIN right after its close frame; this leaves it time to arrive before the client's.
        await Task.Delay(ServerFinGraceMilliseconds, cancellationToken).ConfigureAwait(false);
    }

    // Clients that open a session each and then wait for messages that never come, without keepalive pings: the
    // proxy's idle timeout resets every connection, each 3 s after its 101.
    private static async Task IdleUntilCutAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var clients = new List<ClientWebSocket>();
        try
        {
            for (int i = 0; i < IdleClients; i++)
            {
                ClientWebSocket client = ClientSession.Create();
                clients.Add(client);
                await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
            }

            await Task.WhenAll(clients.Select(client => ExpectCutAsync(client, cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            foreach (ClientWebSocket client in clients)
            {
                client.Dispose();
            }
        }

        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExpectCutAsync(ClientWebSocket client, CancellationToken cancellationToken)
    {
        try
        {
            ReceivedMessage message = await ClientSession.ReceiveAsync(client, cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"Expected the proxy to cut the idle connection, got a {message.Type} message.");
        }
        catch (WebSocketException)
        {
            // ConnectionClosedPrematurely: the reset, as the application sees it.
        }
    }

    // The same proxy, but the client pings every second (and Kestrel answers): the session outlives the 3 s idle
    // timeout and closes normally.
    private static async Task PingsThroughIdleProxyAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        client.Options.KeepAliveInterval = TimeSpan.FromSeconds(1);
        client.Options.KeepAliveTimeout = TimeSpan.FromSeconds(2);
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "hello", cancellationToken).ConfigureAwait(false);

        // No message for longer than the proxy's idle timeout: only the pings and pongs cross it. A receive stays
        // pending meanwhile, since .NET takes in pongs only while one is (without, its KeepAliveTimeout aborts);
        // it completes with the echo of the message sent after the wait.
        Task<ReceivedMessage> echo = ClientSession.ReceiveAsync(client, cancellationToken);
        await Task.Delay(PastProxyTimeoutMilliseconds, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendTextAsync(client, "still there?", cancellationToken).ConfigureAwait(false);
        if ((await echo.ConfigureAwait(false)).Text != "still there?")
        {
            throw new InvalidOperationException("Expected the echo of the message sent after the idle time.");
        }

        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // A client whose application is stuck (a blocked event loop): it reads nothing and so answers no ping. Kestrel
    // (KeepAliveTimeout) aborts the connection; python-websockets closes with 1011 "keepalive ping timeout".
    private static async Task NeverAnswerPingsAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        await RawWebSocketClient.HandshakeAndIgnoreAsync(context.Server, context.Path, cancellationToken).ConfigureAwait(false);
    }

    // A client sending a message larger than the server's 64 KiB receive limit: the server closes with 1009.
    private static async Task MessageTooBigAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "hello", cancellationToken).ConfigureAwait(false);
        byte[] large = [.. Enumerable.Range(0, LargeMessageBytes).Select(i => (byte)i)];
        await client.SendAsync(large, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        await ClientSession.EchoServerCloseAsync(client, WebSocketCloseStatus.MessageTooBig, cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // A client offering 1,500 extension variants: a 100 KiB request head, past the analyzer's 64 KiB cap.
    private static async Task HugeOfferAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        var offers = new StringBuilder();
        for (int i = 0; i < 1500; i++)
        {
            offers.Append("Sec-WebSocket-Extensions: x-variant-").Append(i).Append("; client_max_window_bits=15\r\n");
        }

        await RawWebSocketClient.HandshakeEchoAndResetAsync(context.Server, context.Path, tls: null, cancellationToken, offers.ToString()).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // A client that fetches its configuration and then upgrades on the same kept-alive connection.
    private static async Task UpgradeAfterChunkedAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        await RawWebSocketClient.ChunkedThenUpgradeAsync(context.Server, SampleServer.ChunkedConfigPath, context.Path, cancellationToken).ConfigureAwait(false);
    }

    // A client (or a proxy that drops hop-by-hop headers) that leaves out Connection: Upgrade.
    private static Task NoConnectionHeaderAsync(ScenarioContext context, CancellationToken cancellationToken) =>
        RawWebSocketClient.FaultyUpgradeAsync(
            context.Server,
            context.Path,
            "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
            426,
            cancellationToken);

    // An old client speaking draft hybi-08.
    private static Task WrongVersionAsync(ScenarioContext context, CancellationToken cancellationToken) =>
        RawWebSocketClient.FaultyUpgradeAsync(
            context.Server,
            context.Path,
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n",
            400,
            cancellationToken);


    private static async Task UntrustedCertificateAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        // A client that validates the chain as usual: the self-signed certificate is refused during the handshake.
        using var client = new ClientWebSocket();
        client.Options.Proxy = null;
        try
        {
            await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException)
        {
            await Task.Delay(ServerFinGraceMilliseconds, cancellationToken).ConfigureAwait(false);
            return;
        }

        throw new InvalidOperationException("The untrusted certificate was expected to be refused.");
    }

    private static async Task OpenSslVerifyingClientAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        // .NET checks the certificate after the handshake and just closes; OpenSSL refuses it inside the handshake
        // with an alert (unknown_ca for a self-signed certificate), which in TLS 1.2 travels in the clear.
        var startInfo = new System.Diagnostics.ProcessStartInfo("openssl",
            ["s_client", "-connect", context.Server.ToString(), "-tls1_2", "-verify_return_error", "-servername", "localhost",
             "-keylogfile", Environment.GetEnvironmentVariable("SSLKEYLOGFILE")!])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start openssl.");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        string said = await error.ConfigureAwait(false) + await output.ConfigureAwait(false);
        if (process.ExitCode == 0 || !said.Contains("self-signed", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"openssl was expected to refuse the self-signed certificate:\n{said}");
        }

        await Task.Delay(ServerFinGraceMilliseconds, cancellationToken).ConfigureAwait(false);
    }

    private static async Task Http2CloseNormalAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { UseProxy = false };
        handler.SslOptions.RemoteCertificateValidationCallback = static (_, certificate, _, _) => SampleServer.IsLoopbackCertificate(certificate);
        using var invoker = new HttpMessageInvoker(handler);
        using var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.HttpVersion = HttpVersion.Version20;
        client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        await client.ConnectAsync(context.Uri, invoker, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "hello", cancellationToken).ConfigureAwait(false);
        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // Messages longer than a 96-byte snap length keeps (text, binary, several segments' worth), then a normal close.
    private static async Task SnapLengthSessionAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "hello", cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, new string('a', 300), cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray(), cancellationToken).ConfigureAwait(false);
        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "done with the cut capture", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // The capture starts after the upgrade: three echoed messages and the close are all it holds.
    private static async Task MidStreamAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "before the capture", cancellationToken).ConfigureAwait(false);
        await context.StartCaptureAsync(cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "one", cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "two", cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, new byte[] { 1, 2, 3, 4 }, cancellationToken).ConfigureAwait(false);
        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // The capture starts just before the close: only the two close frames and the TCP ending are in it.
    private static async Task MidStreamCloseOnlyAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "before the capture", cancellationToken).ConfigureAwait(false);
        await context.StartCaptureAsync(cancellationToken).ConfigureAwait(false);
        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ClientCloseNormalAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "hello", cancellationToken).ConfigureAwait(false);
        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // Scenario 41/40: messages every 250 ms keep the session open across two of tcpdump's one-second rotations.
    private const int RotatedSessionMessages = 8;
    private static readonly TimeSpan s_rotatedMessageInterval = TimeSpan.FromMilliseconds(250);

    private static async Task LongClientCloseNormalAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        for (var i = 1; i <= RotatedSessionMessages; i++)
        {
            await ClientSession.SendAndExpectEchoAsync(client, $"tick {i}", cancellationToken).ConfigureAwait(false);
            await Task.Delay(s_rotatedMessageInterval, cancellationToken).ConfigureAwait(false);
        }

        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    // Messages larger than an Ethernet MTU, each sent as one frame: loopback carries them in segments of up to 64 KiB.
    private static async Task LargeMessagesAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, new string('a', 4000), cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, Enumerable.Range(0, 20_000).Select(i => (byte)i).ToArray(), cancellationToken).ConfigureAwait(false);
        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ServerCloseNormalAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "hello", cancellationToken).ConfigureAwait(false);
        await ClientSession.SendTextAsync(client, "logout", cancellationToken).ConfigureAwait(false);
        await ClientSession.EchoServerCloseAsync(client, WebSocketCloseStatus.NormalClosure, cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task MandatoryExtensionAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        // An application that cannot work without compression: it offers permessage-deflate and
        // leaves with 1010 (RFC 6455 section 7.4.1) when the server's 101 does not accept it.
        using ClientWebSocket client = ClientSession.Create();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);

        string accepted = ClientSession.AcceptedExtensions(client);
        if (accepted.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The server was expected to refuse compression but accepted '{accepted}'.");
        }

        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.MandatoryExtension, "permessage-deflate", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task DeflateAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);

        string accepted = ClientSession.AcceptedExtensions(client);
        if (!accepted.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("The server was expected to accept permessage-deflate.");
        }

        // Repetitive JSON compresses well, so the wire payloads are visibly smaller than the messages.
        for (int sequence = 1; sequence <= 3; sequence++)
        {
            string message = $"{{\"seq\":{sequence},\"event\":\"tick\",\"data\":\"{new string('a', 200)}\"}}";
            await ClientSession.SendAndExpectEchoAsync(client, message, cancellationToken).ConfigureAwait(false);
        }

        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task AbnormalResetAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        await RawWebSocketClient.HandshakeEchoAndResetAsync(context.Server, context.Path, context.Tls, cancellationToken).ConfigureAwait(false);

        // The server must see the reset before the capture stops, or the recording could miss its reaction.
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task RejectedAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        try
        {
            await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        }
        catch (WebSocketException) when (client.HttpStatusCode == HttpStatusCode.Forbidden)
        {
            return;
        }

        throw new InvalidOperationException("The upgrade was expected to be refused with 403.");
    }

    private static async Task IPv6GoingAwayAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();

        // With a timeout set, .NET sends PING frames and expects PONGs (without one it would send unsolicited PONGs).
        client.Options.KeepAliveInterval = s_keepAliveInterval;
        client.Options.KeepAliveTimeout = TimeSpan.FromSeconds(5);
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);

        await ClientSession.SendAndExpectEchoAsync(client, "one", cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, [0x00, 0x01, 0x02, 0x03, 0xfc, 0xfd, 0xfe, 0xff], cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "two", cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, Encoding.ASCII.GetBytes("binary payload 2"), cancellationToken).ConfigureAwait(false);

        // Keep a receive pending while idle so pongs are consumed as they arrive.
        Task<ReceivedMessage> pending = ClientSession.ReceiveAsync(client, cancellationToken);
        await Task.Delay(IdleWithPingsMilliseconds, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendTextAsync(client, "shutdown", cancellationToken).ConfigureAwait(false);

        ReceivedMessage message = await pending.ConfigureAwait(false);
        if (message.Type != WebSocketMessageType.Close || client.CloseStatus != WebSocketCloseStatus.EndpointUnavailable)
        {
            throw new InvalidOperationException($"Expected a close 1001 from the server, got {message.Type} {(int?)client.CloseStatus}.");
        }

        await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatusDescription, cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ApplicationCloseAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);
        await ClientSession.SendAndExpectEchoAsync(client, "hello", cancellationToken).ConfigureAwait(false);
        await ClientSession.SendTextAsync(client, "expire-session", cancellationToken).ConfigureAwait(false);
        await ClientSession.EchoServerCloseAsync(client, (WebSocketCloseStatus)4000, cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task FragmentedAsync(ScenarioContext context, CancellationToken cancellationToken)
    {
        using ClientWebSocket client = ClientSession.Create();
        await client.ConnectAsync(context.Uri, cancellationToken).ConfigureAwait(false);

        // A text message in three frames (opcode 1, 0, 0 with FIN on the last); the server echoes it in one frame.
        string[] textParts = ["frag", "ment", "ed"];
        for (int i = 0; i < textParts.Length; i++)
        {
            await client.SendAsync(Encoding.UTF8.GetBytes(textParts[i]), WebSocketMessageType.Text, endOfMessage: i == textParts.Length - 1, cancellationToken).ConfigureAwait(false);
        }

        await ClientSession.ExpectEchoAsync(client, WebSocketMessageType.Text, Encoding.UTF8.GetBytes(string.Concat(textParts)), cancellationToken).ConfigureAwait(false);

        // A binary message in two frames (opcode 2, 0).
        byte[] binary = [.. Enumerable.Range(0, 20).Select(i => (byte)i)];
        await client.SendAsync(binary.AsMemory(0, 10), WebSocketMessageType.Binary, endOfMessage: false, cancellationToken).ConfigureAwait(false);
        await client.SendAsync(binary.AsMemory(10), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        await ClientSession.ExpectEchoAsync(client, WebSocketMessageType.Binary, binary, cancellationToken).ConfigureAwait(false);

        await ClientSession.CloseAndExpectEchoAsync(client, WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
        await context.WaitForServerAsync(cancellationToken).ConfigureAwait(false);
    }
}
