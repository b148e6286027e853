using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

public class FrameHeaderTests
{
    // hex, fin, rsv1, rsv2, rsv3, opcode, masked, mask key, payload length, header length
    [Theory]
    [InlineData("81 05", true, false, false, false, 0x1, false, 0u, 5ul, 2)]
    [InlineData("81 85 37 fa 21 3d", true, false, false, false, 0x1, true, 0x37fa213du, 5ul, 6)]
    [InlineData("01 03", false, false, false, false, 0x1, false, 0u, 3ul, 2)]
    [InlineData("80 00", true, false, false, false, 0x0, false, 0u, 0ul, 2)]
    [InlineData("82 7d", true, false, false, false, 0x2, false, 0u, 125ul, 2)]
    [InlineData("82 7e 00 7e", true, false, false, false, 0x2, false, 0u, 126ul, 4)]
    [InlineData("82 7e 01 00", true, false, false, false, 0x2, false, 0u, 256ul, 4)]
    [InlineData("82 7e ff ff", true, false, false, false, 0x2, false, 0u, 65535ul, 4)]
    [InlineData("82 fe 01 00 11 22 33 44", true, false, false, false, 0x2, true, 0x11223344u, 256ul, 8)]
    [InlineData("82 7f 00 00 00 00 00 01 00 00", true, false, false, false, 0x2, false, 0u, 65536ul, 10)]
    [InlineData("82 ff 00 00 00 00 00 01 00 00 aa bb cc dd", true, false, false, false, 0x2, true, 0xaabbccddu, 65536ul, 14)]
    [InlineData("02 7f 7f ff ff ff ff ff ff ff", false, false, false, false, 0x2, false, 0u, 9223372036854775807ul, 10)]
    [InlineData("82 7e 00 05", true, false, false, false, 0x2, false, 0u, 5ul, 4)] // non-minimal 16-bit form is still parsed
    [InlineData("82 7f 00 00 00 00 00 00 00 05", true, false, false, false, 0x2, false, 0u, 5ul, 10)] // non-minimal 64-bit form
    [InlineData("c1 00", true, true, false, false, 0x1, false, 0u, 0ul, 2)]
    [InlineData("a1 00", true, false, true, false, 0x1, false, 0u, 0ul, 2)]
    [InlineData("91 00", true, false, false, true, 0x1, false, 0u, 0ul, 2)]
    [InlineData("71 00", false, true, true, true, 0x1, false, 0u, 0ul, 2)]
    [InlineData("88 82 01 02 03 04", true, false, false, false, 0x8, true, 0x01020304u, 2ul, 6)]
    [InlineData("89 00", true, false, false, false, 0x9, false, 0u, 0ul, 2)]
    [InlineData("8a 80 00 00 00 00", true, false, false, false, 0xA, true, 0u, 0ul, 6)]
    public void TryParse_EachHeaderShape_ReadsEveryField(
        string hex, bool fin, bool rsv1, bool rsv2, bool rsv3, int opcode, bool masked, uint maskKey, ulong payloadLength, int headerLength)
    {
        var bytes = PacketFrames.FromHex(hex);

        var status = FrameHeader.TryParse(bytes, out var header);

        Assert.Equal(FrameHeaderStatus.Complete, status);
        Assert.Equal(fin, header.Fin);
        Assert.Equal(rsv1, header.Rsv1);
        Assert.Equal(rsv2, header.Rsv2);
        Assert.Equal(rsv3, header.Rsv3);
        Assert.Equal(opcode, header.RawOpcode);
        Assert.Equal(masked, header.IsMasked);
        Assert.Equal(maskKey, header.MaskKey);
        Assert.Equal(payloadLength, header.PayloadLength);
        Assert.Equal(headerLength, header.HeaderLength);
    }

    [Theory]
    [InlineData("81 05 48 65 6c 6c 6f", 2)]
    [InlineData("82 7e 01 00 ff", 4)]
    [InlineData("82 ff 00 00 00 00 00 01 00 00 aa bb cc dd ee", 14)]
    public void TryParse_TrailingPayloadBytes_AreNotPartOfTheHeader(string hex, int headerLength)
    {
        Assert.Equal(FrameHeaderStatus.Complete, FrameHeader.TryParse(PacketFrames.FromHex(hex), out var header));
        Assert.Equal(headerLength, header.HeaderLength);
    }

