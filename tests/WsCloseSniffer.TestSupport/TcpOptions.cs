using System.Buffers.Binary;

namespace WsCloseSniffer.TestSupport;

/// <summary>TCP option bytes as stacks send them, padded to whole words for <see cref="TcpSpec.Options"/>.</summary>
public static class TcpOptions
{
    /// <summary>NOP, NOP, timestamps (RFC 7323 section 3): what Linux puts on every segment after the handshake.</summary>
    public static byte[] Timestamps(uint value, uint echoReply)
    {
        var options = new byte[12];
        options[0] = 1;
        options[1] = 1;
        WriteTimestamps(options.AsSpan(2), value, echoReply);
        return options;
    }

    /// <summary>
    /// A SYN's options in Linux's order: MSS (RFC 9293 section 3.7.1), SACK permitted (RFC 2018), timestamps,
    /// NOP, window scale (RFC 7323 section 2).
    /// </summary>
    public static byte[] Syn(ushort maxSegmentSize, uint timestampValue, uint timestampEchoReply, byte windowScale)
    {
        var options = new byte[20];
        options[0] = 2;
        options[1] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(options.AsSpan(2), maxSegmentSize);
        options[4] = 4;
        options[5] = 2;
        WriteTimestamps(options.AsSpan(6), timestampValue, timestampEchoReply);
        options[16] = 1;
        options[17] = 3;
        options[18] = 3;
        options[19] = windowScale;
        return options;
    }

    private static void WriteTimestamps(Span<byte> option, uint value, uint echoReply)
    {
        option[0] = 8;
        option[1] = 10;
        BinaryPrimitives.WriteUInt32BigEndian(option[2..], value);
        BinaryPrimitives.WriteUInt32BigEndian(option[6..], echoReply);
    }
}
