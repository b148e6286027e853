using System.Globalization;
using System.Text;

namespace WsCloseSniffer.Bench.Generator;

/// <summary>
/// The report columns the generator can know for sure (the contract's names and order, minus session_id,
/// times and diagnosis), one row per session as it ends: streamed, so memory stays flat.
/// </summary>
internal sealed class ExpectedReport : IDisposable
{
    public const string Header =
        "capture_file,client_ip,client_port,server_ip,server_port,host,path,offered_extensions,accepted_extensions,"
        + "close_initiator,close_code,close_reason,reply_close_code,classification,client_frames,server_frames,"
        + "client_payload_bytes,server_payload_bytes";

    private readonly StreamWriter _writer;
    private readonly string _captureFile;
    private readonly StringBuilder _line = new();

    public ExpectedReport(string path, string captureFile)
    {
        _writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        _captureFile = captureFile;
        _writer.WriteLine(Header);
    }

    public void Write(SessionRun run)
    {
        var plan = run.Plan;
        var closes = plan.Ending == Ending.CloseFrames;
        _line.Clear();
        Cell(_captureFile);
        Cell(run.Client.Address.ToString());
        Cell(run.Client.Port);
        Cell(run.Server.Address.ToString());
        Cell(run.Server.Port);
        Cell(plan.Host);
        Cell(plan.Path);
        Cell(plan.Extensions == ExtensionMode.None ? "" : SessionPlan.OfferedExtensions);
        Cell(plan.Extensions == ExtensionMode.OfferedAccepted ? SessionPlan.AcceptedExtensions : "");
        Cell(!closes ? "" : plan.ClientEnds ? "client" : "server");
        Cell(closes ? plan.CloseCode.ToString(CultureInfo.InvariantCulture) : "");
        Cell(closes ? plan.CloseReason : "");
        Cell(closes ? plan.CloseCode.ToString(CultureInfo.InvariantCulture) : "");
        Cell(Classification(plan));
        Cell(run.ClientFrames);
        Cell(run.ServerFrames);
        Cell(run.ClientPayloadBytes);
        _line.Append(run.ServerPayloadBytes.ToString(CultureInfo.InvariantCulture));
        _writer.WriteLine(_line);
    }

    public void Dispose() => _writer.Dispose();

    private static string Classification(SessionPlan plan) => plan.Ending != Ending.CloseFrames
        ? "abnormal_closure"
        : plan.CloseCode switch
        {
            1000 => "normal_closure",
            1001 => "going_away",
            1010 => "mandatory_extension",
            1011 => "internal_error",
            _ => "application",
        };

    private void Cell(long value) => _line.Append(value.ToString(CultureInfo.InvariantCulture)).Append(',');

    /// <summary>RFC 4180: quote a cell holding a comma, quote or line break; double the quotes inside.</summary>
    private void Cell(string value)
    {
        if (value.AsSpan().IndexOfAny(",\"\r\n") >= 0)
        {
            _line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
        else
        {
            _line.Append(value);
        }

        _line.Append(',');
    }
}
