namespace WsCloseSniffer.Analysis;

/// <summary>
/// How many inflaters may be alive at once among the sessions of one analysis (one capture source): each costs about
/// 42 KiB (see <see cref="WebSockets.MessageInflater"/>), and a capture of 100,000 compressed sessions must not cost
/// gigabytes. Sessions take one when a direction starts a compressed message and give it back when no context is
/// kept (after each message without context takeover, else at the session's end). It also counts what they inflated.
/// </summary>
public sealed class InflaterBudget(int maxLive)
{
    public int MaxLive { get; } = maxLive;

    public int Live { get; private set; }

    /// <summary>Times a direction wanted an inflater and none was left.</summary>
    public long Refused { get; private set; }

    public bool TryTake()
    {
        if (Live >= MaxLive)
        {
            Refused++;
            return false;
        }

        Live++;
        return true;
    }

    public void Return() => Live--;

    /// <summary>Compressed units (messages; frames for deflate-frame) inflated to their end or to the cap.</summary>
    public long InflatedUnits { get; private set; }

    /// <summary>The bytes those units inflated to: with <see cref="InflatedUnits"/>, what inflation cost a run.</summary>
    public long InflatedBytes { get; private set; }

    public void CountInflated(long units, long bytes)
    {
        InflatedUnits += units;
        InflatedBytes += bytes;
    }
}
