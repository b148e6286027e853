using WsCloseSniffer.Capture;
using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// How and when a finished session's TCP connection ended, and how long it had been idle: the timing evidence
/// the report's columns and the diagnosis share.
/// </summary>
/// <param name="TcpEnd">Fin or Rst: whichever came first in packet time; null when neither was seen.</param>
/// <param name="EndedByClient">Who sent that first FIN or RST; null with <paramref name="TcpEnd"/>.</param>
/// <param name="DurationNanoseconds">Last packet minus first packet.</param>
/// <param name="IdleBeforeEndNanoseconds">
/// From the last frame before the first FIN/RST (or the 101 response when none) to that FIN/RST, or from the last
/// frame to the last packet when neither; null when the session never got an answer.
/// </param>
/// <param name="OpenUntil">When the open session stopped: its first close frame, else the first FIN/RST, else the last packet.</param>
public readonly record struct SessionEnding(
    TcpCloseKind? TcpEnd,
    bool? EndedByClient,
    long DurationNanoseconds,
    long? IdleBeforeEndNanoseconds,
    Timestamp OpenUntil)
{
    public static SessionEnding Of(WebSocketSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var start = session.Connection.FirstPacketTime;
        var last = session.End?.LastPacketTime ?? start;
        TcpCloseKind? kind = null;
        FlowDirection? by = null;
        var endTime = last;
        if (session.FirstFinFrom is FlowDirection fin)
        {
            (kind, by, endTime) = (TcpCloseKind.Fin, fin, session.FirstFinTime);
        }

        if (session.FirstRstFrom is FlowDirection rst && (kind is null || session.FirstRstTime < endTime))
        {
            (kind, by, endTime) = (TcpCloseKind.Rst, rst, session.FirstRstTime);
        }

        var evidence = session.Evidence;
        var quietSince = evidence.LastFrameBeforeEndAt ?? evidence.OpenedAt;
        long? idle = quietSince is Timestamp q ? Math.Max(0, endTime.NanosecondsSince(q)) : null;
        var openUntil = session.FirstClose?.Time ?? endTime;
        return new SessionEnding(kind, by is FlowDirection d ? session.IsClient(d) : null,
            Math.Max(0, last.NanosecondsSince(start)), idle, openUntil);
    }
}
