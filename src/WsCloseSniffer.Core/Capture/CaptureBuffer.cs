using System.Buffers;

namespace WsCloseSniffer.Capture;

/// <summary>
/// The one reusable read buffer behind a capture reader: large sequential reads, records handed
/// out as spans into the buffer, the buffer compacted (never reallocated) while records fit.
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
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
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
