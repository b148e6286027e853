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
    /// <summary>Longest extension text a report cell holds; longer text is cut and ends with a marker saying so.</summary>
    public const int MaxExtensionsTextLength = 1024;

    /// <summary>
    /// Every Sec-WebSocket-Extensions line, as sent, joined with ", " ("" when none), cut to
    /// <see cref="MaxExtensionsTextLength"/> with a marker: the report's offered_extensions.
    /// </summary>
    public string OfferedExtensionsText => ExtensionsText(ExtensionHeaderValues);

    /// <summary>The WebSocket version every server speaks (RFC 6455 section 4.1 item 9).</summary>
    public const string SupportedVersion = "13";

    private const int KeyBytes = 16;
    private const int MaxShownValueLength = 40;

    /// <summary>Origin header, when sent (browsers always send it, RFC 6455 section 4.1 item 8).</summary>
    public string? Origin { get; init; }

    /// <summary>
    /// What makes this request not a valid opening handshake (RFC 6455 section 4.1 items 5, 6, 7 and 9), one
    /// phrase per fault naming the header ("no Connection: Upgrade header"); empty for a valid request. A server
    /// refuses such a request (400, 426), so these name the cause of the refusal.
    /// </summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>
    /// True for a GET whose Upgrade lists "websocket" (any case). The other handshake fields are taken as they
    /// are, even missing or wrong (then listed in <see cref="Problems"/>), so the analyzer can name the fault:
    /// such a request is what a server answers with 400 or 426.
    /// </summary>
    public static bool TryFrom(HttpHead head, [NotNullWhen(true)] out UpgradeRequest? request)
    {
        ArgumentNullException.ThrowIfNull(head);
        request = null;
        if (!head.IsRequest
            || !string.Equals(head.Method, "GET", StringComparison.Ordinal)
            || !head.HasToken("Upgrade", "websocket"))
        {
            return false;
        }

        IReadOnlyList<string> extensionLines = head.GetAll("Sec-WebSocket-Extensions");
        request = Of(head, extensionLines, ExtensionList.Parse(extensionLines)) with { Problems = FindProblems(head) };
        return true;
    }

    /// <summary>
    /// The head was cut by the capture's snap length: a field not captured is unknown rather than missing, so no
    /// problem is named, and the extension columns stay empty (a later Sec-WebSocket-Extensions line may be lost).
    /// </summary>
    public bool IsCutByCapture { get; init; }

    /// <summary>The request is known to ask for WebSocket (its Upgrade field was captured); false only for a cut head.</summary>
    public bool AsksForWebSocket { get; init; } = true;

    /// <summary>
    /// A GET whose head the snap length cut (<see cref="HttpHead.IsCutByCapture"/>) and whose captured fields do
    /// not rule WebSocket out (an Upgrade field without "websocket" does): what the server answers decides.
    /// </summary>
    public static bool TryFromCut(HttpHead head, [NotNullWhen(true)] out UpgradeRequest? request)
    {
        ArgumentNullException.ThrowIfNull(head);
        request = null;
        var upgrade = head.Get("Upgrade");
        if (!head.IsRequest || !head.IsCutByCapture
            || !string.Equals(head.Method, "GET", StringComparison.Ordinal)
            || (upgrade is not null && !head.HasToken("Upgrade", "websocket")))
        {
            return false;
        }

        request = Of(head, [], ExtensionList.Empty) with { IsCutByCapture = true, AsksForWebSocket = upgrade is not null };
        return true;
    }

    /// <summary>The fields both kinds of request read from the head the same way.</summary>
    private static UpgradeRequest Of(HttpHead head, IReadOnlyList<string> extensionLines, ExtensionList extensions) =>
        new(
            head.Target,
            head.Get("Host"),
            head.Get("Sec-WebSocket-Key"),
            head.Get("Sec-WebSocket-Version"),
            JoinAll(head, "Sec-WebSocket-Protocol"),
            extensionLines,
            extensions)
        {
            Origin = head.Get("Origin"),
        };

    private static string[] FindProblems(HttpHead head)
    {
        List<string>? problems = null;
        if (!head.HasToken("Connection", "upgrade"))
        {
            (problems ??= []).Add(head.Get("Connection") is { } connection
                ? $"a Connection header without Upgrade (\"Connection: {Shown(connection)}\")"
                : "no Connection: Upgrade header");
        }

        if (head.Get("Sec-WebSocket-Key") is not { } key)
        {
            (problems ??= []).Add("no Sec-WebSocket-Key header");
        }
        else if (!IsValidKey(key))
        {
            (problems ??= []).Add($"a Sec-WebSocket-Key that is not 16 bytes in base64 (\"{Shown(key)}\")");
        }

        if (head.Get("Sec-WebSocket-Version") is not { } version)
        {
            (problems ??= []).Add("no Sec-WebSocket-Version header");
        }
        else if (!string.Equals(version.Trim(), SupportedVersion, StringComparison.Ordinal))
        {
            (problems ??= []).Add($"Sec-WebSocket-Version: {Shown(version)} instead of {SupportedVersion}");
        }

        return problems is null ? [] : [.. problems];
    }

    internal static string ExtensionsText(IReadOnlyList<string> lines)
    {
        var joined = string.Join(", ", lines);
        return joined.Length <= MaxExtensionsTextLength
            ? joined
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{joined.AsSpan(0, MaxExtensionsTextLength)}...[{joined.Length - MaxExtensionsTextLength} more characters cut]");
    }

    /// <summary>A header value quoted in a diagnosis, cut so a hostile head cannot make the report line huge.</summary>
    internal static string Shown(string value) => value.Length <= MaxShownValueLength ? value : string.Concat(value.AsSpan(0, MaxShownValueLength), "...");

    private static bool IsValidKey(string key)
    {
        // 16 bytes are 24 base64 characters ending in "==" (RFC 6455 section 4.1 item 7).
        Span<byte> decoded = stackalloc byte[18];
        var trimmed = key.AsSpan().Trim();
        return trimmed.Length == 24 && Convert.TryFromBase64Chars(trimmed, decoded, out int written) && written == KeyBytes;
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
