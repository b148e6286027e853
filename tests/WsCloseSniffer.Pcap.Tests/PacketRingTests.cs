using WsCloseSniffer.Capture;
using WsCloseSniffer.Pcap;

namespace WsCloseSniffer.Tests.Pcap;

public sealed class PacketRingTests
{
    [Fact]
    public void TryPeek_AfterWrites_ReturnsPacketsInOrderWithTheirMetadata()
    {
        using var ring = new PacketRing(4096);
        Assert.True(ring.TryWrite(new Timestamp(1_000), [0x01, 0x02, 0x03], 60));
        Assert.True(ring.TryWrite(new Timestamp(2_000), [], 0));
        Assert.True(ring.TryWrite(new Timestamp(3_000), [0xff], 1));

        Assert.True(ring.TryPeek(out var time, out var frame, out int original));
        Assert.Equal((1_000L, 60), (time.UnixNanoseconds, original));
        Assert.Equal(new byte[] { 1, 2, 3 }, frame.ToArray());
        ring.Release();
        Assert.True(ring.TryPeek(out time, out frame, out original));
        Assert.Equal((2_000L, 0, 0), (time.UnixNanoseconds, frame.Length, original));
        ring.Release();
        Assert.True(ring.TryPeek(out time, out frame, out _));
        Assert.Equal((3_000L, (byte)0xff), (time.UnixNanoseconds, frame[0]));
        ring.Release();
        Assert.False(ring.TryPeek(out _, out _, out _));
        Assert.Equal((3L, 0L), (ring.Written, ring.Dropped));
    }

    [Fact]
    public void TryWrite_WhenFull_DropsAndCountsWithoutBlocking()
    {
        using var ring = new PacketRing(4096);
        var frame = new byte[1000];
        int accepted = 0;
        while (ring.TryWrite(default, frame, frame.Length))
        {
            accepted++;
        }

        // 1016-byte records (16-byte header, 8-byte alignment): four fit in 4096 bytes.
        Assert.Equal(4, accepted);
        Assert.False(ring.TryWrite(default, frame, frame.Length));
        Assert.Equal((4L, 2L), (ring.Written, ring.Dropped));

        // Room again once the consumer has taken one.
        Assert.True(ring.TryPeek(out _, out _, out _));
        ring.Release();
        Assert.True(ring.TryWrite(default, frame, frame.Length));
    }

    [Fact]
    public void TryWrite_FrameLargerThanHalfTheRing_IsDropped()
    {
        using var ring = new PacketRing(4096);

        Assert.False(ring.TryWrite(default, new byte[3000], 3000));
        Assert.Equal(1, ring.Dropped);
        Assert.True(ring.IsEmpty);
    }

    [Fact]
    public void TryPeek_RecordsWrappingAroundTheEnd_KeepTheirBytes()
    {
        using var ring = new PacketRing(4096);
        var random = new Random(6455);
        var pending = new Queue<byte[]>();
        for (int i = 0; i < 2000; i++)
        {
            var frame = new byte[random.Next(0, 700)];
            random.NextBytes(frame);
            while (!ring.TryWrite(new Timestamp(i), frame, frame.Length + 4))
            {
                var expected = pending.Dequeue();
                Assert.True(ring.TryPeek(out _, out var read, out int original));
                Assert.Equal(expected, read.ToArray());
                Assert.Equal(expected.Length + 4, original);
                ring.Release();
            }

            pending.Enqueue(frame);
        }

        while (pending.Count > 0)
        {
            Assert.True(ring.TryPeek(out _, out var read, out _));
            Assert.Equal(pending.Dequeue(), read.ToArray());
            ring.Release();
        }

        Assert.True(ring.IsEmpty);
    }

    [Fact]
    public async Task WaitForData_ProducerOnAnotherThread_DeliversEveryPacketInOrder()
    {
        using var ring = new PacketRing(64 * 1024);
        const int Count = 100_000;
        var producer = Task.Run(() =>
        {
            var frame = new byte[8];
            for (int i = 0; i < Count;)
            {
                BitConverter.TryWriteBytes(frame, (long)i);
                if (ring.TryWrite(new Timestamp(i), frame, 8))
                {
                    i++;
                }
                else
                {
                    Thread.Yield();
                }
            }
        });

        long next = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (next < Count && DateTime.UtcNow < deadline)
        {
            if (!ring.WaitForData(TimeSpan.FromMilliseconds(100)))
            {
                continue;
            }

            while (ring.TryPeek(out var time, out var frame, out _))
            {
                Assert.Equal(next, time.UnixNanoseconds);
                Assert.Equal(next, BitConverter.ToInt64(frame));
                ring.Release();
                next++;
            }
        }

        await producer.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(Count, next);
    }

    [Fact]
    public void Release_WithoutPeek_Throws()
    {
        using var ring = new PacketRing(4096);

        Assert.Throws<InvalidOperationException>(ring.Release);
    }
}
