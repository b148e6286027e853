using WsCloseSniffer.Capture;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Capture;

/// <summary>
/// A plain capture file on disk is read memory-mapped (issue 4); everything else through a stream. Both
/// must give the same packets and the same damage, whatever the window boundaries cut through.
/// </summary>
public sealed class MappedCaptureTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("wscs-mapped-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (List<(long Number, long Time, LinkType Link, int Original, string Data)> Packets, string? Damage) Read(IPacketSource source)
    {
        var packets = new List<(long, long, LinkType, int, string)>();
        while (source.TryReadNext(out var packet))
        {
            packets.Add((packet.PacketNumber, packet.Timestamp.UnixNanoseconds, packet.LinkType, packet.OriginalLength, Convert.ToHexString(packet.Data)));
        }

        return (packets, source.Damage?.ToString());
    }

    private static bool IsMapped(IPacketSource source) => source switch
    {
        PcapReader pcap => pcap.IsMemoryMapped,
        PcapNgReader pcapng => pcapng.IsMemoryMapped,
        _ => false,
    };

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertMappedSameAsStreamed(string path)
    {
        using var mapped = CaptureFile.Open(path);
        using var streamed = CaptureFile.Open(new MemoryStream(File.ReadAllBytes(path)), Path.GetFileName(path));
        var fromMap = Read(mapped);
        var fromStream = Read(streamed);

        Assert.True(IsMapped(mapped), $"{path} was not memory-mapped");
        Assert.False(IsMapped(streamed));
        Assert.Equal(fromStream.Packets, fromMap.Packets);
        Assert.Equal(fromStream.Damage, fromMap.Damage);
        Assert.Equal(new FileInfo(path).Length, mapped.TotalBytes);
    }

    [Fact]
    public void Open_RecordsAcrossManyWindows_SameAsStreamed()
    {
        // About 21 MiB: records straddle the edges of the 8 MiB windows at odd offsets.
        var path = Write("windows.pcap", CaptureBytes.NumberedPcap(30_000));
        Assert.True(new FileInfo(path).Length > 2L * CaptureBuffer.MappedWindowBytes);

        AssertMappedSameAsStreamed(path);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(3)]
    [InlineData(16)]
    public void Open_CutInsideTheLastRecord_SameDamageAsStreamed(int cut)
    {
        var bytes = CaptureBytes.NumberedPcap(9_000);
        var path = Write("cut.pcap", bytes[..^cut]);

        AssertMappedSameAsStreamed(path);
        using var source = CaptureFile.Open(path);
        var (packets, damage) = Read(source);
        Assert.Equal(8_999, packets.Count);
        Assert.Contains("file ends", damage, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_Samples_MappedAndSameAsStreamed()
    {
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Samples, "*.pcap*").Where(f => !f.EndsWith(".gz", StringComparison.Ordinal)))
        {
            AssertMappedSameAsStreamed(file);
        }
    }

    [SkippableFact]
    public void Open_SharedPublicCaptures_MappedAndSameAsStreamed()
    {
        Skip.IfNot(RepositoryPaths.HasSharedCaptures, RepositoryPaths.NoSharedCapturesReason);
        var files = Directory.EnumerateFiles(RepositoryPaths.SharedCaptures, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".pcap", StringComparison.Ordinal) || f.EndsWith(".pcapng", StringComparison.Ordinal) || f.EndsWith(".cap", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            AssertMappedSameAsStreamed(file);
        }
    }

    [Fact]
    public void Open_GzipOnDisk_ReadAsAStream()
    {
        var path = Write("plain.pcap.gz", CaptureBytes.Gzip(CaptureBytes.NumberedPcap(100)));

        using var source = CaptureFile.Open(path);

        Assert.False(IsMapped(source));
        Assert.Equal(100, Read(source).Packets.Count);
    }

    [Fact]
    public void TryReadNext_FileShrinksWhileRead_EndsAsDamageAtTheNewEnd()
    {
        // Truncated beyond the window being read: the next window sees the new length and stops there, instead of
        // touching pages the file no longer backs (SIGBUS). Inside one window the race remains (bench/README.md).
        var bytes = CaptureBytes.NumberedPcap(30_000);
        var path = Write("shrinking.pcap", bytes);
        var newLength = CaptureBuffer.MappedWindowBytes + (3 << 20) + 5;
        using var source = CaptureFile.Open(path);
        Assert.True(source.TryReadNext(out _));

        using (var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            writer.SetLength(newLength);
        }

        var (packets, damage) = Read(source);

        Assert.NotNull(damage);
        Assert.Contains($"the file shrank from {bytes.Length} to {newLength} bytes while it was read", damage, StringComparison.Ordinal);
        Assert.InRange(source.BytesRead, newLength - 1500, newLength);
        Assert.True(packets.Count > 10_000, $"only {packets.Count} packets before the new end");
    }
}
