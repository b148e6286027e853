using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// Creates a <see cref="WebSocketSession"/> per TCP connection and hands on each WebSocket session that
/// ends, counting its notices. Creating a session has no side effect beyond the session.
/// </summary>
public sealed class SessionTracker : ITcpStreamHandlerFactory
{
    private readonly Action<WebSocketSession> _onSession;
    private readonly AnalyzerOptions _options;
    private readonly Dictionary<string, long> _noticeCounts = new(StringComparer.Ordinal);
    private readonly InflaterBudget _inflaters;

    public SessionTracker(Action<WebSocketSession> onSession, AnalyzerOptions? options = null)
    {
        _onSession = onSession;
        _options = options ?? new AnalyzerOptions();
        _inflaters = new InflaterBudget(_options.MaxInflaters);
    }

    /// <summary>The inflaters the sessions share (see <see cref="AnalyzerOptions.MaxInflaters"/>).</summary>
    public InflaterBudget Inflaters => _inflaters;

    /// <summary>How many sessions carried each notice.</summary>
    public IReadOnlyDictionary<string, long> NoticeCounts => _noticeCounts;

    public long Sessions { get; private set; }

    public ITcpStreamHandler Create(in ConnectionInfo connection) => new WebSocketSession(connection, OnEnded, _options, _inflaters);

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
