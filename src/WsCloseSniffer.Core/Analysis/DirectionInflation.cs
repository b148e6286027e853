using WsCloseSniffer.Capture;
using WsCloseSniffer.Http;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// One direction's compressed payloads on their way to its <see cref="DirectionInflater"/>: the frame decoder's
/// payload handler. It answers the decoder from the frame headers alone and keeps the inflater budget, both on the
/// analysis thread in frame order, and passes every call on: straight to the inflater, or through an inflation
/// worker's queue (<see cref="InflationWorkers"/>) when inflation runs beside the analysis.
/// </summary>
/// <remarks>
/// What the decoder is told depends only on headers, never on what inflating found (a unit that failed still has its
/// remaining payload passed on, and the inflater ignores it), so the decoding is the same whichever thread inflates
/// and however far behind it is. For the same reason the budget is kept here: a direction holds its place from a
/// compressed unit's first frame to the unit's last (no context takeover) or to the session's end (context kept),
/// never shorter than the inflater's life on the worker, so refusals are the same on every machine.
/// </remarks>
internal sealed class DirectionInflation : IFramePayloadHandler, IDisposable
{
    private readonly DirectionInflater _inflater;
    private readonly InflationLane? _lane;
    private readonly InflaterBudget _budget;
    private readonly bool _perFrame;
    private readonly bool _resetsContext;
    private bool _unitOpen;
    private bool _holdsInflater;
    private bool _ended;

    public DirectionInflation(bool fromClient, DeflateParameters parameters, long limit, InflaterBudget budget, InflationLane? lane)
    {
        FromClient = fromClient;
        _inflater = new DirectionInflater(fromClient, parameters, limit);
        _budget = budget;
        _lane = lane;
        _perFrame = parameters.Extension == DeflateExtension.PerFrame;
        _resetsContext = parameters.NoContextTakeover(fromClient);
    }

    public bool FromClient { get; }

    /// <summary>The lane this direction's calls go through; null: inflated on the analysis thread.</summary>
    public InflationLane? Lane => _lane;

    /// <summary>The lane's batch holding this direction's last call that can find anything (-1: none yet).</summary>
    public long LastSequence { get; private set; } = -1;

    /// <summary>Set once a compressed unit found no inflater left in the budget (notice ws_deflate_not_inflated).</summary>
    public bool WasRefused { get; private set; }

    /// <summary>What the inflater found; complete once the direction was disposed and its lane (if any) has made its calls.</summary>
    public ref readonly DirectionInflationFindings Findings => ref _inflater.Findings;

    public bool WantsPayload(in FrameHeader header)
    {
        var opcode = header.Opcode;
        if (opcode is WebSocketOpcode.Text or WebSocketOpcode.Binary)
        {
            if (_unitOpen)
            {
                // A new message while a compressed one was open: the inflater drops that unit and its context.
                _unitOpen = false;
                ReturnInflater();
            }
        }
        else if (opcode != WebSocketOpcode.Continuation)
        {
            return false;
        }

        var refused = false;
        bool wants;
        if (_perFrame ? header.Rsv1 : header.Rsv1 && opcode != WebSocketOpcode.Continuation)
        {
            _unitOpen = true;
            refused = !TakeInflater();
            wants = !refused;
        }
        else
        {
            wants = !_perFrame && _unitOpen;
        }

        if (_lane is null)
        {
            _inflater.OnFrameStart(header, refused);
        }
        else
        {
            _lane.FrameStart(_inflater, header, refused);
            LastSequence = _lane.CurrentSequence;
        }

        return wants;
    }

    public void OnPayload(in FrameHeader header, ReadOnlySpan<byte> bytes, long payloadOffset, Timestamp time)
    {
        if (_lane is null)
        {
            _inflater.OnPayload(header, bytes, payloadOffset, time);
        }
        else
        {
            _lane.Payload(_inflater, header, bytes, payloadOffset, time);
            LastSequence = _lane.CurrentSequence;
        }
    }

    public void OnPayloadGap(in FrameHeader header, long missingBytes)
    {
        if (_lane is null)
        {
            _inflater.OnPayloadGap(header, missingBytes);
        }
        else
        {
            _lane.PayloadGap(_inflater, header, missingBytes);
            LastSequence = _lane.CurrentSequence;
        }
    }

    /// <summary>A data frame completed; <paramref name="countsAsLast"/> as for <see cref="DirectionInflater.OnDataFrame"/>.</summary>
    public void OnDataFrame(in FrameHeader header, Timestamp time, bool countsAsLast)
    {
        if (header.Opcode is not (WebSocketOpcode.Text or WebSocketOpcode.Binary or WebSocketOpcode.Continuation))
        {
            return;
        }

        if (_unitOpen && (_perFrame ? header.Rsv1 : header.Fin))
        {
            _unitOpen = false;
            if (_resetsContext)
            {
                ReturnInflater();
            }
        }

        if (_lane is null)
        {
            _inflater.OnDataFrame(header, time, countsAsLast);
        }
        else
        {
            _lane.DataFrame(_inflater, header, time, countsAsLast);
            LastSequence = _lane.CurrentSequence;
        }
    }

    /// <summary>The connection ended: the inflater's memory goes back (at once, or when the lane gets there).</summary>
    public void Dispose()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        ReturnInflater();
        if (_lane is null)
        {
            _inflater.Dispose();
        }
        else
        {
            _lane.End(_inflater);
        }
    }

    private bool TakeInflater()
    {
        if (_holdsInflater)
        {
            return true;
        }

        if (!_budget.TryTake())
        {
            WasRefused = true;
            return false;
        }

        _holdsInflater = true;
        return true;
    }

    private void ReturnInflater()
    {
        if (_holdsInflater)
        {
            _holdsInflater = false;
            _budget.Return();
        }
    }
}
