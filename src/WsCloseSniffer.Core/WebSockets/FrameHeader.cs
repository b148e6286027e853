using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace WsCloseSniffer.WebSockets;

/// <summary>What <see cref="FrameHeader.TryParse"/> found.</summary>
public enum FrameHeaderStatus : byte
{
    Complete = 0,
    NeedMoreData = 1,
    /// <summary>A 64-bit payload length with its most significant bit set (RFC 6455 5.2 forbids it).</summary>
    InvalidLength = 2,
}

/// <summary>An RFC 6455 section 5.2 frame header, parsed from a span.</summary>
public readonly record struct FrameHeader
{
    public const int MinLength = 2;
    public const int MaxLength = 14;

    public bool Fin { get; init; }
    public bool Rsv1 { get; init; }
    public bool Rsv2 { get; init; }
    public bool Rsv3 { get; init; }

    public bool HasReservedBits => Rsv1 || Rsv2 || Rsv3;

    /// <summary>The 4-bit opcode as sent; may be a reserved value.</summary>
    public byte RawOpcode { get; init; }
    public bool IsMasked { get; init; }

    /// <summary>The masking key as its four wire bytes in a big-endian word (byte 0 in the high bits).</summary>
    public uint MaskKey { get; init; }
    public ulong PayloadLength { get; init; }
    public int HeaderLength { get; init; }

    public WebSocketOpcode Opcode => (WebSocketOpcode)RawOpcode;

    /// <summary>Opcodes with the high bit set are control frames (RFC 6455 5.5), reserved ones included.</summary>
    public bool IsControl
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (RawOpcode & 0x8) != 0;
    }

    public bool IsKnownOpcode
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => RawOpcode is <= 0x2 or (>= 0x8 and <= 0xA);
    }

    /// <summary>
    /// True when nothing in the header breaks RFC 6455 whatever extension is in use: a known opcode, RSV2 and RSV3
    /// clear, RSV1 only on a data frame that starts a message (RFC 7692 section 6), a control frame final and at
    /// most 125 bytes (5.5), and the length in the fewest bytes (5.2: "the minimal number of bytes MUST be used").
    /// Where no handshake says a stream is WebSocket, only such headers are taken as frames.
    /// </summary>
    public bool IsStrictlyWellFormed
    {
        get
        {
            if (!IsKnownOpcode || Rsv2 || Rsv3)
            {
                return false;
            }

            if (IsControl)
            {
                return Fin && !Rsv1 && PayloadLength <= 125;
            }

            if (Rsv1 && Opcode == WebSocketOpcode.Continuation)
            {
                return false;
            }

            var extendedLengthBytes = HeaderLength - MinLength - (IsMasked ? 4 : 0);
            return extendedLengthBytes switch
            {
                2 => PayloadLength >= 126,
                8 => PayloadLength > ushort.MaxValue,
                _ => true,
            };
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static FrameHeaderStatus TryParse(ReadOnlySpan<byte> data, out FrameHeader header)
    {
        header = default;
        if (data.Length < MinLength)
        {
            return FrameHeaderStatus.NeedMoreData;
        }

        var b0 = data[0];
        var b1 = data[1];
        var masked = (b1 & 0x80) != 0;
        var length7 = b1 & 0x7F;
        var extendedLengthBytes = length7 switch
        {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        var headerLength = MinLength + extendedLengthBytes + (masked ? 4 : 0);
        if (data.Length < headerLength)
        {
            return FrameHeaderStatus.NeedMoreData;
        }

        ulong payloadLength = extendedLengthBytes switch
        {
            2 => BinaryPrimitives.ReadUInt16BigEndian(data[2..]),
            8 => BinaryPrimitives.ReadUInt64BigEndian(data[2..]),
            _ => (ulong)length7,
        };
        if (payloadLength > long.MaxValue)
        {
            return FrameHeaderStatus.InvalidLength;
        }

        header = new FrameHeader
        {
            Fin = (b0 & 0x80) != 0,
            Rsv1 = (b0 & 0x40) != 0,
            Rsv2 = (b0 & 0x20) != 0,
            Rsv3 = (b0 & 0x10) != 0,
            RawOpcode = (byte)(b0 & 0x0F),
            IsMasked = masked,
            MaskKey = masked ? BinaryPrimitives.ReadUInt32BigEndian(data[(MinLength + extendedLengthBytes)..]) : 0,
            PayloadLength = payloadLength,
            HeaderLength = headerLength,
        };
        return FrameHeaderStatus.Complete;
    }

    /// <summary>
    /// XORs <paramref name="payload"/> with the mask, starting <paramref name="payloadOffset"/> bytes into
    /// the frame's payload, so unmasking resumes exactly where the previous segment ended.
    /// </summary>
    public static void Unmask(Span<byte> payload, uint maskKey, long payloadOffset) =>
        CopyUnmasked(payload, payload, maskKey, payloadOffset);

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/> (which may be the same bytes) unmasking it
    /// on the way, as <see cref="Unmask"/> does, 16 bytes at a time: for payloads read anyway, one pass instead of a
    /// copy and a byte-by-byte unmask.
    /// </summary>
    public static void CopyUnmasked(ReadOnlySpan<byte> source, Span<byte> destination, uint maskKey, long payloadOffset)
    {
        if (maskKey == 0)
        {
            source.CopyTo(destination);
            return;
        }

        Span<byte> mask = stackalloc byte[Vector128<byte>.Count];
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = (byte)(maskKey >> (24 - (int)(((payloadOffset + i) & 3) * 8)));
        }

        var i0 = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var key = Vector128.Create<byte>(mask);
            for (; i0 + Vector128<byte>.Count <= source.Length; i0 += Vector128<byte>.Count)
            {
                (Vector128.Create(source[i0..]) ^ key).CopyTo(destination[i0..]);
            }
        }

        // Past a multiple of 16 (a multiple of 4) the mask lines up with its start again.
        for (var i = i0; i < source.Length; i++)
        {
            destination[i] = (byte)(source[i] ^ mask[(i - i0) & 3]);
        }
    }
}
