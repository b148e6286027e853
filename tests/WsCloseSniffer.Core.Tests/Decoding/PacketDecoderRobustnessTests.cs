using System.Buffers.Binary;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Decoding;

public class PacketDecoderRobustnessTests
{
    private const string ClientV4 = "192.0.2.10";
    private const string ServerV4 = "198.51.100.20";
    private const string ClientV6 = "2001:db8::10";
    private const string ServerV6 = "2001:db8::20";

    /// <summary>Valid frames whose payload sits at the end of the frame (see <see cref="BuildFrame"/>).</summary>
    private static readonly string[] s_frameNames =
    [
        "Ethernet IPv4 options TCP options",
        "QinQ IPv6 extension headers",
        "GTP-U with extension header",
        "SLL2 IPv4",
        "NULL IPv6",
        "IPv6 in IPv4",
    ];

    public static TheoryData<string> FrameNames => new(s_frameNames);

    [Theory]
    [MemberData(nameof(FrameNames))]
    public void TryDecodeTcp_EveryPrefixCutBySnapLength_ReturnsTcpOnlyWithExactPrefixOfPayload(string name)
    {
        var (linkType, frame, spec, expected) = BuildFrame(name);
        var headerBytes = frame.Length - spec.Payload.Length;

        for (var length = 0; length < frame.Length; length++)
        {
            var (status, segment) = DecodedSegment.Decode(linkType, frame.AsSpan(0, length), originalLength: frame.Length);

            if (length < headerBytes)
            {
                Assert.True(status == DecodeStatus.Malformed, $"{name}, {length} bytes: {status}");
                continue;
            }

            Assert.True(status == DecodeStatus.Tcp, $"{name}, {length} bytes: {status}");
            var capturedPayload = spec.Payload.AsSpan(0, length - headerBytes);
            Assert.Equal(expected with { PayloadHex = PacketFrames.ToHex(capturedPayload) }, segment);
        }
    }

    [Theory]
    [MemberData(nameof(FrameNames))]
    public void TryDecodeTcp_EveryPrefixAsWholeWireFrame_ReportsMalformed(string name)
    {
        // The wire carried fewer bytes than the IP header announced: not a snap-length cut but damage.
        var (linkType, frame, _, _) = BuildFrame(name);

        for (var length = 0; length < frame.Length; length++)
        {
            var status = PacketDecoder.TryDecodeTcp(linkType, frame.AsSpan(0, length), length, out _);

            Assert.True(status == DecodeStatus.Malformed, $"{name}, {length} bytes: {status}");
        }
    }

    [Theory]
    [MemberData(nameof(FrameNames))]
    public void TryDecodeTcp_WholeFrame_DecodesExpectedSegment(string name)
    {
        var (linkType, frame, _, expected) = BuildFrame(name);

        var (status, segment) = DecodedSegment.Decode(linkType, frame);

        Assert.Equal(DecodeStatus.Tcp, status);
        Assert.Equal(expected, segment);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(101u)]
    [InlineData(108u)]
    [InlineData(113u)]
    [InlineData(228u)]
    [InlineData(229u)]
    [InlineData(276u)]
    public void TryDecodeTcp_RandomAndMutatedBytes_NeverThrowsAndKeepsLengthsConsistent(uint linkType)
    {
        var random = new Random(6455 + (int)linkType);
        var seeds = SeedFrames((LinkType)linkType);
        var decodedTcp = 0;

        for (var i = 0; i < 20_000; i++)
        {
            byte[] frame;
            if (i % 2 == 0)
            {
                frame = new byte[random.Next(0, 200)];
                random.NextBytes(frame);
            }
            else
            {
                // Flip a few bytes of a valid frame so decoding gets deep before meeting damage.
                frame = (byte[])seeds[random.Next(seeds.Length)].Clone();
                for (var flips = random.Next(1, 4); flips > 0; flips--)
                {
                    frame[random.Next(frame.Length)] = (byte)random.Next(256);
                }

                frame = frame[..random.Next(frame.Length + 1)];
            }

            var originalLength = random.Next(3) == 0 ? random.Next(-1, 70_000) : frame.Length;
            var status = PacketDecoder.TryDecodeTcp((LinkType)linkType, frame, originalLength, out var segment);

            Assert.InRange((int)status, (int)DecodeStatus.Tcp, (int)DecodeStatus.Malformed);
            Assert.NotEqual(DecodeStatus.UnsupportedLinkType, status);
            if (status == DecodeStatus.Tcp)
            {
                decodedTcp++;
                // An IPv4 total length of 0 takes the wire length (TSO), which the random original length may inflate.
                Assert.InRange(segment.OriginalPayloadLength, segment.Payload.Length, 70_000);
            }
            else
            {
                Assert.Equal(0, segment.Payload.Length);
                Assert.Equal(0, segment.OriginalPayloadLength);
            }
        }

        // The mutated valid frames must still decode often, or this test would only exercise rejections.
        Assert.True(decodedTcp > 100, $"only {decodedTcp} frames decoded as TCP");
    }

