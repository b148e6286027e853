using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

using WsCloseSniffer.Capture;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Inflation beside the analysis: compressed payloads are the one part of the analysis whose cost grows with the
/// bytes themselves (zlib's inflate runs at a few hundred MB/s where the rest runs at GB/s), so one big capture of
/// compressed traffic would otherwise keep one core busy while the others wait. Each session goes to one
/// <see cref="InflationLane"/> (a thread), so a direction's calls stay in order; the session is reported once its lane
/// has made them all.
/// </summary>
/// <remarks>
/// The report does not depend on how many lanes there are or how far behind they run: what the frame decoder is told
/// and what the inflater budget allows is decided on the analysis thread from headers (<see cref="DirectionInflation"/>),
/// and a session takes in what its inflaters found only once they are done. Sessions may be reported in another order
/// than they ended; the reports are sorted anyway.
/// </remarks>
public sealed class InflationWorkers : IDisposable
{
    private readonly InflationLane?[] _lanes;
    private bool _disposed;

    public InflationWorkers(int lanes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        _lanes = new InflationLane?[lanes];
    }

    public int LaneCount => _lanes.Length;

    /// <summary>The lane a connection's inflation runs on, created (with its thread) when first needed.</summary>
    internal InflationLane LaneFor(long connectionOrdinal)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var index = (int)((ulong)connectionOrdinal % (ulong)_lanes.Length);
        return _lanes[index] ??= new InflationLane(index);
    }

    /// <summary>Reports the sessions whose lanes have caught up with them (called on the analysis thread).</summary>
    internal void ReportReady()
    {
        foreach (var lane in _lanes)
        {
            lane?.ReportReady(wait: false);
        }
    }

    /// <summary>End of input: hands the rest to the lanes, waits for them, and reports every session still waiting.</summary>
    public void Complete()
    {
        foreach (var lane in _lanes)
        {
            lane?.ReportReady(wait: true);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var lane in _lanes)
        {
            lane?.Dispose();
        }
    }
}

/// <summary>
/// One inflation thread and its queue: the analysis thread fills batches of calls (with copies of their payload
/// bytes) and hands each over whole, so handing over costs nothing per frame; the thread makes the calls in order.
/// At most <see cref="BatchesPerLane"/> batches exist per lane, so the analysis waits rather than queueing without bound.
/// </summary>
internal sealed class InflationLane : IDisposable
{
    public const int BatchItems = 2048;
    public const int BatchBytes = 256 * 1024;

    /// <summary>
    /// Units begun per batch: a lane behind the analysis may still hold inflaters the budget already gave back, at most
    /// this many per batch in flight (see docs/caps.md).
    /// </summary>
    public const int BatchUnitStarts = 64;

    /// <summary>Sessions waiting on one batch before it is handed over: they are held whole until then.</summary>
    public const int BatchSessionEnds = 64;

    /// <summary>Sessions waiting on the lane in all: past it the analysis waits for the oldest one's batch.</summary>
    public const int MaxWaitingSessions = 256;

    public const int BatchesPerLane = 4;

    private readonly BlockingCollection<InflationBatch> _full = new(BatchesPerLane);
    private readonly BlockingCollection<InflationBatch> _free = new(BatchesPerLane);
    private readonly Queue<(long Sequence, WebSocketSession Session)> _waiting = new();
    private readonly Thread _thread;
    private InflationBatch _current;
    private long _nextSequence;
    private long _completed = -1;
    private ExceptionDispatchInfo? _failure;
    private bool _stopped;

    public InflationLane(int index)
    {
        for (var i = 1; i < BatchesPerLane; i++)
        {
            _free.Add(new InflationBatch());
        }

        _current = new InflationBatch { Sequence = _nextSequence++ };
        _thread = new Thread(Run) { IsBackground = true, Name = $"inflate {index}" };
        _thread.Start();
    }

    /// <summary>The sequence number of the batch the next call goes into: done once <see cref="IsDone"/> says so.</summary>
    public long CurrentSequence => _current.Sequence;

    public bool IsDone(long sequence) => Volatile.Read(ref _completed) >= sequence;

    public void FrameStart(DirectionInflater target, in FrameHeader header, bool refused)
    {
        ref var item = ref Next(target, InflationCall.FrameStart, header);
        item.Flag = refused;
        if (refused)
        {
            return;
        }

        if (header.Rsv1 && ++_current.UnitStarts >= BatchUnitStarts)
        {
            HandOver();
        }
    }

    public void Payload(DirectionInflater target, in FrameHeader header, ReadOnlySpan<byte> bytes, long payloadOffset, Timestamp time)
    {
        while (!bytes.IsEmpty)
        {
            var room = BatchBytes - _current.DataLength;
            if (room == 0 || _current.Count == BatchItems)
            {
                HandOver();
                continue;
            }

            var piece = bytes[..Math.Min(room, bytes.Length)];
            ref var item = ref Next(target, InflationCall.Payload, header);
            item.Number = payloadOffset;
            item.Time = time;
            item.DataStart = _current.DataLength;
            item.DataLength = piece.Length;
            piece.CopyTo(_current.Data.AsSpan(_current.DataLength));
            _current.DataLength += piece.Length;
            bytes = bytes[piece.Length..];
            payloadOffset += piece.Length;
        }
    }

    public void PayloadGap(DirectionInflater target, in FrameHeader header, long missingBytes) =>
        Next(target, InflationCall.PayloadGap, header).Number = missingBytes;

