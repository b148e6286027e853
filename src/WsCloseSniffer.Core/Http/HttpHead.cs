namespace WsCloseSniffer.Http;

/// <summary>A parsed HTTP/1.x message head: the start line and the header fields, in order (RFC 9112 sections 2-5).</summary>
public sealed class HttpHead
{
    private readonly HttpHeaderField[] _fields;

    internal HttpHead(
        bool isRequest,
        string method,
        string target,
        string version,
        int statusCode,
        string reasonPhrase,
        HttpHeaderField[] fields,
        int byteCount)
    {
        IsRequest = isRequest;
        Method = method;
        Target = target;
        Version = version;
        StatusCode = statusCode;
        ReasonPhrase = reasonPhrase;
        _fields = fields;
        ByteCount = byteCount;
    }

    public bool IsRequest { get; }

    /// <summary>Request method, case as sent ("" for responses).</summary>
    public string Method { get; }

    /// <summary>Request target as sent, query string included ("" for responses).</summary>
    public string Target { get; }

    /// <summary>HTTP version of the start line, e.g. <c>HTTP/1.1</c> (for requests and responses).</summary>
    public string Version { get; }

    /// <summary>Response status code (0 for requests).</summary>
    public int StatusCode { get; }

    /// <summary>Response reason phrase as sent, possibly empty ("" for requests).</summary>
    public string ReasonPhrase { get; }

    /// <summary>Bytes of the head on the wire, from the start line through the blank line (leading empty lines excluded).</summary>
    public int ByteCount { get; }

    public IReadOnlyList<HttpHeaderField> Fields => _fields;

    /// <summary>The head went on past the head cap: only the field lines before the cap are here.</summary>
    public bool IsTruncated { get; init; }

    /// <summary>
    /// The capture's snap length cut the head: its later field lines (and possibly the end of the reason phrase) were
    /// never captured, so a field missing here may have been sent all the same.
    /// </summary>
    public bool IsCutByCapture { get; init; }

    /// <summary>The value of the first field with this name (names compared case-insensitively), or null.</summary>
    public string? Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (HttpHeaderField field in _fields)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return field.Value;
            }
        }

        return null;
    }

    /// <summary>The values of every field line with this name, in order; empty when there is none.</summary>
    public IReadOnlyList<string> GetAll(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        List<string>? values = null;
        foreach (HttpHeaderField field in _fields)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                (values ??= []).Add(field.Value);
            }
        }

        return values is null ? [] : values;
    }

    /// <summary>
    /// True when any comma-separated element of any field line with this name equals <paramref name="token"/>,
    /// case-insensitively: the #rule list form of Connection and Upgrade (RFC 9110 sections 5.6.1, 7.6.1, 7.8).
    /// </summary>
    public bool HasToken(string name, string token)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(token);
        foreach (HttpHeaderField field in _fields)
        {
            if (string.Equals(field.Name, name, StringComparison.OrdinalIgnoreCase)
                && HttpSyntax.ContainsToken(field.Value, token))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() =>
        IsRequest ? $"{Method} {Target} {Version}" : $"{Version} {StatusCode} {ReasonPhrase}";
}
