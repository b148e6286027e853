using System.Buffers.Binary;
using System.Text;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>How a frame's payload length is written (RFC 6455 5.2): the shortest form, or a forced one.</summary>
internal enum FrameLengthForm
{
    Shortest = 0,
    Seven = 1,
    Sixteen = 2,
    SixtyFour = 3,
}

/// <summary>
/// Builds RFC 6455 frames byte by byte for tests, independent of the decoder under test: client frames
/// are masked with a given key (RFC 6455 5.3), payload[i] XOR key[i mod 4].
/// </summary>
internal static class FrameBuilder
{
    /// <summary>The masking key of RFC 6455 section 5.7's example.</summary>
    public static readonly byte[] ClientMask = [0x37, 0xfa, 0x21, 0x3d];

    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    public static byte[] Frame(
        byte opcode,
        ReadOnlySpan<byte> payload,
        bool fin = true,
        byte[]? mask = null,
        bool rsv1 = false,
        bool rsv2 = false,
        bool rsv3 = false,
        FrameLengthForm form = FrameLengthForm.Shortest)
    {
        if (form == FrameLengthForm.Shortest)
        {
            form = payload.Length switch
            {
                <= 125 => FrameLengthForm.Seven,
                <= ushort.MaxValue => FrameLengthForm.Sixteen,
                _ => FrameLengthForm.SixtyFour,
            };
        }

        var bytes = new List<byte>
        {
            (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | (rsv3 ? 0x10 : 0) | (opcode & 0x0F)),
        };
        var maskBit = mask is null ? 0 : 0x80;
        switch (form)
        {
            case FrameLengthForm.Seven:
                bytes.Add((byte)(maskBit | payload.Length));
                break;
            case FrameLengthForm.Sixteen:
                bytes.Add((byte)(maskBit | 126));
                bytes.Add((byte)(payload.Length >> 8));
                bytes.Add((byte)payload.Length);
                break;
            default:
                bytes.Add((byte)(maskBit | 127));
                var length = new byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)payload.Length);
                bytes.AddRange(length);
                break;
        }

        if (mask is not null)
        {
            bytes.AddRange(mask);
        }

        for (var i = 0; i < payload.Length; i++)
        {
            bytes.Add(mask is null ? payload[i] : (byte)(payload[i] ^ mask[i % 4]));
        }

        return [.. bytes];
    }

    public static byte[] TextFrame(string text, byte[]? mask = null, bool fin = true) =>
        Frame(Text, Encoding.UTF8.GetBytes(text), fin, mask);

    public static byte[] ClientText(string text) => TextFrame(text, ClientMask);

    public static byte[] ServerText(string text) => TextFrame(text);

    /// <summary>A close payload: no code (empty), or the code big-endian followed by the UTF-8 reason.</summary>
    public static byte[] ClosePayload(int? code, string reason = "")
    {
        if (code is null)
        {
            return [];
        }

        var reasonBytes = Encoding.UTF8.GetBytes(reason);
        var payload = new byte[2 + reasonBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code.Value);
        reasonBytes.CopyTo(payload, 2);
        return payload;
    }

    public static byte[] CloseFrame(int? code, string reason = "", byte[]? mask = null) =>
        Frame(Close, ClosePayload(code, reason), mask: mask);

    public static byte[] ClientClose(int? code, string reason = "") => CloseFrame(code, reason, ClientMask);

    public static byte[] ServerClose(int? code, string reason = "") => CloseFrame(code, reason);
}
