using System.ComponentModel;
using System.Net.WebSockets;

using WsCloseSniffer.SampleRecorder;

// Usage: SampleRecorder [OUTPUT_DIRECTORY [FILE_NAME_PREFIX...]]   (root is needed to capture on the loopback interface)
// With prefixes, only the scenarios whose file name starts with one of them are recorded (a whole file name is a
// prefix too), and the derived samples are made only from what was recorded again.
string outputDirectory = args.Length > 0 ? args[0] : Path.Combine("samples", "pcaps");
string[] only = args.Skip(1).ToArray();
if (!Environment.IsPrivilegedProcess)
{
    Console.Error.WriteLine("Capturing on the loopback interface needs root: sudo dotnet run --project tools/SampleRecorder -- samples/pcaps");
    return 1;
}

Directory.CreateDirectory(outputDirectory);
try
{
    if (Scenarios.All.Any(scenario => scenario.Tls is not null) && Environment.GetEnvironmentVariable("SSLKEYLOGFILE") is null)
    {
        Console.Error.WriteLine("The wss:// scenarios need SSLKEYLOGFILE set (record.sh sets it to OUTPUT_DIRECTORY/wss.keylog).");
        return 1;
    }

    bool Selected(string fileName) => only.Length == 0 || only.Any(prefix => fileName.StartsWith(prefix, StringComparison.Ordinal));
    foreach (Scenario scenario in Scenarios.All.Where(scenario => Selected(scenario.FileName)))
    {
        await Recorder.RecordAsync(scenario, outputDirectory).ConfigureAwait(false);
    }

    // 19 comes from 17's recording before 17 itself is replaced by its fragments.
    if (Selected("17-ipv4-fragments-1000.pcap"))
    {
        await Recorder.FragmentAsync(outputDirectory, "17-ipv4-fragments-1000.pcap", "19-ipv4-fragments-reordered-duplicated-1000.pcap", "--mtu", "1500", "--reverse", "--duplicate-every", "2").ConfigureAwait(false);
        await Recorder.FragmentAsync(outputDirectory, "17-ipv4-fragments-1000.pcap", "17-ipv4-fragments-1000.pcap", "--mtu", "1500").ConfigureAwait(false);
    }

    if (Selected("18-ipv6-fragments-1000.pcap"))
    {
        await Recorder.FragmentAsync(outputDirectory, "18-ipv6-fragments-1000.pcap", "18-ipv6-fragments-1000.pcap", "--mtu", "1280").ConfigureAwait(false);
    }

    if (Selected("20-wss-tls13-aes128gcm-1000.pcap"))
    {
        await Recorder.InjectSecretsAsync(outputDirectory, Environment.GetEnvironmentVariable("SSLKEYLOGFILE")!,
            source: "20-wss-tls13-aes128gcm-1000.pcap", target: "26-wss-tls13-secrets-in-capture.pcapng").ConfigureAwait(false);
    }

    if (only.Length == 0)
    {
        await Recorder.PostProcessAsync(outputDirectory, pcapngSource: "07-ipv6-going-away-1001.pcap", gzipSource: "01-client-close-1000.pcap", modifiedPcapSource: "09-fragmented-1000.pcap").ConfigureAwait(false);
    }
}
catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or TimeoutException
    or WebSocketException or IOException or Win32Exception or SharpPcap.PcapException)
{
    Console.Error.WriteLine($"Recording failed: {ex}");
    return 1;
}

return 0;
