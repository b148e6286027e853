using System.Runtime.CompilerServices;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Http;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tls;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Pipeline;

/// <summary>
/// The pipeline for one packet source: decoder, reassembler, session tracker. Push packets in with
/// <see cref="Process(in CapturedPacket, in DecodedTcp)"/>; call <see cref="Finish"/> once at the end of the input. Sessions come out
/// through the callback as they end.
/// </summary>
public sealed class CaptureAnalyzer : IDisposable
{
    private readonly IpDefragmenter _defragmenter;
    private readonly TcpReassembler _reassembler;
    private readonly SessionTracker _tracker;
    private readonly IPacketFilter? _filter;
    private readonly AnalysisStatistics _statistics = new();
    private Timestamp _lastTime;
    private bool _finished;

    public CaptureAnalyzer(string captureName, AnalyzerOptions options, Action<SessionRecord> onSession)
        : this(_ => captureName, options, onSession)
    {
    }

    /// <param name="captureNameOfPart">
    /// The file a session is reported under, from the <see cref="SourcePart"/> its first packet came from (files read
    /// as one).
    /// </param>
    public CaptureAnalyzer(Func<int, string> captureNameOfPart, AnalyzerOptions options, Action<SessionRecord> onSession)
    {
        ArgumentNullException.ThrowIfNull(captureNameOfPart);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onSession);
        _tracker = new SessionTracker(session => onSession(SessionRecord.From(session, captureNameOfPart(session.SourcePart), session.Connection.Ordinal)), options);
        _defragmenter = new IpDefragmenter(options.Defragmentation);
        _reassembler = new TcpReassembler(new TlsStreamHandlerFactory(_tracker, options.TlsKeyLog), options.Reassembly);
        _filter = options.FilterFactory?.Invoke();
    }

    /// <summary>
    /// Which of the files read as one the next packets come from: a connection's session keeps the part of its first
    /// packet, and is reported under that file (0 for a single file).
    /// </summary>
    public int SourcePart
    {
        get => _tracker.SourcePart;
        set => _tracker.SourcePart = value;
    }

    /// <summary>
    /// One packet and its decoded headers (<see cref="DecodedTcp.Decode"/>, on a reading thread or just before):
    /// the analyzer's one way in.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Process(in CapturedPacket packet, in DecodedTcp decoded)
    {
        if (Count(packet))
        {
            Dispatch(packet, decoded.Status, decoded.Status == DecodeStatus.Tcp ? decoded.Segment(packet.Data) : default, decoded.Key);
        }
    }

    /// <summary>Counts the packet; false when the filter drops it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Count(in CapturedPacket packet)
    {
        _statistics.Packets++;
        _statistics.Bytes += packet.Data.Length;
        if (packet.Data.Length < packet.OriginalLength)
        {
            CountCut(packet.Data.Length);
        }

        // Each packet keeps its own time in the report; the end of input is the latest time seen. (A clock step
        // back cannot make connections look idle: the reassembler only evicts when time moves forward.)
        _lastTime = Timestamp.Max(_lastTime, packet.Timestamp);
        if (_filter is not null && !_filter.Matches(packet.LinkType, packet.Data, packet.OriginalLength))
        {
            _statistics.FilteredOut++;
            return false;
        }

        return true;
    }

    private void CountCut(int capturedBytes)
    {
        _statistics.PacketsCutBySnapLength++;
        _statistics.SnapLengthBytes = Math.Max(_statistics.SnapLengthBytes, capturedBytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Dispatch(in CapturedPacket packet, DecodeStatus status, in TcpSegment segment, in ConnectionKey key)
    {
        switch (status)
        {
            case DecodeStatus.Tcp:
                _statistics.TcpSegments++;
                _reassembler.Process(segment, key, packet.Timestamp, packet.PacketNumber);
                break;
            case DecodeStatus.NotTcp:
                _statistics.NotTcp++;
                break;
            case DecodeStatus.IpFragment:
                Defragment(packet);
                break;
            case DecodeStatus.UnsupportedLinkType:
                _statistics.UnsupportedLinkTypes[packet.LinkType] = _statistics.UnsupportedLinkTypes.GetValueOrDefault(packet.LinkType) + 1;
                break;
            default:
                _statistics.Malformed++;
                break;
        }
    }

    /// <summary>
    /// A fragment goes to the defragmenter; a datagram it completes is decoded like a captured packet, with the time
    /// and number of the fragment that completed it (as Wireshark shows it), and goes on to the reassembler.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Defragment(in CapturedPacket packet)
    {
        if (!PacketDecoder.TryDecodeFragment(packet.LinkType, packet.Data, packet.OriginalLength, out var fragment))
        {
            // The decoder found a fragment in this frame a moment ago, by the same walk.
            _statistics.Malformed++;
            return;
        }

        Defragment(packet, fragment, depth: 0);
    }

    /// <summary>
    /// A fragment inside a reassembled datagram (fragmented at two tunnel levels) is reassembled in turn, as deep
    /// as the decoder enters tunnels.
    /// </summary>
    private void Defragment(in CapturedPacket packet, in IpFragment fragment, int depth)
    {
        var result = _defragmenter.Add(fragment, packet.Timestamp, out var datagram, out var datagramLength);
        if (result == DefragmentResult.NotWanted)
        {
            _statistics.NotTcp++;
            return;
        }

        _statistics.IpFragments++;
        if (result != DefragmentResult.Reassembled)
        {
            return;
        }

        var status = PacketDecoder.TryDecodeTcp(LinkType.Raw, datagram, datagramLength, out var segment);
        if (status != DecodeStatus.IpFragment)
        {
            Dispatch(packet, status, segment, status == DecodeStatus.Tcp ? ConnectionKey.Of(segment) : default);
        }
        else if (depth < PacketDecoder.MaxTunnelDepth && PacketDecoder.TryDecodeFragment(LinkType.Raw, datagram, datagramLength, out var inner))
        {
            Defragment(packet, inner, depth + 1);
        }
        else
        {
            _statistics.Malformed++;
        }
    }

    /// <summary>End of input: every open connection is flushed and its session reported.</summary>
    public void Finish()
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        _defragmenter.Finish();
        _reassembler.FlushAll(_lastTime);
        _tracker.Complete();
    }

    /// <summary>The counters so far (complete after <see cref="Finish"/>).</summary>
    public AnalysisStatistics Statistics
    {
        get
        {
            var reassembly = _reassembler.Statistics;
            _statistics.Connections = reassembly.ConnectionsCreated;
            _statistics.GapCount = reassembly.Gaps;
            _statistics.GapBytes = reassembly.GapBytes;
            _statistics.EvictedIdle = reassembly.ConnectionsEvictedByTimeout;
            _statistics.EvictedForCap = reassembly.ConnectionsEvictedByConnectionCap;
            _statistics.BufferCapGaps = reassembly.GapsByDirectionCap + reassembly.GapsByTotalCap;
            _statistics.SegmentsOutsideWindow = reassembly.SegmentsOutsideWindow;
            var defragmentation = _defragmenter.Statistics;
            _statistics.IpDatagramsReassembled = defragmentation.DatagramsReassembled;
            _statistics.IpDuplicateFragments = defragmentation.DuplicateFragments;
            _statistics.IpMalformedFragments = defragmentation.MalformedFragments;
            _statistics.IpDatagramsOverlapping = defragmentation.DatagramsOverlapping;
            _statistics.IpDatagramsTooLarge = defragmentation.DatagramsTooLarge;
            _statistics.IpDatagramsIncomplete = defragmentation.DatagramsIncomplete;
            _statistics.IpDatagramsEvictedByCap = defragmentation.DatagramsEvictedByCap;
            _statistics.Sessions = _tracker.Sessions;
            _statistics.InflatedUnits = _tracker.Inflaters.InflatedUnits;
            _statistics.InflatedBytes = _tracker.Inflaters.InflatedBytes;
            _statistics.Notices.Clear();
            foreach (var (notice, count) in _tracker.NoticeCounts)
            {
                _statistics.Notices[notice] = count;
            }

            return _statistics;
        }
    }

    public void Dispose()
    {
        _tracker.Dispose();
        (_filter as IDisposable)?.Dispose();
    }
}
