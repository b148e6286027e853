using System.Buffers.Binary;

namespace WsCloseSniffer.Benchmarks;

/// <summary>A byte stream of WebSocket frames with the generator's mix: mostly 20-200 B, some 1-64 KiB, 40% masked.</summary>
internal static class FrameStream
{
    public static byte[] Build(int bytes)
    {
        var stream = new MemoryStream(bytes + 70_000);
        var state = 0x2545F4914F6CDD1DUL;
        Span<byte> header = stackalloc byte[14];
        var payload = new byte[65_536];
        while (stream.Length < bytes)
        {
            var r = Next(ref state);
            var length = (r % 100) < 8 ? 1024 + (int)((r >> 8) % 64_000) : 20 + (int)((r >> 8) % 181);
            var masked = ((r >> 32) % 10) < 4;
            var opcode = ((r >> 40) % 50) == 0 ? (byte)0x9 : (byte)0x1;
            if (opcode == 0x9)
            {
                length = 8;
            }

            header[0] = (byte)(0x80 | opcode);
            int used;
            if (length < 126)
            {
                header[1] = (byte)length;
                used = 2;
            }
            else
            {
                header[1] = 126;
                BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)length);
                used = 4;
            }

            if (masked)
            {
                header[1] |= 0x80;
                BinaryPrimitives.WriteUInt32BigEndian(header[used..], (uint)Next(ref state));
                used += 4;
            }

            stream.Write(header[..used]);
            stream.Write(payload, 0, length);
        }

        return stream.ToArray();
    }

    private static ulong Next(ref ulong state)
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
}
