using System.Globalization;

using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>Records as the CSV report writes them: the one way tests compare two runs' reports.</summary>
internal static class ReportText
{
    /// <summary>The CSV report of <paramref name="sessions"/>, in the order given, header first.</summary>
    public static string Csv(IEnumerable<SessionRecord> sessions)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var writer = new CsvSessionWriter(text, leaveOpen: true))
        {
            foreach (var session in sessions)
            {
                writer.Write(session);
            }
        }

        return text.ToString();
    }
}
