using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>
/// A minimal client on a plain socket for what ClientWebSocket cannot do: leave without a close frame
/// and end the TCP connection with a RST instead of a FIN.
/// </summary>
internal static class RawWebSocketClient
{
    // RFC 6455 section 1.3 example nonce and its accept value: fixed, so the handshake bytes never change.
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string ExpectedAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    private const int MaxResponseHeadBytes = 4096;

    // A stuck client waits this long at most for the server to give up on it.
    private static readonly TimeSpan s_stuckClientLimit = TimeSpan.FromSeconds(8);

    // RFC 6455 section 5.7: a single-frame masked text message "Hello" with mask 37 fa 21 3d.
    private static readonly byte[] s_maskedHello = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];

    // The same message unmasked, as the server echoes it.
    private static readonly byte[] s_unmaskedHello = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];

    /// <summary>
    /// Handshakes (over TLS when <paramref name="tls"/> is set, with <paramref name="extraHeaderLines"/> in the
    /// request), exchanges one message, then resets the connection.
    /// </summary>
    public static async Task HandshakeEchoAndResetAsync(IPEndPoint server, string path, TlsSetup? tls, CancellationToken cancellationToken, string extraHeaderLines = "")
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (tls is not null)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = tls.Protocol,

                // The client offers the recording's suite too: .NET's default TLS 1.2 list may not include it.
                CipherSuitesPolicy = OperatingSystem.IsLinux() ? new CipherSuitesPolicy([tls.CipherSuite]) : null,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = static (_, certificate, _, _) => SampleServer.IsLoopbackCertificate(certificate),
            }, cancellationToken).ConfigureAwait(false);
            stream = ssl;
        }

        try
        {
            await ExchangeAndResetAsync(socket, stream, server, path, extraHeaderLines, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task ExchangeAndResetAsync(Socket socket, Stream stream, IPEndPoint server, string path, string extraHeaderLines, CancellationToken cancellationToken)
    {
        await SendAllAsync(stream, UpgradeRequest(server, path, extraHeaderLines), cancellationToken).ConfigureAwait(false);

        string head = await ReadResponseHeadAsync(stream, cancellationToken).ConfigureAwait(false);
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal)
            || !head.Contains($"Sec-WebSocket-Accept: {ExpectedAccept}", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Unexpected upgrade response:\n{head}");
        }

        await SendAllAsync(stream, s_maskedHello, cancellationToken).ConfigureAwait(false);
        byte[] echo = new byte[s_unmaskedHello.Length];
        await ReceiveExactlyAsync(stream, echo, cancellationToken).ConfigureAwait(false);
        if (!echo.AsSpan().SequenceEqual(s_unmaskedHello))
        {
            throw new InvalidOperationException($"Unexpected echo frame: {Convert.ToHexString(echo)}");
        }

        // Linger on with a zero timeout makes close() send a RST (SO_LINGER semantics), like a crashed client.
        socket.LingerState = new LingerOption(enable: true, seconds: 0);
        socket.Close();
    }

    /// <summary>
    /// Handshakes and then reads nothing: a client whose application is stuck, so its pings go unanswered and any
    /// close frame unechoed. Waits (at most <see cref="s_stuckClientLimit"/>) for the server to end the
    /// connection, then closes its own side with a FIN.
    /// </summary>
    public static async Task HandshakeAndIgnoreAsync(IPEndPoint server, string path, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await SendAllAsync(stream, UpgradeRequest(server, path), cancellationToken).ConfigureAwait(false);
        string head = await ReadResponseHeadAsync(stream, cancellationToken).ConfigureAwait(false);
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal)
            || !head.Contains($"Sec-WebSocket-Accept: {ExpectedAccept}", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Unexpected upgrade response:\n{head}");
        }

        // The kernel still takes in what the server sends (it ACKs), as for a stuck application; the bytes are
        // drained only to see the server's FIN.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_stuckClientLimit);
        byte[] rest = new byte[1024];
        try
        {
            while (await socket.ReceiveAsync(rest, SocketFlags.None, limit.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // A server that aborts may reset the connection instead.
            return;
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>
    /// On one kept-alive connection: a plain GET of <paramref name="plainPath"/> whose response is chunked, read to
    /// its last chunk; then the upgrade to <paramref name="path"/>, one echoed message, and a client close 1000
    /// "bye" answered by the server; then the server's FIN.
    /// </summary>
    public static async Task ChunkedThenUpgradeAsync(IPEndPoint server, string plainPath, string path, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        string plain = $"GET {plainPath} HTTP/1.1\r\nHost: {server}\r\nAccept: application/json\r\n\r\n";
        await SendAllAsync(stream, Encoding.ASCII.GetBytes(plain), cancellationToken).ConfigureAwait(false);
        string head = await ReadResponseHeadAsync(stream, cancellationToken).ConfigureAwait(false);
        if (!head.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal) || !head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Expected a chunked 200, got:\n{head}");
        }

        await ReadUntilAsync(stream, "0\r\n\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);

        await SendAllAsync(stream, UpgradeRequest(server, path), cancellationToken).ConfigureAwait(false);
        head = await ReadResponseHeadAsync(stream, cancellationToken).ConfigureAwait(false);
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Unexpected upgrade response:\n{head}");
        }

        await SendAllAsync(stream, s_maskedHello, cancellationToken).ConfigureAwait(false);
        byte[] echo = new byte[s_unmaskedHello.Length];
        await ReceiveExactlyAsync(stream, echo, cancellationToken).ConfigureAwait(false);

        // Close 1000 "bye", masked with the RFC 6455 section 5.7 mask; the server echoes it (2 + 5 bytes).
        byte[] close = [0x88, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x03 ^ 0x37, 0xe8 ^ 0xfa, (byte)('b' ^ 0x21), (byte)('y' ^ 0x3d), (byte)('e' ^ 0x37)];
        await SendAllAsync(stream, close, cancellationToken).ConfigureAwait(false);
        byte[] reply = new byte[7];
        await ReceiveExactlyAsync(stream, reply, cancellationToken).ConfigureAwait(false);
        await ReadUntilAsync(stream, [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Upgrades offering permessage-deflate, sends one text frame with RSV1 set carrying <paramref name="deflateData"/>
    /// (masked with the RFC 6455 section 5.7 mask), then reads what the server does: returns the code of its close
    /// frame after echoing it, or null when it ended the connection without one (FIN or RST). Waits for the server's end.
    /// </summary>
    public static async Task<int?> CompressedFrameThenCloseAsync(IPEndPoint server, string path, byte[] deflateData, CancellationToken cancellationToken)
    {
        if (deflateData.Length > 125)
        {
            throw new ArgumentException("One short frame is enough here.", nameof(deflateData));
        }

        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await SendAllAsync(stream, UpgradeRequest(server, path, "Sec-WebSocket-Extensions: permessage-deflate\r\n"), cancellationToken).ConfigureAwait(false);
        string head = await ReadResponseHeadAsync(stream, cancellationToken).ConfigureAwait(false);
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) || !head.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Expected a 101 accepting permessage-deflate, got:\n{head}");
        }

        byte[] mask = [0x37, 0xfa, 0x21, 0x3d];
        byte[] frame = [0xC1, (byte)(0x80 | deflateData.Length), .. mask, .. deflateData.Select((b, i) => (byte)(b ^ mask[i % 4]))];
        await SendAllAsync(stream, frame, cancellationToken).ConfigureAwait(false);

        byte[] header = new byte[2];
        try
        {
            if (await stream.ReadAtLeastAsync(header, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < 2)
            {
                return null;
            }
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            // Kestrel aborts the connection when it cannot inflate a message: no close frame, a RST.
            return null;
        }

        if ((header[0] & 0x0F) != 0x8 || (header[1] & 0x7F) is < 2 or > 125)
        {
            throw new InvalidOperationException($"Expected a close frame, got header {Convert.ToHexString(header)}.");
        }

        byte[] payload = new byte[header[1] & 0x7F];
        await ReceiveExactlyAsync(stream, payload, cancellationToken).ConfigureAwait(false);
        int code = (payload[0] << 8) | payload[1];

        // Echo the code (RFC 6455 5.5.1), without a reason.
        byte[] echo = [0x88, 0x82, .. mask, (byte)(payload[0] ^ mask[0]), (byte)(payload[1] ^ mask[1])];
        await SendAllAsync(stream, echo, cancellationToken).ConfigureAwait(false);
        await ReadUntilAsync(stream, [], cancellationToken).ConfigureAwait(false);
        return code;
    }

    /// <summary>Reads until <paramref name="end"/> has been received (empty: until the server's FIN).</summary>
    private static async Task ReadUntilAsync(Stream stream, byte[] end, CancellationToken cancellationToken)
    {
        var seen = new List<byte>();
        byte[] one = new byte[1];
        while (end.Length == 0 || seen.Count < end.Length || !seen.GetRange(seen.Count - end.Length, end.Length).SequenceEqual(end))
        {
            if (await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
            {
                if (end.Length == 0)
                {
                    return;
                }

                throw new InvalidOperationException("Server closed the connection early.");
            }

            seen.Add(one[0]);
            if (seen.Count > MaxResponseHeadBytes)
            {
                throw new InvalidOperationException("Response body too long.");
            }
        }
    }

    /// <summary>
    /// Sends an upgrade request with the given header lines (after Host), expects the server's refusal with
    /// <paramref name="expectedStatus"/>, then closes the socket normally (FIN).
    /// </summary>
    public static async Task FaultyUpgradeAsync(IPEndPoint server, string path, string headerLines, int expectedStatus, CancellationToken cancellationToken)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        string request = $"GET {path} HTTP/1.1\r\nHost: {server}\r\n{headerLines}\r\n";
        await SendAllAsync(stream, Encoding.ASCII.GetBytes(request), cancellationToken).ConfigureAwait(false);

        string head = await ReadResponseHeadAsync(stream, cancellationToken).ConfigureAwait(false);
        if (!head.StartsWith($"HTTP/1.1 {expectedStatus} ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Expected {expectedStatus}, got:\n{head}");
        }

        socket.Shutdown(SocketShutdown.Send);
        byte[] rest = new byte[256];
        while (await socket.ReceiveAsync(rest, SocketFlags.None, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    /// <summary>A valid RFC 6455 upgrade request (the RFC's example key), with <paramref name="extraHeaderLines"/> before its blank line.</summary>
    private static byte[] UpgradeRequest(IPEndPoint server, string path, string extraHeaderLines = "") =>
        Encoding.ASCII.GetBytes(
            $"GET {path} HTTP/1.1\r\n" +
            $"Host: {server}\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {Key}\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            extraHeaderLines +
            "\r\n");

    private static async Task SendAllAsync(Stream stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ReceiveExactlyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            int received = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                throw new InvalidOperationException("Server closed the connection early.");
            }

            buffer = buffer[received..];
        }
    }

    private static async Task<string> ReadResponseHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        // Byte by byte so nothing after the blank line is consumed; the head is a few hundred bytes.
        byte[] head = new byte[MaxResponseHeadBytes];
        int length = 0;
        while (length < 4 || !head.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8))
        {
            if (length == head.Length)
            {
                throw new InvalidOperationException("Upgrade response head too long.");
            }

            await ReceiveExactlyAsync(stream, head.AsMemory(length, 1), cancellationToken).ConfigureAwait(false);
            length++;
        }

        return Encoding.ASCII.GetString(head, 0, length);
    }
}
