namespace WsCloseSniffer.Http;

/// <summary>
/// Finds the blank line that ends an HTTP head the parser stopped keeping at its cap, without keeping any of it:
/// one counter of the current line's length carries over between pieces.
/// </summary>
public struct HttpHeadEndFinder
{
    private int _lineBytes;

    /// <summary>
    /// Starts in the middle of a line (<paramref name="atLineStart"/> false) or just after a line feed.
    /// </summary>
    public HttpHeadEndFinder(bool atLineStart) => _lineBytes = atLineStart ? 0 : 1;

    /// <summary>True when the head ends in <paramref name="data"/>; <paramref name="consumed"/> is then through its blank line.</summary>
    public bool Find(ReadOnlySpan<byte> data, out int consumed)
    {
        for (int i = 0; i < data.Length; i++)
        {
            byte b = data[i];
            if (b == HttpSyntax.Lf)
            {
                if (_lineBytes == 0)
                {
                    consumed = i + 1;
                    return true;
                }

                _lineBytes = 0;
            }
            else if (b != HttpSyntax.Cr)
            {
                // Saturates: only "empty or not" matters.
                _lineBytes = 1;
            }
        }

        consumed = data.Length;
        return false;
    }
}
