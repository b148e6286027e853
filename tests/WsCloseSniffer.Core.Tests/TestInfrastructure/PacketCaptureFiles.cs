using System.Runtime.CompilerServices;

using PacketDotNet;

using SharpPcap;
using SharpPcap.LibPcap;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>The shared third-party captures, and a libpcap-based (SharpPcap) way to read them for cross-checks.</summary>
internal static class PacketCaptureFiles
{
    /// <summary>
    /// /work/shared/captures/public, found as ../shared/captures/public next to the repository root (the
    /// folder holding WsCloseSniffer.sln). The root is looked for above the test binaries first; when
    /// builds put their artifacts outside the work tree, above this source file instead. Null if absent.
    /// </summary>
    public static string? PublicCapturesDirectory([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) })
        {
            for (var directory = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "WsCloseSniffer.sln")))
                {
                    var captures = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "captures", "public"));
                    return Directory.Exists(captures) ? captures : null;
                }
            }
        }

        return null;
    }

    public static IReadOnlyList<string> CaptureFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(path => path.EndsWith(".pcap", StringComparison.Ordinal) || path.EndsWith(".pcapng", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Every record of the file as libpcap reads it: link type, captured bytes, original length.</summary>
    public static List<(LinkLayers LinkType, byte[] Data, int OriginalLength)> ReadWithLibpcap(string path)
    {
        var records = new List<(LinkLayers LinkType, byte[] Data, int OriginalLength)>();
        using var device = new CaptureFileReaderDevice(path);
        device.Open();
        while (device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
        {
            var raw = capture.GetPacket();
            records.Add((raw.LinkLayerType, raw.Data, raw.PacketLength));
        }

        return records;
    }
}
