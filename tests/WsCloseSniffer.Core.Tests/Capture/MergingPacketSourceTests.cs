using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Capture;

public sealed class MergingPacketSourceTests
{
    private const uint BaseSeconds = 1_700_000_000;

    /// <summary>A pcap whose packets are at the given microseconds after <see cref="BaseSeconds"/>, each frame saying (file, index).</summary>
    private static byte[] Pcap(byte file, params uint[] microseconds)
    {
        var pcap = new PcapFileBuilder(snapLength: 262144);
        for (var i = 0; i < microseconds.Length; i++)
        {
            pcap.Packet(BaseSeconds + (microseconds[i] / 1_000_000), microseconds[i] % 1_000_000, Frame(file, i));
        }

        return pcap.ToArray();
    }

    // Lengths differ per packet, so a packet returned from a held copy is checked in length as well as bytes.
    private static byte[] Frame(byte file, int index) => CaptureBytes.Frame(60 + (index * 7) + file, (byte)((file * 50) + index));

    private static MergePart<DecodedTcp> Part(string name, byte[] bytes, Action? opened = null)
    {
        var first = CaptureTestSupport.ReadAll(bytes).Packets.First().Timestamp;
        return new MergePart<DecodedTcp>(name, first, () =>
        {
            opened?.Invoke();
            return new DecodingPacketSource<DecodedTcp>(CaptureTestSupport.Open(bytes, name));
        });
    }

    private static List<ReadPacket> ReadAll(MergingPacketSource<DecodedTcp> source, Action? eachPacket = null)
    {
        var packets = new List<ReadPacket>();
        while (source.TryReadNext(out var packet, out var decoded))
        {
            Assert.Equal(DecodedTcp.Decode(packet).Status, decoded.Status);
            packets.Add(new ReadPacket(packet.Timestamp, packet.LinkType, packet.Data.ToArray(), packet.OriginalLength, packet.PacketNumber));
            eachPacket?.Invoke();
        }

        return packets;
    }

