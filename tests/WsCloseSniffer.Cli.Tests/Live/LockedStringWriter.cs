using System.Text;

namespace WsCloseSniffer.Tests.Live;

/// <summary>
/// A StringWriter a test can read while the live command writes to it from its own thread.
/// (Report files cannot be read meanwhile: .NET on Unix locks a file opened with FileShare.None.)
/// </summary>
internal sealed class LockedStringWriter : StringWriter
{
    private readonly Lock _lock = new();

    public LockedStringWriter()
    {
        NewLine = "\n";
    }

    public override void Write(char value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock)
        {
            base.Write(buffer, index, count);
        }
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        lock (_lock)
        {
            base.Write(buffer);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void Write(StringBuilder? value)
    {
        lock (_lock)
        {
            base.Write(value);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_lock)
        {
            base.Write(value);
            base.Write(CoreNewLine);
        }
    }

    public override void WriteLine(ReadOnlySpan<char> buffer)
    {
        lock (_lock)
        {
            base.Write(buffer);
            base.Write(CoreNewLine);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return base.ToString();
        }
    }

    /// <summary>The complete lines written so far (a line still being written is left out).</summary>
    public IReadOnlyList<string> CompleteLines()
    {
        var text = ToString();
        int end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
