using System.Security.Cryptography;
using System.Text;

namespace WsCloseSniffer.Http;

/// <summary>Sec-WebSocket-Accept from Sec-WebSocket-Key (RFC 6455 section 4.2.2 item 5.4).</summary>
public static class WebSocketAccept
{
    public const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>base64(SHA-1(key + GUID)); the key is taken as sent (already trimmed of OWS by the head parser).</summary>
    public static string Compute(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] input = Encoding.UTF8.GetBytes(key + KeyGuid);

        // SHA-1 is what the protocol mandates here; it is a fingerprint, not a security decision.
#pragma warning disable CA5350
        byte[] hash = SHA1.HashData(input);
#pragma warning restore CA5350
        return Convert.ToBase64String(hash);
    }

    /// <summary>False when either is missing; otherwise whether <paramref name="accept"/> is exactly the value for <paramref name="key"/>.</summary>
    public static bool Matches(string? key, string? accept)
    {
        if (key is null || accept is null)
        {
            return false;
        }

        return string.Equals(Compute(key), accept, StringComparison.Ordinal);
    }
}