    [Fact]
    public void TryDecodeTcp_AnyFrame_AllocatesNothing()
    {
        var frames = s_frameNames.Select(name => BuildFrame(name)).Select(f => (f.LinkType, f.Frame)).ToArray();
        long payloadBytes = 0;
        foreach (var (linkType, frame) in frames)
        {
            PacketDecoder.TryDecodeTcp(linkType, frame, frame.Length, out _);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            var (linkType, frame) = frames[i % frames.Length];
            if (PacketDecoder.TryDecodeTcp(linkType, frame, frame.Length, out var segment) == DecodeStatus.Tcp)
            {
                payloadBytes += segment.Payload.Length;
            }

            PacketDecoder.TryDecodeTcp(linkType, frame.AsSpan(0, i % frame.Length), frame.Length, out _);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(10_000L * 40, payloadBytes);
    }

    private static (LinkType LinkType, byte[] Frame, TcpSpec Spec, DecodedSegment Expected) BuildFrame(string name)
    {
        var spec = TcpSpec.Default() with { Payload = Enumerable.Range(0, 40).Select(i => (byte)(i + 1)).ToArray() };
        var v4 = DecodedSegment.Expected(spec, ClientV4, ServerV4);
        var v6 = DecodedSegment.Expected(spec, ClientV6, ServerV6);
        return name switch
        {
            "Ethernet IPv4 options TCP options" => (
                LinkType.Ethernet,
                PacketFrames.Concat(
                    PacketFrames.EthernetHeader(0x0800),
                    PacketFrames.WithIPv4Options(PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4), PacketFrames.FromHex("94040000"))),
                spec,
                v4),
            "QinQ IPv6 extension headers" => (
                LinkType.Ethernet,
                PacketFrames.Concat(
                    PacketFrames.EthernetHeader(0x86DD, (0x88A8, 10), (0x8100, 20)),
                    PacketFrames.WithIPv6Extensions(
                        PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6),
                        PacketFrames.OptionsHeader(0, 8),
                        PacketFrames.FragmentHeader(0, moreFragments: false),
                        PacketFrames.AuthenticationHeader(16),
                        PacketFrames.OptionsHeader(60, 16))),
                spec,
                v6),
            "GTP-U with extension header" => (
                LinkType.Ethernet,
                PacketFrames.Concat(
                    PacketFrames.EthernetHeader(0x0800, (0x8100, 1), (0x8100, 2)),
                    PacketFrames.IPv4Udp(2152, 2152, PacketFrames.Gtp(0x34, 0xFF, "0000 00 85 01 0009 00", PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4)))),
                spec,
                v4),
            "SLL2 IPv4" => (
                LinkType.LinuxSll2,
                PacketFrames.Concat(PacketFrames.FromHex("0800 0000 00000002 0001 00 06 0200000000010000"), PacketFrames.IPv4Tcp(spec, ClientV4, ServerV4)),
                spec,
                v4),
            "NULL IPv6" => (
                LinkType.Null,
                PacketFrames.Concat(PacketFrames.FromHex("1e000000"), PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6)),
                spec,
                v6),
            "IPv6 in IPv4" => (
                LinkType.Raw,
                IPv6InIPv4(PacketFrames.IPv6Tcp(spec, ClientV6, ServerV6)),
                spec,
                v6),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown frame"),
        };
    }

    /// <summary>Valid TCP frames of one link type (IPv4, IPv6, GTP-U), for mutation.</summary>
    private static byte[][] SeedFrames(LinkType linkType)
    {
        var spec = TcpSpec.Default();
        var ipv4 = PacketFrames.IPv4Tcp(spec);
        var ipv6 = PacketFrames.WithIPv6Extensions(PacketFrames.IPv6Tcp(spec), PacketFrames.OptionsHeader(0, 8), PacketFrames.AuthenticationHeader(16));
        var gtp = PacketFrames.IPv4Udp(2152, 2152, PacketFrames.Gtp(0x34, 0xFF, "0000 00 85 01 0009 00", ipv4));
        var packets = linkType switch
        {
            LinkType.Ipv4 => new[] { ipv4, gtp },
            LinkType.Ipv6 => new[] { ipv6 },
            _ => new[] { ipv4, ipv6, gtp },
        };

        return packets.Select(packet =>
        {
            var isIPv6 = packet[0] >> 4 == 6;
            var header = linkType switch
            {
                LinkType.Ethernet => PacketFrames.EthernetHeader(isIPv6 ? (ushort)0x86DD : (ushort)0x0800, (0x8100, 5)),
                LinkType.LinuxSll => PacketFrames.FromHex(isIPv6 ? "0000 0001 0006 020000000001 0000 86dd" : "0000 0001 0006 020000000001 0000 0800"),
                LinkType.LinuxSll2 => PacketFrames.FromHex((isIPv6 ? "86dd" : "0800") + "0000 00000002 0001 00 06 0200000000010000"),
                LinkType.Null => PacketFrames.FromHex(isIPv6 ? "1e000000" : "02000000"),
                LinkType.Loop => PacketFrames.FromHex(isIPv6 ? "00000018" : "00000002"),
                _ => [],
            };
            return PacketFrames.Concat(header, packet);
        }).ToArray();
    }

    private static byte[] IPv6InIPv4(byte[] inner)
    {
        var header = PacketFrames.FromHex("4500 0000 0001 0000 40 29 0000 cb007101 cb007102");
        var packet = PacketFrames.Concat(header, inner);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        return packet;
    }
}
