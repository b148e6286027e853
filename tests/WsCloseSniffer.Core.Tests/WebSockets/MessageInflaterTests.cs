using System.IO.Compression;
using System.Text;

using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

public class MessageInflaterTests
{
    [Fact]
    public void Inflate_SyncFlushedUnitsInOneBytePieces_CountsEachUnitWithContextKept()
    {
        var first = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("context takeover ", 100)));
        var units = DeflateFrames.SyncFlushed(first, first);
        using var inflater = new MessageInflater();
        foreach (var unit in units)
        {
            var counted = new InflatedUnit(long.MaxValue, checkUtf8: true);
            foreach (var b in unit)
            {
                Assert.Equal(InflateStatus.Ok, inflater.Inflate([b], ref counted));
            }

            Assert.Equal(InflateStatus.Ok, inflater.EndUnit(ref counted));
            Assert.Equal(first.Length, counted.Bytes);
            Assert.True(counted.Utf8.Complete());
        }

        // The second unit is mostly a reference into the first.
        Assert.True(units[1].Length < first.Length / 50, $"{units[1].Length}");
    }

    [Fact]
    public void Inflate_MaskedPayloadAtAnOffset_UnmasksBeforeInflating()
    {
        var text = Encoding.UTF8.GetBytes("masked and compressed, masked and compressed");
        var unit = DeflateFrames.SyncFlushed(text)[0];
        const uint key = 0x37fa213d;
        var masked = (byte[])unit.Clone();
        FrameHeader.Unmask(masked, key, 0);
        using var inflater = new MessageInflater();
        var counted = new InflatedUnit(long.MaxValue, checkUtf8: false);

        Assert.Equal(InflateStatus.Ok, inflater.Inflate(masked.AsSpan(0, 3), key, 0, ref counted));
        Assert.Equal(InflateStatus.Ok, inflater.Inflate(masked.AsSpan(3), key, 3, ref counted));
        Assert.Equal(InflateStatus.Ok, inflater.EndUnit(ref counted));
        Assert.Equal(text.Length, counted.Bytes);
    }

    [Fact]
    public void Inflate_FinalBlock_WholeUnitThenStreamEnded()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("final ", 50)));
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(text);
        }

        using var inflater = new MessageInflater();
        var counted = new InflatedUnit(long.MaxValue, checkUtf8: false);
        Assert.Equal(InflateStatus.Ok, inflater.Inflate(output.ToArray(), ref counted));
        Assert.Equal(InflateStatus.StreamEnded, inflater.EndUnit(ref counted));
        Assert.Equal(text.Length, counted.Bytes);
        Assert.True(inflater.IsSpent);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x00, 0x05, 0x00, 0x05, 0x00 })]
    public void Inflate_InvalidDeflate_InvalidDataWithTheRuntimesWords(byte[] data)
    {
        using var inflater = new MessageInflater();
        var counted = new InflatedUnit(long.MaxValue, checkUtf8: false);
        var status = inflater.Inflate(data, ref counted);
        if (status == InflateStatus.Ok)
        {
            status = inflater.EndUnit(ref counted);
        }

        Assert.Equal(InflateStatus.InvalidData, status);
        Assert.False(string.IsNullOrEmpty(inflater.LastError));
    }

    [Fact]
    public void Inflate_PastTheLimit_CountsExactlyTheLimit()
    {
        var unit = DeflateFrames.SyncFlushed(new byte[1_000_000])[0];
        using var inflater = new MessageInflater();
        var counted = new InflatedUnit(100_000, checkUtf8: false);

        Assert.Equal(InflateStatus.LimitReached, inflater.Inflate(unit, ref counted));
        Assert.Equal(100_000, counted.Bytes);
    }
}
