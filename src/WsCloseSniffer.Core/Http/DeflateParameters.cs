using System.Globalization;

namespace WsCloseSniffer.Http;

/// <summary>Which DEFLATE extension a 101 response accepted.</summary>
public enum DeflateExtension : byte
{
    None = 0,

    /// <summary>RFC 7692 permessage-deflate: RSV1 on a message's first frame; the message's frames joined are one DEFLATE unit.</summary>
    PerMessage = 1,

    /// <summary>
    /// x-webkit-deflate-frame / deflate-frame (draft-tyoshino-hybi-websocket-perframe-deflate, which older Chrome and
    /// Safari spoke): RSV1 on any data frame, continuations included, and each such frame's payload is one DEFLATE unit.
    /// </summary>
    PerFrame = 2,
}

/// <summary>
/// The compression a 101 response agreed to (RFC 7692 section 7.1), as the analyzer needs it: per direction, whether
/// the sender resets its LZ77 window between units (no context takeover) and the largest window it may use.
/// Parameters that break the RFC's rules are listed in <see cref="Problems"/>; the rest is still used, since the
/// frames show what the peers really did.
/// </summary>
public sealed record DeflateParameters(
    DeflateExtension Extension,
    int ClientMaxWindowBits,
    int ServerMaxWindowBits,
    bool ClientNoContextTakeover,
    bool ServerNoContextTakeover,
    IReadOnlyList<string> Problems)
{
    /// <summary>RFC 7692 7.1.2: window sizes are 2^8 to 2^15 bytes; 15 is the default when none is agreed.</summary>
    public const int MinWindowBits = 8;
    public const int MaxWindowBits = 15;

    public const string DeflateFrame = "deflate-frame";
    public const string WebKitDeflateFrame = "x-webkit-deflate-frame";

    public static DeflateParameters None { get; } = new(DeflateExtension.None, MaxWindowBits, MaxWindowBits, false, false, []);

    public bool Applies => Extension != DeflateExtension.None;

    /// <summary>Whether the sender in that direction starts every unit with an empty window.</summary>
    public bool NoContextTakeover(bool fromClient) => fromClient ? ClientNoContextTakeover : ServerNoContextTakeover;

    /// <summary>
    /// The DEFLATE extension among the accepted ones, with its parameters. The first DEFLATE element wins: RSV1 can
    /// mean only one thing, and a server that accepts two has already broken RFC 7692 section 5.
    /// </summary>
    public static DeflateParameters FromAccepted(ExtensionList accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        foreach (var extension in accepted.Items)
        {
            if (extension.Name.Equals(WebSocketExtension.PerMessageDeflate, StringComparison.OrdinalIgnoreCase))
            {
                return PerMessage(extension);
            }

            if (extension.Name.Equals(WebKitDeflateFrame, StringComparison.OrdinalIgnoreCase)
                || extension.Name.Equals(DeflateFrame, StringComparison.OrdinalIgnoreCase))
            {
                return PerFrame(extension);
            }
        }

        return None;
    }

    /// <summary>
    /// The permessage-deflate response checked against the client's offers (RFC 7692 7.1): it must answer one of them.
    /// A response that answers none gets the reason for the offer that comes closest in <see cref="Problems"/>: a
    /// strict client fails the connection on it. Other extensions, and offers that were not captured, are left alone.
    /// </summary>
    public DeflateParameters AnsweringOffer(ExtensionList offered, ExtensionList accepted)
    {
        ArgumentNullException.ThrowIfNull(offered);
        ArgumentNullException.ThrowIfNull(accepted);
        var response = Extension == DeflateExtension.PerMessage
            ? accepted.Items.FirstOrDefault(e => e.Name.Equals(WebSocketExtension.PerMessageDeflate, StringComparison.OrdinalIgnoreCase))
            : null;
        var offers = offered.Items.Where(e => e.Name.Equals(WebSocketExtension.PerMessageDeflate, StringComparison.OrdinalIgnoreCase)).ToList();
        if (response is null || offers.Count == 0)
        {
            return this;
        }

        string? closest = null;
        foreach (var offer in offers)
        {
            var mismatch = Mismatch(offer, response);
            if (mismatch is null)
            {
                return this;
            }

            closest ??= mismatch;
        }

        return this with { Problems = [.. Problems, closest!] };
    }

    /// <summary>Why <paramref name="response"/> does not answer <paramref name="offer"/> as RFC 7692 7.1.1-7.1.2 allow; null when it does.</summary>
    private static string? Mismatch(WebSocketExtension offer, WebSocketExtension response)
    {
        // 7.1.2.2: without client_max_window_bits in the offer the response must not have it, and with a value the
        // response's may not be larger.
        if (response.TryGetParameter("client_max_window_bits", out var clientAnswer))
        {
            if (!offer.TryGetParameter("client_max_window_bits", out var clientOffer))
            {
                return "client_max_window_bits the client did not offer";
            }

            if (Bits(clientOffer) is int offeredBits && Bits(clientAnswer) is int answeredBits && answeredBits > offeredBits)
            {
                return $"client_max_window_bits={answeredBits} above the offered {offeredBits}";
            }
        }

        // 7.1.2.1: an offered server_max_window_bits is accepted only by answering it with the same or a smaller value.
        if (offer.TryGetParameter("server_max_window_bits", out var serverOffer) && Bits(serverOffer) is int serverOffered)
        {
            if (!response.TryGetParameter("server_max_window_bits", out var serverAnswer))
            {
                return $"no server_max_window_bits for the offered {serverOffered}";
            }

            if (Bits(serverAnswer) is int serverAnswered && serverAnswered > serverOffered)
            {
                return $"server_max_window_bits={serverAnswered} above the offered {serverOffered}";
            }
        }

        // 7.1.1.1: an offered server_no_context_takeover is accepted only by answering it.
        if (offer.TryGetParameter("server_no_context_takeover", out _) && !response.TryGetParameter("server_no_context_takeover", out _))
        {
            return "no server_no_context_takeover for the offered one";
        }

        return null;
    }

    /// <summary>RFC 7692 7.1.2: 1*DIGIT without a leading zero, 8 to 15; null for anything else or no value.</summary>
    private static int? Bits(string? value) =>
        value is { Length: 1 or 2 } && value[0] != '0' && value.All(char.IsAsciiDigit)
            && int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture) is >= MinWindowBits and <= MaxWindowBits and var bits
            ? bits
            : null;

    private static DeflateParameters PerMessage(WebSocketExtension extension)
    {
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int clientBits = MaxWindowBits, serverBits = MaxWindowBits;
        bool clientReset = false, serverReset = false;
        foreach (var parameter in extension.Parameters)
        {
            var name = parameter.Name;
            if (!seen.Add(name))
            {
                // RFC 7692 7: an extension negotiation offer or response with a parameter twice is invalid.
                problems.Add($"{name} given twice");
                continue;
            }

            switch (name.ToLowerInvariant())
            {
                case "server_no_context_takeover":
                    serverReset = true;
                    ExpectNoValue(parameter, problems);
                    break;
                case "client_no_context_takeover":
                    clientReset = true;
                    ExpectNoValue(parameter, problems);
                    break;
                case "server_max_window_bits":
                    serverBits = WindowBits(parameter, problems);
                    break;
                case "client_max_window_bits":
                    // RFC 7692 7.1.2.2: in a response the value is required (it answers the client's offer).
                    clientBits = WindowBits(parameter, problems);
                    break;
                default:
                    problems.Add($"unknown parameter {name}");
                    break;
            }
        }

        return new DeflateParameters(DeflateExtension.PerMessage, clientBits, serverBits, clientReset, serverReset, problems);
    }

    private static DeflateParameters PerFrame(WebSocketExtension extension)
    {
        // The draft's parameters in a response ask the client's compressor (max_window_bits, no_context_takeover);
        // the server's limits were the client's offer. Keeping context is always safe for the reader (a sender that
        // resets simply never refers back), so the server direction keeps it.
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int clientBits = MaxWindowBits;
        bool clientReset = false;
        foreach (var parameter in extension.Parameters)
        {
            if (!seen.Add(parameter.Name))
            {
                problems.Add($"{parameter.Name} given twice");
                continue;
            }

            switch (parameter.Name.ToLowerInvariant())
            {
                case "no_context_takeover":
                    clientReset = true;
                    ExpectNoValue(parameter, problems);
                    break;
                case "max_window_bits":
                    clientBits = WindowBits(parameter, problems);
                    break;
                default:
                    problems.Add($"unknown parameter {parameter.Name}");
                    break;
            }
        }

        return new DeflateParameters(DeflateExtension.PerFrame, clientBits, MaxWindowBits, clientReset, false, problems);
    }

    private static void ExpectNoValue(ExtensionParameter parameter, List<string> problems)
    {
        if (parameter.Value is not null)
        {
            problems.Add($"{parameter.Name} with a value");
        }
    }

    /// <summary>RFC 7692 7.1.2: 1*DIGIT without a leading zero, 8 to 15 (quoted values were unquoted by the list parser).</summary>
    private static int WindowBits(ExtensionParameter parameter, List<string> problems)
    {
        var value = parameter.Value;
        if (value is null)
        {
            problems.Add($"{parameter.Name} without a value");
            return MaxWindowBits;
        }

        if (Bits(value) is int bits)
        {
            return bits;
        }

        problems.Add($"{parameter.Name}={UpgradeRequest.Shown(value)}");
        return MaxWindowBits;
    }
}