    public void DataFrame(DirectionInflater target, in FrameHeader header, Timestamp time, bool countsAsLast)
    {
        ref var item = ref Next(target, InflationCall.DataFrame, header);
        item.Time = time;
        item.Flag = countsAsLast;
    }

    public void End(DirectionInflater target) => Next(target, InflationCall.End, default);

    /// <summary>
    /// True when the lane has made every call up to batch <paramref name="sequence"/> (the session's last one that
    /// finds anything), so the session can be reported now; otherwise the session waits and is reported by
    /// <see cref="ReportReady"/>.
    /// </summary>
    public bool ReportWhenDone(WebSocketSession session, long sequence)
    {
        ThrowIfFailed();
        if (IsDone(sequence))
        {
            return true;
        }

        _waiting.Enqueue((sequence, session));
        if (sequence == _current.Sequence && ++_current.SessionEnds >= BatchSessionEnds)
        {
            HandOver();
        }

        // Many short sessions whose last calls sit in batches already handed over would otherwise pile up here.
        while (_waiting.Count > MaxWaitingSessions)
        {
            var (oldest, waiting) = _waiting.Dequeue();
            if (oldest == _current.Sequence)
            {
                HandOver();
            }

            WaitFor(oldest);
            waiting.ReportEnded();
        }

        return false;
    }

    public void ReportReady(bool wait)
    {
        if (wait && _current.Count > 0)
        {
            HandOver();
        }

        while (_waiting.TryPeek(out var next))
        {
            if (!IsDone(next.Sequence))
            {
                if (!wait)
                {
                    break;
                }

                WaitFor(next.Sequence);
            }

            _waiting.Dequeue();
            next.Session.ReportEnded();
        }

        ThrowIfFailed();
    }

    public void Dispose()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _full.CompleteAdding();
        _thread.Join();
        _full.Dispose();
        _free.Dispose();
    }

    private ref InflationItem Next(DirectionInflater target, InflationCall call, in FrameHeader header)
    {
        if (_current.Count == BatchItems)
        {
            HandOver();
        }

        ref var item = ref _current.Items[_current.Count++];
        item = new InflationItem { Target = target, Call = call, Header = header };
        return ref item;
    }

    private void HandOver()
    {
        ThrowIfFailed();
        // Never blocks: every batch is the current one, free, or in here.
        _full.Add(_current);
        InflationBatch? next;
        while (!_free.TryTake(out next, 50))
        {
            ThrowIfFailed();
        }

        next.Sequence = _nextSequence++;
        _current = next;
    }

    private void WaitFor(long sequence)
    {
        var spinner = default(SpinWait);
        while (!IsDone(sequence))
        {
            ThrowIfFailed();
            if (_thread.ThreadState.HasFlag(ThreadState.Stopped))
            {
                throw new InvalidOperationException("The inflation thread stopped before finishing its work.");
            }

            spinner.SpinOnce(sleep1Threshold: 64);
        }
    }

    private void ThrowIfFailed() => Volatile.Read(ref _failure)?.Throw();

    private void Run()
    {
        try
        {
            foreach (var batch in _full.GetConsumingEnumerable())
            {
                Make(batch);
                Volatile.Write(ref _completed, batch.Sequence);
                batch.Clear();
                _free.Add(batch);
            }
        }
        catch (Exception e)
        {
            // Seen by the analysis thread at its next hand-over or wait, with the original stack.
            Volatile.Write(ref _failure, ExceptionDispatchInfo.Capture(e));
            Volatile.Write(ref _completed, long.MaxValue);
        }
    }

    private static void Make(InflationBatch batch)
    {
        var data = batch.Data;
        for (var i = 0; i < batch.Count; i++)
        {
            ref readonly var item = ref batch.Items[i];
            var target = item.Target!;
            switch (item.Call)
            {
                case InflationCall.FrameStart:
                    target.OnFrameStart(item.Header, item.Flag);
                    break;
                case InflationCall.Payload:
                    target.OnPayload(item.Header, data.AsSpan(item.DataStart, item.DataLength), item.Number, item.Time);
                    break;
                case InflationCall.PayloadGap:
                    target.OnPayloadGap(item.Header, item.Number);
                    break;
                case InflationCall.DataFrame:
                    target.OnDataFrame(item.Header, item.Time, item.Flag);
                    break;
                default:
                    target.Dispose();
                    break;
            }
        }
    }
}

internal enum InflationCall : byte
{
    FrameStart,
    Payload,
    PayloadGap,
    DataFrame,
    End,
}

/// <summary>One call for a direction's inflater, with its arguments; payload bytes are in the batch's data.</summary>
internal struct InflationItem
{
    public DirectionInflater? Target;
    public FrameHeader Header;
    public Timestamp Time;

    // The payload offset (Payload) or the missing bytes (PayloadGap).
    public long Number;
    public int DataStart;
    public int DataLength;
    public InflationCall Call;

    // Refused (FrameStart) or counts as the last message (DataFrame).
    public bool Flag;
}

internal sealed class InflationBatch
{
    public readonly InflationItem[] Items = new InflationItem[InflationLane.BatchItems];
    public readonly byte[] Data = new byte[InflationLane.BatchBytes];
    public int Count;
    public int DataLength;
    public int UnitStarts;
    public int SessionEnds;
    public long Sequence;

    public void Clear()
    {
        // The targets go: a finished session's inflaters are not kept alive by a batch waiting for reuse.
        Array.Clear(Items, 0, Count);
        Count = 0;
        DataLength = 0;
        UnitStarts = 0;
        SessionEnds = 0;
    }
}
