using System.Buffers.Binary;
using System.Text;

namespace WsCloseSniffer.TestSupport;

/// <summary>How a frame's payload length is written (RFC 6455 5.2): the shortest form, or a forced one.</summary>
public enum FrameLengthForm
{
    Shortest = 0,
    Seven = 1,
    Sixteen = 2,
    SixtyFour = 3,
}

/// <summary>
/// Builds RFC 6455 frames byte by byte, independent of the decoder under test: client frames are masked
/// with a given key (RFC 6455 5.3), payload[i] XOR key[i mod 4].
/// </summary>
public static class FrameBuilder
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

        var lengthBytes = form switch
        {
            FrameLengthForm.Seven => 0,
            FrameLengthForm.Sixteen => 2,
            _ => 8,
        };
        var headerBytes = 2 + lengthBytes + (mask is null ? 0 : 4);
        var frame = new byte[headerBytes + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | (rsv3 ? 0x10 : 0) | (opcode & 0x0F));
        var maskBit = mask is null ? 0 : 0x80;
        switch (form)
        {
            case FrameLengthForm.Seven:
                frame[1] = (byte)(maskBit | payload.Length);
                break;
            case FrameLengthForm.Sixteen:
                frame[1] = (byte)(maskBit | 126);
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                break;
            default:
                frame[1] = (byte)(maskBit | 127);
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                break;
        }

        var data = frame.AsSpan(headerBytes);
        payload.CopyTo(data);
        if (mask is not null)
        {
            mask.AsSpan(0, 4).CopyTo(frame.AsSpan(2 + lengthBytes));
            for (var i = 0; i < data.Length; i++)
            {
                data[i] ^= mask[i & 3];
            }
        }

        return frame;
    }

    public static byte[] TextFrame(string text, byte[]? mask = null, bool fin = true) =>
        Frame(Text, Encoding.UTF8.GetBytes(text), fin, mask);

    public static byte[] ClientText(string text) => TextFrame(text, ClientMask);

    public static byte[] ServerText(string text) => TextFrame(text);

    /// <summary>A close payload: no code (empty), or the code big-endian followed by the UTF-8 reason.</summary>
    public static byte[] ClosePayload(int? code, string reason = "") =>
        ClosePayload(code, Encoding.UTF8.GetBytes(reason));

    /// <summary>A close payload with the reason as raw bytes (which need not be UTF-8).</summary>
    public static byte[] ClosePayload(int? code, ReadOnlySpan<byte> reason)
    {
        if (code is null)
        {
            return [];
        }

        var payload = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code.Value);
        reason.CopyTo(payload.AsSpan(2));
        return payload;
    }

    public static byte[] CloseFrame(int? code, string reason = "", byte[]? mask = null) =>
        Frame(Close, ClosePayload(code, reason), mask: mask);

    public static byte[] CloseFrame(int? code, ReadOnlySpan<byte> reason, byte[]? mask = null) =>
        Frame(Close, ClosePayload(code, reason), mask: mask);

    public static byte[] ClientClose(int? code, string reason = "") => CloseFrame(code, reason, ClientMask);

    public static byte[] ClientClose(int? code, ReadOnlySpan<byte> reason) => CloseFrame(code, reason, ClientMask);

    public static byte[] ServerClose(int? code, string reason = "") => CloseFrame(code, reason);
}
