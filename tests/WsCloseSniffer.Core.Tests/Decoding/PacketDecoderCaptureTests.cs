using PacketDotNet;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Decoding;

/// <summary>Our decoder against PacketDotNet and tshark on the shared third-party captures.</summary>
public class PacketDecoderCaptureTests
{
    private const string MissingCaptures =
        "the shared captures (../shared/captures/public next to the folder holding WsCloseSniffer.sln) are not on this machine";

    [SkippableFact]
    public void TryDecodeTcp_EveryEthernetAndSllPacketOfSharedCaptures_AgreesWithPacketDotNet()
    {
        var directory = PacketCaptureFiles.PublicCapturesDirectory();
        Skip.If(directory is null, MissingCaptures);

        var mismatches = new List<string>();
        var compared = 0;
        var tunnelled = 0;
        foreach (var path in PacketCaptureFiles.CaptureFiles(directory!))
        {
            var number = 0;
            foreach (var (linkLayer, data, originalLength) in PacketCaptureFiles.ReadWithLibpcap(path))
            {
                number++;
                if (linkLayer is not (LinkLayers.Ethernet or LinkLayers.LinuxSll))
                {
                    continue;
                }

                var where = $"{Path.GetRelativePath(directory!, path)} #{number}";
                var status = PacketDecoder.TryDecodeTcp((LinkType)(uint)linkLayer, data, originalLength, out var segment);
                var ours = status == DecodeStatus.Tcp ? DecodedSegment.From(segment) : null;
                var (theirs, theirStatus, isGtp) = DecodeWithPacketDotNet(linkLayer, data);

                if (isGtp && theirStatus == DecodeStatus.NotTcp)
                {
                    // PacketDotNet stops at the UDP header of GTP-U; TryDecodeTcp_GtpCapture_MatchesTshark covers those.
                    tunnelled++;
                    continue;
                }

                compared++;
                if (status != theirStatus)
                {
                    mismatches.Add($"{where}: ours {status}, PacketDotNet {theirStatus}");
                }
                else if (ours != theirs)
                {
                    mismatches.Add($"{where}: ours {ours}, PacketDotNet {theirs}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches, first ones:\n" + string.Join('\n', mismatches.Take(10)));
        Assert.True(compared > 20_000, $"only {compared} packets compared");
        // tshark 'udp.port==2152': all 4 frames of ndpi/http_origin_different_than_host.pcap, 54 of
        // ndpi/false_positives.pcapng, and arkime/arkime_synthetic.pcap #305 (GTP-U carrying a non-TCP packet).
        Assert.Equal(59, tunnelled);
    }

    /// <summary>The TCP segments tshark finds inside GTP-U in the two nDPI captures (frame, addresses, ports, seq, ack, flags, window, length).</summary>
    [SkippableTheory]
    [InlineData("ndpi/http_origin_different_than_host.pcap", 1, "10.140.206.74", "18.135.206.102", 34536, 80, 961665050u, 0u, 0x02, 65535, 0)]
    [InlineData("ndpi/http_origin_different_than_host.pcap", 2, "18.135.206.102", "10.140.206.74", 80, 34536, 3671979960u, 961665051u, 0x12, 26847, 0)]
    [InlineData("ndpi/http_origin_different_than_host.pcap", 3, "10.140.206.74", "18.135.206.102", 34536, 80, 961665051u, 3671979961u, 0x18, 343, 607)]
    [InlineData("ndpi/http_origin_different_than_host.pcap", 4, "18.135.206.102", "10.140.206.74", 80, 34536, 3671979961u, 961665658u, 0x18, 110, 166)]
    [InlineData("ndpi/false_positives.pcapng", 1, "10.140.231.26", "159.65.12.169", 61202, 443, 3173307335u, 0u, 0x02, 65535, 0)]
    [InlineData("ndpi/false_positives.pcapng", 2, "159.65.12.169", "10.140.231.26", 443, 61202, 2061674982u, 3173307336u, 0x12, 28960, 0)]
    [InlineData("ndpi/false_positives.pcapng", 3, "10.140.231.26", "159.65.12.169", 61202, 443, 3173307336u, 2061674983u, 0x18, 4128, 325)]
    [InlineData("ndpi/false_positives.pcapng", 4, "159.65.12.169", "10.140.231.26", 443, 61202, 2061674983u, 3173307661u, 0x18, 235, 188)]
    public void TryDecodeTcp_GtpCapture_MatchesTshark(
        string file,
        int frameNumber,
        string source,
        string destination,
        int sourcePort,
        int destinationPort,
        uint sequence,
        uint acknowledgment,
        int flags,
        int window,
        int payloadLength)
    {
        var directory = PacketCaptureFiles.PublicCapturesDirectory();
        Skip.If(directory is null, MissingCaptures);

        var (linkLayer, data, originalLength) = PacketCaptureFiles.ReadWithLibpcap(Path.Combine(directory!, file))[frameNumber - 1];
        var status = PacketDecoder.TryDecodeTcp((LinkType)(uint)linkLayer, data, originalLength, out var segment);

        Assert.Equal(DecodeStatus.Tcp, status);
        var decoded = DecodedSegment.From(segment);
        Assert.Equal(
            (source, destination, sourcePort, destinationPort, sequence, acknowledgment, (TcpFlags)flags, window, payloadLength, payloadLength),
            (decoded.Source, decoded.Destination, (int)decoded.SourcePort, (int)decoded.DestinationPort, decoded.Sequence, decoded.Acknowledgment,
                decoded.Flags, (int)decoded.Window, decoded.PayloadHex.Length / 2, decoded.OriginalPayloadLength));
    }

    [SkippableFact]
    public void TryDecodeTcp_GtpCapture_DecodesOnlyTheFourTcpFrames()
    {
        var directory = PacketCaptureFiles.PublicCapturesDirectory();
        Skip.If(directory is null, MissingCaptures);

        var counts = PacketCaptureFiles.ReadWithLibpcap(Path.Combine(directory!, "ndpi/false_positives.pcapng"))
            .Select(r => PacketDecoder.TryDecodeTcp((LinkType)(uint)r.LinkType, r.Data, r.OriginalLength, out _))
            .GroupBy(s => s)
            .ToDictionary(g => g.Key, g => g.Count());

        // tshark: 4 frames gtp:ip:tcp; 50 gtp:ip:udp and 66 plain UDP, all not TCP.
        Assert.Equal(new Dictionary<DecodeStatus, int> { [DecodeStatus.Tcp] = 4, [DecodeStatus.NotTcp] = 116 }, counts);
    }

    /// <summary>PacketDotNet's view of the frame, in our terms; whether it stopped at a GTP-U UDP header.</summary>
    private static (DecodedSegment? Segment, DecodeStatus Status, bool IsGtp) DecodeWithPacketDotNet(LinkLayers linkLayer, byte[] data)
    {
        Packet packet;
        try
        {
            packet = Packet.ParsePacket(linkLayer, data);
        }
#pragma warning disable CA1031 // PacketDotNet throws on some truncated frames: that is its answer.
        catch (Exception)
#pragma warning restore CA1031
        {
            return (null, DecodeStatus.Malformed, false);
        }

        var udp = packet.Extract<UdpPacket>();
        var isGtp = udp is not null && (udp.SourcePort == PacketDecoder.GtpUserPlanePort || udp.DestinationPort == PacketDecoder.GtpUserPlanePort);
        var ip = packet.Extract<IPPacket>();
        var tcp = packet.Extract<TcpPacket>();
        if (ip is null || tcp is null)
        {
            return (null, DecodeStatus.NotTcp, isGtp);
        }

        if (ip is IPv4Packet ipv4 && ((ipv4.FragmentFlags & 1) != 0 || ipv4.FragmentOffset != 0))
        {
            return (null, DecodeStatus.IpFragment, isGtp);
        }

        // The payload the IP length allows, as far as it was captured.
        // PacketDotNet gives the IPv4 header length in 32-bit words, as on the wire.
        var ipPayloadLength = ip is IPv6Packet ipv6
            ? ipv6.PayloadLength - ipv6.ExtensionHeadersLength
            : ip.TotalLength - (ip.HeaderLength * 4);
        var tcpHeaderLength = tcp.DataOffset * 4;
        var originalPayloadLength = ipPayloadLength - tcpHeaderLength;
        var payload = tcp.PayloadData ?? [];
        if (payload.Length > originalPayloadLength)
        {
            payload = payload[..originalPayloadLength];
        }

        return (
            new DecodedSegment(
                ip.SourceAddress.ToString(),
                ip.DestinationAddress.ToString(),
                tcp.SourcePort,
                tcp.DestinationPort,
                tcp.SequenceNumber,
                tcp.AcknowledgmentNumber,
                (TcpFlags)(tcp.Flags & 0xFF),
                tcp.WindowSize,
                PacketFrames.ToHex(payload),
                originalPayloadLength),
            DecodeStatus.Tcp,
            isGtp);
    }
}
