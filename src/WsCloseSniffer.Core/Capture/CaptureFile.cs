using System.Buffers.Binary;
using System.IO.Compression;

namespace WsCloseSniffer.Capture;

/// <summary>
/// Opens a capture file of any supported type, recognised from its content (magic number), never
/// from its name: classic pcap, pcapng, and either of them gzip-compressed.
/// </summary>
public static class CaptureFile
{
    private const int FileStreamBufferBytes = 64 * 1024;
    private const byte GzipMagic0 = 0x1F;
    private const byte GzipMagic1 = 0x8B;

    /// <summary>
    /// Opens <paramref name="path"/>. Missing files and permission problems throw the usual
    /// <see cref="IOException"/> / <see cref="UnauthorizedAccessException"/>; content that is not a capture
    /// throws <see cref="CaptureFormatException"/>.
    /// </summary>
    public static IPacketSource Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileStreamBufferBytes, FileOptions.SequentialScan);
        try
        {
            return Open(stream, Path.GetFileName(path));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads a capture from <paramref name="stream"/> (from its current position); the returned source owns
    /// the stream. <paramref name="name"/> is what sessions and messages name the capture by.
    /// </summary>
    public static IPacketSource Open(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);

        var raw = new ReplayStream(stream);
        var magic = raw.Magic;
        if (magic.Length == 0)
        {
            raw.Dispose();
            throw new CaptureFormatException($"'{name}' is empty: not a capture file");
        }

        if (magic.Length >= 2 && magic[0] == GzipMagic0 && magic[1] == GzipMagic1)
        {
            var input = new CaptureBuffer(new GZipStream(raw, CompressionMode.Decompress, leaveOpen: false), raw, compressed: true);
            return OpenDecompressed(input, name);
        }

        return Create(new CaptureBuffer(raw, raw, compressed: false), name, magic, compressed: false);
    }

    internal static CaptureBuffer CreateBuffer(Stream stream, bool compressed)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var raw = new ReplayStream(stream);
        return compressed
            ? new CaptureBuffer(new GZipStream(raw, CompressionMode.Decompress, leaveOpen: false), raw, compressed: true)
            : new CaptureBuffer(raw, raw, compressed: false);
    }

    private static IPacketSource OpenDecompressed(CaptureBuffer input, string name)
    {
        try
        {
            if (!input.Ensure(4))
            {
                string found = Convert.ToHexString(input.Peek(input.Available));
                throw input.StreamError is { } error
                    ? new CaptureFormatException($"'{name}' is gzip-compressed but its compressed data is corrupt: {error}")
                    : new CaptureFormatException($"'{name}' is gzip-compressed but holds only {input.Available} bytes ({found}): not a capture file");
            }

            return Create(input, name, input.Peek(4), compressed: true);
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }

    private static IPacketSource Create(CaptureBuffer input, string name, ReadOnlySpan<byte> magic, bool compressed)
    {
        try
        {
            if (magic.Length == 4)
            {
                uint value = BinaryPrimitives.ReadUInt32BigEndian(magic);
                uint swapped = BinaryPrimitives.ReverseEndianness(value);
                if (PcapReader.IsMagic(value) || PcapReader.IsMagic(swapped))
                {
                    return new PcapReader(input, name);
                }

                if (value == PcapNgReader.SectionHeaderBlockType)
                {
                    return new PcapNgReader(input, name);
                }
            }

            string what = compressed ? "its decompressed content starts with" : "found magic bytes";
            throw new CaptureFormatException(
                $"'{name}' is not a capture file (pcap, pcapng, or either gzip-compressed): {what} {Convert.ToHexString(magic)}");
        }
        catch
        {
            input.Dispose();
            throw;
        }
    }
}
