using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WsCloseSniffer.Capture;

/// <summary>
/// Takes over full read blocks from a <see cref="CaptureBuffer"/> (whose records another thread is still
/// reading) and gives it a free block in exchange.
/// </summary>
internal interface ICaptureBlockExchange
{
    /// <summary>
    /// <paramref name="full"/> now belongs to the exchange; returns a free block (from <see cref="ArrayPool{T}.Shared"/>,
    /// at least <see cref="CaptureBuffer.ReadBufferBytes"/> long) that now belongs to the buffer.
    /// </summary>
    byte[] Exchange(byte[] full);
}

/// <summary>A capture reader built on a <see cref="CaptureBuffer"/>, whose records are spans into its blocks.</summary>
internal interface IBufferedCaptureReader
{
    CaptureBuffer Input { get; }
}

/// <summary>
/// The read buffer behind a capture reader: large sequential reads, records handed out as spans into
/// the buffer, the buffer compacted (never reallocated) while records fit. With an
/// <see cref="ICaptureBlockExchange"/> a full buffer is handed over instead of compacted, so the records
/// already read stay where they are for another thread (no copy per packet).
/// </summary>
internal sealed class CaptureBuffer : IDisposable
{
    /// <summary>1 MiB sequential reads: large enough that a read costs one syscall per ~1000 packets.</summary>
    public const int ReadBufferBytes = 1 << 20;

    /// <summary>
    /// GZipStream throws on a bad CRC or deflate error from the same Read call that produced the last good
    /// bytes, which are then lost: smaller reads bound that loss, at a cost measured in nanoseconds per 64 KiB.
    /// </summary>
    public const int CompressedReadBytes = 64 * 1024;

    /// <summary>No record or block is buffered beyond this, whatever the file claims (libpcap's pcapng limit too).</summary>
    public const int MaxRecordBytes = 16 << 20;

    private readonly Stream _source;
    private readonly ReplayStream _raw;
    private readonly bool _compressed;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private long _consumed;
    private bool _endOfStream;
    private ICaptureBlockExchange? _exchange;

    public CaptureBuffer(Stream source, ReplayStream raw, bool compressed)
    {
        _source = source;
        _raw = raw;
        _compressed = compressed;
        _buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
    }

    /// <summary>Offset of the next unconsumed byte in the (decompressed) stream.</summary>
    public long Position => _consumed;

    /// <summary>Bytes buffered and not yet consumed.</summary>
    public int Available => _end - _start;

    /// <summary>Set when the compressed data turned out corrupt: the input ends there.</summary>
    public string? StreamError { get; private set; }

    /// <summary>Underlying file bytes consumed: exact for plain files, compressed bytes read for gzip.</summary>
    public long RawBytesRead => _compressed ? _raw.BytesRead : _consumed;

    public long? RawLength => _raw.TotalLength;

    /// <summary>
    /// Makes at least <paramref name="count"/> bytes available as one span. Returns false when the input
    /// ended (or the gzip data broke) first; <see cref="Available"/> then says how many bytes there were.
    /// The caller bounds <paramref name="count"/> by <see cref="MaxRecordBytes"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Ensure(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        if (_endOfStream)
        {
            return false;
        }

        while (_end - _start < count)
        {
            if (_end == _buffer.Length)
            {
                MakeRoom(count);
            }

            int read;
            try
            {
                int space = _buffer.Length - _end;
                read = _source.Read(_buffer, _end, _compressed ? Math.Min(space, CompressedReadBytes) : space);
            }
            catch (InvalidDataException ex) when (_compressed)
            {
                StreamError = ex.Message;
                _endOfStream = true;
                return false;
            }

            if (read <= 0)
            {
                _endOfStream = true;
                return false;
            }

            _end += read;
        }

        return true;
    }

    private void MakeRoom(int count)
    {
        if (_start > 0)
        {
            var unread = _end - _start;
            if (_exchange is not null)
            {
                // Records before _start may still be read elsewhere: the unread tail moves to a fresh block instead.
                var full = _buffer;
                var next = _exchange.Exchange(full);
                if (next.Length < unread)
                {
                    // The full block had grown for a large record (see below) and more of one is unread.
                    ArrayPool<byte>.Shared.Return(next);
                    next = ArrayPool<byte>.Shared.Rent(unread);
                }

                full.AsSpan(_start, unread).CopyTo(next);
                _buffer = next;
            }
            else
            {
                _buffer.AsSpan(_start, unread).CopyTo(_buffer);
            }

            _end = unread;
            _start = 0;
            return;
        }

        // The whole buffer is one unfinished record larger than the read buffer (rare, never per packet).
        // Grow by doubling as its bytes actually arrive: a header that claims 16 MiB in a short or hostile
        // file costs only what the file holds.
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(_buffer.Length * 2L, count));
        _buffer.AsSpan(0, _end).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    /// <summary>
    /// From now on a full buffer goes to <paramref name="exchange"/> rather than being compacted. Blocks are
    /// exchanged whole: a block's length never changes while records in it are read elsewhere.
    /// </summary>
    public void LendBlocksTo(ICaptureBlockExchange exchange) => _exchange = exchange;

    /// <summary>
    /// Hands the current block to the exchange now, though it is not full (the records read from it stay where
    /// they are; the unread rest moves to a fresh block). Nothing happens before the first record is read from it.
    /// </summary>
    public void HandOverBlock()
    {
        if (_exchange is not null && _start > 0)
        {
            MakeRoom(0);
        }
    }

    /// <summary>
    /// Where <paramref name="record"/>, a span from <see cref="Peek"/> since the last exchange, starts in the current
    /// block (the one the next exchange or <see cref="DetachBlock"/> hands over).
    /// </summary>
    public int OffsetInBlock(ReadOnlySpan<byte> record) =>
        (int)Unsafe.ByteOffset(ref MemoryMarshal.GetArrayDataReference(_buffer), ref MemoryMarshal.GetReference(record));

    /// <summary>Hands the current block over for good (at the end of the input): the buffer holds nothing after.</summary>
    public byte[] DetachBlock()
    {
        var block = _buffer;
        _buffer = [];
        _start = 0;
        _end = 0;
        _endOfStream = true;
        return block;
    }

    /// <summary>Why the input ended <paramref name="available"/> bytes into a <paramref name="needed"/>-byte <paramref name="what"/>.</summary>
    public string DescribeEnd(int available, int needed, string what) =>
        StreamError is { } error
            ? $"gzip data is corrupt ({error}) {available} bytes into a {needed}-byte {what}"
            : $"file ends {available} bytes into a {needed}-byte {what}";

    /// <summary>The next <paramref name="count"/> bytes; valid until the next <see cref="Ensure"/>.</summary>
    public ReadOnlySpan<byte> Peek(int count) => _buffer.AsSpan(_start, count);

    public void Advance(int count)
    {
        _start += count;
        _consumed += count;
    }

    /// <summary>Skips <paramref name="count"/> bytes without buffering them; false when the input ended first.</summary>
    public bool Skip(long count)
    {
        while (count > 0)
        {
            if (_end == _start && !Ensure(1))
            {
                return false;
            }

            int step = (int)Math.Min(count, _end - _start);
            Advance(step);
            count -= step;
        }

        return true;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _source.Dispose();
        _raw.Dispose();
    }
}
