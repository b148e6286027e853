using System.Security.Cryptography;
using System.Text;

namespace WsCloseSniffer.TestSupport;

/// <summary>Handcrafted HTTP/1.1 upgrade heads (RFC 6455 section 4), as bytes on the wire.</summary>
public static class SessionHandshake
{
    /// <summary>The key and accept of RFC 6455 section 1.3's example.</summary>
    public const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    public const string Accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>
    /// The client's upgrade request, header lines in the order browsers send them. Text is written as Latin-1,
    /// so a test can put any byte value into a header.
    /// </summary>
    public static byte[] Request(string path = "/chat", string host = "example.test", params string[] extensionLines) =>
        Request(path, host, Key, userAgent: null, origin: null, extensionLines);

    public static byte[] Request(string path, string host, string key, string? userAgent, string? origin, params string[] extensionLines)
    {
        ArgumentNullException.ThrowIfNull(extensionLines);
        var text = new StringBuilder()
            .Append("GET ").Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(host).Append("\r\n");
        if (userAgent is not null)
        {
            text.Append("User-Agent: ").Append(userAgent).Append("\r\n");
        }

        text.Append("Upgrade: websocket\r\n")
            .Append("Connection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n");
        if (origin is not null)
        {
            text.Append("Origin: ").Append(origin).Append("\r\n");
        }

        foreach (var line in extensionLines)
        {
            text.Append("Sec-WebSocket-Extensions: ").Append(line).Append("\r\n");
        }

        return Encoding.Latin1.GetBytes(text.Append("\r\n").ToString());
    }

    public static byte[] SwitchingProtocols(string? extensions = null, string accept = Accept)
    {
        var text = new StringBuilder()
            .Append("HTTP/1.1 101 Switching Protocols\r\n")
            .Append("Upgrade: websocket\r\n")
            .Append("Connection: Upgrade\r\n")
            .Append("Sec-WebSocket-Accept: ").Append(accept).Append("\r\n");
        if (extensions is not null)
        {
            text.Append("Sec-WebSocket-Extensions: ").Append(extensions).Append("\r\n");
        }

        return Encoding.Latin1.GetBytes(text.Append("\r\n").ToString());
    }

    /// <summary>The Sec-WebSocket-Accept value for a key (RFC 6455 section 4.2.2: SHA-1 of key and GUID, base64).</summary>
    public static string AcceptFor(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + WebSocketGuid)));

    public static byte[] Response(int status, string reason) =>
        Encoding.Latin1.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n\r\n");

    public static byte[] Continue() => Encoding.ASCII.GetBytes("HTTP/1.1 100 Continue\r\n\r\n");

    public static byte[] PlainGet(string path = "/index.html") =>
        Encoding.Latin1.GetBytes($"GET {path} HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n\r\n");

    public static byte[] PlainOk() =>
        Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");

    /// <summary>The start of a TLS 1.2 ClientHello record (content type 22, version 3.1).</summary>
    public static byte[] TlsClientHello() =>
        PacketFrames.FromHex("16 03 01 00 a5 01 00 00 a1 03 03 5e 8f 1a 2b 3c 4d 5e 6f 70 81 92 a3 b4 c5 d6 e7 f8 09 1a 2b 3c 4d 5e 6f 70 81 92 a3 b4 c5 d6 e7 f8 09");

    /// <summary>The start of a TLS ServerHello record.</summary>
    public static byte[] TlsServerHello() =>
        PacketFrames.FromHex("16 03 03 00 51 02 00 00 4d 03 03 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 00");
}
