using System.Text;

namespace WsCloseSniffer.Http;

/// <summary>
/// Parsed Sec-WebSocket-Extensions field lines (RFC 6455 section 9.1, as used by RFC 7692):
/// extension-list = 1#element; element = token *( ";" param ); param = token [ "=" ( token / quoted-string ) ],
/// with optional whitespace around separators. Empty list elements are ignored (RFC 9110 section 5.6.1).
/// An element that breaks the grammar is left out of <see cref="Items"/> and clears <see cref="IsWellFormed"/>.
/// </summary>
public sealed class ExtensionList
{
    // Up to this many distinct names are searched in turn: a handshake offers one to three, and a hashed set would
    // cost every open session a few hundred bytes it keeps for its whole life.
    private const int MaxNamesScanned = 8;

    private readonly WebSocketExtension[] _items;
    private readonly string[] _names;
    private readonly HashSet<string>? _nameSet;

    private ExtensionList(WebSocketExtension[] items, bool isWellFormed)
    {
        _items = items;
        IsWellFormed = isWellFormed;
        // A hashed set once names are many: a hostile 64 KiB header holds some 20,000, and pairwise checks would be quadratic.
        var seen = items.Length > MaxNamesScanned ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) : null;
        var names = new List<string>(items.Length);
        foreach (WebSocketExtension item in items)
        {
            if (seen?.Add(item.Name) ?? !ScanContains(names, item.Name))
            {
                names.Add(item.Name);
            }
        }

        _names = [.. names];
        _nameSet = _names.Length > MaxNamesScanned ? seen : null;
    }

    public static ExtensionList Empty { get; } = new([], true);

    public IReadOnlyList<WebSocketExtension> Items => _items;

    /// <summary>False if any element broke the grammar; the well-formed elements are still in <see cref="Items"/>.</summary>
    public bool IsWellFormed { get; }

    /// <summary>Extension names, distinct (case-insensitive, first spelling kept), in order of appearance.</summary>
    public IEnumerable<string> Names => _names;

    public int Count => _items.Length;

    public static ExtensionList Parse(string headerValue)
    {
        ArgumentNullException.ThrowIfNull(headerValue);
        return Parse([headerValue]);
    }

    /// <summary>Parses several field lines, each holding one or more comma-separated elements. Never throws on their content.</summary>
    public static ExtensionList Parse(IEnumerable<string> headerValues)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        List<WebSocketExtension>? items = null;
        bool wellFormed = true;
        foreach (string? value in headerValues)
        {
            if (value is null)
            {
                continue;
            }

            int pos = 0;
            while (true)
            {
                SkipOws(value, ref pos);
                if (pos == value.Length)
                {
                    break;
                }

                if (value[pos] == ',')
                {
                    pos++;
                    continue;
                }

                if (TryParseElement(value, ref pos, out WebSocketExtension? extension))
                {
                    (items ??= []).Add(extension);
                }
                else
                {
                    wellFormed = false;
                    SkipToNextElement(value, ref pos);
                }
            }
        }

        return items is null && wellFormed ? Empty : new ExtensionList(items is null ? [] : [.. items], wellFormed);
    }

    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _nameSet?.Contains(name) ?? ScanContains(_names, name);
    }

    private static bool ScanContains(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i].Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The elements re-serialized canonically, joined with ", " (not the text as sent).</summary>
    public override string ToString() => string.Join(", ", _items.Select(item => item.ToString()));

    private static bool TryParseElement(string s, ref int pos, out WebSocketExtension extension)
    {
        extension = null!;
        string name = ReadToken(s, ref pos);
        if (name.Length == 0)
        {
            return false;
        }

        var parameters = new List<ExtensionParameter>();
        SkipOws(s, ref pos);
        while (pos < s.Length && s[pos] == ';')
        {
            pos++;
            SkipOws(s, ref pos);
            string parameterName = ReadToken(s, ref pos);
            if (parameterName.Length == 0)
            {
                return false;
            }

            SkipOws(s, ref pos);
            string? parameterValue = null;
            if (pos < s.Length && s[pos] == '=')
            {
                pos++;
                SkipOws(s, ref pos);
                if (pos < s.Length && s[pos] == '"')
                {
                    if (!TryReadQuotedString(s, ref pos, out parameterValue))
                    {
                        return false;
                    }
                }
                else
                {
                    parameterValue = ReadToken(s, ref pos);
                    if (parameterValue.Length == 0)
                    {
                        return false;
                    }
                }

                SkipOws(s, ref pos);
            }

            parameters.Add(new ExtensionParameter(parameterName, parameterValue));
        }

        if (pos < s.Length && s[pos] != ',')
        {
            return false;
        }

        extension = new WebSocketExtension(name, parameters.Count == 0 ? [] : [.. parameters]);
        return true;
    }

    private static string ReadToken(string s, ref int pos)
    {
        int start = pos;
        while (pos < s.Length && HttpSyntax.IsTokenChar(s[pos]))
        {
            pos++;
        }

        return s[start..pos];
    }

    /// <summary>quoted-string with quoted-pair unescaped (RFC 9110 section 5.6.4); false when unterminated.</summary>
    private static bool TryReadQuotedString(string s, ref int pos, out string? value)
    {
        value = null;
        var text = new StringBuilder();
        pos++;
        while (pos < s.Length)
        {
            char c = s[pos++];
            if (c == '"')
            {
                value = text.ToString();
                return true;
            }

            if (c == '\\')
            {
                if (pos == s.Length)
                {
                    return false;
                }

                c = s[pos++];
            }

            text.Append(c);
        }

        return false;
    }

    /// <summary>After a broken element, resumes at the next comma that is not inside a quoted string.</summary>
    private static void SkipToNextElement(string s, ref int pos)
    {
        bool quoted = false;
        while (pos < s.Length)
        {
            char c = s[pos];
            if (quoted)
            {
                if (c == '\\')
                {
                    pos++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                return;
            }

            pos++;
        }

        pos = s.Length;
    }

    private static void SkipOws(string s, ref int pos)
    {
        while (pos < s.Length && HttpSyntax.IsOws(s[pos]))
        {
            pos++;
        }
    }
}