    [Fact]
    public void Read_FilesOverlappingInTime_InterleavedByTimeWithTiesToTheFileGivenFirst()
    {
        var a = Pcap(1, 10, 30, 50, 50);
        var b = Pcap(2, 20, 50, 60);
        using var merged = new MergingPacketSource<DecodedTcp>([Part("a.pcap", a), Part("b.pcap", b)], "a.pcap");

        var packets = ReadAll(merged);

        Assert.Equal([10L, 20, 30, 50, 50, 50, 60], packets.Select(p => (p.Timestamp.UnixNanoseconds / 1000) - (BaseSeconds * 1_000_000L)));
        Assert.Equal([Frame(1, 0), Frame(2, 0), Frame(1, 1), Frame(1, 2), Frame(1, 3), Frame(2, 1), Frame(2, 2)], packets.Select(p => p.Data));
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], packets.Select(p => p.PacketNumber));
        Assert.Equal(2, merged.PeakOpenParts);
        Assert.Equal(0, merged.OpenParts);
        Assert.Empty(merged.Problems);
    }

    [Fact]
    public void Read_RotationOf200Files_NeverMoreThanTwoOpen()
    {
        // Each file starts after the previous one's last packet, and the last packet of one shares its time with the
        // first of the next (a rotation within a microsecond): at most the two are open together.
        var opened = 0;
        var parts = new List<MergePart<DecodedTcp>>();
        for (var file = 0; file < 200; file++)
        {
            var start = (uint)(file * 1000);
            parts.Add(Part($"trace.pcap{file}", Pcap((byte)(file % 4), start, start + 400, start + 1000), () => opened++));
        }

        using var merged = new MergingPacketSource<DecodedTcp>(parts, "trace.pcap0");
        var mostOpen = 0;

        var packets = ReadAll(merged, () => mostOpen = Math.Max(mostOpen, merged.OpenParts));

        Assert.Equal(600, packets.Count);
        Assert.Equal(200, opened);
        Assert.True(mostOpen <= 2, $"{mostOpen} files were open at once");
        Assert.Equal(mostOpen, merged.PeakOpenParts);
        Assert.True(packets.Zip(packets.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp), "packets out of time order");
        Assert.Equal(Enumerable.Range(1, 600).Select(n => (long)n), packets.Select(p => p.PacketNumber));
    }

    [Fact]
    public void Read_FilesThatFollowEachOther_OneOpenAtATime()
    {
        using var merged = new MergingPacketSource<DecodedTcp>(
            [Part("t.pcap", Pcap(1, 0, 5, 9)), Part("t.pcap1", Pcap(2, 10, 15)), Part("t.pcap2", Pcap(3, 20))], "t.pcap");

        var packets = ReadAll(merged);

        Assert.Equal(6, packets.Count);
        Assert.Equal(1, merged.PeakOpenParts);
        Assert.Equal([Frame(1, 0), Frame(1, 1), Frame(1, 2), Frame(2, 0), Frame(2, 1), Frame(3, 0)], packets.Select(p => p.Data));
    }

    [Fact]
    public void Read_DamagedFile_EndsOnlyThatFileAndNamesItsOwnPlace()
    {
        var damaged = new PcapFileBuilder(snapLength: 262144)
            .Packet(BaseSeconds, 20, Frame(2, 0))
            .Packet(BaseSeconds, 40, Frame(2, 1))
            .Raw([1, 2, 3, 4, 5, 6, 7])
            .ToArray();
        using var merged = new MergingPacketSource<DecodedTcp>([Part("good.pcap", Pcap(1, 10, 30, 50, 70)), Part("bad.pcap", damaged)], "good.pcap");

        var packets = ReadAll(merged);

        Assert.Equal(6, packets.Count);
        var problem = Assert.Single(merged.Problems);
        Assert.Equal("bad.pcap", problem.Name);
        Assert.True(problem.Opened);

        // Its own offset and packet number (the third record of bad.pcap), not the merged stream's.
        var offset = 24 + (2 * 16) + Frame(2, 0).Length + Frame(2, 1).Length;
        Assert.Contains($"at byte offset {offset} (packet 3)", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FileGoneBeforeItsTurn_IsAProblemAndTheRestIsRead()
    {
        var gone = new MergePart<DecodedTcp>("gone.pcap", new Timestamp(((long)BaseSeconds * 1_000_000_000L) + 20_000),
            () => new DecodingPacketSource<DecodedTcp>(CaptureFile.Open(Path.Combine(Path.GetTempPath(), "wscs-no-such-" + Guid.NewGuid().ToString("N") + ".pcap"))));
        using var merged = new MergingPacketSource<DecodedTcp>([Part("a.pcap", Pcap(1, 10, 30)), gone], "a.pcap");

        var packets = ReadAll(merged);

        Assert.Equal(2, packets.Count);
        var problem = Assert.Single(merged.Problems);
        Assert.Equal("gone.pcap", problem.Name);
        Assert.False(problem.Opened);
    }

    [Fact]
    public void Read_InterleavedFilesInSteadyState_AllocatesNothingPerPacket()
    {
        // Every packet of two interleaved files goes through the held copies and the queue: once they have their size,
        // reading allocates nothing.
        const int PerFile = 10_000;
        static byte[] Interleaved(byte file, uint offset)
        {
            var pcap = new PcapFileBuilder(snapLength: 262144);
            for (var i = 0; i < PerFile; i++)
            {
                var microseconds = (uint)(i * 20) + offset;
                pcap.Packet(BaseSeconds + (microseconds / 1_000_000), microseconds % 1_000_000, CaptureBytes.Frame(60 + (i % 1400), file));
            }

            return pcap.ToArray();
        }

        var a = Interleaved(1, 0);
        var b = Interleaved(2, 10);
        using var merged = new MergingPacketSource<DecodedTcp>([Part("a.pcap", a), Part("b.pcap", b)], "a.pcap");
        long bytes = 0;
        // Past each file's largest frame (1,459 bytes, packet 1,399): the held copies have their final size.
        const int WarmUp = 3000;
        for (var i = 0; i < WarmUp && merged.TryReadNext(out var packet, out _); i++)
        {
            bytes += packet.Data.Length;
        }

        // The best of three stretches of the rest, as in the reassembler's test: tiering bookkeeping on a loaded machine
        // may allocate during one of them, a per-packet allocation allocates in all three.
        const int Stretch = ((2 * PerFile) - WarmUp - 1) / 3;
        var read = 0;
        var allocated = long.MaxValue;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Stretch && merged.TryReadNext(out var packet, out _); i++)
            {
                bytes += packet.Data.Length;
                read++;
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(3 * Stretch, read);
        Assert.True(bytes > 0);
        Assert.True(allocated < 1024, $"{allocated} bytes allocated over {Stretch} merged packets (the best of three stretches)");
    }

    [Fact]
    public void Create_PartsOutOfFirstPacketOrder_Throws()
    {
        Assert.Throws<ArgumentException>(() => new MergingPacketSource<DecodedTcp>([Part("late.pcap", Pcap(1, 50)), Part("early.pcap", Pcap(2, 10))], "x"));
    }
}
