namespace WsCloseSniffer.Http;

/// <summary>
/// Incremental, size-capped parser of one HTTP/1.x message head (RFC 9112): start line and header fields up to the
/// blank line. Bytes may arrive split anywhere. The parser holds at most <see cref="MaxHeadBytes"/> bytes in one
/// buffer that it grows up to that cap, and says as early as it can when the stream is not HTTP at all.
/// </summary>
public sealed class HttpHeadParser
{
    public const int DefaultMaxHeadBytes = 64 * 1024;

    // Handshakes seen in captures are 150-800 bytes; browsers with cookies reach a few KiB. The first buffer
    // holds the first piece whole (a head usually comes in one segment), and at least this much.
    private const int MinimumBufferBytes = 256;

    // No registered method is longer than 17 bytes (IANA HTTP Method Registry); a longer "method" is data
    // that happens to be made of token characters, and waiting for a space would delay the verdict.
    private const int MaxMethodBytes = 32;

    private static ReadOnlySpan<byte> HttpPrefix => "HTTP/"u8;

    private readonly int _maxHeadBytes;
    private byte[]? _buffer;
    private int _length;          // head bytes buffered (start line onwards)
    private int _skippedBytes;    // empty lines before the start line, RFC 9112 section 2.2
    private int _lineStart;       // buffer index where the line being received starts
    private int _fieldLines;
    private HttpHeadStatus _status;
    private HttpHead? _head;

    private StartLineState _startState;
    private int _startScanned;    // start-line bytes already checked by the state machine
    private int _matchIndex;      // position inside the fixed-shape part being matched (version, status code)

