using System.Diagnostics.CodeAnalysis;

namespace WsCloseSniffer.Http;

/// <summary>The client's opening handshake (RFC 6455 section 4.1), as read from a request head.</summary>
public sealed record UpgradeRequest(
    string Target,
    string? Host,
    string? Key,
    string? Version,
    string? Protocol,
    IReadOnlyList<string> ExtensionHeaderValues,
    ExtensionList Extensions)
{
    /// <summary>Every Sec-WebSocket-Extensions line, as sent, joined with ", " ("" when none): the report's offered_extensions.</summary>
    public string OfferedExtensionsText => string.Join(", ", ExtensionHeaderValues);

    /// <summary>Origin header, when sent (browsers always send it, RFC 6455 section 4.1 item 8).</summary>
    public string? Origin { get; init; }

    /// <summary>
    /// True for a GET whose Upgrade lists "websocket" and whose Connection lists "upgrade" (any case; RFC 6455
    /// section 4.2.1). Other handshake fields are taken as they are, even missing, so the analyzer can name the fault.
    /// </summary>
    public static bool TryFrom(HttpHead head, [NotNullWhen(true)] out UpgradeRequest? request)
    {
        ArgumentNullException.ThrowIfNull(head);
        request = null;
        if (!head.IsRequest
            || !string.Equals(head.Method, "GET", StringComparison.Ordinal)
            || !head.HasToken("Upgrade", "websocket")
            || !head.HasToken("Connection", "upgrade"))
        {
            return false;
        }

        IReadOnlyList<string> extensionLines = head.GetAll("Sec-WebSocket-Extensions");
        request = new UpgradeRequest(
            head.Target,
            head.Get("Host"),
            head.Get("Sec-WebSocket-Key"),
            head.Get("Sec-WebSocket-Version"),
            JoinAll(head, "Sec-WebSocket-Protocol"),
            extensionLines,
            ExtensionList.Parse(extensionLines))
        {
            Origin = head.Get("Origin"),
        };
        return true;
    }

    /// <summary>Several lines of a list-valued field mean the same as one line joined with commas (RFC 9110 section 5.3).</summary>
    internal static string? JoinAll(HttpHead head, string name)
    {
        IReadOnlyList<string> values = head.GetAll(name);
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => string.Join(", ", values),
        };
    }
}
