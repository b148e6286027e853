using PacketDotNet;

using SharpPcap;
using SharpPcap.LibPcap;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>The shared third-party captures, and a libpcap-based (SharpPcap) way to read them for cross-checks.</summary>
internal static class PacketCaptureFiles
{
    /// <summary>The shared third-party captures (see <see cref="RepositoryPaths"/>), null when absent.</summary>
    public static string? PublicCapturesDirectory() => RepositoryPaths.HasSharedCaptures ? RepositoryPaths.SharedCaptures : null;

    public static IReadOnlyList<string> CaptureFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(path => path.EndsWith(".pcap", StringComparison.Ordinal) || path.EndsWith(".pcapng", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The samples' captures, then the shared third-party ones when present.</summary>
    public static IReadOnlyList<string> SamplesAndPublicCaptures() =>
        [.. CaptureFiles(RepositoryPaths.Samples), .. PublicCapturesDirectory() is { } shared ? CaptureFiles(shared) : []];

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
