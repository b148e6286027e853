using System.Buffers.Binary;
using System.Text;

namespace WsCloseSniffer.WebSockets;

/// <summary>How a close frame's payload reads (RFC 6455 5.5.1).</summary>
public enum CloseFramePayloadStatus : byte
{
    /// <summary>Empty payload: no status code (APIs report 1005).</summary>
    Empty = 0,
    /// <summary>A 2-byte code and an optional UTF-8 reason.</summary>
    CodeAndReason = 1,
    /// <summary>One byte: not even a whole code (a protocol error).</summary>
    OneByte = 2,
}

/// <summary>A decoded close frame payload.</summary>
public sealed record CloseFrame(CloseFramePayloadStatus Status, int? Code, string Reason, bool ReasonIsValidUtf8)
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static CloseFrame Parse(ReadOnlySpan<byte> payload)
    {
        switch (payload.Length)
        {
            case 0:
                return new CloseFrame(CloseFramePayloadStatus.Empty, null, string.Empty, ReasonIsValidUtf8: true);
            case 1:
                return new CloseFrame(CloseFramePayloadStatus.OneByte, null, string.Empty, ReasonIsValidUtf8: true);
        }

        var code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        var reasonBytes = payload[2..];
        var valid = IsValidUtf8(reasonBytes);

        // Invalid UTF-8 is shown with replacement characters rather than dropped: the reviewer sees it was there.
        var reason = Encoding.UTF8.GetString(reasonBytes);
        return new CloseFrame(CloseFramePayloadStatus.CodeAndReason, code, reason, valid);
    }

    private static bool IsValidUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _ = s_strictUtf8.GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
