using System.Globalization;
using System.Text;

namespace WsCloseSniffer.Reporting;

/// <summary>
/// Text from the wire made safe for a terminal. Hosts, paths and close reasons are chosen by whoever
/// sent the traffic: an escape sequence among them could retitle, clear or recolour the reviewer's
/// terminal, and bidirectional overrides could reorder what a line appears to say. Such characters are
/// shown as escapes (<c>\x1b</c>, <c>\u202e</c>) instead. Reports (CSV, JSON) keep the text as sent.
/// </summary>
public static class TerminalText
{
    public static string Safe(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (!text.Any(IsUnsafe))
        {
            return text;
        }

        var safe = new StringBuilder(text.Length + 16);
        foreach (var ch in text)
        {
            if (!IsUnsafe(ch))
            {
                safe.Append(ch);
            }
            else if (ch <= 0xFF)
            {
                safe.Append(CultureInfo.InvariantCulture, $"\\x{(int)ch:x2}");
            }
            else
            {
                safe.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:x4}");
            }
        }

        return safe.ToString();
    }

    // C0 controls, DEL, C1 controls (0x9B is a one-byte CSI), and the Unicode bidi embeddings, overrides and isolates.
    private static bool IsUnsafe(char ch) =>
        ch < 0x20 || ch is >= '\u007f' and <= '\u009f' || ch is >= '\u202a' and <= '\u202e' || ch is >= '\u2066' and <= '\u2069';
}
