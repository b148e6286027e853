namespace WsCloseSniffer.WebSockets;

/// <summary>
/// A few idle inflaters per thread, so a direction without context takeover that takes an inflater per message gets
/// one whose zlib state is already allocated, <see cref="MessageInflater.Reset"/> at the start of its unit, instead of
/// initializing and ending zlib per message (measured at about a sixth of inflating a small message).
/// </summary>
/// <remarks>
/// Only idle inflaters are here: how many are in use is the caller's budget. At most <see cref="IdlePerThread"/> wait
/// per thread (about 42 KiB each), and an inflater dropped with its thread is ended by its handle's finalizer.
/// </remarks>
internal static class MessageInflaterPool
{
    public const int IdlePerThread = 4;

    [ThreadStatic]
    private static MessageInflater?[]? t_idle;

    [ThreadStatic]
    private static int t_count;

    /// <summary>An inflater with an empty window and a new stream, as a new one would be.</summary>
    public static MessageInflater Rent()
    {
        var idle = t_idle;
        if (idle is null || t_count == 0)
        {
            return new MessageInflater();
        }

        var inflater = idle[--t_count]!;
        idle[t_count] = null;
        inflater.Reset();
        return inflater;
    }

    /// <summary>Takes back an inflater its caller is done with (whatever its stream's state), or disposes it when full.</summary>
    public static void Return(MessageInflater inflater)
    {
        var idle = t_idle ??= new MessageInflater?[IdlePerThread];
        if (inflater.IsDisposed || t_count == idle.Length)
        {
            inflater.Dispose();
            return;
        }

        idle[t_count++] = inflater;
    }

    /// <summary>For tests: how many wait on this thread.</summary>
    internal static int IdleOnThisThread => t_count;
}
