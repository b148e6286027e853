namespace WsCloseSniffer.Http;

/// <summary>The server's answer to an upgrade request (RFC 6455 section 4.2.2), whatever its status code.</summary>
public sealed record UpgradeResponse(
    int StatusCode,
    string ReasonPhrase,
    string? Accept,
    string? Protocol,
    IReadOnlyList<string> ExtensionHeaderValues,
    ExtensionList Extensions)
{
    public const int SwitchingProtocolsStatusCode = 101;

    /// <summary>Every Sec-WebSocket-Extensions line, as sent, joined with ", " ("" when none) and cut like the offer: the report's accepted_extensions.</summary>
    public string AcceptedExtensionsText => UpgradeRequest.ExtensionsText(ExtensionHeaderValues);

    /// <summary>True for status 101.</summary>
    public bool IsSwitchingProtocols => StatusCode == SwitchingProtocolsStatusCode;

    /// <summary>Upgrade lists "websocket" and Connection lists "upgrade" (RFC 6455 section 4.2.2 items 5.2 and 5.3).</summary>
    public bool HasUpgradeFields { get; init; }

    /// <summary>The capture's snap length cut the head: fields not captured (Accept, extensions) are unknown.</summary>
    public bool IsCutByCapture { get; init; }

    /// <summary>Sec-WebSocket-Version of a refusal: the versions the server speaks (RFC 6455 section 4.4).</summary>
    public string? Version { get; init; }

    /// <summary>
    /// Reads the response fields. A request head (wrong direction, e.g. pipelined data) gives status 0 rather than
    /// an exception, because the head comes from the wire.
    /// </summary>
    public static UpgradeResponse From(HttpHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        // A head cut by the snap length may have lost extension lines: what was negotiated is unknown, not "none".
        IReadOnlyList<string> extensionLines = head.IsCutByCapture ? [] : head.GetAll("Sec-WebSocket-Extensions");
        return new UpgradeResponse(
            head.StatusCode,
            head.ReasonPhrase,
            head.Get("Sec-WebSocket-Accept"),
            UpgradeRequest.JoinAll(head, "Sec-WebSocket-Protocol"),
            extensionLines,
            head.IsCutByCapture ? ExtensionList.Empty : ExtensionList.Parse(extensionLines))
        {
            HasUpgradeFields = head.HasToken("Upgrade", "websocket") && head.HasToken("Connection", "upgrade"),
            Version = head.Get("Sec-WebSocket-Version"),
            IsCutByCapture = head.IsCutByCapture,
        };
    }

    /// <summary>True when <see cref="Accept"/> is the one RFC 6455 section 4.2.2 derives from the client's key.</summary>
    public bool AcceptMatches(string? key) => WebSocketAccept.Matches(key, Accept);
}
