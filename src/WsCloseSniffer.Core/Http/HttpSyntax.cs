using System.Text;
using System.Text.Unicode;

namespace WsCloseSniffer.Http;

/// <summary>Character classes and small helpers shared by the HTTP head and extension parsers (RFC 9110 section 5.6).</summary>
internal static class HttpSyntax
{
    public const byte Cr = (byte)'\r';
    public const byte Lf = (byte)'\n';
    public const byte Sp = (byte)' ';
    public const byte Htab = (byte)'\t';

    /// <summary>tchar, RFC 9110 section 5.6.2.</summary>
    public static bool IsTokenChar(int c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    public static bool IsOws(int c) => c is ' ' or '\t';

    public static bool IsDigit(int c) => c is >= '0' and <= '9';

    public static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> value)
    {
        int start = 0;
        int end = value.Length;
        while (start < end && IsOws(value[start]))
        {
            start++;
        }

        while (end > start && IsOws(value[end - 1]))
        {
            end--;
        }

        return value[start..end];
    }

    public static bool IsToken(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (byte b in value)
        {
            if (!IsTokenChar(b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Header text "as sent": UTF-8 when the bytes are valid UTF-8 (hosts and paths sometimes carry it raw),
    /// otherwise ISO-8859-1, which maps obs-text bytes one to one and never fails (RFC 9110 section 5.5).
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        return Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : Encoding.Latin1.GetString(bytes);
    }

    public static bool ContainsToken(string headerValue, string token)
    {
        foreach (Range range in headerValue.AsSpan().Split(','))
        {
            if (headerValue.AsSpan()[range].Trim(" \t").Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
