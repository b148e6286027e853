namespace WsCloseSniffer.WebSockets;

/// <summary>Close status codes (RFC 6455 7.4, IANA registry): names and validity on the wire (the classification words are in Analysis/Outcome.cs).</summary>
public static class CloseCode
{
    public const int NormalClosure = 1000;
    public const int GoingAway = 1001;
    public const int ProtocolError = 1002;
    public const int UnsupportedData = 1003;
    public const int NoStatusReceived = 1005;
    public const int AbnormalClosure = 1006;
    public const int InvalidPayload = 1007;
    public const int PolicyViolation = 1008;
    public const int MessageTooBig = 1009;
    public const int MandatoryExtension = 1010;
    public const int InternalError = 1011;
    public const int ServiceRestart = 1012;
    public const int TryAgainLater = 1013;
    public const int BadGateway = 1014;

    /// <summary>
    /// True for a code a peer may send: the defined 1000-1003, 1007-1014, and 3000-4999. 1004-1006 and 1015 are
    /// reserved and must never be sent (RFC 6455 7.4.1).
    /// </summary>
    public static bool IsValidOnWire(int code) =>
        code is (>= NormalClosure and <= UnsupportedData) or (>= InvalidPayload and <= BadGateway) or (>= 3000 and <= 4999);

    /// <summary>The registered name, e.g. "Normal Closure", or a range description.</summary>
    public static string Name(int code) => code switch
    {
        NormalClosure => "Normal Closure",
        GoingAway => "Going Away",
        ProtocolError => "Protocol Error",
        UnsupportedData => "Unsupported Data",
        1004 => "Reserved",
        NoStatusReceived => "No Status Received",
        AbnormalClosure => "Abnormal Closure",
        InvalidPayload => "Invalid Frame Payload Data",
        PolicyViolation => "Policy Violation",
        MessageTooBig => "Message Too Big",
        MandatoryExtension => "Mandatory Extension",
        InternalError => "Internal Error",
        ServiceRestart => "Service Restart",
        TryAgainLater => "Try Again Later",
        BadGateway => "Bad Gateway",
        1015 => "TLS Handshake",
        >= 3000 and <= 3999 => "registered application code",
        >= 4000 and <= 4999 => "private application code",
        _ => "not a valid close code",
    };
}
