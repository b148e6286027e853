using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Capture;

public sealed class PrefetchingPacketSourceTests
{
    private static byte[] Pcap(int count, bool cutLastRecord = false)
    {
        var bytes = CaptureBytes.NumberedPcap(count);
        return cutLastRecord ? bytes[..^10] : bytes;
    }

    private static List<(long Number, long Time, int Length, ulong Content)> ReadAll(IPacketSource source)
    {
        var packets = new List<(long, long, int, ulong)>();
        while (source.TryReadNext(out var packet))
        {
            packets.Add((packet.PacketNumber, packet.Timestamp.UnixNanoseconds, packet.Data.Length, Fnv1a(packet.Data)));
        }

        return packets;
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return hash;
    }

    [Fact]
    public void TryReadNext_ManyBatches_SamePacketsInOrderAsTheInnerSource()
    {
        // About 15 MiB: more batches than are ever in flight.
        var bytes = Pcap(20_000);
        using var direct = CaptureFile.Open(new MemoryStream(bytes), "direct.pcap");
        using var prefetched = new PrefetchingPacketSource<DecodedTcp>(CaptureFile.Open(new MemoryStream(bytes), "prefetched.pcap"));

        var expected = ReadAll(direct);
        var actual = ReadAll(prefetched);

        Assert.Equal(20_000, expected.Count);
        Assert.Equal(expected, actual);
        Assert.Null(prefetched.Damage);
        Assert.Equal(bytes.Length, prefetched.BytesRead);
    }

    [Fact]
    public void TryReadNext_DamagedInput_PacketsBeforeThenTheInnerSourcesDamage()
    {
        var bytes = Pcap(3_000, cutLastRecord: true);
        using var direct = CaptureFile.Open(new MemoryStream(bytes), "cut.pcap");
        using var prefetched = new PrefetchingPacketSource<DecodedTcp>(CaptureFile.Open(new MemoryStream(bytes), "cut.pcap"));

        var expected = ReadAll(direct);
        var actual = ReadAll(prefetched);

        Assert.Equal(2_999, actual.Count);
        Assert.Equal(expected, actual);
        Assert.Equal(direct.Damage, prefetched.Damage);
    }

    [Fact]
    public async Task Dispose_BeforeTheEnd_StopsTheReaderWithoutHanging()
    {
        var prefetched = new PrefetchingPacketSource<DecodedTcp>(CaptureFile.Open(new MemoryStream(Pcap(20_000)), "early.pcap"));
        Assert.True(prefetched.TryReadNext(out _));

        var disposing = Task.Run(prefetched.Dispose);

        Assert.Same(disposing, await Task.WhenAny(disposing, Task.Delay(TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public void TryReadNext_Samples_SameAsReadingDirectly()
    {
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Samples, "*.pcap*"))
        {
            using var direct = CaptureFile.Open(file);
            using var prefetched = new PrefetchingPacketSource<DecodedTcp>(CaptureFile.Open(file));
            Assert.Equal(ReadAll(direct), ReadAll(prefetched));
        }
    }

    [Theory]
    [InlineData(new[] { 3 << 20, 70, 900, 3 << 20, 60, 1400, 3 << 20 })]
    [InlineData(new[] { 100, 5 << 20, 5 << 20, 200, 7 << 20, 300 })]
    public void TryReadNext_BlocksLargerThanTheReadBuffer_SameAsReadingDirectly(int[] sizes)
    {
        // pcapng blocks up to 16 MiB: the reading buffer grows past its 1 MiB blocks, and a grown block is handed
        // over with more than 1 MiB of the next record unread.
        var pcapng = new PcapNgFileBuilder().Section().Interface(1);
        for (var i = 0; i < 5 * sizes.Length; i++)
        {
            var size = sizes[i % sizes.Length] + (i * 4099 % 1000);
            pcapng.EnhancedPacket(0, 1_700_000_000_000_000UL + (ulong)i, Enumerable.Repeat((byte)i, size).ToArray());
        }

        var bytes = pcapng.ToArray();
        using var direct = CaptureFile.Open(new MemoryStream(bytes), "big.pcapng");
        using var prefetched = new PrefetchingPacketSource<DecodedTcp>(CaptureFile.Open(new MemoryStream(bytes), "big.pcapng"));

        var expected = ReadAll(direct);
        Assert.Equal(5 * sizes.Length, expected.Count);
        Assert.Equal(expected, ReadAll(prefetched));
    }

    [Fact]
    public void TryReadNext_BlocksOfTinyPackets_HandedOverBeforeTheTableFills()
    {
        // 200,000 records of 36 bytes: a 1 MiB block holds about 29,000, more than a batch's table.
        var pcap = new PcapFileBuilder();
        for (var i = 0; i < 200_000; i++)
        {
            pcap.Packet((uint)i, 0, Enumerable.Repeat((byte)i, 20).ToArray());
        }

        var bytes = pcap.ToArray();
        using var direct = CaptureFile.Open(new MemoryStream(bytes), "tiny.pcap");
        using var prefetched = new PrefetchingPacketSource<DecodedTcp>(CaptureFile.Open(new MemoryStream(bytes), "tiny.pcap"));

        var expected = ReadAll(direct);
        Assert.Equal(200_000, expected.Count);
        Assert.Equal(expected, ReadAll(prefetched));
    }

    [Fact]
    public void TryReadNext_Decoded_SameAsDecodingEachPacket()
    {
        var tcp = 0;
        foreach (var file in PacketCaptureFiles.SamplesAndPublicCaptures())
        {
            using var prefetched = new PrefetchingPacketSource<DecodedTcp>(CaptureFile.Open(file));
            while (prefetched.TryReadNext(out var packet, out var decoded))
            {
                var status = PacketDecoder.TryDecodeTcp(packet.LinkType, packet.Data, packet.OriginalLength, out var segment);
                Assert.Equal(status, decoded.Status);
                if (status != DecodeStatus.Tcp)
                {
                    continue;
                }

                tcp++;
                var again = decoded.Segment(packet.Data);
                Assert.Equal(
                    (segment.SourceAddress, segment.DestinationAddress, segment.SourcePort, segment.DestinationPort, segment.SequenceNumber, segment.AcknowledgmentNumber, segment.Flags, segment.Window, segment.OriginalPayloadLength, segment.WindowScale),
                    (again.SourceAddress, again.DestinationAddress, again.SourcePort, again.DestinationPort, again.SequenceNumber, again.AcknowledgmentNumber, again.Flags, again.Window, again.OriginalPayloadLength, again.WindowScale));
                Assert.True(segment.Payload.SequenceEqual(again.Payload), $"{file} packet {packet.PacketNumber}: payload differs");
                Assert.Equal(ConnectionKey.Of(segment), decoded.Key);
            }
        }

        Assert.True(tcp > 100, $"only {tcp} TCP segments in the samples");
    }
}
