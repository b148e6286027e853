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
    private readonly TcpReassembler _reassembler;
    private readonly SessionTracker _tracker;
    private readonly IPacketFilter? _filter;
    private readonly AnalysisStatistics _statistics = new();
    private Timestamp _lastTime;
    private bool _finished;

    public CaptureAnalyzer(string captureName, AnalyzerOptions options, Action<SessionRecord> onSession)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onSession);
        _tracker = new SessionTracker(session => onSession(SessionRecord.From(session, captureName, session.Connection.Ordinal)), options);
        _reassembler = new TcpReassembler(new TlsStreamHandlerFactory(_tracker, options.TlsKeyLog), options.Reassembly);
        _filter = options.FilterFactory?.Invoke();
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
                _statistics.IpFragments++;
                break;
            case DecodeStatus.UnsupportedLinkType:
                _statistics.UnsupportedLinkTypes[packet.LinkType] = _statistics.UnsupportedLinkTypes.GetValueOrDefault(packet.LinkType) + 1;
                break;
            default:
                _statistics.Malformed++;
                break;
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
        _reassembler.FlushAll(_lastTime);
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
            _statistics.Sessions = _tracker.Sessions;
            _statistics.Notices.Clear();
            foreach (var (notice, count) in _tracker.NoticeCounts)
            {
                _statistics.Notices[notice] = count;
            }

            return _statistics;
        }
    }

    public void Dispose() => (_filter as IDisposable)?.Dispose();
}
