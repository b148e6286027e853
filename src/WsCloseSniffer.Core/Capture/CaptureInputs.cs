namespace WsCloseSniffer.Capture;

/// <summary>A capture file to analyze and the name its sessions are reported under.</summary>
public sealed record CaptureInput(string Path, string DisplayName);

/// <summary>Turns the command line's paths into capture files.</summary>
public static class CaptureInputs
{
    private static readonly string[] s_captureSuffixes = [".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz"];

    /// <summary>
    /// Files as given; directories searched recursively for capture files by name (their content
    /// decides the format later; tcpdump -C's numbered names such as <c>trace.pcap1</c> count), in ordinal
    /// order so runs are deterministic. A missing path is
    /// returned as an input too: opening it then reports the error under its name.
    /// </summary>
    public static IReadOnlyList<CaptureInput> Expand(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var inputs = new List<CaptureInput>();
        foreach (var path in paths)
        {
            if (!Directory.Exists(path))
            {
                inputs.Add(new CaptureInput(path, System.IO.Path.GetFileName(path)));
                continue;
            }

            var files = Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                .Where(IsCaptureName)
                .Select(f => new CaptureInput(f, System.IO.Path.GetRelativePath(path, f).Replace('\\', '/')))
                .OrderBy(i => i.DisplayName, StringComparer.Ordinal);
            inputs.AddRange(files);
        }

        return inputs;
    }

    private static bool IsCaptureName(string file) =>
        s_captureSuffixes.Any(suffix => file.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
        || RotationName.TryParseCounted(System.IO.Path.GetFileName(file), out _, out _);
}
