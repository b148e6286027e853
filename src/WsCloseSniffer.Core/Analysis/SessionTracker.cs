using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Creates a <see cref="WebSocketSession"/> per TCP connection and hands on each WebSocket session that
/// ends, counting its notices. Creating a session has no side effect beyond the session.
/// </summary>
public sealed class SessionTracker : ITcpStreamHandlerFactory, IDisposable
{
    private readonly Action<WebSocketSession> _onSession;

    // One delegate for all the sessions: a method group converted at each creation would be one more object per connection.
    private readonly Action<WebSocketSession> _onEnded;
    private readonly AnalyzerOptions _options;
    private readonly Dictionary<string, long> _noticeCounts = new(StringComparer.Ordinal);
    private readonly InflaterBudget _inflaters;
    private readonly InflationWorkers? _inflationWorkers;

    public SessionTracker(Action<WebSocketSession> onSession, AnalyzerOptions? options = null)
    {
        _onSession = onSession;
        _onEnded = OnEnded;
        _options = options ?? new AnalyzerOptions();
        _inflaters = new InflaterBudget(_options.MaxInflaters);
        if (_options.Inflate && _options.InflationThreads > 0)
        {
            _inflationWorkers = new InflationWorkers(_options.InflationThreads);
        }
    }

    /// <summary>The inflaters the sessions share (see <see cref="AnalyzerOptions.MaxInflaters"/>).</summary>
    public InflaterBudget Inflaters => _inflaters;

    /// <summary>How many sessions carried each notice.</summary>
    public IReadOnlyDictionary<string, long> NoticeCounts => _noticeCounts;

    public long Sessions { get; private set; }

    /// <summary>The part (of files read as one) the packets come from now; each new session keeps it.</summary>
    public int SourcePart { get; set; }

    public ITcpStreamHandler Create(in ConnectionInfo connection) =>
        new WebSocketSession(connection, _onEnded, _options, _inflaters, _inflationWorkers) { SourcePart = SourcePart };

    /// <summary>
    /// Every connection ended: waits for the inflation still running beside the analysis and reports the sessions
    /// that waited for it. Counts are complete after it.
    /// </summary>
    public void Complete() => _inflationWorkers?.Complete();

    public void Dispose() => _inflationWorkers?.Dispose();

    private void OnEnded(WebSocketSession session)
    {
        Sessions++;
        foreach (var notice in session.Notices)
        {
            _noticeCounts[notice] = _noticeCounts.GetValueOrDefault(notice) + 1;
        }

        _onSession(session);
    }
}
