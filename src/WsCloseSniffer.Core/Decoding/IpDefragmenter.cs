using System.Buffers;
using System.Buffers.Binary;

using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Decoding;

/// <summary>Memory and time bounds of the <see cref="IpDefragmenter"/>. Hitting one drops a datagram, never holds more.</summary>
public sealed record DefragmentationOptions
{
    /// <summary>Packet time an IPv4 datagram may take to arrive whole, from its first fragment seen (Linux's ipfrag_time).</summary>
    public int IPv4TimeoutSeconds { get; init; } = 30;

    /// <summary>The same for IPv6: RFC 8200 section 4.5 gives 60 seconds (Linux's ip6frag_time).</summary>
    public int IPv6TimeoutSeconds { get; init; } = 60;

    /// <summary>
    /// Memory held for incomplete datagrams, over all of them: fragment data, headers and bookkeeping, counted as
    /// the pooled arrays' sizes (Linux's ipfrag_high_thresh is the same 4 MiB). Past it the oldest datagram goes.
    /// </summary>
    public long MaxBytesHeld { get; init; } = 4L * 1024 * 1024;

    /// <summary>Incomplete datagrams held at once, whatever their size; past it the oldest goes.</summary>
    public int MaxDatagrams { get; init; } = 1024;
}

/// <summary>What <see cref="IpDefragmenter.Add"/> did with a fragment.</summary>
public enum DefragmentResult : byte
{
    /// <summary>Kept: its datagram is not whole yet.</summary>
    Held = 0,
    /// <summary>It completed its datagram, which is handed out.</summary>
    Reassembled = 1,
    /// <summary>Dropped and counted (duplicate, malformed, or its datagram was dropped).</summary>
    Dropped = 2,
    /// <summary>A later fragment of a UDP datagram whose first fragment was not kept: not a datagram that can carry TCP.</summary>
    NotWanted = 3,
}

/// <summary>Counters of an <see cref="IpDefragmenter"/>; what it dropped, so the summary can say so.</summary>
public sealed class DefragmentationStatistics
{
    /// <summary>Fragments taken in (not counting <see cref="DefragmentResult.NotWanted"/> ones).</summary>
    public long Fragments { get; internal set; }

    public long DatagramsReassembled { get; internal set; }

    /// <summary>Fragments lying wholly inside data already received: ignored, the datagram kept (as Linux does).</summary>
    public long DuplicateFragments { get; internal set; }

    /// <summary>Fragments with an empty payload, or not a multiple of 8 bytes before the last: dropped, the datagram kept.</summary>
    public long MalformedFragments { get; internal set; }

    /// <summary>Datagrams dropped for a fragment overlapping another in part, or a length that contradicts another fragment's.</summary>
    public long DatagramsOverlapping { get; internal set; }

    /// <summary>Datagrams dropped for being longer than an IP packet can be (65,535 bytes of total or payload length).</summary>
    public long DatagramsTooLarge { get; internal set; }

    /// <summary>Datagrams dropped incomplete: their time ran out, or the input ended, before every fragment came.</summary>
    public long DatagramsIncomplete { get; internal set; }

    /// <summary>Datagrams dropped incomplete to honour <see cref="DefragmentationOptions.MaxBytesHeld"/> or <see cref="DefragmentationOptions.MaxDatagrams"/>.</summary>
    public long DatagramsEvictedByCap { get; internal set; }

    /// <summary>Memory held now for incomplete datagrams (see <see cref="DefragmentationOptions.MaxBytesHeld"/>).</summary>
    public long BytesHeld { get; internal set; }

    /// <summary>Datagrams being reassembled now, or remembered as dropped until their time runs out.</summary>
    public int DatagramsHeld { get; internal set; }
}

/// <summary>
/// Reassembles IPv4 fragments and IPv6 packets with a Fragment header into whole IP packets, which go on to the
/// decoder like any captured packet. The one stateful part of decoding: it runs on the analysis thread, in packet
/// order, so the result does not depend on where the headers were decoded. Fragments are copied into pooled arrays;
/// a packet that is not a fragment never comes here.
/// </summary>
/// <remarks>
/// Overlaps follow Linux (RFC 5722 with erratum 3089, applied by Linux to IPv4 as well since 4.19): a fragment
/// lying wholly inside data already received is a duplicate and ignored; any other overlap drops the whole
/// datagram, and its later fragments too until its time runs out, so the fragments left cannot make a different
/// datagram. (Zeek reassembles overlaps and flags them; a host would not, and the host is who the analysis is
/// about.) A datagram is keyed by source, destination, identification and, for IPv4, protocol (RFC 791; RFC 8200
/// section 4.5). A completed datagram is forgotten at once, as Linux does: a copy of its fragments captured again
/// starts a new datagram. Not thread-safe: one per input.
/// </remarks>
public sealed class IpDefragmenter
{
    /// <summary>RFC 791 total length and RFC 8200 payload length are 16-bit.</summary>
    public const int MaxIpLength = 65_535;

