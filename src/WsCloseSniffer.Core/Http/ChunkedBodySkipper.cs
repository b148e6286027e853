namespace WsCloseSniffer.Http;

/// <summary>What <see cref="ChunkedBodySkipper.Skip"/> found.</summary>
public enum ChunkedBodyStatus : byte
{
    /// <summary>The body goes on past the bytes given.</summary>
    NeedMoreData = 0,
    /// <summary>The last chunk and the trailer section ended; the next message's head follows.</summary>
    Complete = 1,
    /// <summary>Not the chunked coding (a bad size, a missing CRLF, an over-long line): where the body ends is unknown.</summary>
    Malformed = 2,
}

/// <summary>
/// Steps over a body in the chunked transfer coding (RFC 9112 section 7.1) by its chunk sizes, without keeping
/// any of it: data is counted off, and only the few bytes of state between calls are kept. Lines (chunk sizes
/// with their extensions, trailer fields) are bounded so a body that is not chunked cannot be read forever.
/// </summary>
public struct ChunkedBodySkipper
{
    /// <summary>Longest chunk-size line (size and extensions) or trailer field line accepted.</summary>
    public const int MaxLineBytes = 4096;

    // 16 hex digits are 2^64 - 1; a chunk that large is not a body anyone sent before an upgrade.
    private const int MaxSizeDigits = 15;

    private State _state;
    private long _remaining;
    private int _lineBytes;
    private int _digits;

    private enum State : byte
    {
        Size = 0,
        Extension = 1,
        SizeLineFeed = 2,
        Data = 3,
        DataCarriageReturn = 4,
        DataLineFeed = 5,
        TrailerLine = 6,
        TrailerLineFeed = 7,
    }

    /// <summary>Skips what of <paramref name="data"/> belongs to the body; <paramref name="consumed"/> says how much.</summary>
    public ChunkedBodyStatus Skip(ReadOnlySpan<byte> data, out int consumed)
    {
        int i = 0;
        while (i < data.Length)
        {
            if (_state == State.Data)
            {
                int take = (int)Math.Min(_remaining, data.Length - i);
                _remaining -= take;
                i += take;
                if (_remaining == 0)
                {
                    _state = State.DataCarriageReturn;
                }

                continue;
            }

            byte b = data[i++];
            switch (_state)
            {
                case State.Size:
                    if (HexValue(b) is int digit)
                    {
                        if (++_digits > MaxSizeDigits)
                        {
                            return Fail(i, out consumed);
                        }

                        _remaining = (_remaining << 4) | (uint)digit;
                        break;
                    }

                    if (_digits == 0)
                    {
                        return Fail(i, out consumed);
                    }

                    if (b == (byte)'\r')
                    {
                        _state = State.SizeLineFeed;
                    }
                    else if (b is (byte)';' or (byte)' ' or (byte)'\t')
                    {
                        // Chunk extensions (and the whitespace some servers put before them) are not needed.
                        _state = State.Extension;
                    }
                    else
                    {
                        return Fail(i, out consumed);
                    }

                    break;
                case State.Extension:
                    if (++_lineBytes > MaxLineBytes)
                    {
                        return Fail(i, out consumed);
                    }

                    if (b == (byte)'\r')
                    {
                        _state = State.SizeLineFeed;
                    }

                    break;
                case State.SizeLineFeed:
                    if (b != (byte)'\n')
                    {
                        return Fail(i, out consumed);
                    }

                    _lineBytes = 0;
                    _digits = 0;
                    _state = _remaining == 0 ? State.TrailerLine : State.Data;
                    break;
                case State.DataCarriageReturn:
                    if (b != (byte)'\r')
                    {
                        return Fail(i, out consumed);
                    }

                    _state = State.DataLineFeed;
                    break;
                case State.DataLineFeed:
                    if (b != (byte)'\n')
                    {
                        return Fail(i, out consumed);
                    }

                    _state = State.Size;
                    break;
                case State.TrailerLine:
                    if (b == (byte)'\r')
                    {
                        _state = State.TrailerLineFeed;
                    }
                    else if (++_lineBytes > MaxLineBytes)
                    {
                        return Fail(i, out consumed);
                    }

                    break;
                case State.TrailerLineFeed:
                    if (b != (byte)'\n')
                    {
                        return Fail(i, out consumed);
                    }

                    if (_lineBytes == 0)
                    {
                        // The empty line after the last chunk (and any trailer fields) ends the message.
                        this = default;
                        consumed = i;
                        return ChunkedBodyStatus.Complete;
                    }

                    _lineBytes = 0;
                    _state = State.TrailerLine;
                    break;
            }
        }

        consumed = i;
        return ChunkedBodyStatus.NeedMoreData;
    }

    /// <summary>
    /// Bytes lost from the capture: true when they fell inside one chunk's data, so the chunk sizes can still be
    /// followed; false when they hid a size line, after which the body's end is unknown.
    /// </summary>
    public bool SkipGap(long missingBytes)
    {
        if (_state == State.Data && missingBytes <= _remaining)
        {
            _remaining -= missingBytes;
            if (_remaining == 0)
            {
                _state = State.DataCarriageReturn;
            }

            return true;
        }

        this = default;
        return false;
    }

    private static int? HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => null,
    };

    private ChunkedBodyStatus Fail(int at, out int consumed)
    {
        this = default;
        consumed = at;
        return ChunkedBodyStatus.Malformed;
    }
}
