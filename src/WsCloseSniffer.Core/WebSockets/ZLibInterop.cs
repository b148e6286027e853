using System.Runtime.InteropServices;

namespace WsCloseSniffer.WebSockets;

/// <summary>
/// The raw-inflate entry points of the zlib (zlib-ng) build every .NET shared framework ships for System.IO.Compression,
/// called directly so a piece goes from our buffer to zlib without DeflateStream's own buffer and stream calls between.
/// </summary>
/// <remarks>
/// The exports wrap zlib's own functions one for one around <see cref="ZStream"/>, a small struct the runtime's
/// System.IO.Compression.Native defines (pal_zlib.h) and keeps stable across releases because its managed side is
/// compiled against it; the z_stream it points to is allocated by the library. Every signature is blittable (pointers
/// and 32-bit integers), so the calls marshal nothing.
/// </remarks>
internal static class ZLibInterop
{
    public const string Library = "libSystem.IO.Compression.Native";

    public const int NoFlush = 0;

    public const int Ok = 0;
    public const int StreamEnd = 1;
    public const int NeedDictionary = 2;
    public const int StreamError = -2;
    public const int DataError = -3;
    public const int MemoryError = -4;
    public const int BufferError = -5;
    public const int VersionError = -6;

    /// <summary>Negative: raw DEFLATE without a zlib header or checksum (RFC 7692 7.2.2); 15: a 32 KiB window.</summary>
    public const int RawDeflateWindowBits = -15;

    /// <summary>PAL_ZStream: what zlib reads from and writes to, and its last message.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public IntPtr NextIn;
        public IntPtr NextOut;
        public IntPtr Message;
        public IntPtr InternalState;
        public uint AvailableIn;
        public uint AvailableOut;
    }

    // DllImport, not LibraryImport: the source generator needs AllowUnsafeBlocks, which this assembly keeps off, and
    // for blittable signatures like these the runtime's stub marshals nothing either.
    [DllImport(Library, EntryPoint = "CompressionNative_InflateInit2_", ExactSpelling = true)]
    public static extern int InflateInit2(IntPtr stream, int windowBits);

    [DllImport(Library, EntryPoint = "CompressionNative_Inflate", ExactSpelling = true)]
    public static extern int Inflate(IntPtr stream, int flush);

    [DllImport(Library, EntryPoint = "CompressionNative_InflateEnd", ExactSpelling = true)]
    public static extern int InflateEnd(IntPtr stream);

    [DllImport(Library, EntryPoint = "CompressionNative_InflateReset2_", ExactSpelling = true)]
    public static extern int InflateReset2(IntPtr stream, int windowBits);
}