    [Theory]
    [InlineData(0x0, false, true)]
    [InlineData(0x1, false, true)]
    [InlineData(0x2, false, true)]
    [InlineData(0x3, false, false)]
    [InlineData(0x4, false, false)]
    [InlineData(0x5, false, false)]
    [InlineData(0x6, false, false)]
    [InlineData(0x7, false, false)]
    [InlineData(0x8, true, true)]
    [InlineData(0x9, true, true)]
    [InlineData(0xA, true, true)]
    [InlineData(0xB, true, false)]
    [InlineData(0xC, true, false)]
    [InlineData(0xD, true, false)]
    [InlineData(0xE, true, false)]
    [InlineData(0xF, true, false)]
    public void TryParse_EveryOpcode_ClassifiesControlAndKnown(int opcode, bool isControl, bool isKnown)
    {
        byte[] bytes = [(byte)(0x80 | opcode), 0x00];

        Assert.Equal(FrameHeaderStatus.Complete, FrameHeader.TryParse(bytes, out var header));
        Assert.Equal(opcode, header.RawOpcode);
        Assert.Equal((WebSocketOpcode)opcode, header.Opcode);
        Assert.Equal(isControl, header.IsControl);
        Assert.Equal(isKnown, header.IsKnownOpcode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("81")]
    [InlineData("81 85 37 fa 21")]
    [InlineData("82 7e 01")]
    [InlineData("82 fe 01 00 11 22 33")]
    [InlineData("82 7f 00 00 00 00 00 01 00")]
    [InlineData("82 ff 00 00 00 00 00 01 00 00 aa bb cc")]
    public void TryParse_TruncatedHeader_NeedsMoreData(string hex)
    {
        Assert.Equal(FrameHeaderStatus.NeedMoreData, FrameHeader.TryParse(PacketFrames.FromHex(hex), out _));
    }

    [Theory]
    [InlineData("82 7f 80 00 00 00 00 00 00 00")]
    [InlineData("82 7f ff ff ff ff ff ff ff ff")]
    [InlineData("82 ff 80 00 00 00 00 00 00 01 aa bb cc dd")]
    public void TryParse_SixtyFourBitLengthWithMostSignificantBit_IsInvalidLength(string hex)
    {
        Assert.Equal(FrameHeaderStatus.InvalidLength, FrameHeader.TryParse(PacketFrames.FromHex(hex), out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Unmask_ResumingAtAnyOffset_MatchesRfcExample(int split)
    {
        // RFC 6455 5.7: "Hello" masked with 37 fa 21 3d.
        var masked = PacketFrames.FromHex("7f 9f 4d 51 58");
        var first = masked[..split];
        var second = masked[split..];

        FrameHeader.Unmask(first, 0x37fa213d, 0);
        FrameHeader.Unmask(second, 0x37fa213d, split);

        Assert.Equal("Hello"u8.ToArray(), PacketFrames.Concat(first, second));
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(3, 100)]
    [InlineData(6, 17)]
    [InlineData(1, 15)]
    [InlineData(2, 1000)]
    public void CopyUnmasked_LongPayloadsAtAnyOffset_EachByteXoredWithItsKeyByte(int payloadOffset, int length)
    {
        // RFC 6455 5.3: byte i of the payload is XORed with key byte i mod 4 (here counted from payloadOffset).
        byte[] key = [0x37, 0xfa, 0x21, 0x3d];
        var masked = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        var expected = masked.Select((b, i) => (byte)(b ^ key[(payloadOffset + i) % 4])).ToArray();
        var copy = new byte[length];

        FrameHeader.CopyUnmasked(masked, copy, 0x37fa213d, payloadOffset);
        FrameHeader.Unmask(masked, 0x37fa213d, payloadOffset);

        Assert.Equal(expected, copy);
        Assert.Equal(expected, masked);
    }
}
