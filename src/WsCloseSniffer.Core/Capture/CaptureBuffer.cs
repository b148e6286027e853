using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;

namespace WsCloseSniffer.Capture;

/// <summary>
/// The bytes behind a capture reader, handed out as spans. Two ways to get them: a plain file on disk is
/// memory-mapped, a window at a time, and records are read where the page cache holds them (no copy);
/// anything else (gzip, pipes, streams) is read with large sequential reads into one reusable buffer,
/// compacted (never reallocated) while records fit.
/// </summary>
internal sealed unsafe class CaptureBuffer : IDisposable
{
    /// <summary>
    /// How much of a mapped file is mapped at once. Mapped pages count as the process's resident memory
    /// while mapped, so the window bounds that too; a window costs two system calls (bench/README.md).
    /// </summary>
    public const int MappedWindowBytes = 8 << 20;

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
    private readonly ReplayStream? _raw;
    private readonly bool _compressed;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private long _consumed;
    private bool _endOfStream;

    // Mapped mode: _start and _end index the current window, which begins at file offset _windowOffset.
    private readonly MemoryMappedFile? _map;
    private readonly FileStream? _file;
    private long _fileLength;
    private MemoryMappedViewAccessor? _view;
    private byte* _window;
    private long _windowOffset;

    public CaptureBuffer(Stream source, ReplayStream raw, bool compressed)
    {
        _source = source;
        _raw = raw;
        _compressed = compressed;
        _buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
    }

    private CaptureBuffer(FileStream file, MemoryMappedFile map, long length)
    {
        _source = file;
        _file = file;
        _map = map;
        _fileLength = length;
        _buffer = [];
    }

    /// <summary>
    /// Maps <paramref name="file"/> (a plain file, not empty) for reading; null when it cannot be mapped (a
    /// pipe, a device, a file system that does not map), and the caller then reads it as a stream.
    /// </summary>
    public static CaptureBuffer? TryMap(FileStream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        try
        {
            if (!file.CanSeek || file.Length == 0)
            {
                return null;
            }

            var length = file.Length;
            var map = MemoryMappedFile.CreateFromFile(file, mapName: null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            return new CaptureBuffer(file, map, length);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>True when the bytes come from a memory-mapped file rather than reads into a buffer.</summary>
    public bool IsMapped => _map is not null;

    /// <summary>Offset of the next unconsumed byte in the (decompressed) stream.</summary>
    public long Position => _consumed;

    /// <summary>Bytes buffered and not yet consumed.</summary>
    public int Available => _end - _start;

    /// <summary>Set when the compressed data turned out corrupt: the input ends there.</summary>
    public string? StreamError { get; private set; }

    /// <summary>Underlying file bytes consumed: exact for plain files, compressed bytes read for gzip.</summary>
    public long RawBytesRead => _compressed ? _raw!.BytesRead : _consumed;

    public long? RawLength => _map is not null ? _fileLength : _raw!.TotalLength;

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

        if (_map is not null)
        {
            return MapWindow(count);
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

    /// <summary>Why the input ended <paramref name="available"/> bytes into a <paramref name="needed"/>-byte <paramref name="what"/>.</summary>
    public string DescribeEnd(int available, int needed, string what) => StreamError switch
    {
        null => $"file ends {available} bytes into a {needed}-byte {what}",
        var error when _map is not null => $"{error}, {available} bytes into a {needed}-byte {what}",
        var error => $"gzip data is corrupt ({error}) {available} bytes into a {needed}-byte {what}",
    };

    /// <summary>Maps a window that starts at the next unconsumed byte and holds at least <paramref name="count"/> bytes.</summary>
    private bool MapWindow(int count)
    {
        var position = _windowOffset + _start;

        // A mapped page that a shrinking file no longer backs would kill the process (SIGBUS) when touched, so
        // the length is checked before each window: a file truncated under us ends like a damaged one.
        var length = RandomAccess.GetLength(_file!.SafeFileHandle);
        if (length < _fileLength)
        {
            StreamError = $"the file shrank from {_fileLength} to {length} bytes while it was read";
            _fileLength = length;
        }

        var remaining = Math.Max(0, _fileLength - position);
        var size = remaining < count ? remaining : Math.Min(remaining, Math.Max(MappedWindowBytes, count));
        Unmap();
        _windowOffset = position;
        if (size > 0)
        {
            _view = _map!.CreateViewAccessor(position, size, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _window = pointer + _view.PointerOffset;
        }

        _start = 0;
        _end = (int)size;
        return size >= count;
    }

    private void Unmap()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _view = null;
            _window = null;
        }
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
    public ReadOnlySpan<byte> Peek(int count) =>
        _window is not null ? new ReadOnlySpan<byte>(_window + _start, count) : _buffer.AsSpan(_start, count);

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

        Unmap();
        _map?.Dispose();
        _source.Dispose();
        _raw?.Dispose();
    }
}
