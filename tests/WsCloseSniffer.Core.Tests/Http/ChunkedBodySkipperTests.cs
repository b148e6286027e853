using System.Text;

using WsCloseSniffer.Http;

namespace WsCloseSniffer.Tests.Http;

public class ChunkedBodySkipperTests
{
    private const string Next = "GET /next HTTP/1.1\r\n\r\n";

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Theory]
    [InlineData("5\r\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")]
    [InlineData("A;name=value\r\n0123456789\r\n0\r\n\r\n")]
    [InlineData("a \r\n0123456789\r\n00\r\n\r\n")]
    [InlineData("5\r\nhello\r\n0\r\nExpires: never\r\nX-Checksum: 1\r\n\r\n")]
    [InlineData("0\r\n\r\n")]
    public void Skip_WholeBody_EndsExactlyBeforeTheNextHead(string body)
    {
        var bytes = Ascii(body + Next);
        var skipper = default(ChunkedBodySkipper);

        var status = skipper.Skip(bytes, out int consumed);

        Assert.Equal(ChunkedBodyStatus.Complete, status);
        Assert.Equal(body.Length, consumed);
    }

    [Fact]
    public void Skip_OneByteAtATime_EndsAtTheSameByte()
    {
        const string body = "1a;x\r\nabcdefghijklmnopqrstuvwxyz\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n";
        var bytes = Ascii(body + Next);
        var skipper = default(ChunkedBodySkipper);
        int position = 0;
        var status = ChunkedBodyStatus.NeedMoreData;
        while (status == ChunkedBodyStatus.NeedMoreData)
        {
            status = skipper.Skip(bytes.AsSpan(position, 1), out int consumed);
            position += consumed;
        }

        Assert.Equal(ChunkedBodyStatus.Complete, status);
        Assert.Equal(body.Length, position);
    }

    [Fact]
    public void Skip_LargeChunk_IsCountedNotKept()
    {
        var skipper = default(ChunkedBodySkipper);
        Assert.Equal(ChunkedBodyStatus.NeedMoreData, skipper.Skip(Ascii("FFFFFFFF\r\n"), out _));

        var piece = new byte[65536];
        for (int i = 0; i < 65535; i++)
        {
            Assert.Equal(ChunkedBodyStatus.NeedMoreData, skipper.Skip(piece, out int consumed));
            Assert.Equal(piece.Length, consumed);
        }

        var end = new byte[65535 + 7];
        Ascii("\r\n0\r\n\r\n").CopyTo(end, 65535);
        Assert.Equal(ChunkedBodyStatus.Complete, skipper.Skip(end, out int last));
        Assert.Equal(end.Length, last);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("g\r\n")]
    [InlineData("5\nhello\r\n")]
    [InlineData("5\r\nhelloX\r\n")]
    [InlineData("1000000000000000\r\n")]
    [InlineData("0\r\nbroken\rX")]
    public void Skip_NotChunked_IsMalformed(string body)
    {
        var skipper = default(ChunkedBodySkipper);

        Assert.Equal(ChunkedBodyStatus.Malformed, skipper.Skip(Ascii(body), out _));
    }

    [Fact]
    public void Skip_EndlessExtension_IsMalformedAfterTheLineCap()
    {
        var skipper = default(ChunkedBodySkipper);
        var line = Ascii("5;" + new string('x', ChunkedBodySkipper.MaxLineBytes + 10));

        Assert.Equal(ChunkedBodyStatus.Malformed, skipper.Skip(line, out int consumed));
        Assert.True(consumed <= ChunkedBodySkipper.MaxLineBytes + 3);
    }

    [Fact]
    public void SkipGap_InsideChunkData_KeepsFollowingTheSizes()
    {
        var skipper = default(ChunkedBodySkipper);
        Assert.Equal(ChunkedBodyStatus.NeedMoreData, skipper.Skip(Ascii("10\r\n0123"), out _));

        Assert.True(skipper.SkipGap(8));
        Assert.Equal(ChunkedBodyStatus.Complete, skipper.Skip(Ascii("cdef\r\n0\r\n\r\n"), out int consumed));
        Assert.Equal(11, consumed);
    }

    [Fact]
    public void SkipGap_OverASizeLine_IsFalse()
    {
        var skipper = default(ChunkedBodySkipper);
        Assert.Equal(ChunkedBodyStatus.NeedMoreData, skipper.Skip(Ascii("4\r\nab"), out _));

        Assert.False(skipper.SkipGap(10));
    }
}
