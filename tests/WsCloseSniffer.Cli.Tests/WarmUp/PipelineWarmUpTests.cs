using System.Runtime.CompilerServices;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Cli;
using WsCloseSniffer.Pipeline;

namespace WsCloseSniffer.Tests.WarmUp;

public sealed class PipelineWarmUpTests
{
    [Fact]
    public void HotMethods_ThePerPacketPath_AllCompileAhead()
    {
        var methods = PipelineWarmUp.HotMethods().ToList();
        var names = methods.Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToHashSet(StringComparer.Ordinal);

        // Each stage's entry point is on the list (a stage left out would be precompiled: 25% slower per packet).
        Assert.Contains("CaptureAnalyzer.Process", names);
        Assert.Contains("PacketDecoder.TryDecodeTcp", names);
        Assert.Contains("TcpReassembler.Process", names);
        Assert.Contains("WebSocketSession.OnData", names);
        Assert.Contains("FrameDecoder.Decode", names);
        Assert.Contains("PcapReader.TryReadNext", names);
        foreach (var method in methods)
        {
            RuntimeHelpers.PrepareMethod(method.MethodHandle);
        }
    }

    [Fact]
    public void RunSession_TheBuiltInSession_IsACleanCloseThroughEveryStage()
    {
        var record = PipelineWarmUp.RunSession();

        Assert.Equal("normal_closure", record.Classification);
        Assert.Equal(("warm-up", "/warm-up", "client", 1000, 1000), (record.Host, record.Path, record.CloseInitiator, record.CloseCode, record.ReplyCloseCode));
        Assert.Equal((2L, 2L), (record.ClientFrames, record.ServerFrames));
        Assert.Empty(record.Notices);
    }
}
