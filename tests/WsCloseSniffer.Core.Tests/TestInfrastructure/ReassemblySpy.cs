using System.Text;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>
/// Records every call a <see cref="TcpReassembler"/> makes and fails at once on a lifecycle violation:
/// a call after OnConnectionEnd, a second OnConnectionEnd, a second OnClosed for a direction, or data or a
/// gap in a direction after its OnClosed.
/// </summary>
internal sealed class RecordingStreamHandler : ITcpStreamHandler
{
    private readonly List<string> _globalLog;
    private readonly List<(string Kind, FlowDirection Direction, string Text)> _events = [];
    private readonly bool[] _closed = new bool[2];
    private readonly MemoryStream[] _bytes = [new(), new()];
    private readonly long[] _gapBytes = new long[2];

    public RecordingStreamHandler(int index, ConnectionInfo info, List<string> globalLog)
    {
        Index = index;
        Info = info;
        _globalLog = globalLog;
    }

    public int Index { get; }

    public ConnectionInfo Info { get; }

    public ConnectionEnd? End { get; private set; }

    public List<TcpCloseKind?> ClosedKinds { get; } = [null, null];

    public int DataCalls { get; private set; }

    /// <summary>Every byte delivered in one direction, gaps left out.</summary>
    public byte[] Bytes(FlowDirection direction) => _bytes[(int)direction].ToArray();

    public long GapBytes(FlowDirection direction) => _gapBytes[(int)direction];

    /// <summary>The calls, adjacent data in one direction merged: "O:abc | O:gap 3 | R:closed Fin | end Fin".</summary>
    public string Transcript
    {
        get
        {
            var parts = new List<string>();
            var data = new StringBuilder();
            FlowDirection? dataDirection = null;
            foreach (var (kind, direction, text) in _events)
            {
                if (kind == "data" && (dataDirection is null || dataDirection == direction))
                {
                    dataDirection = direction;
                    data.Append(text);
                    continue;
                }

                FlushData();
                if (kind == "data")
                {
                    dataDirection = direction;
                    data.Append(text);
                }
                else
                {
                    parts.Add(kind == "end" ? text : $"{Letter(direction)}:{text}");
                }
            }

            FlushData();
            return string.Join(" | ", parts);

            void FlushData()
            {
                if (dataDirection is { } d)
                {
                    parts.Add($"{Letter(d)}:{data}");
                    data.Clear();
                    dataDirection = null;
                }
            }
        }
    }

    public void OnData(FlowDirection direction, ReadOnlySpan<byte> data, Timestamp time)
    {
        CheckOpen(direction);
        Assert.False(data.IsEmpty, "OnData with no bytes");
        DataCalls++;
        _bytes[(int)direction].Write(data);
        Record("data", direction, Encoding.Latin1.GetString(data));
    }

    /// <summary>The cause of every gap, in order.</summary>
    public List<GapCause> GapCauses { get; } = [];

    public void OnGap(FlowDirection direction, long missingBytes, GapCause cause, Timestamp time)
    {
        GapCauses.Add(cause);
        OnGap(direction, missingBytes, time);
    }

    public void OnGap(FlowDirection direction, long missingBytes, Timestamp time)
    {
        CheckOpen(direction);
        Assert.True(missingBytes > 0, $"OnGap with {missingBytes} bytes");
        _gapBytes[(int)direction] += missingBytes;
        Record("gap", direction, $"gap {missingBytes}");
    }

    public void OnClosed(FlowDirection direction, TcpCloseKind kind, Timestamp time)
    {
        CheckOpen(direction);
        Assert.True(kind is TcpCloseKind.Fin or TcpCloseKind.Rst, $"OnClosed with {kind}");
        _closed[(int)direction] = true;
        ClosedKinds[(int)direction] = kind;
        Record("closed", direction, $"closed {kind}");
    }

    public void OnConnectionEnd(in ConnectionEnd connectionEnd)
    {
        Assert.True(End is null, $"connection {Index}: OnConnectionEnd called twice");
        End = connectionEnd;
        _events.Add(("end", default, $"end {connectionEnd.Kind}"));
        _globalLog.Add($"#{Index} end {connectionEnd.Kind}");
    }

