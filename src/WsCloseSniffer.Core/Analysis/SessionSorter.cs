using System.Text.Json;
using System.Text.Json.Serialization;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Puts the sessions of a run in report order (start time, then input, then flow: decision 7) and
/// numbers them, with memory bounded whatever the number of sessions: past
/// <see cref="MaxInMemory"/> records, a sorted run is written to a temporary file, and reading merges
/// the runs (an external merge sort). Sessions arrive from several files' threads at once.
/// </summary>
public sealed class SessionSorter : IDisposable
{
    public const int DefaultMaxInMemory = 1024;

    private readonly object _gate = new();
    private readonly List<Entry> _buffer = [];
    private readonly List<string> _runs = [];
    private readonly string _spillDirectory;
    private long _count;

    public SessionSorter(int maxInMemory = DefaultMaxInMemory, string? spillDirectory = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInMemory, 1);
        MaxInMemory = maxInMemory;
        _spillDirectory = spillDirectory ?? Path.GetTempPath();
    }

    public int MaxInMemory { get; }

    public long Count => Interlocked.Read(ref _count);

    /// <summary>How many runs went to temporary files so far.</summary>
    public int SpilledRuns
    {
        get
        {
            lock (_gate)
            {
                return _runs.Count;
            }
        }
    }

    public void Add(SessionRecord record, int inputIndex)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            _buffer.Add(new Entry(record, inputIndex));
            _count++;
            if (_buffer.Count >= MaxInMemory)
            {
                Spill();
            }
        }
    }

    /// <summary>The sessions in report order, numbered from 1. May be enumerated more than once.</summary>
    public IEnumerable<SessionRecord> Sorted()
    {
        List<Entry> memory;
        string[] runs;
        lock (_gate)
        {
            _buffer.Sort(Entry.Compare);
            memory = [.. _buffer];
            runs = [.. _runs];
        }

        var readers = runs.Select(ReadRun).Append(memory).Select(e => e.GetEnumerator()).ToList();
        try
        {
            var queue = new PriorityQueue<IEnumerator<Entry>, Entry>(Comparer<Entry>.Create(Entry.Compare));
            foreach (var reader in readers.Where(r => r.MoveNext()))
            {
                queue.Enqueue(reader, reader.Current);
            }

            long id = 0;
            while (queue.TryDequeue(out var reader, out var entry))
            {
                yield return entry.Record with { SessionId = ++id };
                if (reader.MoveNext())
                {
                    queue.Enqueue(reader, reader.Current);
                }
            }
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var run in _runs)
            {
                File.Delete(run);
            }

            _runs.Clear();
            _buffer.Clear();
        }
    }

    private void Spill()
    {
        _buffer.Sort(Entry.Compare);
        var path = Path.Combine(_spillDirectory, $"wsclosesniffer-{Environment.ProcessId}-{Guid.NewGuid():N}.sessions");
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.None))
        using (var writer = new Utf8JsonWriter(stream))
        {
            foreach (var entry in _buffer)
            {
                JsonSerializer.Serialize(writer, new SpilledSession(entry.InputIndex, entry.Record), SpillJsonContext.Default.SpilledSession);
                writer.Flush();
                writer.Reset();
                stream.WriteByte((byte)'\n');
            }
        }

        _runs.Add(path);
        _buffer.Clear();
    }

    private static IEnumerable<Entry> ReadRun(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            var spilled = JsonSerializer.Deserialize(line, SpillJsonContext.Default.SpilledSession)
                ?? throw new InvalidDataException($"empty line in session spill file {path}");
            yield return new Entry(spilled.Record, spilled.InputIndex);
        }
    }

    private readonly record struct Entry(SessionRecord Record, int InputIndex)
    {
        public static int Compare(Entry left, Entry right)
        {
            var byStart = left.Record.StartTimeNanoseconds.CompareTo(right.Record.StartTimeNanoseconds);
            if (byStart != 0)
            {
                return byStart;
            }

            var byInput = left.InputIndex.CompareTo(right.InputIndex);
            return byInput != 0 ? byInput : left.Record.FlowOrder.CompareTo(right.Record.FlowOrder);
        }
    }
}

/// <summary>One line of a sorter's temporary file.</summary>
internal sealed record SpilledSession(int InputIndex, SessionRecord Record);

// Source-generated: spilling needs no reflection, and costs no JIT time on the first run that spills.
[JsonSerializable(typeof(SpilledSession))]
internal sealed partial class SpillJsonContext : JsonSerializerContext;
