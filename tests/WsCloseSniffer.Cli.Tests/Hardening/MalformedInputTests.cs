using System.Buffers.Binary;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Hardening;

/// <summary>
/// One row per malformed input: the exit code, what stderr says (the file, the place, the
/// problem), and the sessions still reported (those read before the damage).
/// </summary>
public sealed class MalformedInputTests : IDisposable
{
    private static readonly byte[] s_pcap = File.ReadAllBytes(Path.Combine(RepositoryPaths.Samples, "01-client-close-1000.pcap"));
    private static readonly byte[] s_pcapng = File.ReadAllBytes(Path.Combine(RepositoryPaths.Samples, "07-ipv6-going-away-1001.pcapng"));
    private static readonly byte[] s_gzip = File.ReadAllBytes(Path.Combine(RepositoryPaths.Samples, "01-client-close-1000.pcap.gz"));

    private readonly string _temp = Directory.CreateTempSubdirectory("wsclosesniffer-malformed-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    /// <summary>Case name, file bytes, exit code, stderr fragments (in order), classifications of the sessions reported.</summary>
    public static TheoryData<string, byte[], int, string[], string[]> Cases => new()
    {
        {
            "empty file", [], 2,
            ["case.pcap", "is empty"], []
        },
        {
            "truncated pcap header", s_pcap[..10], 2,
            ["case.pcap", "10 bytes"], []
        },
        {
            "random bytes", Random(4096, seed: 1), 2,
            ["case.pcap", "is not a capture file", "magic bytes"], []
        },
        {
            "text file", "hello, this is not a capture\n"u8.ToArray(), 2,
            ["case.pcap", "is not a capture file", "68656C6C"], []
        },
        {
            "random bytes after a pcap header", Concat(s_pcap[..24], Random(4096, seed: 2)), 2,
            ["case.pcap", "damaged capture at byte offset 24 (packet 1)", "impossible captured length"], []
        },
        {
            "truncated last record", s_pcap[..^10], 2,
            ["case.pcap", "damaged capture at byte offset " + LastRecordOffset(s_pcap) + " (packet " + PcapRecords(s_pcap) + ")", "file ends"],
            ["normal_closure"]
        },
        {
            "cut inside a record header", Concat(s_pcap, new byte[7]), 2,
            ["case.pcap", "at byte offset " + s_pcap.Length + " (packet " + (PcapRecords(s_pcap) + 1) + ")", "file ends 7 bytes into a 16-byte record header"],
            ["normal_closure"]
        },
        {
            "record claiming 2 GB", Concat(s_pcap, PcapRecordHeader(0x7FFF_FFFF), new byte[64]), 2,
            ["case.pcap", "at byte offset " + s_pcap.Length, "impossible captured length 2147483647"],
            ["normal_closure"]
        },
        {
            "record claiming more than the snap length", Concat(s_pcap, PcapRecordHeader(262_145), new byte[64]), 2,
            ["case.pcap", "at byte offset " + s_pcap.Length, "impossible captured length 262145"],
            ["normal_closure"]
        },
        {
            "pcapng block length not a multiple of 4", Concat(s_pcapng, PcapNgBlockHeader(6, 13), new byte[16]), 2,
            ["case.pcap", "at byte offset " + s_pcapng.Length, "impossible block length 13"],
            ["going_away"]
        },
        {
            "pcapng block claiming 4 GB", Concat(s_pcapng, PcapNgBlockHeader(6, 0xFFFF_FFFC), new byte[16]), 2,
            ["case.pcap", "at byte offset " + s_pcapng.Length, "impossible block length 4294967292"],
            ["going_away"]
        },
        {
            "pcapng bad trailing length", Concat(s_pcapng, PcapNgBlockHeader(0x0BAD, 16), new byte[4], U32(20)), 2,
            ["case.pcap", "at byte offset " + s_pcapng.Length, "does not match the trailing block length 20"],
            ["going_away"]
        },
        {
            "pcapng unknown interface id", Concat(s_pcapng, EnhancedPacket(interfaceId: 5)), 2,
            ["case.pcap", "at byte offset " + s_pcapng.Length, "refers to interface 5", "defines 1 interface"],
            ["going_away"]
        },
        {
            "pcapng without a section header", s_pcapng[28..], 2,
            ["case.pcap"], []
        },
        {
            "gzip cut in half", s_gzip[..(s_gzip.Length / 2)], 2,
            ["case.pcap"], []
        },
        {
            "gzip with corrupt deflate data", CorruptGzip(), 2,
            ["case.pcap", "gzip"], []
        },
        {
            "gzip of random bytes", CaptureBytes.Gzip(Random(4096, seed: 3)), 2,
            ["case.pcap", "its decompressed content starts with"], []
        },
        {
            "gzip header only", s_gzip[..10], 2,
            ["case.pcap", "gzip"], []
        },
        {
            "valid pcap followed by a second file header", Concat(s_pcap, s_pcap[..24]), 2,
            // Its first 16 bytes read as an empty record (captured length = thiszone = 0), the last 8 as a cut header.
            ["case.pcap", "at byte offset " + (s_pcap.Length + 16), "file ends 8 bytes into a 16-byte record header"],
            ["normal_closure"]
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Analyze_MalformedInput_ExitCodeMessageAndSessionsBeforeTheDamage(string name, byte[] bytes, int exitCode, string[] stderr, string[] classifications)
    {
        var file = Path.Combine(_temp, "case.pcap");
        File.WriteAllBytes(file, bytes);

        var result = CliRunner.Run("analyze", file, "--csv", "-", "--quiet");

        Assert.True(exitCode == result.ExitCode, $"{name}: exit {result.ExitCode}, stderr: {result.Error}");
        Assert.StartsWith("wsclosesniffer: case.pcap: ", result.Error, StringComparison.Ordinal);
        var at = 0;
        foreach (var fragment in stderr)
        {
            var found = result.Error.IndexOf(fragment, at, StringComparison.Ordinal);
            Assert.True(found >= 0, $"{name}: '{fragment}' not in stderr: {result.Error}");
            at = found;
        }

        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(classifications, Classifications(result.Out));
    }

    [Fact]
    public void Analyze_DamagedFileBesideGoodOne_BothFilesSessionsReportedAndOnlyTheDamagedNamed()
    {
        File.WriteAllBytes(Path.Combine(_temp, "a-good.pcap"), s_pcap);
        File.WriteAllBytes(Path.Combine(_temp, "b-bad.pcapng"), Concat(s_pcapng, PcapNgBlockHeader(6, 13), new byte[16]));
        File.WriteAllBytes(Path.Combine(_temp, "c-random.cap"), Random(1000, seed: 4));

        var result = CliRunner.Run("analyze", _temp, "--csv", "-", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(["going_away", "normal_closure"], Classifications(result.Out).Order(StringComparer.Ordinal));
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("wsclosesniffer: b-bad.pcapng: damaged capture at byte offset " + s_pcapng.Length, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("wsclosesniffer: c-random.cap: ", StringComparison.Ordinal) && l.Contains("not a capture file", StringComparison.Ordinal));
    }

    [Fact]
    public void Analyze_DirectoryWithNoCaptures_ExitTwoAndSaysSo()
    {
        File.WriteAllText(Path.Combine(_temp, "notes.txt"), "nothing here");

        var result = CliRunner.Run("analyze", _temp, "--csv", "-", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no capture files", result.Error, StringComparison.Ordinal);
        Assert.Contains(_temp, result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Out);
    }

    [Fact]
    public void Analyze_MissingFile_ExitTwoNamesIt()
    {
        var result = CliRunner.Run("analyze", Path.Combine(_temp, "missing.pcap"), "--csv", "-", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("wsclosesniffer: missing.pcap: cannot read: no such file", result.Error, StringComparison.Ordinal);
    }

    private static string[] Classifications(string csv) =>
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[16]).ToArray();

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] PcapRecordHeader(uint length) => Concat(U32(1_800_000_000), U32(0), U32(length), U32(length));

    private static byte[] PcapNgBlockHeader(uint type, uint length) => Concat(U32(type), U32(length));

    /// <summary>An Enhanced Packet Block (type 6) with a 14-byte frame on <paramref name="interfaceId"/>.</summary>
    private static byte[] EnhancedPacket(uint interfaceId) =>
        Concat(U32(6), U32(48), U32(interfaceId), U32(0), U32(0), U32(14), U32(14), new byte[16], U32(48));

    private static int PcapRecords(byte[] pcap) => RecordOffsets(pcap).Count;

    private static long LastRecordOffset(byte[] pcap) => RecordOffsets(pcap)[^1];

    private static List<long> RecordOffsets(byte[] pcap)
    {
        var offsets = new List<long>();
        for (var offset = 24; offset + 16 <= pcap.Length; offset += 16 + (int)BinaryPrimitives.ReadUInt32LittleEndian(pcap.AsSpan(offset + 8)))
        {
            offsets.Add(offset);
        }

        return offsets;
    }

    /// <summary>The sample's gzip with its deflate data overwritten a third of the way in.</summary>
    private static byte[] CorruptGzip()
    {
        var bytes = (byte[])s_gzip.Clone();
        bytes.AsSpan(bytes.Length / 3, 32).Fill(0xFF);
        return bytes;
    }
}
