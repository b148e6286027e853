using WsCloseSniffer.Tests.Hardening;
using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

/// <summary>
/// zlib's state lives outside the managed heap, where no allocation counter sees it: these watch the process's
/// resident set instead, over enough inflaters that a leak of one state each (about 42 KiB) could not hide.
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public class MessageInflaterNativeMemoryTests
{
    private const int Batch = 5_000;
    private const long GrowthBound = 64 * Memory.MiB;

    private static readonly byte[] Unit = DeflateFrames.SyncFlushed(new byte[20_000])[0];

    [Fact]
    public void Dispose_HundredThousandInflatersEachUsedOnce_ResidentSetStaysFlat()
    {
        var baseline = ResidentAfter(() => UseOnce(Batch, dispose: true));
        for (var done = Batch; done < 100_000; done += Batch)
        {
            // Checked per batch, so a leak fails the test after a few hundred MiB rather than four GiB.
            var resident = ResidentAfter(() => UseOnce(Batch, dispose: true));
            Assert.True(resident - baseline < GrowthBound, $"resident set grew {(resident - baseline) / Memory.MiB} MiB after {done + Batch} inflaters");
        }
    }

    [Fact]
    public void Finalizer_InflatersDroppedWithoutDispose_GiveTheirZLibStateBack()
    {
        var baseline = ResidentAfter(() => UseOnce(1_000, dispose: false));
        for (var done = 1_000; done < 20_000; done += 1_000)
        {
            var resident = ResidentAfter(() => UseOnce(1_000, dispose: false));
            Assert.True(resident - baseline < GrowthBound, $"resident set grew {(resident - baseline) / Memory.MiB} MiB after {done + 1_000} undisposed inflaters");
        }
    }

    private static void UseOnce(int count, bool dispose)
    {
        for (var i = 0; i < count; i++)
        {
            var inflater = new MessageInflater(useNative: true);
            Assert.True(inflater.UsesNativeZLib);
            var counted = new InflatedUnit(long.MaxValue, checkUtf8: false);
            Assert.Equal(InflateStatus.Ok, inflater.Inflate(Unit, ref counted));
            Assert.Equal(20_000, counted.Bytes);
            if (dispose)
            {
                inflater.Dispose();
            }
        }
    }

    private static long ResidentAfter(Action action)
    {
        action();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Environment.WorkingSet;
    }
}
