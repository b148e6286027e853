using System.Text.Unicode;

namespace WsCloseSniffer.WebSockets;

/// <summary>
/// Checks that a text message is UTF-8 (RFC 6455 8.1) as its bytes arrive in pieces, holding nothing but the at most
/// three bytes of a character cut by a piece boundary. Each whole run is checked by the runtime's vectorized
/// <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>.
/// </summary>
public struct Utf8Validator
{
    private uint _carry;
    private byte _carried;
    private byte _needed;

    /// <summary>False once an invalid sequence was seen; stays false until <see cref="Reset"/>.</summary>
    public bool IsInvalid { get; private set; }

    public void Reset() => this = default;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (IsInvalid || bytes.IsEmpty)
        {
            return;
        }

        if (_carried > 0)
        {
            bytes = CompleteCarried(bytes);
            if (IsInvalid || _carried > 0)
            {
                return;
            }
        }

        var tail = IncompleteTailLength(bytes, out var needed);
        if (!Utf8.IsValid(bytes[..^tail]))
        {
            IsInvalid = true;
            return;
        }

        for (var i = bytes.Length - tail; i < bytes.Length; i++)
        {
            _carry = (_carry << 8) | bytes[i];
        }

        _carried = (byte)tail;
        _needed = (byte)needed;
    }

    /// <summary>The message ended: a character still cut short makes it invalid. Returns whether the whole message was valid.</summary>
    public bool Complete()
    {
        if (_carried > 0)
        {
            IsInvalid = true;
        }

        return !IsInvalid;
    }

    private ReadOnlySpan<byte> CompleteCarried(ReadOnlySpan<byte> bytes)
    {
        var take = Math.Min(_needed - _carried, bytes.Length);
        for (var i = 0; i < take; i++)
        {
            _carry = (_carry << 8) | bytes[i];
        }

        _carried += (byte)take;
        if (_carried < _needed)
        {
            return default;
        }

        Span<byte> character = stackalloc byte[4];
        for (var i = 0; i < _carried; i++)
        {
            character[i] = (byte)(_carry >> (8 * (_carried - 1 - i)));
        }

        IsInvalid = !Utf8.IsValid(character[.._carried]);
        _carried = 0;
        _carry = 0;
        return bytes[take..];
    }

    /// <summary>
    /// How many bytes at the end start a character that needs more bytes than are left (0 to 3), and how long that
    /// character is. A malformed end is not held back: the check of the run finds it.
    /// </summary>
    private static int IncompleteTailLength(ReadOnlySpan<byte> bytes, out int needed)
    {
        needed = 0;
        for (var back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            var b = bytes[^back];
            if (b < 0x80)
            {
                return 0;
            }

            if (b >= 0xC0)
            {
                needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                return back < needed ? back : 0;
            }
        }

        return 0;
    }
}
