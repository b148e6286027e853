namespace WsCloseSniffer.Http;

/// <summary>What <see cref="HttpHeadParser.Append"/> found after the bytes it was given.</summary>
public enum HttpHeadStatus : byte
{
    /// <summary>The head is not finished yet; feed the next bytes of the stream.</summary>
    NeedMoreData = 0,

    /// <summary>The head ended (blank line seen); <see cref="HttpHeadParser.Head"/> is set.</summary>
    Complete = 1,

    /// <summary>The head would exceed the parser's cap; the parser stopped buffering.</summary>
    TooLarge = 2,

    /// <summary>The bytes are not an HTTP/1.x head (for example TLS or other binary data).</summary>
    Malformed = 3,
}
