using System.Text;

namespace WsCloseSniffer.Http;

/// <summary>One element of a Sec-WebSocket-Extensions list: a name and its parameters, in order (RFC 6455 section 9.1).</summary>
public sealed record WebSocketExtension(string Name, IReadOnlyList<ExtensionParameter> Parameters)
{
    public const string PerMessageDeflate = "permessage-deflate";

    /// <summary>The value of the first parameter with this name (case-insensitive), and whether it was present.</summary>
    public bool TryGetParameter(string name, out string? value)
    {
        foreach (ExtensionParameter parameter in Parameters)
        {
            if (string.Equals(parameter.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = parameter.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    public bool Equals(WebSocketExtension? other) =>
        other is not null
        && string.Equals(Name, other.Name, StringComparison.Ordinal)
        && Parameters.SequenceEqual(other.Parameters);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name, StringComparer.Ordinal);
        foreach (ExtensionParameter parameter in Parameters)
        {
            hash.Add(parameter);
        }

        return hash.ToHashCode();
    }

    /// <summary>Canonical text: "name; p; q=v", values quoted (and escaped) only when they are not tokens.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Name);
        foreach (ExtensionParameter parameter in Parameters)
        {
            text.Append("; ").Append(parameter.Name);
            if (parameter.Value is null)
            {
                continue;
            }

            text.Append('=');
            if (parameter.Value.Length > 0 && parameter.Value.All(c => HttpSyntax.IsTokenChar(c)))
            {
                text.Append(parameter.Value);
                continue;
            }

            text.Append('"');
            foreach (char c in parameter.Value)
            {
                if (c is '"' or '\\')
                {
                    text.Append('\\');
                }

                text.Append(c);
            }

            text.Append('"');
        }

        return text.ToString();
    }
}
