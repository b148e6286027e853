using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace WsCloseSniffer.Capture;

/// <summary>
/// Reads a capture file on a background thread, so reading, decompressing, record parsing and header
/// decoding (<typeparamref name="THeaders"/>, the pipeline's next stage) run on one core while the rest of the
/// analysis runs on another. Packets travel in batches: a read block of the file's <see cref="CaptureBuffer"/>, handed over
/// whole when full, plus a table of the packets in it, so no packet is copied. At most
/// <see cref="MaxBatchesInFlight"/> batches exist, so memory is bounded whatever the file size; the reader
/// waits when analysis falls behind (a file can wait; a live capture cannot, and does not use this).
/// </summary>
public sealed class PrefetchingPacketSource<THeaders> : IHeaderedPacketSource<THeaders>, ICaptureBlockExchange
    where THeaders : struct, IPacketHeaders<THeaders>
{
    public const int MaxBatchesInFlight = 4;

    private readonly IPacketSource _inner;
    private readonly CaptureBuffer _input;
    private readonly BlockingCollection<Batch> _filled = new(MaxBatchesInFlight);
    private readonly BlockingCollection<Batch> _empty = new(MaxBatchesInFlight);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _reader;
    private Batch? _current;
    private Batch? _filling;
    private int _next;
    private ExceptionDispatchInfo? _readError;
    private long _bytesRead;
    private bool _finished;

    /// <param name="inner">A capture file reader from <see cref="CaptureFile.Open(string)"/>; this source owns it.</param>
    public PrefetchingPacketSource(IPacketSource inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner is not IBufferedCaptureReader buffered)
        {
            throw new ArgumentException($"{inner.GetType().Name} does not read through a capture buffer", nameof(inner));
        }

        _inner = inner;
        _input = buffered.Input;
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

    public bool TryReadNext(out CapturedPacket packet) => TryReadNext(out packet, out _);

    /// <summary>The next packet and what the reading thread decoded of it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadNext(out CapturedPacket packet, out THeaders decoded)
    {
        while (true)
        {
            if (_current is { } batch && _next < batch.Count)
            {
                ref readonly var entry = ref batch.Entries[_next++];
                packet = new CapturedPacket(entry.Timestamp, entry.LinkType, batch.Block.AsSpan(entry.Offset, entry.Length), entry.OriginalLength, entry.PacketNumber);
                decoded = entry.Decoded;
                return true;
            }

            if (_current is not null)
            {
                _current.Count = 0;
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
                decoded = default;
                return false;
            }

            _next = 0;
        }
    }

    /// <summary>Called by the reading thread's capture buffer when its block is full (on that thread).</summary>
    byte[] ICaptureBlockExchange.Exchange(byte[] full)
    {
        // Take the next batch first: if waiting is cancelled, nothing has changed hands.
        var next = _empty.Take(_stop.Token);
        var batch = _filling!;
        var free = batch.Block;
        batch.Block = full;
        Hand(batch);
        _filling = next;
        return free;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Join();
        _inner.Dispose();
        foreach (var batch in _filled.Concat(_empty).Append(_current).Append(_filling).Distinct())
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
            _filling = _empty.Take(_stop.Token);
            _input.LendBlocksTo(this);
            while (_inner.TryReadNext(out var packet))
            {
                // An exchange inside TryReadNext started a new batch: the packet is in the block being filled now.
                _filling.Add(packet, _input.OffsetInBlock(packet.Data));
                if (_filling.IsFull)
                {
                    // A block of small packets: handed over early, so the packet table keeps its fixed size.
                    _input.HandOverBlock();
                }
            }

            // The last packets lie in the buffer's current block: the batch takes it over.
            var last = _filling;
            ArrayPool<byte>.Shared.Return(last.Block);
            last.Block = _input.DetachBlock();
            _filling = null;
            Hand(last);
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

        // Never blocks: no more batches exist than the collection holds.
        _filled.Add(batch);
    }

    private struct Entry
    {
        public Timestamp Timestamp;
        public LinkType LinkType;
        public int Offset;
        public int Length;
        public int OriginalLength;
        public long PacketNumber;
        public THeaders Decoded;
    }

    /// <summary>
    /// A block and the packets in it. Each batch owns exactly one pooled block at any time. The packet table has
    /// a fixed size (allocated once, so memory does not depend on the capture; 8,192 is about 4 times the packets
    /// of a 1 MiB block of the bench capture).
    /// </summary>
    private sealed class Batch
    {
        private const int MaxEntries = 8192;

        public byte[] Block = ArrayPool<byte>.Shared.Rent(CaptureBuffer.ReadBufferBytes);
        public Entry[] Entries = new Entry[MaxEntries];
        public int Count;

        public bool IsFull => Count >= MaxEntries;

        public void Add(in CapturedPacket packet, int offset)
        {
            if (Count == Entries.Length)
            {
                // Only if the block could not be handed over (no record read from it yet): never in practice.
                Array.Resize(ref Entries, Entries.Length * 2);
            }

            // Filled in place: an entry is about 100 bytes, worth not building elsewhere and copying.
            ref var entry = ref Entries[Count++];
            entry.Timestamp = packet.Timestamp;
            entry.LinkType = packet.LinkType;
            entry.Offset = offset;
            entry.Length = packet.Data.Length;
            entry.OriginalLength = packet.OriginalLength;
            entry.PacketNumber = packet.PacketNumber;
            entry.Decoded = THeaders.Decode(packet);
        }

        public void Release()
        {
            if (Block.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(Block);
            }

            Block = [];
        }
    }
}
