using System.Text;

namespace WsCloseSniffer.Reporting;

/// <summary>
/// Puts the sessions of a run in report order (start time, then input, then flow: decision 7) and
/// numbers them, with memory bounded whatever the number of sessions: past
/// <see cref="MaxInMemory"/> records, a sorted run is written to a temporary file, and reading merges
/// the runs (an external merge sort). Runs are merged in tiers of <see cref="RunsPerTier"/> as they
/// accumulate, so the files open at once (and their buffers) stay few however long the capture.
/// Sessions arrive from several files' threads at once.
/// </summary>
public sealed class SessionSorter : IDisposable
{
    public const int DefaultMaxInMemory = 1024;

    /// <summary>This many runs of one tier are merged into one run of the next.</summary>
    public const int RunsPerTier = 16;

    // Small: every run is open at once while merging, twice when the summary is written alongside the report.
    private const int RunReadBufferBytes = 8 * 1024;

    private readonly object _gate = new();
    private readonly List<Entry> _buffer = [];
    private readonly List<(string Path, int Tier)> _runs = [];
    private readonly Dictionary<string, long> _classificationCounts = new(StringComparer.Ordinal);
    private readonly EndingTimeGroups _endingTimes = new();
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

    /// <summary>How many runs are in temporary files now (runs of a tier are merged as they accumulate).</summary>
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
            _classificationCounts[record.Classification] = _classificationCounts.GetValueOrDefault(record.Classification) + 1;
            _endingTimes.Add(record);
            if (_buffer.Count >= MaxInMemory)
            {
                Spill();
            }
        }
    }

    /// <summary>Sessions added so far per classification (a copy).</summary>
    public IReadOnlyDictionary<string, long> ClassificationCounts
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, long>(_classificationCounts, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>The idle times and durations of the sessions added so far, for the summary's groups (a copy).</summary>
    public EndingTimeGroups EndingTimes
    {
        get
        {
            lock (_gate)
            {
                return _endingTimes.Copy();
            }
        }
    }

    /// <summary>The sessions in report order, numbered from 1. May be enumerated more than once, also at once from several threads.</summary>
    public IEnumerable<SessionRecord> Sorted()
    {
        List<Entry> memory;
        string[] runs;
        lock (_gate)
        {
            _buffer.Sort(Entry.Compare);
            memory = [.. _buffer];
            runs = [.. _runs.Select(run => run.Path)];
        }

        long id = 0;
        foreach (var entry in Merge([.. runs.Select(ReadRun), memory]))
        {
            yield return entry.Record with { SessionId = ++id };
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var (path, _) in _runs)
            {
                File.Delete(path);
            }

            _runs.Clear();
            _buffer.Clear();
        }
    }

    /// <summary>Entries of several sorted sequences, in order (a k-way merge).</summary>
    private static IEnumerable<Entry> Merge(IReadOnlyList<IEnumerable<Entry>> sources)
    {
        var readers = sources.Select(source => source.GetEnumerator()).ToList();
        try
        {
            var queue = new PriorityQueue<IEnumerator<Entry>, Entry>(Comparer<Entry>.Create(Entry.Compare));
            foreach (var reader in readers.Where(r => r.MoveNext()))
            {
                queue.Enqueue(reader, reader.Current);
            }

            while (queue.TryDequeue(out var reader, out var entry))
            {
                yield return entry;
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

    private void Spill()
    {
        _buffer.Sort(Entry.Compare);
        _runs.Add((WriteRun(_buffer), 0));
        _buffer.Clear();

        // Tiered like a log-structured merge: each record is rewritten once per tier, and at most
        // RunsPerTier - 1 runs of each tier remain.
        for (var tier = 0; ; tier++)
        {
            var same = _runs.Where(run => run.Tier == tier).ToList();
            if (same.Count < RunsPerTier)
            {
                break;
            }

            var merged = WriteRun(Merge([.. same.Select(run => ReadRun(run.Path))]));
            foreach (var run in same)
            {
                _runs.Remove(run);
                File.Delete(run.Path);
            }

            _runs.Add((merged, tier + 1));
        }
    }

    private string WriteRun(IEnumerable<Entry> entries)
    {
        var path = Path.Combine(_spillDirectory, $"wsclosesniffer-{Environment.ProcessId}-{Guid.NewGuid():N}.sessions");
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.None))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            foreach (var entry in entries)
            {
                SpilledSession.Write(writer, entry.InputIndex, entry.Record);
            }
        }

        return path;
    }

    private static IEnumerable<Entry> ReadRun(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, RunReadBufferBytes, FileOptions.SequentialScan);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        // Length once: FileStream asks the file system each time (an fstat per record, measured).
        var length = stream.Length;
        while (stream.Position < length)
        {
            var record = SpilledSession.Read(reader, out var inputIndex);
            yield return new Entry(record, inputIndex);
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

/// <summary>
/// A session in a sorter's temporary file: every field in a fixed order, binary. Measured against JSON (the
/// first format): reading runs back and its start-up cost was about 0.1 s of a 1 GiB run (bench/README.md).
/// The file lives only as long as the run, so the format needs no version.
/// </summary>
internal static class SpilledSession
{
    public static void Write(BinaryWriter writer, int inputIndex, SessionRecord record)
    {
        writer.Write(inputIndex);
        writer.Write(record.SessionId);
        writer.Write(record.CaptureFile);
        writer.Write(record.StartTime);
        writer.Write(record.EndTime);
        writer.Write(record.ClientIp);
        writer.Write(record.ClientPort);
        writer.Write(record.ServerIp);
        writer.Write(record.ServerPort);
        WriteOptional(writer, record.Host);
        WriteOptional(writer, record.Path);
        WriteOptional(writer, record.OfferedExtensions);
        WriteOptional(writer, record.AcceptedExtensions);
        WriteOptional(writer, record.CloseInitiator);
        WriteOptional(writer, record.CloseCode);
        WriteOptional(writer, record.CloseReason);
        WriteOptional(writer, record.ReplyCloseCode);
        writer.Write(record.Classification);
        writer.Write(record.Diagnosis);
        writer.Write(record.ClientFrames);
        writer.Write(record.ServerFrames);
        writer.Write(record.ClientPayloadBytes);
        writer.Write(record.ServerPayloadBytes);
        writer.Write(record.DurationMicroseconds);
        WriteOptional(writer, record.TcpEnd);
        WriteOptional(writer, record.TcpEndBy);
        WriteOptional(writer, record.IdleBeforeEndMicroseconds);
        writer.Write(record.ClientPings);
        writer.Write(record.ServerPings);
        writer.Write(record.ClientPongs);
        writer.Write(record.ServerPongs);
        writer.Write(record.UnansweredPings);
        WriteOptional(writer, record.MaxPingGapMicroseconds);
        writer.Write(record.ClientLargestMessageBytes);
        writer.Write(record.ServerLargestMessageBytes);
        WriteOptional(writer, record.LastMessageBytes);
        writer.Write(record.CompressedMessages);
        writer.Write(record.InflateErrors);
        writer.Write(record.Notices.Count);
        foreach (var notice in record.Notices)
        {
            writer.Write(notice);
        }

        WriteOptional(writer, record.HandshakeStatus);
        writer.Write(record.StartTimeNanoseconds);
        writer.Write(record.FlowOrder);

        // TLS
        WriteOptional(writer, record.TlsVersion);
        WriteOptional(writer, record.TlsCipher);
        WriteOptional(writer, record.TlsSni);
        WriteOptional(writer, record.TlsAlpn);
        WriteOptional(writer, record.Decrypted is bool decrypted ? (decrypted ? 1 : 0) : null);
    }

    public static SessionRecord Read(BinaryReader reader, out int inputIndex)
    {
        inputIndex = reader.ReadInt32();
        return new SessionRecord
        {
            SessionId = reader.ReadInt64(),
            CaptureFile = reader.ReadString(),
            StartTime = reader.ReadString(),
            EndTime = reader.ReadString(),
            ClientIp = reader.ReadString(),
            ClientPort = reader.ReadInt32(),
            ServerIp = reader.ReadString(),
            ServerPort = reader.ReadInt32(),
            Host = ReadOptionalString(reader),
            Path = ReadOptionalString(reader),
            OfferedExtensions = ReadOptionalString(reader),
            AcceptedExtensions = ReadOptionalString(reader),
            CloseInitiator = ReadOptionalString(reader),
            CloseCode = ReadOptionalInt(reader),
            CloseReason = ReadOptionalString(reader),
            ReplyCloseCode = ReadOptionalInt(reader),
            Classification = reader.ReadString(),
            Diagnosis = reader.ReadString(),
            ClientFrames = reader.ReadInt64(),
            ServerFrames = reader.ReadInt64(),
            ClientPayloadBytes = reader.ReadInt64(),
            ServerPayloadBytes = reader.ReadInt64(),
            DurationMicroseconds = reader.ReadInt64(),
            TcpEnd = ReadOptionalString(reader),
            TcpEndBy = ReadOptionalString(reader),
            IdleBeforeEndMicroseconds = ReadOptionalLong(reader),
            ClientPings = reader.ReadInt64(),
            ServerPings = reader.ReadInt64(),
            ClientPongs = reader.ReadInt64(),
            ServerPongs = reader.ReadInt64(),
            UnansweredPings = reader.ReadInt64(),
            MaxPingGapMicroseconds = ReadOptionalLong(reader),
            ClientLargestMessageBytes = reader.ReadInt64(),
            ServerLargestMessageBytes = reader.ReadInt64(),
            LastMessageBytes = ReadOptionalString(reader),
            CompressedMessages = reader.ReadInt64(),
            InflateErrors = reader.ReadInt64(),
            Notices = ReadNotices(reader),
            HandshakeStatus = ReadOptionalInt(reader),
            StartTimeNanoseconds = reader.ReadInt64(),
            FlowOrder = reader.ReadInt64(),
            TlsVersion = ReadOptionalString(reader),
            TlsCipher = ReadOptionalString(reader),
            TlsSni = ReadOptionalString(reader),
            TlsAlpn = ReadOptionalString(reader),
            Decrypted = ReadOptionalInt(reader) is int decrypted ? decrypted != 0 : null,
        };
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static void WriteOptional(BinaryWriter writer, int? value)
    {
        writer.Write(value.HasValue);
        if (value is int number)
        {
            writer.Write(number);
        }
    }

    private static void WriteOptional(BinaryWriter writer, long? value)
    {
        writer.Write(value.HasValue);
        if (value is long number)
        {
            writer.Write(number);
        }
    }

    private static long? ReadOptionalLong(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadInt64() : null;

    private static string? ReadOptionalString(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;

    private static int? ReadOptionalInt(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadInt32() : null;

    private static string[] ReadNotices(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count == 0)
        {
            return [];
        }

        var notices = new string[count];
        for (var i = 0; i < notices.Length; i++)
        {
            // The same few names recur in every session: one string each, as the analysis made them.
            notices[i] = string.Intern(reader.ReadString());
        }

        return notices;
    }
}
