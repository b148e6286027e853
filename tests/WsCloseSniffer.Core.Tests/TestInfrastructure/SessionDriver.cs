using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>
/// Drives one <see cref="WebSocketSession"/> directly through its <see cref="ITcpStreamHandler"/> calls, as the
/// reassembler would: data, gaps and closes per side, then exactly one connection end.
/// </summary>
internal sealed class SessionDriver
{
    public static readonly TcpEndpoint ClientEndpoint = new(IpAddress.Parse("192.0.2.10"), 51000);
    public static readonly TcpEndpoint ServerEndpoint = new(IpAddress.Parse("198.51.100.20"), 8080);
    public static readonly Timestamp Start = Timestamp.FromSeconds(1_800_000_000, 0);

    private readonly InflationWorkers? _inflationWorkers;
    private long _tick;
    private bool _sawFin;
    private bool _sawRst;

    /// <param name="clientIsOriginator">False when the server sent the SYN (the client is the responder).</param>
    /// <param name="sawSyn">False for a connection the capture joined after its start (no SYN, no handshake).</param>
    /// <param name="inflationWorkers">Inflation beside the driver's thread; <see cref="End"/> then waits for it.</param>
    public SessionDriver(bool clientIsOriginator = true, AnalyzerOptions? options = null, InflaterBudget? inflaters = null, bool sawSyn = true, InflationWorkers? inflationWorkers = null, long ordinal = 0)
    {
        _inflationWorkers = inflationWorkers;
        ClientDirection = clientIsOriginator ? FlowDirection.FromOriginator : FlowDirection.FromResponder;
        ServerDirection = clientIsOriginator ? FlowDirection.FromResponder : FlowDirection.FromOriginator;
        var info = clientIsOriginator
            ? new ConnectionInfo(ClientEndpoint, ServerEndpoint, Start, sawSyn, Ordinal: ordinal)
            : new ConnectionInfo(ServerEndpoint, ClientEndpoint, Start, sawSyn, Ordinal: ordinal);
        Session = new WebSocketSession(info, s => Ended.Add(s), options, inflaters, inflationWorkers);
    }

    public WebSocketSession Session { get; }

    public FlowDirection ClientDirection { get; }

    public FlowDirection ServerDirection { get; }

    /// <summary>Sessions reported through the end callback (only WebSocket sessions are).</summary>
    public List<WebSocketSession> Ended { get; } = [];

    public Timestamp Now => Timestamp.FromSeconds(Start.Seconds, _tick * 1_000_000);

    public SessionDriver Client(params byte[][] data)
    {
        foreach (var chunk in data)
        {
            Session.OnData(ClientDirection, chunk, Next());
        }

        return this;
    }

    public SessionDriver Server(params byte[][] data)
    {
        foreach (var chunk in data)
        {
            Session.OnData(ServerDirection, chunk, Next());
        }

        return this;
    }

    /// <summary>All chunks concatenated and delivered in one OnData call (one TCP segment).</summary>
    public SessionDriver ServerSegment(params byte[][] parts) => Server(PacketFrames.Concat(parts));

    public SessionDriver ClientSegment(params byte[][] parts) => Client(PacketFrames.Concat(parts));

    /// <summary>Lets <paramref name="seconds"/> pass (whole milliseconds) before the next call, as an idle connection does.</summary>
    public SessionDriver Wait(double seconds)
    {
        _tick += (long)Math.Round(seconds * 1000);
        return this;
    }

    public SessionDriver ClientGap(long bytes)
    {
        Session.OnGap(ClientDirection, bytes, Next());
        return this;
    }

    public SessionDriver ServerGap(long bytes)
    {
        Session.OnGap(ServerDirection, bytes, Next());
        return this;
    }

    /// <summary>The tail of the server's last segment, cut by the capture's snap length.</summary>
    public SessionDriver ServerCut(long bytes)
    {
        Session.OnGap(ServerDirection, bytes, GapCause.SnapLength, Next());
        return this;
    }

    public SessionDriver ClientClosed(TcpCloseKind kind) => Closed(ClientDirection, kind);

    public SessionDriver ServerClosed(TcpCloseKind kind) => Closed(ServerDirection, kind);

    /// <summary>The upgrade request and a matching 101.</summary>
    public SessionDriver Open(string? offered = null, string? accepted = null, string path = "/chat", string host = "example.test") =>
        Client(offered is null ? SessionHandshake.Request(path, host) : SessionHandshake.Request(path, host, offered))
            .Server(SessionHandshake.SwitchingProtocols(accepted));

    /// <summary>Ends the connection (exactly once) and returns the session's report record.</summary>
    public SessionRecord End(TcpCloseKind kind = TcpCloseKind.EndOfInput)
    {
        EndOnly(kind);
        _inflationWorkers?.Complete();
        return SessionRecord.From(Session, "test.pcap", flowOrder: 1);
    }

    public void EndOnly(TcpCloseKind kind = TcpCloseKind.EndOfInput) =>
        Session.OnConnectionEnd(new ConnectionEnd(kind, Next(), _sawFin, _sawRst));

    private SessionDriver Closed(FlowDirection direction, TcpCloseKind kind)
    {
        _sawFin |= kind == TcpCloseKind.Fin;
        _sawRst |= kind == TcpCloseKind.Rst;
        Session.OnClosed(direction, kind, Next());
        return this;
    }

    private Timestamp Next()
    {
        _tick++;
        return Now;
    }
}