    public HttpHeadParser(int maxHeadBytes = DefaultMaxHeadBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeadBytes, 4);
        _maxHeadBytes = maxHeadBytes;
    }

    private enum StartLineState : byte
    {
        MethodOrVersion,
        Target,
        RequestVersion,
        ResponseVersion,
        StatusCode,
        AfterStatusCode,
        ReasonPhrase,
        LineEnd,
        ExpectLf,
        Done,
    }

    public int MaxHeadBytes => _maxHeadBytes;

    /// <summary>The parsed head, set once <see cref="Append"/> returned <see cref="HttpHeadStatus.Complete"/>.</summary>
    public HttpHead? Head => _head;

    /// <summary>The last status returned by <see cref="Append"/> (NeedMoreData after construction or <see cref="Reset"/>).</summary>
    public HttpHeadStatus Status => _status;

    /// <summary>Bytes of the stream taken by the current message so far, leading empty lines included.</summary>
    public int HeadByteCount => _skippedBytes + _length;

    /// <summary>True once the start line has been received and found well formed.</summary>
    public bool HasStartLine => _startState == StartLineState.Done;

    /// <summary>True when the start line seen so far is a status line (meaningful once <see cref="HasStartLine"/>).</summary>
    public bool IsResponse { get; private set; }

    /// <summary>
    /// Feeds the next bytes of the stream. <paramref name="consumed"/> is how many bytes of <paramref name="data"/>
    /// belong to the head: all of them while NeedMoreData, through the blank line when Complete; what follows
    /// (for example WebSocket frames in the same segment as a 101) is left to the caller. For TooLarge and Malformed
    /// it is the bytes examined before the verdict (for TooLarge, exactly up to the cap). Once the status is not
    /// NeedMoreData, further calls consume nothing and return that status until <see cref="Reset"/>.
    /// </summary>
    public HttpHeadStatus Append(ReadOnlySpan<byte> data, out int consumed)
    {
        consumed = 0;
        if (_status != HttpHeadStatus.NeedMoreData)
        {
            return _status;
        }

        int i = 0;
        while (_length == 0 && i < data.Length && data[i] is HttpSyntax.Cr or HttpSyntax.Lf)
        {
            i++;
            _skippedBytes++;
            if (HeadByteCount >= _maxHeadBytes)
            {
                consumed = i;
                return _status = HttpHeadStatus.TooLarge;
            }
        }

        while (i < data.Length)
        {
            int room = _maxHeadBytes - HeadByteCount;
            ReadOnlySpan<byte> window = data.Slice(i, Math.Min(data.Length - i, room));
            int lf = window.IndexOf(HttpSyntax.Lf);
            ReadOnlySpan<byte> piece = lf >= 0 ? window[..(lf + 1)] : window;
            Store(piece);
            i += piece.Length;

            if (_startState != StartLineState.Done && !AdvanceStartLine())
            {
                consumed = i;
                return _status = HttpHeadStatus.Malformed;
            }

            if (lf >= 0)
            {
                HttpHeadStatus lineStatus = EndLine();
                if (lineStatus != HttpHeadStatus.NeedMoreData)
                {
                    consumed = i;
                    return _status = lineStatus;
                }
            }

            if (HeadByteCount >= _maxHeadBytes)
            {
                // The cap is reached and the blank line has not: the head can only end beyond the cap.
                consumed = i;
                return _status = HttpHeadStatus.TooLarge;
            }
        }

        consumed = data.Length;
        return HttpHeadStatus.NeedMoreData;
    }

    /// <summary>
    /// After <see cref="HttpHeadStatus.TooLarge"/>: the head made of the start line and every field line received
    /// whole before the cap, marked <see cref="HttpHead.IsTruncated"/>; null when not even the start line fitted.
    /// The rest of the head is the caller's to step over (<see cref="HttpHeadEndFinder"/>).
    /// </summary>
    public HttpHead? TruncatedHead()
    {
        if (_status != HttpHeadStatus.TooLarge || _startState != StartLineState.Done || _lineStart == 0)
        {
            return null;
        }

        BuildHead(_lineStart, truncated: true, cut: false);
        return _head;
    }

    /// <summary>
    /// The stream was cut inside this head (the capture's snap length kept only a packet's first bytes): the head as
    /// far as it was captured, marked <see cref="HttpHead.IsCutByCapture"/>, with the field lines received whole. Null
    /// when not even the start line's fixed part was captured (a request line through the space after its target, a
    /// status line through its status code), or when the head is not being received. The version of a request and
    /// the reason phrase of a response may themselves be cut short.
    /// </summary>
    public HttpHead? CutHead()
    {
        if (_status != HttpHeadStatus.NeedMoreData || _length == 0)
        {
            return null;
        }

        if (_startState == StartLineState.Done)
        {
            BuildHead(_lineStart, truncated: false, cut: true);
            return _head;
        }

        var statusKnown = _startState is StartLineState.AfterStatusCode or StartLineState.ReasonPhrase
            || (_startState == StartLineState.ExpectLf && IsResponse);
        // A request's target is known once the space after it was captured (68-byte snap lengths often stop inside the version).
        var versionKnown = _startState is StartLineState.RequestVersion or StartLineState.LineEnd
            || (_startState == StartLineState.ExpectLf && !IsResponse);
        if (!statusKnown && !versionKnown)
        {
            return null;
        }

        IsResponse = statusKnown;
        BuildHead(_length, truncated: false, cut: true);
        return _head;
    }

    /// <summary>After TooLarge: true when the cap fell just after a line feed rather than inside a line.</summary>
    public bool StoppedAtLineStart => _lineStart == _length;

    /// <summary>Forgets the current message (the buffer is kept) so the next head on the same stream can be parsed.</summary>
    public void Reset()
    {
        _length = 0;
        _skippedBytes = 0;
        _lineStart = 0;
        _fieldLines = 0;
        _status = HttpHeadStatus.NeedMoreData;
        _head = null;
        _startState = StartLineState.MethodOrVersion;
        _startScanned = 0;
        _matchIndex = 0;
        IsResponse = false;
    }

    private void Store(ReadOnlySpan<byte> piece)
    {
        int needed = _length + piece.Length;
        if (_buffer is null || needed > _buffer.Length)
        {
            // Grows only with bytes actually received, and never past the cap (Append never offers more).
            int size = Math.Max(_buffer?.Length * 2 ?? MinimumBufferBytes, needed);
            byte[] grown = new byte[Math.Min(size, _maxHeadBytes)];
            _buffer?.AsSpan(0, _length).CopyTo(grown);
            _buffer = grown;
        }

        piece.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
    }

    /// <summary>Checks the start-line bytes received so far, so non-HTTP data is rejected within its first bytes.</summary>
    private bool AdvanceStartLine()
    {
        ReadOnlySpan<byte> buffer = _buffer.AsSpan(0, _length);
        for (; _startScanned < buffer.Length; _startScanned++)
        {
            byte b = buffer[_startScanned];
            switch (_startState)
            {
                case StartLineState.MethodOrVersion:
                    if (b == '/' && buffer[.._startScanned].SequenceEqual(HttpPrefix[..^1]))
                    {
                        _startState = StartLineState.ResponseVersion;
                        _matchIndex = 0;
                    }
                    else if (b == HttpSyntax.Sp && _startScanned > 0)
                    {
                        _startState = StartLineState.Target;
                    }
                    else if (!HttpSyntax.IsTokenChar(b) || _startScanned >= MaxMethodBytes)
                    {
                        return false;
                    }

                    break;

                case StartLineState.Target:
                    if (b == HttpSyntax.Sp)
                    {
                        if (buffer[_startScanned - 1] == HttpSyntax.Sp)
                        {
                            return false;
                        }

                        _startState = StartLineState.RequestVersion;
                        _matchIndex = 0;
                    }
                    else if (b < 0x21 || b == 0x7F)
                    {
                        return false;
                    }

                    break;

                case StartLineState.RequestVersion:
                case StartLineState.ResponseVersion:
                    // RFC 9112 section 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; the response's "HTTP/" is already seen.
                    int index = _startState == StartLineState.RequestVersion ? _matchIndex : _matchIndex + HttpPrefix.Length;
                    if (!MatchesVersionAt(index, b))
                    {
                        return false;
                    }

                    _matchIndex++;
                    if (index == 7)
                    {
                        _startState = _startState == StartLineState.RequestVersion ? StartLineState.LineEnd : StartLineState.StatusCode;
                        _matchIndex = 0;
                    }

                    break;

                case StartLineState.StatusCode:
                    // status-line = HTTP-version SP status-code SP [ reason-phrase ], status-code = 3DIGIT.
                    if (_matchIndex == 0 ? b != HttpSyntax.Sp : !HttpSyntax.IsDigit(b))
                    {
                        return false;
                    }

                    if (++_matchIndex == 4)
                    {
                        _startState = StartLineState.AfterStatusCode;
                    }

                    break;

                case StartLineState.AfterStatusCode:
                    // Some servers omit the SP before an empty reason phrase; RFC 9112 section 4 asks to accept that.
                    if (b == HttpSyntax.Sp)
                    {
                        _startState = StartLineState.ReasonPhrase;
                    }
                    else if (!TryEndStartLine(b))
                    {
                        return false;
                    }

                    break;

                case StartLineState.ReasonPhrase:
                    if (b is HttpSyntax.Cr or HttpSyntax.Lf)
                    {
                        _ = TryEndStartLine(b);
                    }
                    else if ((b < 0x20 && b != HttpSyntax.Htab) || b == 0x7F)
                    {
                        return false;
                    }

                    break;

                case StartLineState.LineEnd:
                case StartLineState.ExpectLf:
                    if (!TryEndStartLine(b))
                    {
                        return false;
                    }

                    break;

                default:
                    return true;
            }

            if (_startState == StartLineState.Done)
            {
                _startScanned++;
                return true;
            }
        }

        return true;
    }

    private static bool MatchesVersionAt(int index, byte b) => index switch
    {
        < 5 => b == HttpPrefix[index],
        6 => b == '.',
        _ => HttpSyntax.IsDigit(b),
    };

    private bool TryEndStartLine(byte b)
    {
        if (b == HttpSyntax.Lf)
        {
            IsResponse = _startState is StartLineState.AfterStatusCode or StartLineState.ReasonPhrase
                || (_startState == StartLineState.ExpectLf && IsResponse);
            _startState = StartLineState.Done;
            return true;
        }

        if (b == HttpSyntax.Cr && _startState != StartLineState.ExpectLf)
        {
            IsResponse = _startState is StartLineState.AfterStatusCode or StartLineState.ReasonPhrase;
            _startState = StartLineState.ExpectLf;
            return true;
        }

        return false;
    }

    /// <summary>A line feed has just been stored: checks the finished line, or completes the head on the blank line.</summary>
    private HttpHeadStatus EndLine()
    {
        ReadOnlySpan<byte> line = _buffer.AsSpan(_lineStart, _length - 1 - _lineStart);
        if (!line.IsEmpty && line[^1] == HttpSyntax.Cr)
        {
            line = line[..^1];
        }

        bool isStartLine = _lineStart == 0;
        _lineStart = _length;
        if (isStartLine)
        {
            return HttpHeadStatus.NeedMoreData;
        }

        if (line.IsEmpty)
        {
            BuildHead(_length, truncated: false, cut: false);
            return HttpHeadStatus.Complete;
        }

        if (HttpSyntax.IsOws(line[0]))
        {
            // obs-fold (RFC 9112 section 5.2) continues a field; before any field it continues nothing.
            return _fieldLines > 0 ? HttpHeadStatus.NeedMoreData : HttpHeadStatus.Malformed;
        }

        // field-line = field-name ":" OWS field-value OWS; no whitespace before the colon (RFC 9112 section 5.1).
        int colon = line.IndexOf((byte)':');
        if (colon <= 0 || !HttpSyntax.IsToken(line[..colon]))
        {
            return HttpHeadStatus.Malformed;
        }

        _fieldLines++;
        return HttpHeadStatus.NeedMoreData;
    }

    /// <summary>
    /// Builds the head from the first <paramref name="end"/> buffered bytes, whole lines already checked; when
    /// <paramref name="cut"/>, the start line may lack its line end.
    /// </summary>
    private void BuildHead(int end, bool truncated, bool cut)
    {
        ReadOnlySpan<byte> head = _buffer.AsSpan(0, end);
        int lf = head.IndexOf(HttpSyntax.Lf);
        ReadOnlySpan<byte> startLine = TrimCr(lf < 0 ? head : head[..lf]);
        ReadOnlySpan<byte> rest = lf < 0 ? default : head[(lf + 1)..];

        var fields = new List<HttpHeaderField>(_fieldLines);
        while (!rest.IsEmpty)
        {
            lf = rest.IndexOf(HttpSyntax.Lf);
            ReadOnlySpan<byte> line = TrimCr(rest[..lf]);
            rest = rest[(lf + 1)..];
            if (line.IsEmpty)
            {
                break;
            }

            if (HttpSyntax.IsOws(line[0]))
            {
                ReadOnlySpan<byte> continuation = HttpSyntax.TrimOws(line);
                if (!continuation.IsEmpty)
                {
                    HttpHeaderField last = fields[^1];
                    string joined = last.Value.Length == 0
                        ? HttpSyntax.Decode(continuation)
                        : last.Value + " " + HttpSyntax.Decode(continuation);
                    fields[^1] = last with { Value = joined };
                }

                continue;
            }

            int colon = line.IndexOf((byte)':');
            fields.Add(new HttpHeaderField(
                HttpSyntax.Decode(line[..colon]),
                HttpSyntax.Decode(HttpSyntax.TrimOws(line[(colon + 1)..]))));
        }

        HttpHeaderField[] fieldArray = [.. fields];
        if (IsResponse)
        {
            // "HTTP/d.d SP ddd [SP reason]", shape already checked byte by byte.
            int status = ((startLine[9] - '0') * 100) + ((startLine[10] - '0') * 10) + (startLine[11] - '0');
            string reason = startLine.Length > 13 ? HttpSyntax.Decode(startLine[13..]) : string.Empty;
            _head = new HttpHead(false, string.Empty, string.Empty, HttpSyntax.Decode(startLine[..8]), status, reason, fieldArray, end)
            {
                IsTruncated = truncated,
                IsCutByCapture = cut,
            };
        }
        else
        {
            int firstSpace = startLine.IndexOf(HttpSyntax.Sp);
            int lastSpace = startLine.LastIndexOf(HttpSyntax.Sp);
            _head = new HttpHead(
                true,
                HttpSyntax.Decode(startLine[..firstSpace]),
                HttpSyntax.Decode(startLine[(firstSpace + 1)..lastSpace]),
                HttpSyntax.Decode(startLine[(lastSpace + 1)..]),
                0,
                string.Empty,
                fieldArray,
                end)
            {
                IsTruncated = truncated,
                IsCutByCapture = cut,
            };
        }
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) =>
        !line.IsEmpty && line[^1] == HttpSyntax.Cr ? line[..^1] : line;
}