    private const int IPv4MinHeaderBytes = 20;
    private const int IPv6HeaderBytes = 40;
    private const byte ProtocolUdp = 17;
    private const int FirstRangeSlots = 8;

    private readonly DefragmentationOptions _options;
    private readonly Dictionary<DatagramKey, Datagram> _datagrams = [];
    private readonly Stack<Datagram> _free = new();
    private readonly long _ipv4TimeoutNanoseconds;
    private readonly long _ipv6TimeoutNanoseconds;

    // Datagrams in the order their first fragment came: timeouts and caps take the oldest first.
    private Datagram? _oldest;
    private Datagram? _newest;

    // The reassembled packet handed out; valid until the next call, like a capture's frame.
    private byte[]? _output;

    public IpDefragmenter(DefragmentationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.IPv4TimeoutSeconds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.IPv6TimeoutSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBytesHeld);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxDatagrams);
        _options = options;
        _ipv4TimeoutNanoseconds = options.IPv4TimeoutSeconds * Timestamp.NanosecondsPerSecond;
        _ipv6TimeoutNanoseconds = options.IPv6TimeoutSeconds * Timestamp.NanosecondsPerSecond;
    }

    public DefragmentationStatistics Statistics { get; } = new();

    /// <summary>
    /// Takes one fragment. When it completes its datagram, <paramref name="packet"/> is the whole IP packet (header
    /// first, as the first fragment had it, with the lengths and fragment fields of an unfragmented packet) and
    /// <paramref name="packetLength"/> its length on the wire; <paramref name="packet"/> is shorter when the snap
    /// length cut a fragment: it ends where the first byte not captured would be. Both are valid until the next call.
    /// The fragment's bytes are copied before anything is written, so it may point into the last packet handed out.
    /// </summary>
    public DefragmentResult Add(in IpFragment fragment, Timestamp time, out ReadOnlySpan<byte> packet, out int packetLength)
    {
        packet = default;
        packetLength = 0;
        ExpireOld(time);

        var key = new DatagramKey(fragment.Source, fragment.Destination, fragment.Identification, fragment.IsIPv6 ? (byte)0 : fragment.Protocol);
        if (_datagrams.TryGetValue(key, out var datagram) && time.NanosecondsSince(datagram.FirstTime) >= Timeout(datagram))
        {
            Expire(datagram);
            datagram = null;
        }

        if (datagram is null && fragment.Protocol == ProtocolUdp && fragment.Offset != 0)
        {
            // The first fragment showed ports other than GTP-U's (or has not come yet): see PacketDecoder.FragmentStatus.
            return DefragmentResult.NotWanted;
        }

        Statistics.Fragments++;
        var start = fragment.Offset;
        var end = start + fragment.DataWireLength;
        if (end == start || (fragment.MoreFragments && (fragment.DataWireLength & 7) != 0))
        {
            // RFC 791 and RFC 8200 section 4.5: every fragment but the last carries a multiple of 8 bytes.
            Statistics.MalformedFragments++;
            return DefragmentResult.Dropped;
        }

        datagram ??= Create(key, fragment.IsIPv6, time);
        if (datagram.Discarding)
        {
            return DefragmentResult.Dropped;
        }

        // The header is at least 20 bytes for IPv4; for IPv6 the payload length counts only the extension headers.
        if (end > MaxIpLength - (fragment.IsIPv6 ? 0 : IPv4MinHeaderBytes))
        {
            Statistics.DatagramsTooLarge++;
            Discard(datagram);
            return DefragmentResult.Dropped;
        }

        // RFC 8200 section 4.5 and Linux: a last fragment fixes the length, and no data may lie past it.
        var contradicts = fragment.MoreFragments
            ? datagram.DataLength >= 0 && end > datagram.DataLength
            : (datagram.DataLength >= 0 && datagram.DataLength != end) || datagram.RangeEnd > end;
        if (contradicts)
        {
            Statistics.DatagramsOverlapping++;
            Discard(datagram);
            return DefragmentResult.Dropped;
        }

        switch (datagram.Insert(start, end, this))
        {
            case RangeInsert.Duplicate:
                Statistics.DuplicateFragments++;
                return DefragmentResult.Dropped;
            case RangeInsert.Overlap:
                Statistics.DatagramsOverlapping++;
                Discard(datagram);
                return DefragmentResult.Dropped;
        }

        if (!fragment.MoreFragments)
        {
            datagram.DataLength = end;
        }

        var captured = Math.Min(fragment.Data.Length, fragment.DataWireLength);
        if (captured < fragment.DataWireLength)
        {
            datagram.FirstUncaptured = Math.Min(datagram.FirstUncaptured, start + captured);
        }

        Store(datagram, fragment, captured);
        if (!EnforceByteCap(datagram))
        {
            return DefragmentResult.Dropped;
        }

        if (!datagram.IsComplete)
        {
            return DefragmentResult.Held;
        }

        packetLength = datagram.HeaderLength + datagram.DataLength;
        if (packetLength - (datagram.IsIPv6 ? IPv6HeaderBytes : 0) > MaxIpLength)
        {
            Statistics.DatagramsTooLarge++;
            Remove(datagram);
            packetLength = 0;
            return DefragmentResult.Dropped;
        }

        packet = Build(datagram);
        Statistics.DatagramsReassembled++;
        Remove(datagram);
        return DefragmentResult.Reassembled;
    }

    /// <summary>End of input: datagrams still incomplete are counted and their memory returned.</summary>
    public void Finish()
    {
        while (_oldest is { } oldest)
        {
            Expire(oldest);
        }
    }

    private long Timeout(Datagram datagram) => datagram.IsIPv6 ? _ipv6TimeoutNanoseconds : _ipv4TimeoutNanoseconds;

    private void ExpireOld(Timestamp time)
    {
        // Oldest first; an IPv6 datagram at the head (longer timeout) may keep an expired IPv4 one behind it a
        // little longer, which Add checks for the datagram it is given.
        while (_oldest is { } oldest && time.NanosecondsSince(oldest.FirstTime) >= Timeout(oldest))
        {
            Expire(oldest);
        }
    }

    private void Expire(Datagram datagram)
    {
        if (!datagram.Discarding)
        {
            Statistics.DatagramsIncomplete++;
        }

        Remove(datagram);
    }

    private Datagram Create(in DatagramKey key, bool isIPv6, Timestamp time)
    {
        if (Statistics.DatagramsHeld >= _options.MaxDatagrams)
        {
            EvictOldest();
        }

        var datagram = _free.Count > 0 ? _free.Pop() : new Datagram();
        datagram.Reset(key, isIPv6, time);
        _datagrams.Add(key, datagram);
        datagram.Previous = _newest;
        if (_newest is null)
        {
            _oldest = datagram;
        }
        else
        {
            _newest.Next = datagram;
        }

        _newest = datagram;
        Statistics.DatagramsHeld++;
        return datagram;
    }

    private void EvictOldest()
    {
        var oldest = _oldest!;
        if (!oldest.Discarding)
        {
            Statistics.DatagramsEvictedByCap++;
        }

        Remove(oldest);
    }

    /// <summary>Copies the fragment's header (from the first fragment) and captured data in.</summary>
    private void Store(Datagram datagram, in IpFragment fragment, int captured)
    {
        if (fragment.Offset == 0)
        {
            datagram.Header = Rent(fragment.Header.Length);
            fragment.Header.CopyTo(datagram.Header);
            datagram.HeaderLength = fragment.Header.Length;
            datagram.NextHeaderIndex = fragment.NextHeaderIndex;
            datagram.Protocol = fragment.Protocol;
        }

        var dataEnd = fragment.Offset + captured;
        if (dataEnd > (datagram.Data?.Length ?? 0))
        {
            // Doubling keeps the copies few when fragments come in order; a datagram is at most 64 KiB.
            var grown = Rent(Math.Min(Math.Max(dataEnd, 2 * (datagram.Data?.Length ?? 0)), MaxIpLength));
            if (datagram.Data is { } old)
            {
                old.CopyTo(grown, 0);
                Return(old);
            }

            datagram.Data = grown;
        }

        fragment.Data[..captured].CopyTo(datagram.Data.AsSpan(fragment.Offset));
    }

    /// <summary>
    /// Evicts the oldest other datagrams until the memory held is within the cap again; drops this one when it alone
    /// is over (so the cap is passed by at most one fragment's copy, for as long as this call).
    /// </summary>
    private bool EnforceByteCap(Datagram datagram)
    {
        while (Statistics.BytesHeld > _options.MaxBytesHeld)
        {
            var victim = _oldest == datagram ? datagram.Next : _oldest;
            if (victim is null)
            {
                Statistics.DatagramsEvictedByCap++;
                Discard(datagram);
                return false;
            }

            if (!victim.Discarding)
            {
                Statistics.DatagramsEvictedByCap++;
            }

            Remove(victim);
        }

        return true;
    }

    private ReadOnlySpan<byte> Build(Datagram datagram)
    {
        _output ??= new byte[MaxIpLength + IPv6HeaderBytes];
        var output = _output.AsSpan();
        datagram.Header.AsSpan(0, datagram.HeaderLength).CopyTo(output);
        var length = datagram.HeaderLength + datagram.DataLength;
        if (datagram.IsIPv6)
        {
            // The Fragment header is left out: the header before it now names what the fragments carried.
            output[datagram.NextHeaderIndex] = datagram.Protocol;
            BinaryPrimitives.WriteUInt16BigEndian(output[4..], (ushort)(length - IPv6HeaderBytes));
        }
        else
        {
            // Total length of the whole packet; MF and the offset cleared, DF and the reserved bit kept. The header
            // checksum stays the first fragment's: the decoder does not check it.
            BinaryPrimitives.WriteUInt16BigEndian(output[2..], (ushort)length);
            output[6] &= 0xC0;
            output[7] = 0;
        }

        var captured = Math.Min(datagram.DataLength, datagram.FirstUncaptured);
        datagram.Data.AsSpan(0, captured).CopyTo(output[datagram.HeaderLength..]);
        return output[..(datagram.HeaderLength + captured)];
    }

    /// <summary>Drops the datagram's data but remembers it until its time runs out: its later fragments are dropped too.</summary>
    private void Discard(Datagram datagram)
    {
        ReleaseBuffers(datagram);
        datagram.Discarding = true;
    }

    private void Remove(Datagram datagram)
    {
        ReleaseBuffers(datagram);
        _datagrams.Remove(datagram.Key);
        if (datagram.Previous is null)
        {
            _oldest = datagram.Next;
        }
        else
        {
            datagram.Previous.Next = datagram.Next;
        }

        if (datagram.Next is null)
        {
            _newest = datagram.Previous;
        }
        else
        {
            datagram.Next.Previous = datagram.Previous;
        }

        datagram.Previous = null;
        datagram.Next = null;
        Statistics.DatagramsHeld--;
        _free.Push(datagram);
    }

    private void ReleaseBuffers(Datagram datagram)
    {
        if (datagram.Header is { } header)
        {
            Return(header);
            datagram.Header = null;
        }

        if (datagram.Data is { } data)
        {
            Return(data);
            datagram.Data = null;
        }

        datagram.ReleaseRanges(this);
    }

    internal byte[] Rent(int bytes)
    {
        var array = ArrayPool<byte>.Shared.Rent(bytes);
        Statistics.BytesHeld += array.Length;
        return array;
    }

    internal void Return(byte[] array)
    {
        Statistics.BytesHeld -= array.Length;
        ArrayPool<byte>.Shared.Return(array);
    }

    internal int[] RentRanges(int slots)
    {
        var array = ArrayPool<int>.Shared.Rent(slots);
        Statistics.BytesHeld += array.Length * sizeof(int);
        return array;
    }

    internal void ReturnRanges(int[] array)
    {
        Statistics.BytesHeld -= array.Length * sizeof(int);
        ArrayPool<int>.Shared.Return(array);
    }

    private readonly record struct DatagramKey(IpAddress Source, IpAddress Destination, uint Identification, byte Protocol);

    private enum RangeInsert : byte
    {
        Added = 0,
        Duplicate = 1,
        Overlap = 2,
    }

    /// <summary>One datagram being reassembled; reused from a free list, its arrays pooled.</summary>
    private sealed class Datagram
    {
        // Received data as sorted, disjoint, non-adjacent [start, end) pairs: adjacent fragments merge, so the
        // list is as long as the holes between what came, and a fragment inside one pair is a duplicate.
        private int[]? _ranges;
        private int _rangeCount;

        public DatagramKey Key { get; private set; }

        public bool IsIPv6 { get; private set; }

        public Timestamp FirstTime { get; private set; }

        public bool Discarding { get; set; }

        /// <summary>The data's length, known from the last fragment; -1 before.</summary>
        public int DataLength { get; set; }

        /// <summary>Where the first byte the snap length cut lies in the data (int.MaxValue: none).</summary>
        public int FirstUncaptured { get; set; }

        public byte[]? Header { get; set; }

        public int HeaderLength { get; set; }

        public int NextHeaderIndex { get; set; }

        public byte Protocol { get; set; }

        public byte[]? Data { get; set; }

        public Datagram? Previous { get; set; }

        public Datagram? Next { get; set; }

        /// <summary>The end of the data received so far.</summary>
        public int RangeEnd => _rangeCount == 0 ? 0 : _ranges![(2 * _rangeCount) - 1];

        public bool IsComplete => DataLength >= 0 && _rangeCount == 1 && _ranges![0] == 0 && _ranges[1] == DataLength && Header is not null;

        public void Reset(in DatagramKey key, bool isIPv6, Timestamp time)
        {
            Key = key;
            IsIPv6 = isIPv6;
            FirstTime = time;
            Discarding = false;
            DataLength = -1;
            FirstUncaptured = int.MaxValue;
            HeaderLength = 0;
            NextHeaderIndex = -1;
            Protocol = 0;
            _rangeCount = 0;
        }

        public RangeInsert Insert(int start, int end, IpDefragmenter owner)
        {
            // The first pair ending at or after start: everything before it lies wholly before the fragment.
            int low = 0, high = _rangeCount;
            while (low < high)
            {
                var middle = (low + high) / 2;
                if (_ranges![(2 * middle) + 1] < start)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            var first = low;
            if (first < _rangeCount)
            {
                var pairStart = _ranges![2 * first];
                var pairEnd = _ranges[(2 * first) + 1];
                if (start >= pairStart && end <= pairEnd)
                {
                    return RangeInsert.Duplicate;
                }

                // Touching (start == pairEnd, or end == the next pair's start) is adjacent, not overlapping.
                if (start < pairEnd && end > pairStart)
                {
                    return RangeInsert.Overlap;
                }

                if (first + 1 < _rangeCount && end > _ranges[2 * (first + 1)])
                {
                    return RangeInsert.Overlap;
                }
            }

            var mergeLeft = first < _rangeCount && _ranges![(2 * first) + 1] == start;
            var rightIndex = mergeLeft ? first + 1 : first;
            var mergeRight = rightIndex < _rangeCount && _ranges![2 * rightIndex] == end;
            if (mergeLeft && mergeRight)
            {
                _ranges![(2 * first) + 1] = _ranges[(2 * rightIndex) + 1];
                RemovePair(rightIndex);
            }
            else if (mergeLeft)
            {
                _ranges![(2 * first) + 1] = end;
            }
            else if (mergeRight)
            {
                _ranges![2 * rightIndex] = start;
            }
            else
            {
                InsertPair(first, start, end, owner);
            }

            return RangeInsert.Added;
        }

        public void ReleaseRanges(IpDefragmenter owner)
        {
            if (_ranges is { } ranges)
            {
                owner.ReturnRanges(ranges);
                _ranges = null;
            }

            _rangeCount = 0;
        }

        private void InsertPair(int index, int start, int end, IpDefragmenter owner)
        {
            if (_ranges is null || (2 * (_rangeCount + 1)) > _ranges.Length)
            {
                var grown = owner.RentRanges(Math.Max(FirstRangeSlots, 2 * (_ranges?.Length ?? 0)));
                if (_ranges is { } old)
                {
                    Array.Copy(old, grown, 2 * _rangeCount);
                    owner.ReturnRanges(old);
                }

                _ranges = grown;
            }

            Array.Copy(_ranges, 2 * index, _ranges, 2 * (index + 1), 2 * (_rangeCount - index));
            _ranges[2 * index] = start;
            _ranges[(2 * index) + 1] = end;
            _rangeCount++;
        }

        private void RemovePair(int index)
        {
            Array.Copy(_ranges!, 2 * (index + 1), _ranges!, 2 * index, 2 * (_rangeCount - index - 1));
            _rangeCount--;
        }
    }
}
