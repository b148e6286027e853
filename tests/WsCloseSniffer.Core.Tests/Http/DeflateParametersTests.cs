using WsCloseSniffer.Http;

namespace WsCloseSniffer.Tests.Http;

public class DeflateParametersTests
{
    [Fact]
    public void FromAccepted_AllFourParameters_ReadPerDirection()
    {
        var p = DeflateParameters.FromAccepted(ExtensionList.Parse(
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=\"9\"; server_no_context_takeover"));

        Assert.Equal(DeflateExtension.PerMessage, p.Extension);
        Assert.Equal(10, p.ServerMaxWindowBits);
        Assert.Equal(9, p.ClientMaxWindowBits);
        Assert.True(p.NoContextTakeover(fromClient: false));
        Assert.False(p.NoContextTakeover(fromClient: true));
        Assert.Empty(p.Problems);
    }

    [Theory]
    [InlineData("permessage-deflate; server_max_window_bits=7", "server_max_window_bits=7")]
    [InlineData("permessage-deflate; server_max_window_bits=16", "server_max_window_bits=16")]
    [InlineData("permessage-deflate; client_max_window_bits=09", "client_max_window_bits=09")]
    [InlineData("permessage-deflate; client_max_window_bits", "client_max_window_bits without a value")]
    [InlineData("permessage-deflate; server_no_context_takeover=1", "server_no_context_takeover with a value")]
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover", "server_no_context_takeover given twice")]
    [InlineData("permessage-deflate; x=1", "unknown parameter x")]
    public void FromAccepted_InvalidParameter_NamedAsAProblemDefaultsKept(string header, string problem)
    {
        var p = DeflateParameters.FromAccepted(ExtensionList.Parse(header));

        Assert.Equal([problem], p.Problems);
        Assert.Equal(DeflateExtension.PerMessage, p.Extension);
        Assert.Equal(15, p.ServerMaxWindowBits);
    }

    [Fact]
    public void FromAccepted_WebKitDeflateFrame_PerFrameWithTheClientsReset()
    {
        var p = DeflateParameters.FromAccepted(ExtensionList.Parse("x-webkit-deflate-frame; no_context_takeover; max_window_bits=12"));

        Assert.Equal(DeflateExtension.PerFrame, p.Extension);
        Assert.Equal(12, p.ClientMaxWindowBits);
        Assert.True(p.NoContextTakeover(fromClient: true));
        Assert.False(p.NoContextTakeover(fromClient: false));
    }

    [Theory]
    // Answers that RFC 7692 7.1 allows: each answers one of the offers.
    [InlineData("permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=10", null)]
    [InlineData("permessage-deflate; client_max_window_bits=12", "permessage-deflate; client_max_window_bits=12", null)]
    [InlineData("permessage-deflate; server_max_window_bits=12", "permessage-deflate; server_max_window_bits=10", null)]
    [InlineData("permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover", null)]
    [InlineData("permessage-deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", null)]
    [InlineData("permessage-deflate; server_max_window_bits=10, permessage-deflate", "permessage-deflate", null)]
    [InlineData("x-other", "permessage-deflate; client_max_window_bits=10", null)]
    // Answers that break it: a strict client fails the connection.
    [InlineData("permessage-deflate", "permessage-deflate; client_max_window_bits=10", "client_max_window_bits the client did not offer")]
    [InlineData("permessage-deflate; client_max_window_bits=10", "permessage-deflate; client_max_window_bits=12", "client_max_window_bits=12 above the offered 10")]
    [InlineData("permessage-deflate; server_max_window_bits=10", "permessage-deflate", "no server_max_window_bits for the offered 10")]
    [InlineData("permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_max_window_bits=11", "server_max_window_bits=11 above the offered 10")]
    [InlineData("permessage-deflate; server_no_context_takeover", "permessage-deflate", "no server_no_context_takeover for the offered one")]
    public void AnsweringOffer_ResponseAgainstTheOffers_ProblemOnlyWhenItAnswersNone(string offered, string accepted, string? problem)
    {
        var acceptedList = ExtensionList.Parse(accepted);
        var p = DeflateParameters.FromAccepted(acceptedList).AnsweringOffer(ExtensionList.Parse(offered), acceptedList);

        if (problem is null)
        {
            Assert.Empty(p.Problems);
        }
        else
        {
            Assert.Equal(problem, Assert.Single(p.Problems));
        }
    }

    [Fact]
    public void FromAccepted_NoDeflateExtension_None() =>
        Assert.False(DeflateParameters.FromAccepted(ExtensionList.Parse("x-other; a=1")).Applies);
}
