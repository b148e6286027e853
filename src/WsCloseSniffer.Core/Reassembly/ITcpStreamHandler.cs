using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;

namespace WsCloseSniffer.Reassembly;

/// <summary>Which way bytes travel on a connection, relative to its originator.</summary>
public enum FlowDirection : byte
{
    /// <summary>From the originator: the sender of the SYN, or of the first packet seen when no SYN was.</summary>
    FromOriginator = 0,
    /// <summary>From the other endpoint.</summary>
    FromResponder = 1,
}

/// <summary>Why one direction of a connection, or the connection, ended.</summary>
public enum TcpCloseKind : byte
{
    Fin = 0,
    Rst = 1,
    /// <summary>No packet for longer than the idle timeout (packet time), or evicted to honour a cap.</summary>
    Timeout = 2,
    /// <summary>The input ended while the connection was open.</summary>
    EndOfInput = 3,
}

/// <summary>Why bytes of a stream are missing.</summary>
public enum GapCause : byte
{
    /// <summary>Packets the capture does not hold: loss, a buffer cap, a hole the peer acknowledged.</summary>
    NotCaptured = 0,

    /// <summary>
    /// The tail of a segment cut by the capture's snap length: the segment is there, only its last bytes were
    /// not kept, so the stream goes on at the next segment exactly.
    /// </summary>
    SnapLength = 1,
}

/// <summary>
/// What the reassembler knows of a connection when it starts tracking it. <see cref="Ordinal"/> orders
/// connections as they were first seen (the first packet's number when the caller gives packet numbers,
/// else a count from 0): the tie-break that keeps reports deterministic.
/// </summary>
public readonly record struct ConnectionInfo(
    TcpEndpoint Originator,
    TcpEndpoint Responder,
    Timestamp FirstPacketTime,
    bool SawSyn,
    long Ordinal);

/// <summary>What the reassembler knows of a connection when it stops tracking it.</summary>
public readonly record struct ConnectionEnd(
    TcpCloseKind Kind,
    Timestamp LastPacketTime,
    bool SawFin,
    bool SawRst)
{
    /// <summary>The direction whose endpoint sent the RST that ended the connection, if one did.</summary>
    public FlowDirection? ResetBy { get; init; }
}

/// <summary>
/// Receives one TCP connection's byte streams, in order, from the reassembler.
/// Lifecycle, for each connection:
/// <list type="number">
/// <item>created once by <see cref="ITcpStreamHandlerFactory.Create"/> on the connection's first packet;</item>
/// <item><see cref="OnData"/> and <see cref="OnGap"/> zero or more times per direction, in sequence order;</item>
/// <item><see cref="OnClosed"/> at most once per direction, after that direction's last data or gap;</item>
/// <item><see cref="OnConnectionEnd"/> exactly once, last; no call follows it.</item>
/// </list>
/// A direction gets <see cref="OnClosed"/> with <see cref="TcpCloseKind.Fin"/> once every byte before its FIN
/// was delivered or declared a gap. A RST closes every direction not closed yet with
/// <see cref="TcpCloseKind.Rst"/>, the sender's direction first. A connection that times out, is evicted, is
/// replaced by a new SYN on the same 4-tuple or is open at the end of input gets no <see cref="OnClosed"/>
/// for its open directions (except a FIN that was already seen): only <see cref="OnConnectionEnd"/>.
/// Spans are only valid during the call.
/// </summary>
public interface ITcpStreamHandler
{
    void OnData(FlowDirection direction, ReadOnlySpan<byte> data, Timestamp time);

    /// <summary><paramref name="missingBytes"/> bytes of the stream were not captured (loss, snap length, a cap).</summary>
    void OnGap(FlowDirection direction, long missingBytes, Timestamp time);

    /// <summary>
    /// A gap with its cause: the reassembler calls this one. A handler that does not care why bytes are missing
    /// keeps the default, which is <see cref="OnGap(FlowDirection, long, Timestamp)"/>.
    /// </summary>
    void OnGap(FlowDirection direction, long missingBytes, GapCause cause, Timestamp time) => OnGap(direction, missingBytes, time);

    /// <summary>The direction ended: <see cref="TcpCloseKind.Fin"/> or <see cref="TcpCloseKind.Rst"/>.</summary>
    void OnClosed(FlowDirection direction, TcpCloseKind kind, Timestamp time);

    void OnConnectionEnd(in ConnectionEnd connectionEnd);
}

/// <summary>Creates a handler per connection. Creating one has no side effect beyond the handler itself.</summary>
public interface ITcpStreamHandlerFactory
{
    ITcpStreamHandler Create(in ConnectionInfo connection);
}
