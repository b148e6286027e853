using System.Buffers.Binary;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

using static WsCloseSniffer.TestSupport.IpFragmentBuilder;

namespace WsCloseSniffer.Tests.Decoding;

public sealed class IpDefragmenterTests
{
    private const string ClientV4 = "192.0.2.10";
    private const string ServerV4 = "198.51.100.20";
    private const string ClientV6 = "2001:db8::10";
    private const string ServerV6 = "2001:db8::20";
    private const long StartSeconds = 1_800_000_000;

    private static readonly TcpSpec Spec = TcpSpec.Default() with
    {
        Payload = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray(),
    };

    /// <summary>The whole packet: 20 + 32 (TCP with its timestamp option) + 3,000 bytes; 3,032 bytes of IP data.</summary>
    private static readonly byte[] WholeV4 = PacketFrames.IPv4Tcp(Spec, ClientV4, ServerV4);

    private static readonly byte[] WholeV6 = PacketFrames.IPv6Tcp(Spec, ClientV6, ServerV6);

    private sealed class Fed
    {
        public List<DefragmentResult> Results { get; } = [];

        public List<DecodedSegment> Segments { get; } = [];

        public List<byte[]> Packets { get; } = [];
    }

    private static Fed Feed(IpDefragmenter defragmenter, IEnumerable<byte[]> fragments, long seconds = 0, LinkType linkType = LinkType.Raw)
    {
        var fed = new Fed();
        foreach (var fragment in fragments)
        {
            Feed(defragmenter, fed, fragment, seconds, linkType);
        }

        return fed;
    }

    private static void Feed(IpDefragmenter defragmenter, Fed fed, byte[] frame, long seconds = 0, LinkType linkType = LinkType.Raw, int? originalLength = null)
    {
        var wire = originalLength ?? frame.Length;
        Assert.Equal(DecodeStatus.IpFragment, PacketDecoder.TryDecodeTcp(linkType, frame, wire, out _));
        Assert.True(PacketDecoder.TryDecodeFragment(linkType, frame, wire, out var fragment));
        var result = defragmenter.Add(fragment, Timestamp.FromSeconds(StartSeconds + seconds, 0), out var packet, out var length);
        fed.Results.Add(result);
        if (result == DefragmentResult.Reassembled)
        {
            fed.Packets.Add(packet.ToArray());
            Assert.Equal(DecodeStatus.Tcp, PacketDecoder.TryDecodeTcp(LinkType.Raw, packet, length, out var segment));
            fed.Segments.Add(DecodedSegment.From(segment));
        }
    }

    private static IpDefragmenter New(DefragmentationOptions? options = null) => new(options ?? new DefragmentationOptions());

