using WsCloseSniffer.Cli;
using WsCloseSniffer.Pcap;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.Live;

public sealed class LiveSessionPrinterTests
{
    private static readonly SessionRecord s_session = new()
    {
        SessionId = 7,
        CaptureFile = "lo",
        StartTime = "2026-11-23T10:15:02.000000Z",
        EndTime = "2026-11-23T10:15:03.500000Z",
        ClientIp = "::1",
        ClientPort = 50412,
        ServerIp = "::1",
        ServerPort = 8080,
        Host = "localhost:8080",
        Path = "/chat",
        CloseCode = 1000,
        Classification = "normal_closure",
        Diagnosis = "The client closed the session normally.",
    };

    [Fact]
    public void FormatSession_CleanClose_OmitsDiagnosis()
    {
        Assert.Equal(
            "2026-11-23T10:15:03.500000Z #7 [::1]:50412 -> [::1]:8080 localhost:8080/chat close 1000 normal_closure",
            LiveSessionPrinter.FormatSession(s_session));
    }

    [Fact]
    public void FormatSession_NoCloseFrame_SaysSoAndAddsDiagnosis()
    {
        var session = s_session with
        {
            ClientIp = "127.0.0.1",
            ServerIp = "127.0.0.1",
            CloseCode = null,
            Classification = "abnormal_closure",
            Diagnosis = "The connection ended with a TCP reset.",
        };

        Assert.Equal(
            "2026-11-23T10:15:03.500000Z #7 127.0.0.1:50412 -> 127.0.0.1:8080 localhost:8080/chat no close code abnormal_closure: The connection ended with a TCP reset.",
            LiveSessionPrinter.FormatSession(session));
    }

    [Fact]
    public void WriteStatistics_PrintsEveryCounter()
    {
        using var writer = new StringWriter { NewLine = "\n" };

        LiveSessionPrinter.WriteStatistics(writer, "lo", new LiveCaptureStatistics(200, 3, 1, 5, 100, TimeSpan.FromSeconds(10), null), 7);

        Assert.Equal(
            "wsclosesniffer: capture on lo stopped after 10.0 s\n" +
            "  packets received:          200\n" +
            "  dropped by the kernel:     3\n" +
            "  dropped by the interface:  1\n" +
            "  dropped by wsclosesniffer: 5 (analysis fell behind the capture)\n" +
            "  packets analyzed:          100\n" +
            "  WebSocket sessions:        7\n",
            writer.ToString());
    }
}
