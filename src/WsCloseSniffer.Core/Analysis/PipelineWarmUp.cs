using System.Reflection;
using System.Runtime.CompilerServices;

namespace WsCloseSniffer.Analysis;

/// <summary>
/// JIT-compiles the per-packet methods on a background thread while the process starts. They are marked
/// <see cref="MethodImplOptions.AggressiveOptimization"/> so they are never precompiled (precompiled code
/// measured 25% slower per packet); compiled here, on a core that is idle at start-up, the first packet
/// does not wait for them (bench/README.md).
/// </summary>
public static class PipelineWarmUp
{
    private static int s_started;

    /// <summary>Starts the warm-up once per process; returns at once.</summary>
    public static void Start()
    {
        if (Environment.ProcessorCount < 2 || Interlocked.Exchange(ref s_started, 1) == 1)
        {
            return;
        }

        new Thread(CompileHotMethods) { IsBackground = true, Name = "jit warm-up", Priority = ThreadPriority.BelowNormal }.Start();
    }

    /// <summary>The per-packet methods: those marked AggressiveOptimization in this assembly.</summary>
    public static IEnumerable<MethodBase> HotMethods() =>
        typeof(PipelineWarmUp).Assembly.GetTypes()
            .Where(type => !type.ContainsGenericParameters)
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(method => !method.ContainsGenericParameters && (method.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0);

    private static void CompileHotMethods()
    {
        foreach (var method in HotMethods())
        {
            // Compiling ahead only saves time: if anything refuses, the method is compiled on first call as usual.
            try
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
            {
            }
        }
    }
}
