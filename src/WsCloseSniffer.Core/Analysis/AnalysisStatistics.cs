using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Counters of one analysis: what was read, what was skipped and why, what was dropped to honour a
/// cap. The summary reports them so nothing is silently lost.
/// </summary>
public sealed class AnalysisStatistics
{
    public long Packets { get; set; }
    public long Bytes { get; set; }
    public long TcpSegments { get; set; }
    public long NotTcp { get; set; }
    /// <summary>IP fragments given to the defragmenter (those that could carry TCP).</summary>
    public long IpFragments { get; set; }

    /// <summary>IP datagrams reassembled from fragments and decoded like captured packets.</summary>
    public long IpDatagramsReassembled { get; set; }

    /// <summary>Fragments wholly inside data already received: ignored.</summary>
    public long IpDuplicateFragments { get; set; }

    /// <summary>Fragments with no data, or not a multiple of 8 bytes before the last: dropped.</summary>
    public long IpMalformedFragments { get; set; }

    /// <summary>Datagrams dropped for overlapping fragments or contradicting lengths.</summary>
    public long IpDatagramsOverlapping { get; set; }

    /// <summary>Datagrams dropped for being longer than 65,535 bytes.</summary>
    public long IpDatagramsTooLarge { get; set; }

    /// <summary>Datagrams dropped incomplete at their reassembly timeout or the end of input.</summary>
    public long IpDatagramsIncomplete { get; set; }

    /// <summary>Datagrams dropped incomplete to honour the defragmenter's caps.</summary>
    public long IpDatagramsEvictedByCap { get; set; }
    public long Malformed { get; set; }
    public long FilteredOut { get; set; }
    public long Connections { get; set; }
    public long Sessions { get; set; }
    public long GapCount { get; set; }
    public long GapBytes { get; set; }
    public long EvictedIdle { get; set; }
    public long EvictedForCap { get; set; }
    public long BufferCapGaps { get; set; }

    /// <summary>TCP segments dropped for lying far outside any plausible window.</summary>
    public long SegmentsOutsideWindow { get; set; }

    /// <summary>Packets the capture's snap length cut (captured length below the length on the wire).</summary>
    public long PacketsCutBySnapLength { get; set; }

    /// <summary>The largest captured length of a cut packet: the snap length the capture used; 0 when none was cut.</summary>
    public int SnapLengthBytes { get; set; }

    /// <summary>Compressed messages (frames for deflate-frame) inflated; see <see cref="InflaterBudget.InflatedUnits"/>.</summary>
    public long InflatedUnits { get; set; }

    /// <summary>The bytes they inflated to.</summary>
    public long InflatedBytes { get; set; }

    /// <summary>Packets per link type the decoder does not understand.</summary>
    public Dictionary<LinkType, long> UnsupportedLinkTypes { get; } = [];

    /// <summary>Sessions that carried each notice.</summary>
    public Dictionary<string, long> Notices { get; } = new(StringComparer.Ordinal);

    public void Add(AnalysisStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Packets += other.Packets;
        Bytes += other.Bytes;
        TcpSegments += other.TcpSegments;
        NotTcp += other.NotTcp;
        IpFragments += other.IpFragments;
        IpDatagramsReassembled += other.IpDatagramsReassembled;
        IpDuplicateFragments += other.IpDuplicateFragments;
        IpMalformedFragments += other.IpMalformedFragments;
        IpDatagramsOverlapping += other.IpDatagramsOverlapping;
        IpDatagramsTooLarge += other.IpDatagramsTooLarge;
        IpDatagramsIncomplete += other.IpDatagramsIncomplete;
        IpDatagramsEvictedByCap += other.IpDatagramsEvictedByCap;
        Malformed += other.Malformed;
        FilteredOut += other.FilteredOut;
        Connections += other.Connections;
        Sessions += other.Sessions;
        GapCount += other.GapCount;
        GapBytes += other.GapBytes;
        EvictedIdle += other.EvictedIdle;
        EvictedForCap += other.EvictedForCap;
        BufferCapGaps += other.BufferCapGaps;
        SegmentsOutsideWindow += other.SegmentsOutsideWindow;
        PacketsCutBySnapLength += other.PacketsCutBySnapLength;
        SnapLengthBytes = Math.Max(SnapLengthBytes, other.SnapLengthBytes);
        InflatedUnits += other.InflatedUnits;
        InflatedBytes += other.InflatedBytes;
        foreach (var (linkType, count) in other.UnsupportedLinkTypes)
        {
            UnsupportedLinkTypes[linkType] = UnsupportedLinkTypes.GetValueOrDefault(linkType) + count;
        }

        foreach (var (notice, count) in other.Notices)
        {
            Notices[notice] = Notices.GetValueOrDefault(notice) + count;
        }
    }
}
