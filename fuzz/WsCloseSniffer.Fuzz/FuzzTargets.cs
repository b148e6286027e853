using System.Text;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Http;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Fuzz;

/// <summary>
/// One entry point per fuzz target. Each takes the fuzzer's input and drives one stage the way the pipeline
/// does. Only the exceptions a stage documents for bad content are caught; anything else escapes and is a
/// crash for AFL (and a failure for the in-process smoke tests that share these targets).
/// </summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["capture"] = Capture,
        ["decoder"] = Decoder,
        ["http"] = Http,
        ["frames"] = Frames,
        ["pipeline"] = Pipeline,
    };

    // Every link type the decoder knows, plus one it does not: the first input byte picks one.
    private static readonly LinkType[] s_linkTypes =
    [
        LinkType.Null, LinkType.Ethernet, LinkType.Raw, LinkType.Loop, LinkType.LinuxSll,
        LinkType.LinuxSll2, LinkType.Ipv4, LinkType.Ipv6, (LinkType)147,
    ];

    /// <summary>The managed capture reader (pcap, pcapng, gzip of either) over an in-memory file.</summary>
    public static void Capture(byte[] input)
    {
        IPacketSource source;
        try
        {
            source = CaptureFile.Open(new MemoryStream(input, writable: false), "fuzz.pcap");
        }
        catch (CaptureFormatException)
        {
            return;
        }

        using (source)
        {
            long packets = 0;
            long bytes = 0;
            while (source.TryReadNext(out var packet))
            {
                packets++;
                bytes += packet.Data.Length;
                Check(packet.Data.Length >= 0 && packet.PacketNumber == packets, "packet numbering");
            }

            // Packets are slices of the file: without compression they cannot add up to more than the file.
            Check(input[0] == 0x1F || bytes <= input.Length, "more packet bytes than the file holds");
            _ = source.Damage?.ToString();
        }
    }

    /// <summary>
    /// The link/IP/TCP decoder on one frame; byte 0 picks the link type, byte 1 shortens the original length. A
    /// fragment goes through the fragment walk and a defragmenter too.
    /// </summary>
    public static void Decoder(byte[] input)
    {
        if (input.Length < 2)
        {
            return;
        }

        var linkType = s_linkTypes[input[0] % s_linkTypes.Length];
        var frame = input.AsSpan(2);
        var originalLength = (input[1] & 0x80) != 0 ? frame.Length + input[1] : frame.Length;
        var status = PacketDecoder.TryDecodeTcp(linkType, frame, originalLength, out var segment);
        if (status == DecodeStatus.Tcp)
        {
            Check(segment.Payload.Length <= frame.Length, "payload longer than the frame");
            _ = segment.SourceAddress.ToString() + segment.DestinationAddress.ToString();
        }

        var isFragment = PacketDecoder.TryDecodeFragment(linkType, frame, originalLength, out var fragment);
        Check(isFragment == (status == DecodeStatus.IpFragment), "the fragment walk and the TCP walk disagree");
        if (isFragment)
        {
            Check(fragment.Header.Length + fragment.Data.Length <= frame.Length, "fragment longer than the frame");
            Check(fragment.Data.Length <= fragment.DataWireLength, "fragment data past its announced length");

            // The fragment twice: alone (a whole datagram when it starts at 0 and is the last), then as a duplicate.
            var defragmenter = new IpDefragmenter(new DefragmentationOptions());
            _ = defragmenter.Add(fragment, default, out var first, out var firstLength);
            _ = defragmenter.Add(fragment, default, out _, out _);
            Check(first.Length <= firstLength, "reassembled packet longer than its length");
            defragmenter.Finish();
            Check(defragmenter.Statistics.BytesHeld == 0 && defragmenter.Statistics.DatagramsHeld == 0, "defragmenter kept memory after Finish");
        }
    }

    /// <summary>The incremental HTTP head parser fed in pieces (byte 0 sets the piece size), then the upgrade readers.</summary>
    public static void Http(byte[] input)
    {
        if (input.Length < 1)
        {
            return;
        }

        var piece = (input[0] % 17) + 1;
        var data = input.AsSpan(1);
        var parser = new HttpHeadParser(maxHeadBytes: 4096);
        for (var heads = 0; heads < 4 && !data.IsEmpty; heads++)
        {
            var status = HttpHeadStatus.NeedMoreData;
            while (!data.IsEmpty && status == HttpHeadStatus.NeedMoreData)
            {
                var chunk = data[..Math.Min(piece, data.Length)];
                status = parser.Append(chunk, out var consumed);
                Check(consumed >= 0 && consumed <= chunk.Length, "consumed out of range");
                Check(parser.HeadByteCount <= parser.MaxHeadBytes, "head over its cap");
                data = data[(status == HttpHeadStatus.NeedMoreData ? chunk.Length : consumed)..];
            }

            if (status == HttpHeadStatus.Complete)
            {
                var head = parser.Head!;
                if (UpgradeRequest.TryFrom(head, out var request))
                {
                    _ = request.OfferedExtensionsText;
                    _ = request.Extensions.ToString();
                }

                var response = UpgradeResponse.From(head);
                _ = response.AcceptMatches(request?.Key);
                _ = response.AcceptedExtensionsText;
            }
            else if (status != HttpHeadStatus.NeedMoreData)
            {
                break;
            }

            parser.Reset();
        }

        // The extension grammar on the raw bytes as header values (Latin-1, as HTTP field bytes decode).
        var text = Encoding.Latin1.GetString(input);
        _ = ExtensionList.Parse(text);
        _ = ExtensionList.Parse(text.Split('\n'));
    }

    /// <summary>Frame decoder fed in pieces with occasional gaps; every close payload goes through CloseFrame.Parse.</summary>
    public static void Frames(byte[] input)
    {
        if (input.Length < 2)
        {
            return;
        }

        var piece = (input[0] % 23) + 1;
        var gapEvery = input[1] % 8;
        var data = input.AsSpan(2);
        var decoder = new FrameDecoder();
        var handler = new CloseParsingHandler();
        var pieces = 0;
        while (!data.IsEmpty && !decoder.IsStopped)
        {
            var chunk = data[..Math.Min(piece, data.Length)];
            data = data[chunk.Length..];
            if (gapEvery != 0 && ++pieces % gapEvery == 0)
            {
                _ = decoder.SkipGap(chunk.Length, handler, default);
            }
            else
            {
                decoder.Decode(chunk, handler, default);
            }
        }

        Check(decoder.Frames == handler.Frames, "frame count");
        _ = CloseFrame.Parse(input);
    }

    /// <summary>The whole offline pipeline on one capture file, reports written to a null stream.</summary>
    public static void Pipeline(byte[] input)
    {
        IPacketSource source;
        try
        {
            source = CaptureFile.Open(new MemoryStream(input, writable: false), "fuzz.pcap");
        }
        catch (CaptureFormatException)
        {
            return;
        }

        var sessions = new List<SessionRecord>();
        using (source)
        using (var analyzer = new CaptureAnalyzer(source.Name, new AnalyzerOptions(), sessions.Add))
        {
            while (source.TryReadNext(out var packet))
            {
                analyzer.Process(packet, DecodedTcp.Decode(packet));
            }

            analyzer.Finish();
            using var csv = new CsvSessionWriter(TextWriter.Null);
            using var json = new JsonLinesSessionWriter(Stream.Null);
            foreach (var session in sessions)
            {
                csv.Write(session);
                json.Write(session);
            }

            SummaryWriter.Write(TextWriter.Null, sessions, analyzer.Statistics, inputCount: 1);
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("fuzz invariant broken: " + what);
        }
    }

    private sealed class CloseParsingHandler : IFrameHandler
    {
        public long Frames { get; private set; }

        public void OnFrame(in FrameHeader header, in ControlPayload controlPayload, Timestamp time)
        {
            Frames++;
            Check(controlPayload.Bytes.Length <= FrameDecoder.MaxHeldControlPayloadBytes, "control payload over its cap");
            if (header.Opcode == WebSocketOpcode.Close)
            {
                var close = CloseFrame.Parse(controlPayload.Bytes);
                Check(close.Reason.Length <= controlPayload.Bytes.Length, "reason longer than payload");
            }
        }
    }
}
