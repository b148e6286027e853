using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// One capture file analyzed on several cores (issue 4): the calling thread reads, and routes each packet
/// by its connection's hash to one of several pipelines (a <see cref="CaptureAnalyzer"/> each, on its own
/// thread). A connection's packets all go to the same pipeline, in capture order, so each pipeline sees
/// whole connections exactly as a single one would. Packets travel in pooled batches seen by every
/// pipeline; at most <see cref="BatchesInFlight"/> exist, so memory is bounded whatever the file size.
/// </summary>
internal sealed class ShardedFileAnalysis : IDisposable
{
    public const int BatchBytes = 1024 * 1024;
    public const int BatchesInFlight = 6;
    private const int MaxPacketsPerBatch = 8192;

    private readonly Shard[] _shards;
    private readonly BlockingCollection<Batch> _empty = new(BatchesInFlight);
    private Batch? _filling;

    public ShardedFileAnalysis(string captureName, AnalyzerOptions options, Action<SessionRecord> onSession, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 2);

        // The connection cap bounds memory over the whole file: each pipeline gets its share.
        var perShard = options with
        {
            Reassembly = options.Reassembly with
            {
                MaxConnections = Math.Max(1, options.Reassembly.MaxConnections / shardCount),
                MaxBufferedBytesTotal = Math.Max(1, options.Reassembly.MaxBufferedBytesTotal / shardCount),
            },
        };
        for (var i = 0; i < BatchesInFlight; i++)
        {
            _empty.Add(new Batch());
        }

        _shards = new Shard[shardCount];
        for (var i = 0; i < shardCount; i++)
        {
            _shards[i] = new Shard(i, new CaptureAnalyzer(captureName, perShard, onSession), this);
        }
    }

    /// <summary>Routes one packet; blocks while every batch is still being analyzed.</summary>
    public void Process(in CapturedPacket packet, CancellationToken cancellationToken)
    {
        var shard = ShardOf(packet);
        _filling ??= _empty.Take(cancellationToken);
        if (!_filling.TryAdd(packet, shard))
        {
            Dispatch();
            _filling = _empty.Take(cancellationToken);
            if (!_filling.TryAdd(packet, shard))
            {
                _filling.AddOversized(packet, shard);
            }
        }
    }

    /// <summary>End of input: every pipeline finishes its batches, then its open connections.</summary>
    public AnalysisStatistics Finish()
    {
        if (_filling is { Count: > 0 })
        {
            Dispatch();
        }

        foreach (var shard in _shards)
        {
            shard.Queue.CompleteAdding();
        }

        var statistics = new AnalysisStatistics();
        ExceptionDispatchInfo? failure = null;
        foreach (var shard in _shards)
        {
            shard.Thread.Join();
            failure ??= shard.Failure;
            shard.Analyzer.Finish();
            statistics.Add(shard.Analyzer.Statistics);
        }

        failure?.Throw();
        return statistics;
    }

    public void Dispose()
    {
        foreach (var shard in _shards)
        {
            if (!shard.Queue.IsAddingCompleted)
            {
                shard.Queue.CompleteAdding();
            }

            shard.Thread.Join();
            shard.Analyzer.Dispose();
            shard.Queue.Dispose();
        }

        while (_empty.TryTake(out var batch))
        {
            batch.Release();
        }

        _filling?.Release();
        _empty.Dispose();
    }

    private int ShardOf(in CapturedPacket packet)
    {
        // Packets that are not TCP go to the first pipeline, which counts them like any other.
        if (PacketDecoder.TryDecodeTcp(packet.LinkType, packet.Data, packet.OriginalLength, out var segment) != DecodeStatus.Tcp)
        {
            return 0;
        }

        var key = ConnectionKey.Create(segment.SourceAddress, segment.SourcePort, segment.DestinationAddress, segment.DestinationPort);
        return (int)((uint)key.GetHashCode() % (uint)_shards.Length);
    }

    private void Dispatch()
    {
        var batch = _filling!;
        _filling = null;
        batch.PendingShards = _shards.Length;
        foreach (var shard in _shards)
        {
            shard.Queue.Add(batch);
        }
    }

    private void Release(Batch batch)
    {
        if (Interlocked.Decrement(ref batch.PendingShards) == 0)
        {
            batch.Clear();
            _empty.Add(batch);
        }
    }

    private sealed class Shard
    {
        public Shard(int index, CaptureAnalyzer analyzer, ShardedFileAnalysis owner)
        {
            Analyzer = analyzer;
            Thread = new Thread(() => Run(index, owner)) { IsBackground = true, Name = $"analysis {index}" };
            Thread.Start();
        }

        public CaptureAnalyzer Analyzer { get; }

        public BlockingCollection<Batch> Queue { get; } = new(BatchesInFlight);

        public Thread Thread { get; }

        public ExceptionDispatchInfo? Failure { get; private set; }

        private void Run(int index, ShardedFileAnalysis owner)
        {
            foreach (var batch in Queue.GetConsumingEnumerable())
            {
                try
                {
                    if (Failure is null)
                    {
                        batch.Feed(index, Analyzer);
                    }
                }
                catch (Exception e)
                {
                    // Reported by Finish on the reading thread; the batches keep flowing so nobody waits forever.
                    Failure = ExceptionDispatchInfo.Capture(e);
                }
                finally
                {
                    owner.Release(batch);
                }
            }
        }
    }

    private struct Entry
    {
        public Timestamp Timestamp;
        public LinkType LinkType;
        public int Offset;
        public int Length;
        public int OriginalLength;
        public int Shard;
        public long PacketNumber;
    }

    private sealed class Batch
    {
        private readonly Entry[] _entries = new Entry[MaxPacketsPerBatch];
        private byte[] _data = ArrayPool<byte>.Shared.Rent(BatchBytes);
        private int _used;

        public int Count { get; private set; }

        public int PendingShards;

        public bool TryAdd(in CapturedPacket packet, int shard)
        {
            if (Count == _entries.Length || _used + packet.Data.Length > _data.Length)
            {
                return false;
            }

            packet.Data.CopyTo(_data.AsSpan(_used));
            _entries[Count++] = new Entry
            {
                Timestamp = packet.Timestamp,
                LinkType = packet.LinkType,
                Offset = _used,
                Length = packet.Data.Length,
                OriginalLength = packet.OriginalLength,
                Shard = shard,
                PacketNumber = packet.PacketNumber,
            };
            _used += packet.Data.Length;
            return true;
        }

        /// <summary>A packet larger than a whole batch (up to the reader's record cap): the block grows for it.</summary>
        public void AddOversized(in CapturedPacket packet, int shard)
        {
            ArrayPool<byte>.Shared.Return(_data);
            _data = ArrayPool<byte>.Shared.Rent(packet.Data.Length);
            _used = 0;
            TryAdd(packet, shard);
        }

        public void Feed(int shard, CaptureAnalyzer analyzer)
        {
            for (var i = 0; i < Count; i++)
            {
                ref readonly var entry = ref _entries[i];
                if (entry.Shard == shard)
                {
                    analyzer.Process(new CapturedPacket(entry.Timestamp, entry.LinkType, _data.AsSpan(entry.Offset, entry.Length), entry.OriginalLength, entry.PacketNumber));
                }
            }
        }

        public void Clear()
        {
            Count = 0;
            _used = 0;
        }

        public void Release()
        {
            ArrayPool<byte>.Shared.Return(_data);
            _data = [];
        }
    }
}
