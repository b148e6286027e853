using WsCloseSniffer.Tests.Reassembly;

using static WsCloseSniffer.TestSupport.FrameBuilder;

namespace WsCloseSniffer.Tests.TestInputs;

/// <summary>
/// The test builder's captures as tshark reads them (an implementation independent of ours and of PacketDotNet's):
/// every other test trusts these inputs to be what they claim.
/// </summary>
public sealed class BuiltCaptureTsharkTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("wsclosesniffer-built-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [SkippableTheory]
    [InlineData("192.0.2.10", "198.51.100.20")]
    [InlineData("2001:db8::10", "2001:db8::20")]
    public void ToPcap_CleanSession_TsharkFindsGoodChecksumsTheUpgradeAndBothCloses(string client, string server)
    {
        var session = new SessionPacketBuilder(clientIp: client, serverIp: server).Connect()
            .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols())
            .Client(ClientText("hi")).Server(ServerText("ok"))
            .Client(ClientClose(1000, "bye")).Server(ServerClose(1000))
            .CloseTcp();
        var path = Path.Combine(_directory, "built.pcap");
        File.WriteAllBytes(path, SessionPacketBuilder.ToPcap(session));

        var output = TcpReassemblerCaptureTests.RunTshark(
            $"-r \"{path}\" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -T fields -E separator=, " +
            "-e ip.checksum.status -e tcp.checksum.status -e tcp.analysis.flags -e websocket.opcode -e websocket.mask " +
            "-e websocket.payload.close.status_code -e http.response.code");
        Skip.If(output is null, "tshark not available");

        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(',')).ToList();
        Assert.Equal(session.Packets.Count, rows.Count);
        Assert.All(rows, row => Assert.Contains(row[0], new[] { "", "1" })); // IPv4 header checksum good (IPv6 has none)
        Assert.All(rows, row => Assert.Equal("1", row[1])); // TCP checksum good
        Assert.All(rows, row => Assert.Equal("", row[2])); // no retransmission, lost segment or other TCP analysis flag
        Assert.Equal(["1,1", "1,0", "8,1", "8,0"], rows.Where(row => row[3].Length > 0).Select(row => $"{row[3]},{row[4]}"));
        Assert.Equal(["1000", "1000"], rows.Where(row => row[5].Length > 0).Select(row => row[5]));
        Assert.Single(rows, row => row[6] == "101");
    }
}
