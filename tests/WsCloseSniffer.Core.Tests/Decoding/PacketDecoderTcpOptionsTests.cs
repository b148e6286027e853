using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Decoding;

public sealed class PacketDecoderTcpOptionsTests
{
    [Theory]
    [InlineData("020405b4 0402080a 00252f1c 00000000 01030307", TcpControl.Syn, 7)] // Linux's SYN: MSS, SACK, TS, NOP, WS 7
    [InlineData("020405b4 01030308 01010402", TcpControl.Syn | TcpControl.Ack, 8)] // Windows' SYN-ACK order
    [InlineData("03030e00", TcpControl.Syn, 14)]
    [InlineData("03030f00", TcpControl.Syn, 14)] // above 14: taken as 14 (RFC 7323 section 2.3)
    [InlineData("020405b4 0402080a 00252f1c 00000000", TcpControl.Syn, -1)] // no window scale
    [InlineData("", TcpControl.Syn, -1)]
    [InlineData("00030307", TcpControl.Syn, -1)] // after the end of the option list
    [InlineData("02000000 03030700", TcpControl.Syn, -1)] // a length below 2: the list cannot be walked
    [InlineData("08ff0000 03030700", TcpControl.Syn, -1)] // a length past the header
    [InlineData("01030307", TcpControl.Ack, -1)] // only a SYN's option counts
    public void TryDecodeTcp_WindowScaleOption_ReadFromSynsOnly(string optionsHex, TcpControl flags, int expected)
    {
        var spec = TcpSpec.Default() with { Flags = flags, Payload = [], Options = PacketFrames.FromHex(optionsHex) };
        var ip = PacketFrames.IPv4Tcp(spec);

        Assert.Equal(DecodeStatus.Tcp, PacketDecoder.TryDecodeTcp(LinkType.Ipv4, ip, ip.Length, out var segment));
        Assert.Equal(expected, segment.WindowScale);
        Assert.Equal(spec.Window, segment.Window);
    }

    [Fact]
    public void Decode_WindowScale_SurvivesTheQueueOfTheReadingThread()
    {
        var spec = TcpSpec.Default() with { Flags = TcpControl.Syn, Payload = [], Options = PacketFrames.FromHex("01030306") };
        var frame = PacketFrames.EthernetIPv4Tcp(spec);
        var packet = new CapturedPacket(default, LinkType.Ethernet, frame, frame.Length, 1);

        Assert.Equal(6, DecodedTcp.Decode(packet).Segment(frame).WindowScale);
    }
}