    private void CheckOpen(FlowDirection direction)
    {
        Assert.True(End is null, $"connection {Index}: call after OnConnectionEnd");
        Assert.False(_closed[(int)direction], $"connection {Index}: call on {direction} after its OnClosed");
    }

    private void Record(string kind, FlowDirection direction, string text)
    {
        _events.Add((kind, direction, text));
        _globalLog.Add($"#{Index} {Letter(direction)}:{text}");
    }

    private static string Letter(FlowDirection direction) => direction == FlowDirection.FromOriginator ? "O" : "R";
}

internal sealed class RecordingHandlerFactory : ITcpStreamHandlerFactory
{
    public List<RecordingStreamHandler> Handlers { get; } = [];

    /// <summary>Every call on every handler, in order, prefixed by the connection's creation index.</summary>
    public List<string> GlobalLog { get; } = [];

    public ITcpStreamHandler Create(in ConnectionInfo connection)
    {
        var handler = new RecordingStreamHandler(Handlers.Count, connection, GlobalLog);
        Handlers.Add(handler);
        GlobalLog.Add($"#{handler.Index} created");
        return handler;
    }

    /// <summary>Every connection got OnConnectionEnd (exactly once is checked as calls arrive).</summary>
    public void AssertAllEnded()
    {
        foreach (var handler in Handlers)
        {
            Assert.True(handler.End is not null, $"connection {handler.Index} never got OnConnectionEnd");
        }
    }
}

/// <summary>One test segment: direction relative to the test's client, sequence, payload, flags, time.</summary>
internal sealed record Seg(
    bool FromClient,
    uint Seq,
    string Payload = "",
    TcpFlags Flags = TcpFlags.Ack,
    uint Ack = 0,
    double Time = 0,
    int Captured = -1,
    int ClientPort = ReassemblyFeed.ClientPort,
    ushort Window = 65535,
    sbyte WindowScale = TcpSegment.NoWindowScale)
{
    public override string ToString() =>
        $"{(FromClient ? "C" : "S")}{ClientPort}({Seq},\"{Payload}\",{Flags},ack={Ack},t={Time},cap={Captured})";
}

internal static class ReassemblyFeed
{
    public const int ClientPort = 40000;
    public const int ServerPort = 80;

    public static readonly IpAddress ClientAddress = IpAddress.Parse("10.0.0.1");
    public static readonly IpAddress ServerAddress = IpAddress.Parse("10.0.0.2");

    public static TcpEndpoint Client(int port = ClientPort) => new(ClientAddress, (ushort)port);

    public static TcpEndpoint Server => new(ServerAddress, ServerPort);

    public static Seg C(uint seq, string payload = "", TcpFlags flags = TcpFlags.Ack, uint ack = 0, double time = 0, int captured = -1) =>
        new(true, seq, payload, flags, ack, time, captured);

    public static Seg S(uint seq, string payload = "", TcpFlags flags = TcpFlags.Ack, uint ack = 0, double time = 0, int captured = -1) =>
        new(false, seq, payload, flags, ack, time, captured);

    public static Timestamp At(double seconds) => new((long)Math.Round(seconds * Timestamp.NanosecondsPerSecond));

    public static void Feed(TcpReassembler reassembler, Seg segment)
    {
        var payload = Encoding.Latin1.GetBytes(segment.Payload);
        Feed(reassembler, segment, payload);
    }

    public static void Feed(TcpReassembler reassembler, Seg segment, byte[] payload)
    {
        var captured = segment.Captured >= 0 ? payload.AsSpan(0, segment.Captured) : payload;
        var client = Client(segment.ClientPort);
        var (source, destination) = segment.FromClient ? (client, Server) : (Server, client);
        var tcp = new TcpSegment(
            source.Address,
            destination.Address,
            source.Port,
            destination.Port,
            segment.Seq,
            segment.Ack,
            segment.Flags,
            segment.Window,
            captured,
            payload.Length,
            segment.WindowScale);
        reassembler.Process(in tcp, ConnectionKey.Of(tcp), At(segment.Time), packetNumber: -1);
    }

    public static void FeedAll(TcpReassembler reassembler, IEnumerable<Seg> segments)
    {
        foreach (var segment in segments)
        {
            Feed(reassembler, segment);
        }
    }
}
