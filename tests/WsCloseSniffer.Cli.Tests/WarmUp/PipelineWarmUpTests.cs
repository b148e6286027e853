using System.Reflection;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Cli;
using WsCloseSniffer.Pipeline;

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
}
