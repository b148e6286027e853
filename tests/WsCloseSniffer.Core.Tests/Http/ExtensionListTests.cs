using WsCloseSniffer.Http;

namespace WsCloseSniffer.Tests.Http;

public class ExtensionListTests
{
    private static string Render(ExtensionList list) => string.Join(" | ", list.Items.Select(item => item.ToString()));

    [Theory]
    [InlineData("permessage-deflate", true, "permessage-deflate")]
    [InlineData("permessage-deflate; client_max_window_bits", true, "permessage-deflate; client_max_window_bits")]
    [InlineData(
        "permessage-deflate; client_max_window_bits=15; server_no_context_takeover, x-webkit-deflate-frame",
        true,
        "permessage-deflate; client_max_window_bits=15; server_no_context_takeover | x-webkit-deflate-frame")]
    [InlineData(
        "permessage-deflate ;client_max_window_bits = 15\t;  server_no_context_takeover ,x-webkit-deflate-frame",
        true,
        "permessage-deflate; client_max_window_bits=15; server_no_context_takeover | x-webkit-deflate-frame")]
    [InlineData("foo; bar=\"a\\\"b\"", true, "foo; bar=\"a\\\"b\"")]
    [InlineData("foo; bar=\"10\"", true, "foo; bar=10")]
    [InlineData("foo; bar=\"x,y\", baz", true, "foo; bar=\"x,y\" | baz")]
    [InlineData("foo; bar=\"\"", true, "foo; bar=\"\"")]
    [InlineData("a, , b", true, "a | b")]
    [InlineData(",a,,", true, "a")]
    [InlineData("", true, "")]
    [InlineData("  ", true, "")]
    [InlineData(";x", false, "")]
    [InlineData("a; =1", false, "")]
    [InlineData("a; b=\"unterminated", false, "")]
    [InlineData("a; b=\"ends with escape\\", false, "")]
    [InlineData("a; b=", false, "")]
    [InlineData("a;", false, "")]
    [InlineData("a b", false, "")]
    [InlineData("a; b=c d", false, "")]
    [InlineData("a; b=c=d", false, "")]
    [InlineData("good, ;bad, also-good", false, "good | also-good")]
    [InlineData("bad; q=\"x,y\" z, good", false, "good")]
    public void Parse_SingleLine_FollowsRfc6455Grammar(string value, bool wellFormed, string expected)
    {
        ExtensionList list = ExtensionList.Parse([value]);

        Assert.Equal(wellFormed, list.IsWellFormed);
        Assert.Equal(expected, Render(list));
    }

    [Fact]
    public void Parse_QuotedStringWithEscapes_UnescapesValue()
    {
        ExtensionList list = ExtensionList.Parse(["foo; bar=\"a\\\"b\\\\c\"; baz"]);

        WebSocketExtension foo = Assert.Single(list.Items);
        Assert.Equal("foo", foo.Name);
        Assert.Equal([new ExtensionParameter("bar", "a\"b\\c"), new ExtensionParameter("baz", null)], foo.Parameters);
    }

    [Fact]
    public void Parse_SeveralLines_KeepsElementsAndParametersInOrder()
    {
        ExtensionList list = ExtensionList.Parse([
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
            "permessage-deflate, x-webkit-deflate-frame",
        ]);

        Assert.True(list.IsWellFormed);
        Assert.Equal(3, list.Items.Count);
        Assert.Equal(
            [new ExtensionParameter("client_max_window_bits", null), new ExtensionParameter("server_max_window_bits", "10")],
            list.Items[0].Parameters);
        Assert.Empty(list.Items[1].Parameters);
        Assert.Equal(["permessage-deflate", "x-webkit-deflate-frame"], list.Names);
    }

    [Fact]
    public void Names_DifferentCase_AreDistinctCaseInsensitivelyKeepingFirstSpelling()
    {
        ExtensionList list = ExtensionList.Parse(["Permessage-Deflate; a, permessage-deflate, b"]);

        Assert.Equal(["Permessage-Deflate", "b"], list.Names);
        Assert.True(list.Contains("PERMESSAGE-DEFLATE"));
        Assert.False(list.Contains("permessage"));
    }

    [Theory]
    [InlineData(3, 4)]
    [InlineData(8, 2)]
    [InlineData(9, 1)]
    [InlineData(40, 3)]
    public void Names_ManyRepeatedInOtherCases_AreDistinctAndFound(int distinct, int repeats)
    {
        var elements = Enumerable.Range(0, repeats)
            .SelectMany(round => Enumerable.Range(0, distinct).Select(i => round % 2 == 0 ? $"ext-{i}" : $"EXT-{i}"));
        ExtensionList list = ExtensionList.Parse([string.Join(", ", elements)]);

        Assert.Equal(distinct * repeats, list.Items.Count);
        Assert.Equal(Enumerable.Range(0, distinct).Select(i => $"ext-{i}"), list.Names);
        Assert.True(list.Contains($"Ext-{distinct - 1}"));
        Assert.True(list.Contains("EXT-0"));
        Assert.False(list.Contains($"ext-{distinct}"));
        Assert.False(list.Contains("ext-"));
    }

    [Fact]
    public void Parse_NoLines_IsEmptyAndWellFormed()
    {
        ExtensionList list = ExtensionList.Parse(Array.Empty<string>());

        Assert.Same(ExtensionList.Empty, list);
        Assert.Empty(list.Items);
        Assert.True(list.IsWellFormed);
        Assert.Empty(list.Names);
    }

    [Fact]
    public void TryGetParameter_PresentWithoutValue_ReturnsTrueAndNull()
    {
        WebSocketExtension extension = ExtensionList.Parse("permessage-deflate; Client_Max_Window_Bits").Items[0];

        Assert.True(extension.TryGetParameter("client_max_window_bits", out string? value));
        Assert.Null(value);
        Assert.False(extension.TryGetParameter("server_max_window_bits", out _));
    }

    [Fact]
    public void Equals_SameNameAndParameters_AreEqual()
    {
        WebSocketExtension a = ExtensionList.Parse("x; p=1; q").Items[0];
        WebSocketExtension b = new("x", [new ExtensionParameter("p", "1"), new ExtensionParameter("q", null)]);

        Assert.Equal(b, a);
        Assert.Equal(b.GetHashCode(), a.GetHashCode());
        Assert.NotEqual(new WebSocketExtension("x", [new ExtensionParameter("p", "2")]), a);
    }
}
