using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace WsCloseSniffer.Capture;

/// <summary>
/// Reads another source on a background thread, so reading, decompressing and record parsing run on
/// one core while analysis runs on another (issue 4). Packets travel in batches: a pooled byte block plus
/// a table of packet headers. At most <see cref="MaxBatchesInFlight"/> batches exist, so memory is
/// bounded whatever the file size; the reader waits when analysis falls behind (a file can wait; a live
/// capture cannot, and does not use this).
/// </summary>
public sealed class PrefetchingPacketSource : IPacketSource
{
    public const int BatchBytes = 1024 * 1024;
    public const int MaxBatchesInFlight = 4;
    private const int MaxPacketsPerBatch = 8192;

    private readonly IPacketSource _inner;
    private readonly BlockingCollection<Batch> _filled = new(MaxBatchesInFlight);
    private readonly BlockingCollection<Batch> _empty = new(MaxBatchesInFlight);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _reader;
    private Batch? _current;
    private int _next;
    private ExceptionDispatchInfo? _readError;
    private long _bytesRead;
    private bool _finished;

    public PrefetchingPacketSource(IPacketSource inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        for (var i = 0; i < MaxBatchesInFlight; i++)
        {
            _empty.Add(new Batch());
        }

        _reader = new Thread(ReadAll) { IsBackground = true, Name = $"read {inner.Name}" };
        _reader.Start();
    }

    public string Name => _inner.Name;

    /// <summary>Set after the last packet was returned, like the inner source's.</summary>
    public CaptureDamage? Damage { get; private set; }

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public long? TotalBytes => _inner.TotalBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadNext(out CapturedPacket packet)
    {
        while (true)
        {
            if (_current is { } batch && _next < batch.Count)
            {
                ref readonly var entry = ref batch.Entries[_next++];
                packet = new CapturedPacket(entry.Timestamp, entry.LinkType, batch.Data.AsSpan(entry.Offset, entry.Length), entry.OriginalLength, entry.PacketNumber);
                return true;
            }

            if (_current is not null)
            {
                _current.Clear();
                _empty.Add(_current);
                _current = null;
            }

            if (_finished || !_filled.TryTake(out _current, Timeout.Infinite))
            {
                // The reader completed the collection: everything was handed over.
                _finished = true;
                _readError?.Throw();
                Damage = _inner.Damage;
                packet = default;
                return false;
            }

            _next = 0;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Join();
        _inner.Dispose();
        foreach (var batch in _filled.Concat(_empty).Append(_current))
        {
            batch?.Release();
        }

        _filled.Dispose();
        _empty.Dispose();
        _stop.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadAll()
    {
        try
        {
            var batch = _empty.Take(_stop.Token);
            while (_inner.TryReadNext(out var packet))
            {
                if (!batch.TryAdd(packet))
                {
                    Hand(batch);
                    batch = _empty.Take(_stop.Token);
                    if (!batch.TryAdd(packet))
                    {
                        // Larger than a whole batch block: the block grows for this packet only.
                        batch.AddOversized(packet);
                    }
                }
            }

            Hand(batch);
        }
        catch (OperationCanceledException)
        {
            // Disposed before the end: nobody is waiting for more.
        }
        catch (Exception e)
        {
            // Whatever stopped the reading thread is rethrown on the analysis thread, as reading there would have:
            // an exception on a background thread would end the process instead.
            _readError = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            _filled.CompleteAdding();
        }
    }

    private void Hand(Batch batch)
    {
        Interlocked.Exchange(ref _bytesRead, _inner.BytesRead);
        _filled.Add(batch, _stop.Token);
    }

    private struct Entry
    {
        public Timestamp Timestamp;
        public LinkType LinkType;
        public int Offset;
        public int Length;
        public int OriginalLength;
        public long PacketNumber;
    }

    private sealed class Batch
    {
        public byte[] Data = ArrayPool<byte>.Shared.Rent(BatchBytes);
        public readonly Entry[] Entries = new Entry[MaxPacketsPerBatch];
        public int Count;
        private int _used;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool TryAdd(in CapturedPacket packet)
        {
            if (Count == Entries.Length || _used + packet.Data.Length > Data.Length)
            {
                return false;
            }

            packet.Data.CopyTo(Data.AsSpan(_used));
            Entries[Count++] = new Entry
            {
                Timestamp = packet.Timestamp,
                LinkType = packet.LinkType,
                Offset = _used,
                Length = packet.Data.Length,
                OriginalLength = packet.OriginalLength,
                PacketNumber = packet.PacketNumber,
            };
            _used += packet.Data.Length;
            return true;
        }

        public void AddOversized(in CapturedPacket packet)
        {
            ArrayPool<byte>.Shared.Return(Data);
            Data = ArrayPool<byte>.Shared.Rent(packet.Data.Length);
            _used = 0;
            TryAdd(packet);
        }

        public void Release()
        {
            ArrayPool<byte>.Shared.Return(Data);
            Data = [];
        }

        public void Clear()
        {
            Count = 0;
            _used = 0;
        }
    }
}
