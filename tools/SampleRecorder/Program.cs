using System.ComponentModel;
using System.Net.WebSockets;

using WsCloseSniffer.SampleRecorder;

// Usage: SampleRecorder [OUTPUT_DIRECTORY [SCENARIO_FILE...]]   (root is needed to capture on the loopback interface)
string outputDirectory = args.Length > 0 ? args[0] : Path.Combine("samples", "pcaps");
if (!Environment.IsPrivilegedProcess)
{
    Console.Error.WriteLine("Capturing on the loopback interface needs root: sudo dotnet run --project tools/SampleRecorder -- samples/pcaps");
    return 1;
}

Directory.CreateDirectory(outputDirectory);
try
{
    // Further arguments name the scenarios to record again (file names); without them all are recorded.
    var only = args.Skip(1).ToHashSet(StringComparer.Ordinal);
    foreach (Scenario scenario in Scenarios.All.Where(s => only.Count == 0 || only.Contains(s.FileName)))
    {
        await Recorder.RecordAsync(scenario, outputDirectory).ConfigureAwait(false);
    }

    await Recorder.PostProcessAsync(outputDirectory, pcapngSource: "07-ipv6-going-away-1001.pcap", gzipSource: "01-client-close-1000.pcap", modifiedPcapSource: "09-fragmented-1000.pcap").ConfigureAwait(false);
}
catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or TimeoutException
    or WebSocketException or IOException or Win32Exception or SharpPcap.PcapException)
{
    Console.Error.WriteLine($"Recording failed: {ex}");
    return 1;
}

return 0;
