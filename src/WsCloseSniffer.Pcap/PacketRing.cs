using System.Buffers.Binary;

using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Pcap;

/// <summary>
/// The bounded queue between the capture thread (one producer) and the analysis thread (one
/// consumer): packets are copied into one preallocated byte ring, so memory is bounded in bytes
/// whatever the traffic, nothing is allocated per packet, and the producer never waits: when the
/// ring is full the packet is counted in <see cref="Dropped"/> and discarded.
/// </summary>
/// <remarks>
/// Positions grow forever (a long wraps after centuries); the byte index is position modulo capacity.
/// A record is a 16-byte header (captured length, original length, timestamp) and the frame, padded
/// to 8 bytes; a record that would cross the end of the array is preceded by a wrap marker instead.
/// </remarks>
public sealed class PacketRing : IDisposable
{
    public const int DefaultCapacityBytes = 32 * 1024 * 1024;

    private const int HeaderBytes = 16;
    private const int AlignmentBytes = 8;
    private const int WrapMarker = -1;

    private readonly byte[] _buffer;
    private readonly ManualResetEventSlim _dataAvailable = new(false);
    private long _writePosition;
    private long _readPosition;
    private long _pendingReadEnd = -1;
    private long _written;
    private long _dropped;
    private int _consumerWaiting;

    public PacketRing(int capacityBytes = DefaultCapacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 4096);
        _buffer = new byte[capacityBytes / AlignmentBytes * AlignmentBytes];
    }

    public int CapacityBytes => _buffer.Length;

    /// <summary>Packets accepted into the ring.</summary>
    public long Written => Volatile.Read(ref _written);

    /// <summary>Packets discarded because the ring was full (analysis fell behind) or the frame could never fit.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    public bool IsEmpty => Volatile.Read(ref _readPosition) == Volatile.Read(ref _writePosition);

    /// <summary>Producer side: copies the frame in, or counts it as dropped. Never blocks.</summary>
    public bool TryWrite(Timestamp time, ReadOnlySpan<byte> frame, int originalLength)
    {
        int recordBytes = Align(HeaderBytes + frame.Length);
        long write = _writePosition;
        int index = (int)(write % _buffer.Length);
        int untilEnd = _buffer.Length - index;
        int needed = recordBytes <= untilEnd ? recordBytes : untilEnd + recordBytes;
        long free = _buffer.Length - (write - Volatile.Read(ref _readPosition));
        if (recordBytes > _buffer.Length / 2 || needed > free)
        {
            Volatile.Write(ref _dropped, _dropped + 1);
            return false;
        }

        if (recordBytes > untilEnd)
        {
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(index), WrapMarker);
            index = 0;
        }

        var record = _buffer.AsSpan(index, recordBytes);
        BinaryPrimitives.WriteInt32LittleEndian(record, frame.Length);
        BinaryPrimitives.WriteInt32LittleEndian(record[4..], originalLength);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], time.UnixNanoseconds);
        frame.CopyTo(record[HeaderBytes..]);

        // A full fence (not only a release): the load of _consumerWaiting below must not be ordered
        // before this store, or a consumer going to sleep could miss the wake-up.
        Interlocked.Exchange(ref _writePosition, write + needed);
        Volatile.Write(ref _written, _written + 1);
        if (Volatile.Read(ref _consumerWaiting) != 0)
        {
            _dataAvailable.Set();
        }

        return true;
    }

    /// <summary>
    /// Consumer side: the oldest packet, left in place (its bytes stay valid until <see cref="Release"/>).
    /// </summary>
    public bool TryPeek(out Timestamp time, out ReadOnlySpan<byte> frame, out int originalLength)
    {
        long read = _readPosition;
        if (read == Volatile.Read(ref _writePosition))
        {
            time = default;
            frame = default;
            originalLength = 0;
            return false;
        }

        int index = (int)(read % _buffer.Length);
        if (BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(index)) == WrapMarker)
        {
            read += _buffer.Length - index;
            index = 0;
        }

        var header = _buffer.AsSpan(index, HeaderBytes);
        int length = BinaryPrimitives.ReadInt32LittleEndian(header);
        originalLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        time = new Timestamp(BinaryPrimitives.ReadInt64LittleEndian(header[8..]));
        frame = _buffer.AsSpan(index + HeaderBytes, length);
        _pendingReadEnd = read + Align(HeaderBytes + length);
        return true;
    }

    /// <summary>Consumer side: frees the packet returned by the last <see cref="TryPeek"/>.</summary>
    public void Release()
    {
        if (_pendingReadEnd < 0)
        {
            throw new InvalidOperationException("Release without a packet from TryPeek.");
        }

        Volatile.Write(ref _readPosition, _pendingReadEnd);
        _pendingReadEnd = -1;
    }

    /// <summary>Consumer side: waits until a packet is queued or the timeout passes; true when one is there.</summary>
    public bool WaitForData(TimeSpan timeout)
    {
        if (!IsEmpty)
        {
            return true;
        }

        Interlocked.Exchange(ref _consumerWaiting, 1);
        _dataAvailable.Reset();
        try
        {
            return !IsEmpty || (_dataAvailable.Wait(timeout) && !IsEmpty);
        }
        finally
        {
            Volatile.Write(ref _consumerWaiting, 0);
        }
    }

    public void Dispose() => _dataAvailable.Dispose();

    private static int Align(int bytes) => (bytes + AlignmentBytes - 1) & ~(AlignmentBytes - 1);
}