    [Fact]
    public void Add_IPv4FragmentsInOrder_TheLastGivesTheWholePacket()
    {
        var defragmenter = New();
        var fragments = IPv4(WholeV4, maxData: 1480);
        Assert.Equal(3, fragments.Count);

        var fed = Feed(defragmenter, fragments);

        Assert.Equal([DefragmentResult.Held, DefragmentResult.Held, DefragmentResult.Reassembled], fed.Results);
        Assert.Equal(DecodedSegment.Expected(Spec, ClientV4, ServerV4), Assert.Single(fed.Segments));

        // The packet as sent, but for the first fragment's identification and checksum, and no fragment fields.
        var packet = Assert.Single(fed.Packets);
        Assert.Equal(WholeV4.Length, packet.Length);
        Assert.Equal(WholeV4[20..], packet[20..]);
        Assert.Equal(WholeV4[..4], packet[..4]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(6)) & 0x3FFF);
        Assert.Equal(1, defragmenter.Statistics.DatagramsReassembled);
        Assert.Equal(3, defragmenter.Statistics.Fragments);
        Assert.Equal(0, defragmenter.Statistics.BytesHeld);
        Assert.Equal(0, defragmenter.Statistics.DatagramsHeld);
    }

    [Theory]
    [InlineData(new[] { 2, 1, 0 })]
    [InlineData(new[] { 1, 0, 2 })]
    [InlineData(new[] { 0, 2, 1 })]
    [InlineData(new[] { 2, 0, 1 })]
    public void Add_IPv4FragmentsOutOfOrder_ReassembledWhenTheLastPieceComes(int[] order)
    {
        var defragmenter = New();
        var fragments = IPv4(WholeV4, maxData: 1480);

        var fed = Feed(defragmenter, order.Select(i => fragments[i]));

        Assert.Equal([DefragmentResult.Held, DefragmentResult.Held, DefragmentResult.Reassembled], fed.Results);
        Assert.Equal(DecodedSegment.Expected(Spec, ClientV4, ServerV4), Assert.Single(fed.Segments));
        Assert.Equal(0, defragmenter.Statistics.BytesHeld);
    }

    [Fact]
    public void Add_IPv6Fragments_ReassembledWithoutTheFragmentHeader()
    {
        var defragmenter = New();
        var fragments = IPv6(WholeV6, maxData: 1232);

        var fed = Feed(defragmenter, [fragments[1], fragments[0], fragments[2]]);

        Assert.Equal([DefragmentResult.Held, DefragmentResult.Held, DefragmentResult.Reassembled], fed.Results);
        Assert.Equal(DecodedSegment.Expected(Spec, ClientV6, ServerV6), Assert.Single(fed.Segments));
        Assert.Equal(WholeV6, Assert.Single(fed.Packets));
    }

    [Fact]
    public void Add_IPv6FragmentHeaderAfterOtherExtensionHeaders_TheyStayAndTheChainIsMended()
    {
        // Hop-by-hop and routing stay in every fragment (RFC 8200 section 4.5); destination options after the
        // Fragment header are fragmentable, in the first fragment's data.
        var whole = PacketFrames.WithIPv6Extensions(
            WholeV6, PacketFrames.OptionsHeader(0, 8), PacketFrames.OptionsHeader(43, 24), PacketFrames.OptionsHeader(60, 16));
        const int unfragmentable = 40 + 8 + 24;
        const int routingNextHeader = 40 + 8;
        Assert.Equal(60, whole[routingNextHeader]);
        var dataLength = whole.Length - unfragmentable;
        var defragmenter = New();

        var fed = Feed(defragmenter, [
            IPv6(whole, unfragmentable, routingNextHeader, 1200, dataLength - 1200),
            IPv6(whole, unfragmentable, routingNextHeader, 0, 1200),
        ]);

        Assert.Equal([DefragmentResult.Held, DefragmentResult.Reassembled], fed.Results);
        Assert.Equal(DecodedSegment.Expected(Spec, ClientV6, ServerV6), Assert.Single(fed.Segments));
        Assert.Equal(whole, Assert.Single(fed.Packets));
    }

    [Fact]
    public void Add_DuplicateFragments_IgnoredAndTheDatagramStillCompletes()
    {
        var defragmenter = New();
        var fragments = IPv4(WholeV4, maxData: 1480);

        // The middle one twice, then a piece lying inside what the first two brought.
        var fed = Feed(defragmenter, [fragments[0], fragments[1], fragments[1], IPv4(WholeV4, 1000, 800, moreFragments: true), fragments[2]]);

        Assert.Equal(
            [DefragmentResult.Held, DefragmentResult.Held, DefragmentResult.Dropped, DefragmentResult.Dropped, DefragmentResult.Reassembled],
            fed.Results);
        Assert.Equal(DecodedSegment.Expected(Spec, ClientV4, ServerV4), Assert.Single(fed.Segments));
        Assert.Equal(2, defragmenter.Statistics.DuplicateFragments);
        Assert.Equal(0, defragmenter.Statistics.DatagramsOverlapping);
    }

    [Theory]
    [InlineData(1000, 960)] // starts inside the first, ends past it
    [InlineData(1480, 1520)] // starts where the first ends, runs into the last
    [InlineData(0, 1488)] // the first's start, but longer
    public void Add_PartialOverlap_DropsTheWholeDatagramAndItsLaterFragments(int offset, int length)
    {
        var defragmenter = New();
        var fragments = IPv4(WholeV4, maxData: 1480);

        var fed = Feed(defragmenter, [fragments[0], fragments[2], IPv4(WholeV4, offset, length, moreFragments: true), fragments[1], fragments[0]]);

        Assert.Equal(
            [DefragmentResult.Held, DefragmentResult.Held, DefragmentResult.Dropped, DefragmentResult.Dropped, DefragmentResult.Dropped],
            fed.Results);
        Assert.Empty(fed.Segments);
        Assert.Equal(1, defragmenter.Statistics.DatagramsOverlapping);
        Assert.Equal(0, defragmenter.Statistics.BytesHeld);

        // Remembered as dropped until its time runs out, then forgotten without counting it again.
        defragmenter.Finish();
        Assert.Equal(0, defragmenter.Statistics.DatagramsIncomplete);
        Assert.Equal(0, defragmenter.Statistics.DatagramsHeld);
    }

    [Fact]
    public void Add_TwoLastFragmentsThatDisagree_DropsTheDatagram()
    {
        var defragmenter = New();
        var fragments = IPv4(WholeV4, maxData: 1480);

        var fed = Feed(defragmenter, [fragments[2], IPv4(WholeV4, 1480, 1480, moreFragments: false), fragments[0]]);

        Assert.Equal([DefragmentResult.Held, DefragmentResult.Dropped, DefragmentResult.Dropped], fed.Results);
        Assert.Equal(1, defragmenter.Statistics.DatagramsOverlapping);
    }

    [Fact]
    public void Add_LastFragmentMissing_HeldUntilTheEndThenCountedIncomplete()
    {
        var defragmenter = New();
        var fragments = IPv4(WholeV4, maxData: 1480);

        var fed = Feed(defragmenter, fragments.Take(2));

        Assert.Equal([DefragmentResult.Held, DefragmentResult.Held], fed.Results);
        Assert.True(defragmenter.Statistics.BytesHeld >= 2960);
        Assert.Equal(1, defragmenter.Statistics.DatagramsHeld);

        defragmenter.Finish();

        Assert.Equal(1, defragmenter.Statistics.DatagramsIncomplete);
        Assert.Equal(0, defragmenter.Statistics.BytesHeld);
        Assert.Equal(0, defragmenter.Statistics.DatagramsHeld);
    }

    [Theory]
    [InlineData(false, 29, true)]
    [InlineData(false, 30, false)]
    [InlineData(true, 59, true)]
    [InlineData(true, 60, false)]
    public void Add_LastFragmentAfterTheTimeout_TheDatagramIsGone(bool ipv6, long lastSeconds, bool reassembled)
    {
        var defragmenter = New();
        var fragments = ipv6 ? IPv6(WholeV6, maxData: 1232) : IPv4(WholeV4, maxData: 1480);
        var fed = Feed(defragmenter, fragments.SkipLast(1));

        Feed(defragmenter, fed, fragments[^1], lastSeconds);

        Assert.Equal(reassembled ? DefragmentResult.Reassembled : DefragmentResult.Held, fed.Results[^1]);
        Assert.Equal(reassembled ? 0 : 1, defragmenter.Statistics.DatagramsIncomplete);
    }

    [Fact]
    public void Add_OtherFragmentsAfterTheTimeout_ExpireTheOldDatagram()
    {
        var defragmenter = New();
        Feed(defragmenter, IPv4(WholeV4, maxData: 1480).Take(1));
        Assert.Equal(1, defragmenter.Statistics.DatagramsHeld);

        Feed(defragmenter, IPv4(WholeV4, maxData: 1480, identification: 7).Take(1), seconds: 31);

        Assert.Equal(1, defragmenter.Statistics.DatagramsIncomplete);
        Assert.Equal(1, defragmenter.Statistics.DatagramsHeld);
    }

    [Fact]
    public void Add_ByteCapReached_TheOldestDatagramGoesAndMemoryStaysUnderTheCap()
    {
        // Each first fragment holds a 2 KiB data array, a header array and a range list: two fit, not three.
        var options = new DefragmentationOptions { MaxBytesHeld = 5000 };
        var defragmenter = New(options);
        var a = IPv4(WholeV4, maxData: 1480, identification: 1);
        var b = IPv4(WholeV4, maxData: 1480, identification: 2);
        var c = IPv4(WholeV4, maxData: 1480, identification: 3);

        var fed = Feed(defragmenter, [a[0], b[0], c[0]]);
        Assert.Equal(1, defragmenter.Statistics.DatagramsEvictedByCap);
        Assert.True(defragmenter.Statistics.BytesHeld <= options.MaxBytesHeld, $"{defragmenter.Statistics.BytesHeld} bytes held");

        // c grows past the cap with the oldest left, b, which goes; a's later fragments start anew without its first.
        Feed(defragmenter, fed, c[1]);
        Feed(defragmenter, fed, c[2]);
        Feed(defragmenter, fed, a[1]);
        Feed(defragmenter, fed, a[2]);

        Assert.Equal(
            [DefragmentResult.Held, DefragmentResult.Held, DefragmentResult.Held, DefragmentResult.Held, DefragmentResult.Reassembled, DefragmentResult.Held, DefragmentResult.Held],
            fed.Results);
        Assert.Single(fed.Segments);
        Assert.Equal(2, defragmenter.Statistics.DatagramsEvictedByCap);
        Assert.True(defragmenter.Statistics.BytesHeld <= options.MaxBytesHeld, $"{defragmenter.Statistics.BytesHeld} bytes held");
        defragmenter.Finish();
        Assert.Equal(1, defragmenter.Statistics.DatagramsIncomplete);
        Assert.Equal(0, defragmenter.Statistics.BytesHeld);
    }

    [Fact]
    public void Add_OneDatagramLargerThanTheByteCap_DroppedAlone()
    {
        var defragmenter = New(new DefragmentationOptions { MaxBytesHeld = 1000 });

        var fed = Feed(defragmenter, IPv4(WholeV4, maxData: 1480));

        Assert.Equal([DefragmentResult.Dropped, DefragmentResult.Dropped, DefragmentResult.Dropped], fed.Results);
        Assert.Equal(1, defragmenter.Statistics.DatagramsEvictedByCap);
        Assert.Equal(0, defragmenter.Statistics.BytesHeld);
    }

    [Fact]
    public void Add_DatagramCapReached_TheOldestGoes()
    {
        var defragmenter = New(new DefragmentationOptions { MaxDatagrams = 2 });
        var fragments = Enumerable.Range(1, 3).Select(id => IPv4(WholeV4, maxData: 1480, identification: (ushort)id)).ToList();

        var fed = Feed(defragmenter, fragments.Select(f => f[0]));
        Assert.Equal(1, defragmenter.Statistics.DatagramsEvictedByCap);
        Assert.Equal(2, defragmenter.Statistics.DatagramsHeld);

        Feed(defragmenter, fed, fragments[1][1]);
        Feed(defragmenter, fed, fragments[1][2]);
        Feed(defragmenter, fed, fragments[2][1]);
        Feed(defragmenter, fed, fragments[2][2]);

        Assert.Equal(2, fed.Segments.Count);
    }

    [Fact]
    public void Add_DatagramLongerThan65535Bytes_Dropped()
    {
        var defragmenter = New();

        // 8,190 units of 8 bytes: data from 65,520 on, past what a 16-bit total length can hold with a header.
        var last = IPv4(WholeV4, 0, 24, moreFragments: false);
        BinaryPrimitives.WriteUInt16BigEndian(last.AsSpan(6), 65_520 / 8);
        var fed = Feed(defragmenter, [IPv4(WholeV4, maxData: 1480)[0], last]);

        Assert.Equal([DefragmentResult.Held, DefragmentResult.Dropped], fed.Results);
        Assert.Equal(1, defragmenter.Statistics.DatagramsTooLarge);
    }

    [Fact]
    public void Add_FragmentNotAMultipleOf8BeforeTheLast_DroppedAsMalformed()
    {
        var defragmenter = New();

        var fed = Feed(defragmenter, [IPv4(WholeV4, 0, 1481, moreFragments: true)]);

        Assert.Equal([DefragmentResult.Dropped], fed.Results);
        Assert.Equal(1, defragmenter.Statistics.MalformedFragments);
        Assert.Equal(0, defragmenter.Statistics.DatagramsHeld);
    }

    [Fact]
    public void Add_FragmentCutBySnapLength_TheMissingTailIsKnownByItsLength()
    {
        var defragmenter = New();
        var fragments = IPv4(WholeV4, maxData: 1480);
        var fed = Feed(defragmenter, fragments.Take(2));

        // The last fragment carries 72 data bytes; its frame was cut after 40 of them.
        Assert.Equal(20 + 72, fragments[2].Length);
        Feed(defragmenter, fed, fragments[2][..60], originalLength: fragments[2].Length);

        var segment = Assert.Single(fed.Segments);
        Assert.Equal(Spec.Payload.Length, segment.OriginalPayloadLength);
        Assert.Equal(PacketFrames.ToHex(Spec.Payload.AsSpan(0, 2960 + 40 - 32)), segment.PayloadHex);
    }

    [Fact]
    public void Add_EthernetFrames_SameAsRawPackets()
    {
        var defragmenter = New();
        var frames = IPv4(WholeV4, maxData: 1480).Select(ip => PacketFrames.Concat(PacketFrames.EthernetHeader(0x0800), ip));

        var fed = Feed(defragmenter, frames, linkType: LinkType.Ethernet);

        Assert.Equal(DecodedSegment.Expected(Spec, ClientV4, ServerV4), Assert.Single(fed.Segments));
    }

    [Fact]
    public void Add_LaterUdpFragmentWithoutItsFirst_NotWanted()
    {
        var defragmenter = New();
        var dns = PacketFrames.IPv4Udp(53, 40000, new byte[2000]);

        var fed = Feed(defragmenter, [IPv4(dns, 1480, dns.Length - 20 - 1480)]);

        Assert.Equal([DefragmentResult.NotWanted], fed.Results);
        Assert.Equal(0, defragmenter.Statistics.Fragments);
        Assert.Equal(0, defragmenter.Statistics.DatagramsHeld);
    }

    [Fact]
    public void Add_SteadyStateFragmentedTraffic_AllocatesNothing()
    {
        var defragmenter = New();
        var datagrams = Enumerable.Range(0, 64).Select(id => IPv4(WholeV4, maxData: 1480, identification: (ushort)id)).ToList();

        long Run(int rounds)
        {
            var reassembled = 0L;
            for (var round = 0; round < rounds; round++)
            {
                foreach (var fragments in datagrams)
                {
                    // Out of order: the last first, as some stacks send.
                    for (var i = fragments.Count - 1; i >= 0; i--)
                    {
                        PacketDecoder.TryDecodeFragment(LinkType.Raw, fragments[i], fragments[i].Length, out var fragment);
                        if (defragmenter.Add(fragment, Timestamp.FromSeconds(StartSeconds + round, 0), out _, out _) == DefragmentResult.Reassembled)
                        {
                            reassembled++;
                        }
                    }
                }
            }

            return reassembled;
        }

        Run(20);

        // The best of three runs, as in the reassembler's test: tiering bookkeeping may allocate during the first.
        long allocated = long.MaxValue;
        long reassembled = 0;
        for (var attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            reassembled = Run(50);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);
        Assert.Equal(64 * 50, reassembled);
    }
}
