using System.Text;

using WsCloseSniffer.Http;

namespace WsCloseSniffer.Tests.Http;

public class HttpHeadParserTests
{
    private const string FirefoxRequest =
        "GET /echo?.kl=Y HTTP/1.1\r\n" +
        "Host: sandbox.kaazing.net\r\n" +
        "User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:54.0) Gecko/20100101 Firefox/54.0\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Origin: http://kaazing.org\r\n" +
        "Sec-WebSocket-Protocol: x-kaazing-handshake\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate\r\n" +
        "Sec-WebSocket-Key: vf3bSlxjI9R5oosJfwM/8Q==\r\n" +
        "Connection: keep-alive, Upgrade\r\n" +
        "Upgrade: websocket\r\n" +
        "\r\n";

    private const string SwitchingResponse =
        "HTTP/1.1 101 Switching Protocols\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: T1n8SghTv5PjT/G4qZqJNm6UK3c=\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12\r\n" +
        "\r\n";

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static HttpHead ParseComplete(string text)
    {
        var parser = new HttpHeadParser();
        byte[] bytes = Ascii(text);
        Assert.Equal(HttpHeadStatus.Complete, parser.Append(bytes, out int consumed));
        Assert.Equal(bytes.Length, consumed);
        return parser.Head!;
    }

    private static string Describe(HttpHead head) =>
        $"{head.IsRequest}|{head.Method}|{head.Target}|{head.Version}|{head.StatusCode}|{head.ReasonPhrase}|"
        + string.Join("|", head.Fields.Select(f => f.Name + "=" + f.Value));

    [Fact]
    public void TruncatedHead_AfterTheCap_HoldsStartLineAndWholeFieldLinesOnly()
    {
        var parser = new HttpHeadParser(maxHeadBytes: 64);
        var text = Ascii("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nX-Long: " + new string('x', 100) + "\r\n\r\n");

        Assert.Equal(HttpHeadStatus.TooLarge, parser.Append(text, out int consumed));
        var head = parser.TruncatedHead();

        Assert.Equal(64, consumed);
        Assert.NotNull(head);
        Assert.True(head.IsTruncated);
        Assert.Equal("GET /chat HTTP/1.1", head.ToString());
        Assert.Equal(["Host", "Upgrade"], head.Fields.Select(f => f.Name));
        Assert.Equal("websocket", head.Get("Upgrade"));
        Assert.False(parser.StoppedAtLineStart);
    }

    [Fact]
    public void TruncatedHead_StartLineOverTheCap_IsNull()
    {
        var parser = new HttpHeadParser(maxHeadBytes: 16);

        Assert.Equal(HttpHeadStatus.TooLarge, parser.Append(Ascii("GET /" + new string('a', 40) + " HTTP/1.1\r\n\r\n"), out _));
        Assert.Null(parser.TruncatedHead());
    }

