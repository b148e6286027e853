using System.Reflection;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Cli;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.WarmUp;

public sealed class PipelineWarmUpTests
{
    [Fact]
    public void HotMethods_TheListedMethods_AreExactlyTheCoreMethodsMarkedAggressiveOptimization()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var marked = typeof(CaptureAnalyzer).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            .Where(method => (method.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0)
            .Select(Name)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        var listed = PipelineWarmUp.HotMethods().ToList();

        Assert.Equal(marked, listed.Select(Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        Assert.All(listed, method => Assert.False(method.ContainsGenericParameters, Name(method)));
        Assert.Contains("WsCloseSniffer.Pipeline.CaptureAnalyzer.Process", listed.Select(Name));
    }

    private static string Name(MethodBase method)
    {
        var type = method.DeclaringType!;
        var name = type.IsGenericType ? type.GetGenericTypeDefinition().FullName : type.FullName;
        return $"{name}.{method.Name}";
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

    [Fact]
    public void SessionCapture_Embedded_IsWhatTheTestBuilderWrites()
    {
        var built = SessionPacketBuilder.ToPcap(WarmUpSession());
        var source = Path.Combine(RepositoryPaths.Root, "src", "WsCloseSniffer.Cli", PipelineWarmUp.SessionCaptureName);
        if (Environment.GetEnvironmentVariable("UPDATE_BASELINES") == "1")
        {
            File.WriteAllBytes(source, built);
        }

        using var embedded = new MemoryStream();
        using (var stream = PipelineWarmUp.OpenSessionCapture())
        {
            stream.CopyTo(embedded);
        }

        Assert.True(built.AsSpan().SequenceEqual(File.ReadAllBytes(source)), $"{source} is not what {nameof(WarmUpSession)} builds: run the tests once with UPDATE_BASELINES=1");
        Assert.True(built.AsSpan().SequenceEqual(embedded.ToArray()), "the embedded warm-up capture is older than its source file: rebuild");
    }

    /// <summary>The warm-up's session: handshakes, "hi" and "ok", close 1000 from the client and its echo, both FINs.</summary>
    private static SessionPacketBuilder WarmUpSession() =>
        new SessionPacketBuilder(clientIp: "10.0.0.1", clientPort: 50000, serverIp: "10.0.0.2", serverPort: 80, clientIsn: 1000, serverIsn: 5000, startUnixSeconds: 1_700_000_000)
            .Connect()
            .Client(SessionHandshake.Request("/warm-up", "warm-up", "permessage-deflate"))
            .Server(SessionHandshake.SwitchingProtocols())
            .Client(PacketFrames.Concat(FrameBuilder.ClientText("hi"), FrameBuilder.ClientClose(1000)))
            .Server(PacketFrames.Concat(FrameBuilder.ServerText("ok"), FrameBuilder.ServerClose(1000)))
            .ServerFin()
            .ClientFin()
            .ServerAck();
}
