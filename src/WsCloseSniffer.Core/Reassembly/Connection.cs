using System.Runtime.CompilerServices;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;

namespace WsCloseSniffer.Reassembly;

/// <summary>
/// One tracked connection: allocated once, on its first packet. After it ends (both FINs or a RST) it stays
/// as a tombstone for the linger time, without handler or buffers, so stray packets are recognised.
/// </summary>
internal sealed class Connection
{
    public Connection(long id, ConnectionKey key, TcpEndpoint originator, ITcpStreamHandler handler, Timestamp time)
    {
        Id = id;
        Key = key;
        Originator = originator;
        Handler = handler;
        LastPacketTime = time;
        ListedTime = time;
    }

    /// <summary>Creation order: what <see cref="TcpReassembler.FlushAll"/> sorts by.</summary>
    public long Id { get; }

    public ConnectionKey Key { get; }

    public TcpEndpoint Originator { get; }

    /// <summary>Null once the connection has ended.</summary>
    public ITcpStreamHandler? Handler { get; set; }

    public StreamHalf FromOriginator { get; } = new(FlowDirection.FromOriginator);

    public StreamHalf FromResponder { get; } = new(FlowDirection.FromResponder);

    public Timestamp LastPacketTime { get; set; }

    /// <summary>The <see cref="LastPacketTime"/> it had when last moved to the end of the activity list.</summary>
    public Timestamp ListedTime { get; set; }

    public Timestamp EndTime { get; set; }

    /// <summary>When both FINs had been seen, while the connection waits for the last ACK; null before.</summary>
    public Timestamp? BothFinsTime { get; set; }

    public bool SawFin { get; set; }

    public bool SawRst { get; set; }

    public FlowDirection? ResetBy { get; set; }

    public bool IsEnded => Handler is null;

    // Intrusive links: a connection is in the activity list while open, in the tombstone list after.
    public Connection? Previous { get; set; }

    public Connection? Next { get; set; }

    public ConnectionList? List { get; set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FlowDirection DirectionOf(TcpEndpoint source) =>
        source == Originator ? FlowDirection.FromOriginator : FlowDirection.FromResponder;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public StreamHalf Half(FlowDirection direction) =>
        direction == FlowDirection.FromOriginator ? FromOriginator : FromResponder;
}

/// <summary>A doubly linked list threaded through the connections themselves: O(1) add, remove, move, no allocation.</summary>
internal sealed class ConnectionList
{
    public Connection? Head { get; private set; }

    public Connection? Tail { get; private set; }

    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddLast(Connection connection)
    {
        connection.List = this;
        connection.Previous = Tail;
        connection.Next = null;
        if (Tail is null)
        {
            Head = connection;
        }
        else
        {
            Tail.Next = connection;
        }

        Tail = connection;
        Count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Remove(Connection connection)
    {
        if (connection.List != this)
        {
            return;
        }

        if (connection.Previous is null)
        {
            Head = connection.Next;
        }
        else
        {
            connection.Previous.Next = connection.Next;
        }

        if (connection.Next is null)
        {
            Tail = connection.Previous;
        }
        else
        {
            connection.Next.Previous = connection.Previous;
        }

        connection.Previous = null;
        connection.Next = null;
        connection.List = null;
        Count--;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MoveToEnd(Connection connection)
    {
        if (Tail == connection)
        {
            return;
        }

        Remove(connection);
        AddLast(connection);
    }
}