    [Fact]
    public void TruncatedHead_CompleteHead_IsNullAndHeadIsNotTruncated()
    {
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.Complete, parser.Append(Ascii("HTTP/1.1 101 Switching Protocols\r\nA: 1\r\n\r\n"), out _));
        Assert.Null(parser.TruncatedHead());
        Assert.False(parser.Head!.IsTruncated);
    }

    [Theory]
    [InlineData(false, "ing line\r\nNext: 1\r\n\r\nFRAMES", 21)]
    [InlineData(false, "x\n\nFRAMES", 3)]
    [InlineData(true, "\r\nFRAMES", 2)]
    [InlineData(true, "A: 1\r\n\r\n", 8)]
    public void HeadEndFinder_FindsTheBlankLineAcrossPieces(bool atLineStart, string rest, int expected)
    {
        var bytes = Ascii(rest);
        var finder = new HttpHeadEndFinder(atLineStart);
        int position = 0;
        bool found = false;
        while (!found && position < bytes.Length)
        {
            found = finder.Find(bytes.AsSpan(position, Math.Min(2, bytes.Length - position)), out int consumed);
            position += consumed;
        }

        Assert.True(found);
        Assert.Equal(expected, position);
    }

    [Fact]
    public void HeadEndFinder_NoBlankLine_ConsumesEverything()
    {
        var finder = new HttpHeadEndFinder(atLineStart: false);

        Assert.False(finder.Find(Ascii("a\r\nb\r\nc"), out int consumed));
        Assert.Equal(7, consumed);
    }

    [Fact]
    public void Append_WholeRequest_ParsesStartLineAndFieldsInOrder()
    {
        HttpHead head = ParseComplete(FirefoxRequest);

        Assert.True(head.IsRequest);
        Assert.Equal("GET", head.Method);
        Assert.Equal("/echo?.kl=Y", head.Target);
        Assert.Equal("HTTP/1.1", head.Version);
        Assert.Equal(0, head.StatusCode);
        Assert.Equal("", head.ReasonPhrase);
        Assert.Equal(9, head.Fields.Count);
        Assert.Equal(new HttpHeaderField("Host", "sandbox.kaazing.net"), head.Fields[0]);
        Assert.Equal(new HttpHeaderField("Upgrade", "websocket"), head.Fields[^1]);
        Assert.Equal(FirefoxRequest.Length, head.ByteCount);
    }

    [Theory]
    [InlineData(FirefoxRequest)]
    [InlineData(SwitchingResponse)]
    [InlineData("GET / HTTP/1.1\nHost: a\nFolded: one\n two\n\n")]
    public void Append_SplitAtEveryPosition_GivesSameHeadAsWhole(string text)
    {
        byte[] bytes = Ascii(text);
        string expected = Describe(ParseComplete(text));

        for (int split = 1; split < bytes.Length; split++)
        {
            var parser = new HttpHeadParser();
            Assert.Equal(HttpHeadStatus.NeedMoreData, parser.Append(bytes.AsSpan(0, split), out int first));
            Assert.Equal(split, first);
            Assert.Equal(HttpHeadStatus.Complete, parser.Append(bytes.AsSpan(split), out int second));
            Assert.Equal(bytes.Length - split, second);
            Assert.Equal(expected, Describe(parser.Head!));
        }
    }

    [Fact]
    public void Append_OneByteAtATime_CompletesOnLastByte()
    {
        byte[] bytes = Ascii(SwitchingResponse);
        var parser = new HttpHeadParser();
        for (int i = 0; i < bytes.Length - 1; i++)
        {
            Assert.Equal(HttpHeadStatus.NeedMoreData, parser.Append(bytes.AsSpan(i, 1), out int consumed));
            Assert.Equal(1, consumed);
            Assert.Null(parser.Head);
        }

        Assert.Equal(HttpHeadStatus.Complete, parser.Append(bytes.AsSpan(bytes.Length - 1), out int last));
        Assert.Equal(1, last);
        Assert.Equal(101, parser.Head!.StatusCode);
        Assert.Equal(bytes.Length, parser.HeadByteCount);
    }

    [Fact]
    public void Append_ResponseFollowedByFramesInSameSegment_ConsumesOnlyTheHead()
    {
        byte[] head = Ascii(SwitchingResponse);
        byte[] frames = Hex("81 05 48 65 6c 6c 6f 88 02 03 e8");
        byte[] segment = [.. head, .. frames];
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.Complete, parser.Append(segment, out int consumed));

        Assert.Equal(head.Length, consumed);
        Assert.Equal(frames, segment[consumed..]);
    }

    [Fact]
    public void Append_EndOfHeadAndFramesInSecondSegment_ConsumesUpToBlankLine()
    {
        byte[] head = Ascii(SwitchingResponse);
        byte[] frames = Hex("81 02 68 69");
        byte[] stream = [.. head, .. frames];
        int split = head.Length - 3; // the second segment starts inside the final CRLF CRLF
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.NeedMoreData, parser.Append(stream.AsSpan(0, split), out _));
        Assert.Equal(HttpHeadStatus.Complete, parser.Append(stream.AsSpan(split), out int consumed));

        Assert.Equal(3, consumed);
    }

    [Fact]
    public void Append_AfterComplete_ConsumesNothingUntilReset()
    {
        var parser = new HttpHeadParser();
        Assert.Equal(HttpHeadStatus.Complete, parser.Append(Ascii(SwitchingResponse), out _));

        Assert.Equal(HttpHeadStatus.Complete, parser.Append(Ascii("HTTP/1.1 200 OK\r\n\r\n"), out int consumed));

        Assert.Equal(0, consumed);
        Assert.Equal(101, parser.Head!.StatusCode);
    }

    [Fact]
    public void Reset_AfterComplete_ParsesNextHeadOnSameStream()
    {
        var parser = new HttpHeadParser();
        Assert.Equal(HttpHeadStatus.Complete, parser.Append(Ascii("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), out _));

        parser.Reset();

        Assert.Null(parser.Head);
        Assert.Equal(HttpHeadStatus.Complete, parser.Append(Ascii("GET /b HTTP/1.1\r\n\r\n"), out int consumed));
        Assert.Equal(19, consumed);
        Assert.Equal("/b", parser.Head!.Target);
        Assert.Empty(parser.Head.Fields);
    }

    [Fact]
    public void Append_BareLineFeeds_ParsesLikeCrlf()
    {
        HttpHead head = ParseComplete("GET /chat HTTP/1.1\nHost: server.example.com\nUpgrade: websocket\n\n");

        Assert.Equal("/chat", head.Target);
        Assert.Equal("HTTP/1.1", head.Version);
        Assert.Equal("server.example.com", head.Get("host"));
        Assert.Equal("websocket", head.Get("Upgrade"));
    }

    [Fact]
    public void Append_MixedLineEndings_FindsBlankLine()
    {
        HttpHead head = ParseComplete("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\n\r\n");

        Assert.Equal(403, head.StatusCode);
        Assert.Equal("0", head.Get("Content-Length"));
    }

    [Fact]
    public void Append_ObsFold_JoinsContinuationWithOneSpace()
    {
        HttpHead head = ParseComplete(
            "GET / HTTP/1.1\r\nSec-WebSocket-Extensions: permessage-deflate;\r\n \t client_max_window_bits\r\nHost: h\r\n\r\n");

        Assert.Equal("permessage-deflate; client_max_window_bits", head.Get("Sec-WebSocket-Extensions"));
        Assert.Equal(2, head.Fields.Count);
        Assert.Equal("h", head.Fields[1].Value);
    }

    [Fact]
    public void Append_ObsFoldBeforeAnyField_IsMalformed()
    {
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.Malformed, parser.Append(Ascii("GET / HTTP/1.1\r\n folded\r\n\r\n"), out _));
    }

    [Fact]
    public void Append_LeadingEmptyLines_AreSkippedAndConsumed()
    {
        const string text = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.Complete, parser.Append(Ascii(text), out int consumed));

        Assert.Equal(text.Length, consumed);
        Assert.Equal("GET", parser.Head!.Method);
        Assert.Equal(text.Length - 4, parser.Head.ByteCount);
    }

    [Fact]
    public void Append_FieldValues_AreTrimmedOfOwsAndKeepInnerSpaces()
    {
        HttpHead head = ParseComplete("GET / HTTP/1.1\r\nX-A:\t  a  b \t\r\nX-Empty:\r\nx-a: second\r\n\r\n");

        Assert.Equal("a  b", head.Get("X-A"));
        Assert.Equal("", head.Get("x-empty"));
        Assert.Equal(["a  b", "second"], head.GetAll("X-a"));
        Assert.Equal("x-a", head.Fields[2].Name);
        Assert.Empty(head.GetAll("Missing"));
        Assert.Null(head.Get("Missing"));
    }

    [Theory]
    [InlineData("Connection: keep-alive, Upgrade", "Connection", "upgrade", true)]
    [InlineData("Connection: keep-alive,Upgrade ", "connection", "UPGRADE", true)]
    [InlineData("Connection: Upgraded", "Connection", "upgrade", false)]
    [InlineData("Connection: close", "Connection", "upgrade", false)]
    [InlineData("Upgrade: WebSocket", "upgrade", "websocket", true)]
    [InlineData("Upgrade: h2c", "Upgrade", "websocket", false)]
    public void HasToken_ListValue_MatchesWholeElementsCaseInsensitively(string field, string name, string token, bool expected)
    {
        HttpHead head = ParseComplete($"GET / HTTP/1.1\r\n{field}\r\n\r\n");

        Assert.Equal(expected, head.HasToken(name, token));
    }

    [Fact]
    public void HasToken_TokenOnSecondLineOfSameName_IsFound()
    {
        HttpHead head = ParseComplete("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: Upgrade\r\n\r\n");

        Assert.True(head.HasToken("Connection", "upgrade"));
    }

    [Theory]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\n", 101, "Switching Protocols", "HTTP/1.1")]
    [InlineData("HTTP/1.1 101 Web Socket Protocol Handshake\r\n", 101, "Web Socket Protocol Handshake", "HTTP/1.1")]
    [InlineData("HTTP/1.1 403 Forbidden\r\n", 403, "Forbidden", "HTTP/1.1")]
    [InlineData("HTTP/1.0 400 Bad Request\r\n", 400, "Bad Request", "HTTP/1.0")]
    [InlineData("HTTP/1.1 400 \r\n", 400, "", "HTTP/1.1")]
    [InlineData("HTTP/1.1 101\r\n", 101, "", "HTTP/1.1")]
    [InlineData("HTTP/1.1 426 Upgrade\tRequired\n", 426, "Upgrade\tRequired", "HTTP/1.1")]
    public void Append_StatusLine_ParsesCodeReasonAndVersion(string statusLine, int code, string reason, string version)
    {
        HttpHead head = ParseComplete(statusLine + "Content-Length: 0\r\n\r\n");

        Assert.False(head.IsRequest);
        Assert.Equal(code, head.StatusCode);
        Assert.Equal(reason, head.ReasonPhrase);
        Assert.Equal(version, head.Version);
        Assert.Equal("", head.Method);
        Assert.Equal("", head.Target);
    }

    [Fact]
    public void Append_PostRequest_ParsesAsRequest()
    {
        HttpHead head = ParseComplete("POST /api/v1/items HTTP/1.1\r\nContent-Length: 2\r\n\r\n");

        Assert.Equal("POST", head.Method);
        Assert.Equal("/api/v1/items", head.Target);
        Assert.Equal("2", head.Get("content-length"));
    }

    [Theory]
    [InlineData("GET  / HTTP/1.1\r\n")]           // empty target
    [InlineData("GET / HTTP/1.1 \r\n")]           // trailing space
    [InlineData("GET /\r\n")]                     // HTTP/0.9 style
    [InlineData("GET / HTTP/11\r\n")]
    [InlineData("GET / http/1.1\r\n")]
    [InlineData("GET /a\tb HTTP/1.1\r\n")]
    [InlineData("HTTP/1.1 10 OK\r\n")]
    [InlineData("HTTP/1.1 1011 OK\r\n")]
    [InlineData("HTTP/1.1OK\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\r\n")]
    [InlineData("G(T / HTTP/1.1\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost server\r\n")] // field line without a colon
    [InlineData("GET / HTTP/1.1\r\nHost : server\r\n")] // whitespace before the colon, RFC 9112 section 5.1
    [InlineData("GET / HTTP/1.1\r\n: empty-name\r\n")]
    public void Append_BrokenStartOrFieldLine_IsMalformedBeforeHeadEnds(string text)
    {
        var parser = new HttpHeadParser();

        // No blank line is sent: the verdict must not wait for the end of the head.
        Assert.Equal(HttpHeadStatus.Malformed, parser.Append(Ascii(text), out _));
        Assert.Null(parser.Head);
    }

    [Theory]
    [InlineData("16 03 01 02 00 01 00 01 fc 03 03", 1)]  // TLS ClientHello
    [InlineData("00 00 00 00 00", 1)]
    [InlineData("81 85 37 fa 21 3d 7f 9f 4d 51 58", 1)]  // masked WebSocket frame (stream joined mid-session)
    [InlineData("53 53 48 2d 32 2e 30 2d 4f 70 65 6e 53 53 48 0d 0a", 16)] // "SSH-2.0-OpenSSH\r\n"
    [InlineData("47 45 54 20 2f 00", 6)]                   // "GET /" then NUL
    public void Append_BinaryDataOneByteAtATime_IsMalformedAtFirstImpossibleByte(string hex, int verdictAtByte)
    {
        byte[] bytes = Hex(hex);
        var parser = new HttpHeadParser();
        int fed = 0;
        HttpHeadStatus status = HttpHeadStatus.NeedMoreData;
        while (status == HttpHeadStatus.NeedMoreData && fed < bytes.Length)
        {
            status = parser.Append(bytes.AsSpan(fed++, 1), out _);
        }

        Assert.Equal(HttpHeadStatus.Malformed, status);
        Assert.Equal(verdictAtByte, fed);
    }

    [Fact]
    public void Append_LongTokenWithoutSpace_IsMalformedWithinMethodLimit()
    {
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.Malformed, parser.Append(Ascii(new string('A', 40)), out _));
    }

    [Fact]
    public void Append_LargeBinaryBlob_IsMalformedWithoutBufferingToCap()
    {
        byte[] blob = new byte[HttpHeadParser.DefaultMaxHeadBytes * 2];
        new Random(6455).NextBytes(blob);
        blob[0] = 0x16;
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.Malformed, parser.Append(blob, out _));
        Assert.True(parser.HeadByteCount < 1024, $"buffered {parser.HeadByteCount} bytes");
    }

    [Fact]
    public void Append_HeadWithoutEndReachingCap_IsTooLargeAndConsumesExactlyTheCap()
    {
        const int cap = 256;
        byte[] bytes = Ascii("GET / HTTP/1.1\r\nX-Filler: " + new string('a', 1000));
        var parser = new HttpHeadParser(cap);

        Assert.Equal(HttpHeadStatus.TooLarge, parser.Append(bytes, out int consumed));

        Assert.Equal(cap, consumed);
        Assert.Equal(cap, parser.HeadByteCount);
        Assert.Equal(HttpHeadStatus.TooLarge, parser.Append(bytes, out int again));
        Assert.Equal(0, again);
    }

    [Fact]
    public void Append_ManyShortFieldLinesPastCap_IsTooLarge()
    {
        const int cap = 100;
        var parser = new HttpHeadParser(cap);
        byte[] line = Ascii("X: y\r\n");
        Assert.Equal(HttpHeadStatus.NeedMoreData, parser.Append(Ascii("GET / HTTP/1.1\r\n"), out _));

        HttpHeadStatus status = HttpHeadStatus.NeedMoreData;
        int lines = 0;
        while (status == HttpHeadStatus.NeedMoreData && lines < 100)
        {
            status = parser.Append(line, out _);
            lines++;
        }

        Assert.Equal(HttpHeadStatus.TooLarge, status);
        Assert.Equal(cap, parser.HeadByteCount);
    }

    [Fact]
    public void Append_OneByteBelowCapWithoutEnd_NeedsMoreData()
    {
        const int cap = 64;
        byte[] bytes = Ascii(("GET / HTTP/1.1\r\nX: " + new string('b', 100))[..(cap - 1)]);
        var parser = new HttpHeadParser(cap);

        Assert.Equal(HttpHeadStatus.NeedMoreData, parser.Append(bytes, out int consumed));
        Assert.Equal(cap - 1, consumed);
        Assert.Equal(HttpHeadStatus.TooLarge, parser.Append("c"u8, out int last));
        Assert.Equal(1, last);
    }

    [Fact]
    public void Append_HeadOfExactlyCapBytes_Completes()
    {
        string prefix = "GET / HTTP/1.1\r\nX: ";
        string text = prefix + new string('c', 64 - prefix.Length - 4) + "\r\n\r\n";
        byte[] bytes = Ascii(text + "\x81\x00");
        Assert.Equal(64, text.Length);
        var parser = new HttpHeadParser(64);

        Assert.Equal(HttpHeadStatus.Complete, parser.Append(bytes, out int consumed));

        Assert.Equal(64, consumed);
    }

    [Fact]
    public void Append_EndlessEmptyLines_AreTooLargeAtCap()
    {
        var parser = new HttpHeadParser(32);

        Assert.Equal(HttpHeadStatus.TooLarge, parser.Append(Ascii(string.Concat(Enumerable.Repeat("\r\n", 40))), out int consumed));

        Assert.Equal(32, consumed);
    }

    [Fact]
    public void Append_NonAsciiUtf8InTarget_IsDecodedAsUtf8()
    {
        byte[] bytes = [.. Ascii("GET /caf"), 0xC3, 0xA9, .. Ascii(" HTTP/1.1\r\n\r\n")];
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.Complete, parser.Append(bytes, out _));

        Assert.Equal("/café", parser.Head!.Target);
    }

    [Fact]
    public void Append_ObsTextInValue_IsDecodedAsLatin1()
    {
        byte[] bytes = [.. Ascii("GET / HTTP/1.1\r\nX: a"), 0xE9, .. Ascii("\r\n\r\n")];
        var parser = new HttpHeadParser();

        Assert.Equal(HttpHeadStatus.Complete, parser.Append(bytes, out _));

        Assert.Equal("aé", parser.Head!.Get("X"));
    }

    [Fact]
    public void Constructor_TinyCap_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpHeadParser(0));
    }
}
