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
    /// <summary>The capture lost the payload before a whole code: what the frame said is unknown.</summary>
    Lost = 3,
}

/// <summary>A decoded close frame payload.</summary>
public sealed record CloseFrame(CloseFramePayloadStatus Status, int? Code, string Reason, bool ReasonIsValidUtf8)
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads a close payload. <paramref name="isComplete"/> false means the capture has only the first
    /// bytes of it: a code is still read when both its bytes are there, and a cut reason is not judged.
    /// </summary>
    public static CloseFrame Parse(ReadOnlySpan<byte> payload, bool isComplete = true)
    {
        if (!isComplete && payload.Length < 2)
        {
            return new CloseFrame(CloseFramePayloadStatus.Lost, null, string.Empty, ReasonIsValidUtf8: true);
        }

        switch (payload.Length)
        {
            case 0:
                return new CloseFrame(CloseFramePayloadStatus.Empty, null, string.Empty, ReasonIsValidUtf8: true);
            case 1:
                return new CloseFrame(CloseFramePayloadStatus.OneByte, null, string.Empty, ReasonIsValidUtf8: true);
        }

        var code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        var reasonBytes = payload[2..];
        var valid = !isComplete || IsValidUtf8(reasonBytes);

        // Invalid UTF-8 is shown with replacement characters rather than dropped: the reviewer sees it was there.
        var reason = Encoding.UTF8.GetString(reasonBytes);
        return new CloseFrame(CloseFramePayloadStatus.CodeAndReason, code, reason, valid) { ReasonIsCut = !isComplete };
    }

    /// <summary>The capture holds only the start of the payload (a snap length, a gap): <see cref="Reason"/> is its beginning.</summary>
    public bool ReasonIsCut { get; init; }

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
