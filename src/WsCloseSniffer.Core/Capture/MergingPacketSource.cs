namespace WsCloseSniffer.Capture;

/// <summary>One file of a capture read as one: when its first packet was taken, and how to open it.</summary>
/// <param name="Name">What problems with this file are reported under.</param>
/// <param name="FirstPacketTime">The time of its first packet (learned by reading only that packet).</param>
/// <param name="Open">Opens the file for reading; called at most once, when the merge reaches <paramref name="FirstPacketTime"/>.</param>
public sealed record MergePart<THeaders>(string Name, Timestamp FirstPacketTime, Func<IHeaderedPacketSource<THeaders>> Open)
    where THeaders : struct, IPacketHeaders<THeaders>;

/// <summary>Why one file of a merge stopped early: damage, a read error, or it could not be opened.</summary>
public sealed record MergePartProblem(string Name, bool Opened, string Message);

/// <summary>
/// Several capture files read as one capture: a k-way merge by packet time, as mergecap does. A file is opened
/// only once the merge has reached its first packet's time and closed at its end, so a rotation of any number of
/// files that follow each other has one file open at a time; files that overlap in time (two interfaces
/// captured at once) are open together and interleaved. Ties go to the file given first.
/// <para>
/// With one file open its packets pass straight through, as from the file itself. With several, each open file's
/// next packet waits in a buffer of its own (a copy: a file's packet data is only valid until that file is read
/// again), so memory is that of the open files whatever their number. Packets are numbered 1, 2, ... in merged
/// order, as in mergecap's output; a file's damage or read error ends only that file and is reported under its
/// name with its own offsets and packet numbers (<see cref="Problems"/>).
/// </para>
/// </summary>
public sealed class MergingPacketSource<THeaders> : IHeaderedPacketSource<THeaders>
    where THeaders : struct, IPacketHeaders<THeaders>
{
    private readonly IReadOnlyList<MergePart<THeaders>> _parts;
    private readonly PriorityQueue<OpenPart, (long Time, int Order)> _waiting = new();
    private readonly List<OpenPart> _open = [];
    private readonly List<MergePartProblem> _problems = [];
    private int _nextPart;
    private OpenPart? _current;
    private long _packetNumber;
    private long _closedBytes;

    /// <param name="parts">The files, in the order their first packets were taken (ties: the order given).</param>
    /// <param name="name">What the merged capture is called.</param>
    /// <param name="totalBytes">The files' total size, for progress.</param>
    public MergingPacketSource(IReadOnlyList<MergePart<THeaders>> parts, string name, long? totalBytes = null)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(name);
        for (var i = 1; i < parts.Count; i++)
        {
            if (parts[i].FirstPacketTime < parts[i - 1].FirstPacketTime)
            {
                throw new ArgumentException($"'{parts[i].Name}' starts before '{parts[i - 1].Name}': parts must be in first-packet order", nameof(parts));
            }
        }

        _parts = parts;
        Name = name;
        TotalBytes = totalBytes;
    }

    public string Name { get; }

    /// <summary>Always null: a file's damage ends only that file and is in <see cref="Problems"/>.</summary>
    public CaptureDamage? Damage => null;

    public long BytesRead
    {
        get
        {
            var bytes = _closedBytes;
            foreach (var part in _open)
            {
                bytes += part.Source.BytesRead;
            }

            return bytes;
        }
    }

    public long? TotalBytes { get; }

    /// <summary>Files open now.</summary>
    public int OpenParts => _open.Count;

    /// <summary>The most files that were open at once.</summary>
    public int PeakOpenParts { get; private set; }

    /// <summary>Files that ended on damage or a read error, or could not be opened, in the order that happened.</summary>
    public IReadOnlyList<MergePartProblem> Problems => _problems;

    /// <summary>The index (in the parts given) of the file the packet handed out last came from; -1 before the first.</summary>
    public int CurrentPart => _current?.Order ?? -1;

    public bool TryReadNext(out CapturedPacket packet) => TryReadNext(out packet, out _);

    public bool TryReadNext(out CapturedPacket packet, out THeaders headers)
    {
        if (_current is { } current)
        {
            _current = null;

            // The packet handed out last is done with, so its file may be read again, even if it came from the copy.
            if (_waiting.Count == 0)
            {
                // The one open file: its next packet passes straight through unless another file starts by then.
                if (!ReadFrom(current, out packet, out headers))
                {
                    return Next(out packet, out headers);
                }

                if (_nextPart >= _parts.Count || packet.Timestamp < _parts[_nextPart].FirstPacketTime)
                {
                    _current = current;
                    packet = new CapturedPacket(packet.Timestamp, packet.LinkType, packet.Data, packet.OriginalLength, ++_packetNumber);
                    return true;
                }

                current.Hold(packet, headers);
                _waiting.Enqueue(current, (current.Time.UnixNanoseconds, current.Order));
            }
            else
            {
                Advance(current);
            }
        }

        return Next(out packet, out headers);
    }

    /// <summary>The earliest waiting packet, after opening every file that starts by then.</summary>
    private bool Next(out CapturedPacket packet, out THeaders headers)
    {
        while (true)
        {
            if (_waiting.Count == 0)
            {
                if (_nextPart >= _parts.Count)
                {
                    packet = default;
                    headers = default;
                    return false;
                }

                OpenNext();
                continue;
            }

            var earliest = _waiting.Peek();
            if (_nextPart < _parts.Count && _parts[_nextPart].FirstPacketTime <= earliest.Time)
            {
                OpenNext();
                continue;
            }

            _waiting.Dequeue();
            _current = earliest;
            headers = earliest.Headers;
            packet = new CapturedPacket(earliest.Time, earliest.LinkType, earliest.Data, earliest.OriginalLength, ++_packetNumber);
            return true;
        }
    }

    /// <summary>Reads <paramref name="part"/>'s next packet into its buffer and queues it; closes it at its end.</summary>
    private void Advance(OpenPart part)
    {
        if (ReadFrom(part, out var packet, out var headers))
        {
            part.Hold(packet, headers);
            _waiting.Enqueue(part, (part.Time.UnixNanoseconds, part.Order));
        }
    }

    private void OpenNext()
    {
        var order = _nextPart++;
        var descriptor = _parts[order];
        IHeaderedPacketSource<THeaders> source;
        try
        {
            source = descriptor.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CaptureFormatException)
        {
            _problems.Add(new MergePartProblem(descriptor.Name, Opened: false, e.Message));
            return;
        }

        var part = new OpenPart(descriptor.Name, source, order);
        _open.Add(part);
        PeakOpenParts = Math.Max(PeakOpenParts, _open.Count);
        Advance(part);
    }

    /// <summary>The part's next packet; false (and the part closed, its problem noted) at its end.</summary>
    private bool ReadFrom(OpenPart part, out CapturedPacket packet, out THeaders headers)
    {
        bool read;
        string? problem = null;
        try
        {
            read = part.Source.TryReadNext(out packet, out headers);
            if (!read && part.Source.Damage is { } damage)
            {
                problem = $"damaged capture {damage}; sessions before it are reported";
            }
        }
        catch (IOException e)
        {
            // A read error mid-file is damage too: the packets read so far were merged.
            read = false;
            packet = default;
            headers = default;
            problem = $"read error after {part.Source.BytesRead} bytes: {e.Message}; sessions before it are reported";
        }

        if (read)
        {
            return true;
        }

        if (problem is not null)
        {
            _problems.Add(new MergePartProblem(part.Name, Opened: true, problem));
        }

        Close(part);
        return false;
    }

    private void Close(OpenPart part)
    {
        _closedBytes += part.Source.BytesRead;
        _open.Remove(part);
        part.Source.Dispose();
    }

    public void Dispose()
    {
        foreach (var part in _open)
        {
            part.Source.Dispose();
        }

        _open.Clear();
        _waiting.Clear();
        _current = null;
    }

    /// <summary>An open file and, while it waits its turn, a copy of its next packet.</summary>
    private sealed class OpenPart(string name, IHeaderedPacketSource<THeaders> source, int order)
    {
        private byte[] _data = [];
        private int _length;

        public string Name { get; } = name;

        public IHeaderedPacketSource<THeaders> Source { get; } = source;

        public int Order { get; } = order;

        public Timestamp Time { get; private set; }

        public LinkType LinkType { get; private set; }

        public int OriginalLength { get; private set; }

        public THeaders Headers { get; private set; }

        public ReadOnlySpan<byte> Data => _data.AsSpan(0, _length);

        public void Hold(in CapturedPacket packet, in THeaders headers)
        {
            if (_data.Length < packet.Data.Length)
            {
                // Grows to the file's largest packet (at most a record's cap), then never again.
                _data = new byte[Math.Max(packet.Data.Length, Math.Min(2 * _data.Length, CaptureBuffer.MaxRecordBytes))];
            }

            packet.Data.CopyTo(_data);
            _length = packet.Data.Length;
            Time = packet.Timestamp;
            LinkType = packet.LinkType;
            OriginalLength = packet.OriginalLength;
            Headers = headers;
        }
    }
}
