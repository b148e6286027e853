namespace WsCloseSniffer.Capture;

/// <summary>
/// Wraps the raw file stream: reads the magic number once and replays it, so detection works on
/// streams that cannot seek, and counts the raw bytes read for progress of compressed files.
/// </summary>
internal sealed class ReplayStream : Stream
{
    public const int MagicBytes = 4;

    private readonly Stream _inner;
    private readonly byte[] _prefix = new byte[MagicBytes];
    private readonly int _prefixLength;
    private int _prefixPosition;

    public ReplayStream(Stream inner)
    {
        _inner = inner;
        TotalLength = TryGetLength(inner);
        while (_prefixLength < MagicBytes)
        {
            int read = inner.Read(_prefix, _prefixLength, MagicBytes - _prefixLength);
            if (read <= 0)
            {
                break;
            }

            _prefixLength += read;
        }

        BytesRead = _prefixLength;
    }

    /// <summary>The first bytes of the stream (fewer than four when the stream is that short).</summary>
    public ReadOnlySpan<byte> Magic => _prefix.AsSpan(0, _prefixLength);

    public long BytesRead { get; private set; }

    public long? TotalLength { get; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_prefixPosition < _prefixLength)
        {
            int fromPrefix = Math.Min(buffer.Length, _prefixLength - _prefixPosition);
            _prefix.AsSpan(_prefixPosition, fromPrefix).CopyTo(buffer);
            _prefixPosition += fromPrefix;
            return fromPrefix;
        }

        int read = _inner.Read(buffer);
        BytesRead += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private static long? TryGetLength(Stream stream)
    {
        if (!stream.CanSeek)
        {
            return null;
        }

        try
        {
            return stream.Length - stream.Position;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
