using System.Runtime.InteropServices;

namespace WsCloseSniffer.WebSockets;

/// <summary>
/// One zlib raw-inflate state: the <see cref="ZLibInterop.ZStream"/> it is driven through, on the pinned object heap
/// so its address stays what zlib was given, and the native state behind it, ended when the handle is released.
/// </summary>
/// <remarks>
/// A SafeHandle rather than a plain Dispose: an inflater dropped without Dispose (a session abandoned by an
/// exception, a pooled inflater on a thread that exits) still gives zlib's 40-odd KiB back when it is finalized.
/// </remarks>
internal sealed class ZStreamHandle : SafeHandle
{
    // Set once InflateReset2_ is found missing (an older or trimmed library), so the lookup is not retried per unit.
    private static volatile bool s_resetMissing;

    private readonly ZLibInterop.ZStream[] _stream = GC.AllocateArray<ZLibInterop.ZStream>(1, pinned: true);

    public ZStreamHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The struct zlib reads and writes; valid while the handle is not released.</summary>
    public ref ZLibInterop.ZStream Stream => ref _stream[0];

    /// <summary>The struct's fixed address, as the entry points take it.</summary>
    public IntPtr Address => handle;

    /// <summary>
    /// Initializes a raw-inflate state. Throws <see cref="DllNotFoundException"/> or
    /// <see cref="EntryPointNotFoundException"/> when the runtime's zlib cannot be called, and
    /// <see cref="InsufficientMemoryException"/> when zlib cannot allocate its state.
    /// </summary>
    public static ZStreamHandle Create()
    {
        var created = new ZStreamHandle();
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(created._stream, 0);
        int result;
        try
        {
            result = ZLibInterop.InflateInit2(address, ZLibInterop.RawDeflateWindowBits);
        }
        catch
        {
            created.Dispose();
            throw;
        }

        if (result != ZLibInterop.Ok)
        {
            // The wrapper allocates its z_stream before zlib's init runs; ending frees it whatever init did.
            if (created.Stream.InternalState != IntPtr.Zero)
            {
                _ = ZLibInterop.InflateEnd(address);
            }

            created.Dispose();
            throw result == ZLibInterop.MemoryError
                ? new InsufficientMemoryException("zlib could not allocate an inflate state")
                : new InvalidOperationException($"zlib refused to initialize raw inflate (error {result})");
        }

        created.SetHandle(address);
        return created;
    }

    /// <summary>Empties the window and starts a new stream in the same memory; false when the library cannot.</summary>
    public bool TryReset()
    {
        if (s_resetMissing)
        {
            return false;
        }

        try
        {
            return ZLibInterop.InflateReset2(handle, ZLibInterop.RawDeflateWindowBits) == ZLibInterop.Ok;
        }
        catch (EntryPointNotFoundException)
        {
            s_resetMissing = true;
            return false;
        }
    }

    protected override bool ReleaseHandle()
    {
        _ = ZLibInterop.InflateEnd(handle);
        return true;
    }
}
