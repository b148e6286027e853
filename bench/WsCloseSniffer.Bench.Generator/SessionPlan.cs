namespace WsCloseSniffer.Bench.Generator;

internal enum ExtensionMode : byte
{
    None = 0,
    OfferedAccepted = 1,
    OfferedNotAccepted = 2,
}

/// <summary>How a session ends: a close handshake (with its code), or TCP alone.</summary>
internal enum Ending : byte
{
    CloseFrames = 0,
    FinWithoutClose = 1,
    Rst = 2,
}

/// <summary>One message of a session: who sends it, its length, what it is.</summary>
internal readonly record struct PlannedMessage(bool FromClient, int Length, bool Binary, byte Fragments, bool PingFirst);

/// <summary>Everything decided about a session before its first packet, from its own random stream.</summary>
internal sealed class SessionPlan
{
    private static readonly string[] s_paths = ["/ws", "/socket", "/v2/stream", "/live/quotes", "/chat/room", "/graphql", "/notifications", "/cable"];
    private static readonly string[] s_normalReasons = ["", "", "", "bye", "done", "session ended", "logout, see you", "client said \"bye\""];
    private static readonly string[] s_goingAwayReasons = ["", "server shutting down", "page unload"];
    private static readonly string[] s_internalReasons = ["", "internal error", "unexpected condition, retry later"];
    private static readonly string[] s_applicationReasons = ["", "stale subscription", "token expired"];
    private static readonly string[] s_mandatoryReasons = ["permessage-deflate", "missing extension: permessage-deflate"];

    public const string OfferedExtensions = "permessage-deflate; client_max_window_bits";
    public const string AcceptedExtensions = "permessage-deflate";

    public required long Index { get; init; }
    public required bool IPv6 { get; init; }
    public required int Server { get; init; }
    public required ExtensionMode Extensions { get; init; }
    public required string Host { get; init; }
    public required string Path { get; init; }
    public required PlannedMessage[] Messages { get; init; }
    public required Ending Ending { get; init; }

    /// <summary>For <see cref="Ending.CloseFrames"/>: who closes first, code, reason; for the others who sends FIN/RST.</summary>
    public required bool ClientEnds { get; init; }
    public required int CloseCode { get; init; }
    public required string CloseReason { get; init; }

    /// <summary>Rough wire size, used only to stop starting sessions near the requested file size.</summary>
    public long EstimatedBytes { get; init; }

    public static SessionPlan Create(long index, SplitMix64 random, int servers)
    {
        var extensions = random.NextDouble() switch
        {
            < 0.40 => ExtensionMode.None,
            < 0.75 => ExtensionMode.OfferedAccepted,
            _ => ExtensionMode.OfferedNotAccepted,
        };

        var count = random.Next(20, 240);
        var messages = new PlannedMessage[count];
        long estimate = 2_000;
        for (var i = 0; i < count; i++)
        {
            var fromClient = random.Chance(0.4);
            int length;
            byte fragments = 1;
            if (random.Chance(0.08))
            {
                // 1-64 KiB, log-uniform: most large messages are a few KiB.
                length = (int)Math.Min(65_000, Math.Exp(Math.Log(1024) + (random.NextDouble() * Math.Log(64))));
                if (random.Chance(0.1))
                {
                    fragments = (byte)random.Next(2, 5);
                }
            }
            else
            {
                length = random.Next(20, 201);
            }

            messages[i] = new PlannedMessage(fromClient, length, random.Chance(0.1), fragments, random.Chance(0.03));
            var segments = (length / 1400) + 1;
            estimate += length + (segments * 70) + (((segments + 1) / 2) * 82) + (messages[i].PingFirst ? 180 : 0);
        }

        var ending = Ending.CloseFrames;
        int code = 1000;
        string reason;
        bool clientEnds = random.Chance(0.5);
        var roll = random.NextDouble();
        if (extensions == ExtensionMode.OfferedNotAccepted && roll < 0.5)
        {
            // RFC 6455 7.4.1: the client fails the connection with 1010 naming the extension it needed.
            code = 1010;
            clientEnds = true;
            reason = random.Pick(s_mandatoryReasons);
        }
        else
        {
            roll = random.NextDouble();
            if (roll < 0.70)
            {
                reason = random.Pick(s_normalReasons);
            }
            else if (roll < 0.78)
            {
                code = 1001;
                reason = random.Pick(s_goingAwayReasons);
            }
            else if (roll < 0.83)
            {
                code = 1011;
                clientEnds = false;
                reason = random.Pick(s_internalReasons);
            }
            else if (roll < 0.88)
            {
                code = 4000;
                reason = random.Pick(s_applicationReasons);
            }
            else if (roll < 0.95)
            {
                ending = Ending.FinWithoutClose;
                reason = "";
            }
            else
            {
                ending = Ending.Rst;
                reason = "";
            }
        }

        var server = random.Next(0, servers);
        return new SessionPlan
        {
            Index = index,
            IPv6 = random.Chance(0.1),
            Server = server,
            Extensions = extensions,
            Host = $"ws{server + 1}.example.com",
            Path = random.Chance(0.5) ? random.Pick(s_paths) : $"{random.Pick(s_paths)}?id={random.Next(1, 1_000_000)}",
            Messages = messages,
            Ending = ending,
            ClientEnds = clientEnds,
            CloseCode = code,
            CloseReason = reason,
            EstimatedBytes = estimate,
        };
    }
}
