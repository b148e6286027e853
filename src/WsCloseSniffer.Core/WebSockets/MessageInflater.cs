using System.IO.Compression;

namespace WsCloseSniffer.WebSockets;

/// <summary>What became of the bytes given to <see cref="MessageInflater"/>.</summary>
public enum InflateStatus : byte
{
    /// <summary>All input was inflated; the inflater waits for more.</summary>
    Ok = 0,

    /// <summary>The input is not valid DEFLATE data (or refers back further than anything inflated).</summary>
    InvalidData = 1,

    /// <summary>
    /// A block with BFINAL set ended the DEFLATE stream (RFC 7692 7.2.3.3 allows it); input after it was not read and
    /// the next unit needs a new inflater.
    /// </summary>
    StreamEnded = 2,

    /// <summary>The unit's output reached its limit; the rest was not inflated and this inflater's stream is abandoned.</summary>
    LimitReached = 3,
}

/// <summary>One DEFLATE unit (a message, or a frame for deflate-frame) being inflated: what it produced so far.</summary>
public struct InflatedUnit
{
    private Utf8Validator _utf8;

    /// <param name="checkUtf8">Set for text: the output is checked as UTF-8 as it comes, continuing <paramref name="utf8"/>.</param>
    public InflatedUnit(long limit, bool checkUtf8, Utf8Validator utf8 = default)
    {
        Limit = limit;
        CheckUtf8 = checkUtf8;
        _utf8 = utf8;
    }

    /// <summary>Inflated bytes counted (never more than <see cref="Limit"/>).</summary>
    public long Bytes { get; private set; }

    public long Limit { get; }

    public bool CheckUtf8 { get; }

    public readonly Utf8Validator Utf8 => _utf8;

    internal void Add(ReadOnlySpan<byte> output)
    {
        Bytes += output.Length;
        if (CheckUtf8)
        {
            _utf8.Append(output);
        }
    }
}

/// <summary>
/// Inflates RFC 7692 DEFLATE data pushed in pieces, with System.IO.Compression's raw-deflate <see cref="DeflateStream"/>
/// reading from a stream the pieces are handed to. The output is counted and, for text, checked as UTF-8 in
/// <see cref="OutputChunkBytes"/> pieces of a per-thread buffer; none of it is kept.
/// </summary>
/// <remarks>
/// DeflateStream always inflates with a 2^15-byte window, whatever window the peers agreed (server_max_window_bits,
/// client_max_window_bits, max_window_bits). That is right for every agreement: the window bits only bound how far
/// back a compliant sender refers, and a 32 KiB window holds every distance a smaller window can produce, so the
/// output is the same byte for byte. (A sender breaking its bound would be inflated here where its peer fails;
/// spotting that would need an inflater that checks distances, which System.IO.Compression does not offer.)
/// Memory: one live inflater holds DeflateStream's 8 KiB pooled buffer and zlib's state with its 32 KiB window,
/// about 50 KiB in all (measured), so callers create them lazily and dispose them as soon as no context is kept.
/// </remarks>
public sealed class MessageInflater : IDisposable
{
    public const int OutputChunkBytes = 16 * 1024;

    /// <summary>RFC 7692 7.2.2: the receiver appends 00 00 FF FF, the empty stored block the sender's flush ended with.</summary>
    public static ReadOnlySpan<byte> FlushTail => [0x00, 0x00, 0xFF, 0xFF];

    [ThreadStatic]
    private static byte[]? t_output;

    private readonly PieceStream _input = new();
    private DeflateStream? _stream;
    private bool _ended;

    /// <summary>The runtime's words for the last <see cref="InflateStatus.InvalidData"/>.</summary>
    public string? LastError { get; private set; }

    /// <summary>True once the stream ended (BFINAL), failed or hit a limit: nothing more can be inflated with it.</summary>
    public bool IsSpent => _ended;

    /// <summary>Inflates <paramref name="compressed"/> (unmasked), counting the output into <paramref name="unit"/>.</summary>
    public InflateStatus Inflate(ReadOnlySpan<byte> compressed, ref InflatedUnit unit) => Inflate(compressed, 0, 0, ref unit);

    /// <summary>
    /// Inflates payload bytes as on the wire: masked with <paramref name="maskKey"/> (0: not masked) and starting
    /// <paramref name="payloadOffset"/> bytes into their frame, so the mask lines up.
    /// </summary>
    public InflateStatus Inflate(ReadOnlySpan<byte> payload, uint maskKey, long payloadOffset, ref InflatedUnit unit)
    {
        if (_ended)
        {
            return InflateStatus.StreamEnded;
        }

        while (!payload.IsEmpty)
        {
            var piece = payload[..Math.Min(payload.Length, PieceStream.PieceBytes)];
            payload = payload[piece.Length..];
            var status = InflatePiece(piece, maskKey, payloadOffset, ref unit);
            payloadOffset += piece.Length;
            if (status != InflateStatus.Ok)
            {
                return status;
            }
        }

        return InflateStatus.Ok;
    }

    /// <summary>The unit's payload ended: inflates the flush tail RFC 7692 7.2.2 says to append.</summary>
    public InflateStatus EndUnit(ref InflatedUnit unit) => Inflate(FlushTail, ref unit);

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
        _ended = true;
    }

    private InflateStatus InflatePiece(ReadOnlySpan<byte> piece, uint maskKey, long payloadOffset, ref InflatedUnit unit)
    {
        _input.Hand(piece, maskKey, payloadOffset);
        _stream ??= new DeflateStream(_input, CompressionMode.Decompress, leaveOpen: true);
        var output = t_output ??= new byte[OutputChunkBytes];
        try
        {
            while (true)
            {
                // Never ask for more than the limit leaves, so a bomb stops within one chunk of it.
                var room = (int)Math.Min(output.Length, unit.Limit - unit.Bytes);
                if (room == 0)
                {
                    return Spend(InflateStatus.LimitReached);
                }

                var read = _stream.Read(output, 0, room);
                if (read == 0)
                {
                    break;
                }

                unit.Add(output.AsSpan(0, read));
            }
        }
        catch (InvalidDataException ex)
        {
            LastError = ex.Message;
            return Spend(InflateStatus.InvalidData);
        }

        // DeflateStream stops reading its input only once the final block is inflated.
        return _input.Remaining > 0 ? Spend(InflateStatus.StreamEnded) : InflateStatus.Ok;
    }

    private InflateStatus Spend(InflateStatus status)
    {
        Dispose();
        return status;
    }

    /// <summary>The input side of the DeflateStream: hands out the current piece, then reports end of data until the next.</summary>
    private sealed class PieceStream : Stream
    {
        public const int PieceBytes = 16 * 1024;

        [ThreadStatic]
        private static byte[]? t_piece;

        private byte[] _piece = [];
        private int _offset;
        private int _length;

        public int Remaining => _length - _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        /// <summary>Copies the piece into a per-thread buffer: a span cannot be kept, and the piece is read at once.</summary>
        public void Hand(ReadOnlySpan<byte> piece, uint maskKey, long payloadOffset)
        {
            _piece = t_piece ??= new byte[PieceBytes];
            piece.CopyTo(_piece);
            if (maskKey != 0)
            {
                FrameHeader.Unmask(_piece.AsSpan(0, piece.Length), maskKey, payloadOffset);
            }

            _offset = 0;
            _length = piece.Length;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var take = Math.Min(buffer.Length, Remaining);
            _piece.AsSpan(_offset, take).CopyTo(buffer);
            _offset += take;
            return take;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
