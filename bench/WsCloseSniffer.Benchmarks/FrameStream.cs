using System.Buffers.Binary;

using WsCloseSniffer.TestSupport;

namespace WsCloseSniffer.Benchmarks;

/// <summary>A byte stream of WebSocket frames with the generator's mix: mostly 20-200 B, some 1-64 KiB, 40% masked.</summary>
internal static class FrameStream
{
    public static byte[] Build(int bytes)
    {
        var stream = new MemoryStream(bytes + 70_000);
        var state = 0x2545F4914F6CDD1DUL;
        var payload = new byte[65_536];
        var mask = new byte[4];
        while (stream.Length < bytes)
        {
            var r = Next(ref state);
            var length = (r % 100) < 8 ? 1024 + (int)((r >> 8) % 64_000) : 20 + (int)((r >> 8) % 181);
            var masked = ((r >> 32) % 10) < 4;
            var opcode = ((r >> 40) % 50) == 0 ? FrameBuilder.Ping : FrameBuilder.Text;
            if (opcode == FrameBuilder.Ping)
            {
                length = 8;
            }

            if (masked)
            {
                BinaryPrimitives.WriteUInt32BigEndian(mask, (uint)Next(ref state));
            }

            stream.Write(FrameBuilder.Frame(opcode, payload.AsSpan(0, length), mask: masked ? mask : null));
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
