using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>
/// What the core tests add to the test builder, which knows nothing of our code: its times as our
/// <see cref="Timestamp"/>s, and built connections fed through a <see cref="CaptureAnalyzer"/>.
/// </summary>
internal static class BuiltSessions
{
    extension(BuiltPacket packet)
    {
        public Timestamp Time => new(packet.UnixNanoseconds);
    }

    extension(SessionPacketBuilder connection)
    {
        public Timestamp FirstTime => new(connection.FirstUnixNanoseconds);
    }

    extension(SessionPacketBuilder)
    {
        /// <summary>Feeds the connections' packets, merged in time order, through a <see cref="CaptureAnalyzer"/>.</summary>
        public static List<SessionRecord> Analyze(params SessionPacketBuilder[] connections) => Analyze(out _, connections);

        public static List<SessionRecord> Analyze(out AnalysisStatistics statistics, params SessionPacketBuilder[] connections) =>
            Analyze(int.MaxValue, out statistics, connections);

        /// <summary>
        /// As <see cref="Analyze(SessionPacketBuilder[])"/>, each frame cut to its first <paramref name="snapLengthBytes"/>
        /// bytes as a capture with that snap length keeps it (the original length stays the frame's).
        /// </summary>
        public static List<SessionRecord> Analyze(int snapLengthBytes, out AnalysisStatistics statistics, params SessionPacketBuilder[] connections)
        {
            var records = new List<SessionRecord>();
            using var analyzer = new CaptureAnalyzer("built.pcap", new AnalyzerOptions(), records.Add);
            long number = 0;
            foreach (var packet in SessionPacketBuilder.Merge(connections))
            {
                var kept = packet.Frame.AsSpan(0, Math.Min(packet.Frame.Length, snapLengthBytes));
                var captured = new CapturedPacket(packet.Time, LinkType.Ethernet, kept, packet.Frame.Length, ++number);
                analyzer.Process(captured, DecodedTcp.Decode(captured));
            }

            analyzer.Finish();
            statistics = analyzer.Statistics;
            return records;
        }
    }
}
