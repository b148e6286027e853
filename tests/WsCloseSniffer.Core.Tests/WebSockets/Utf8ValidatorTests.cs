using System.Text;

using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

public class Utf8ValidatorTests
{
    [Theory]
    [InlineData("")]
    [InlineData("plain ascii")]
    [InlineData("grüße €𝄞 日本語")]
    public void Append_ValidTextCutAtEveryPlace_Valid(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            for (var second = cut; second <= bytes.Length; second++)
            {
                var validator = default(Utf8Validator);
                validator.Append(bytes.AsSpan(0, cut));
                validator.Append(bytes.AsSpan(cut, second - cut));
                validator.Append(bytes.AsSpan(second));
                Assert.True(validator.Complete(), $"cut at {cut} and {second}");
            }
        }
    }

    [Theory]
    [InlineData("C3 28")]
    [InlineData("E2 82")]
    [InlineData("ED A0 80")]
    [InlineData("C0 AF")]
    [InlineData("F4 90 80 80")]
    [InlineData("FF")]
    [InlineData("61 80")]
    [InlineData("F0 9D 84")]
    public void Append_InvalidSequenceCutAtEveryPlace_Invalid(string hex)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var validator = default(Utf8Validator);
            validator.Append(bytes.AsSpan(0, cut));
            validator.Append(bytes.AsSpan(cut));
            Assert.False(validator.Complete(), $"cut at {cut}");
        }
    }
}
