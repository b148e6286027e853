using System.IO.Compression;
using System.Runtime.InteropServices;

namespace WsCloseSniffer.WebSockets;

/// <summary>What became of the bytes given to <see cref="MessageInflater"/>.</summary>
public enum InflateStatus : byte
{
    /// <summary>All input was inflated; the inflater waits for more.</summary>
    Ok = 0,

    /// <summary>The input is not valid DEFLATE data (or refers back further than anything inflated).</summary>
    InvalidData = 1,

    /// <summary>
    /// A block with BFINAL set ended the DEFLATE stream (RFC 7692 7.2.3.3 allows it); input after it was not read and
    /// the next unit needs a new inflater.
    /// </summary>
    StreamEnded = 2,

    /// <summary>The unit's output reached its limit; the rest was not inflated and this inflater's stream is abandoned.</summary>
    LimitReached = 3,
}

/// <summary>One DEFLATE unit (a message, or a frame for deflate-frame) being inflated: what it produced so far.</summary>
public struct InflatedUnit
{
    private Utf8Validator _utf8;

    /// <param name="checkUtf8">Set for text: the output is checked as UTF-8 as it comes, continuing <paramref name="utf8"/>.</param>
    public InflatedUnit(long limit, bool checkUtf8, Utf8Validator utf8 = default)
    {
        Limit = limit;
        CheckUtf8 = checkUtf8;
        _utf8 = utf8;
    }

    /// <summary>Inflated bytes counted (never more than <see cref="Limit"/>).</summary>
    public long Bytes { get; private set; }

    public long Limit { get; }

    public bool CheckUtf8 { get; }

    public readonly Utf8Validator Utf8 => _utf8;

    internal void Add(ReadOnlySpan<byte> output)
    {
        Bytes += output.Length;
        if (CheckUtf8)
        {
            _utf8.Append(output);
        }
    }
}

/// <summary>
/// Inflates RFC 7692 DEFLATE data pushed in pieces with the runtime's own zlib, called directly: each piece is unmasked
/// while it is copied into a per-thread buffer and inflated from there into another. The output is counted and, for
/// text, checked as UTF-8 in <see cref="OutputChunkBytes"/> pieces; none of it is kept. Where that zlib cannot be
/// called (a host without libSystem.IO.Compression.Native's exports) it inflates with System.IO.Compression's
/// raw-deflate <see cref="DeflateStream"/> instead, with the same results.
/// </summary>
/// <remarks>
/// Both inflate with a 2^15-byte window (windowBits -15), whatever window the peers agreed (server_max_window_bits,
/// client_max_window_bits, max_window_bits). That is right for every agreement: the window bits only bound how far
/// back a compliant sender refers, and a 32 KiB window holds every distance a smaller window can produce, so the
/// output is the same byte for byte. Passing the agreed bits to zlib would not catch a sender breaking its bound
/// either: zlib resolves a distance from the output it has just written as well as from its window, so a distance
/// past the window still inflates whenever the bytes it points at are in the current output buffer, and whether they
/// are depends on how the pieces happened to fall. Spotting that would need an inflater that checks distances.
/// Memory: a live inflater holds zlib's state with its 32 KiB window, about 42 KiB (the DeflateStream path adds an
/// 8 KiB pooled buffer), so callers take them lazily, and <see cref="Reset"/> lets a caller that starts every unit with
/// an empty window keep one instead of ending and initializing zlib per unit.
/// </remarks>
public sealed class MessageInflater : IDisposable
{
    public const int OutputChunkBytes = 16 * 1024;

    /// <summary>Set in runtimeconfig (or AppContext) to inflate with DeflateStream even where the runtime's zlib can be called.</summary>
    internal const string UseDeflateStreamSwitch = "WsCloseSniffer.WebSockets.MessageInflater.UseDeflateStream";

    /// <summary>Input is handed to zlib at most this many bytes at a time, unmasked into the per-thread buffer.</summary>
    private const int PieceBytes = 16 * 1024;

    private static readonly bool s_nativeAvailable = ProbeNative();

    [ThreadStatic]
    private static ThreadBuffers? t_buffers;

    private readonly bool _native;
    private readonly bool _resetInPlace;

    // Native path: created at the first piece, so an inflater that is never fed holds no zlib state.
    private ZStreamHandle? _zlib;

    // The DEFLATE stream's final block was inflated: the next input is past its end.
    private bool _finished;

    // DeflateStream path.
    private PieceStream? _input;
    private DeflateStream? _stream;

    private bool _ended;
    private bool _disposed;

    public MessageInflater()
        : this(useNative: !(AppContext.TryGetSwitch(UseDeflateStreamSwitch, out var managed) && managed))
    {
    }

    /// <param name="useNative">False: the DeflateStream path, as where the runtime's zlib cannot be called.</param>
    /// <param name="resetInPlace">False: <see cref="Reset"/> ends and initializes zlib, as where InflateReset2_ is missing.</param>
    internal MessageInflater(bool useNative, bool resetInPlace = true)
    {
        _native = useNative && s_nativeAvailable;
        _resetInPlace = resetInPlace;
    }

    /// <summary>RFC 7692 7.2.2: the receiver appends 00 00 FF FF, the empty stored block the sender's flush ended with.</summary>
    public static ReadOnlySpan<byte> FlushTail => [0x00, 0x00, 0xFF, 0xFF];

    /// <summary>The inflater's words (zlib's message, or the runtime's) for the last <see cref="InflateStatus.InvalidData"/>.</summary>
    public string? LastError { get; private set; }

    /// <summary>True once the stream ended (BFINAL), failed or hit a limit: nothing more can be inflated with it until <see cref="Reset"/>.</summary>
    public bool IsSpent => _ended;

    /// <summary>True when this inflater calls the runtime's zlib directly rather than going through DeflateStream.</summary>
    internal bool UsesNativeZLib => _native;

    internal bool IsDisposed => _disposed;

    /// <summary>Inflates <paramref name="compressed"/> (unmasked), counting the output into <paramref name="unit"/>.</summary>
    public InflateStatus Inflate(ReadOnlySpan<byte> compressed, ref InflatedUnit unit) => Inflate(compressed, 0, 0, ref unit);

    /// <summary>
    /// Inflates payload bytes as on the wire: masked with <paramref name="maskKey"/> (0: not masked) and starting
    /// <paramref name="payloadOffset"/> bytes into their frame, so the mask lines up.
    /// </summary>
    public InflateStatus Inflate(ReadOnlySpan<byte> payload, uint maskKey, long payloadOffset, ref InflatedUnit unit)
    {
        if (_ended)
        {
            return InflateStatus.StreamEnded;
        }

        while (!payload.IsEmpty)
        {
            var piece = payload[..Math.Min(payload.Length, PieceBytes)];
            payload = payload[piece.Length..];
            var status = _native
                ? InflateNative(piece, maskKey, payloadOffset, ref unit)
                : InflateWithDeflateStream(piece, maskKey, payloadOffset, ref unit);
            payloadOffset += piece.Length;
            if (status != InflateStatus.Ok)
            {
                return status;
            }
        }

        return InflateStatus.Ok;
    }

    /// <summary>The unit's payload ended: inflates the flush tail RFC 7692 7.2.2 says to append.</summary>
    public InflateStatus EndUnit(ref InflatedUnit unit) => Inflate(FlushTail, ref unit);

    /// <summary>
    /// Starts a new DEFLATE stream with an empty window, as a new inflater would (also after the last one ended, failed
    /// or hit its limit), keeping zlib's memory: for a sender that agreed to no context takeover (RFC 7692 7.1.1).
    /// </summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _ended = false;
        _finished = false;
        LastError = null;
        if (_zlib is not null && !(_resetInPlace && _zlib.TryReset()))
        {
            // Without an in-place reset, a new state is initialized at the next piece.
            _zlib.Dispose();
            _zlib = null;
        }

        _stream?.Dispose();
        _stream = null;
    }

    public void Dispose()
    {
        _disposed = true;
        _ended = true;
        _zlib?.Dispose();
        _zlib = null;
        _stream?.Dispose();
        _stream = null;
    }

    private InflateStatus InflateNative(ReadOnlySpan<byte> piece, uint maskKey, long payloadOffset, ref InflatedUnit unit)
    {
        var buffers = t_buffers ??= new ThreadBuffers();
        var input = buffers.Input.AsSpan(0, piece.Length);
        FrameHeader.CopyUnmasked(piece, input, maskKey, payloadOffset);

        _zlib ??= ZStreamHandle.Create();
        ref var z = ref _zlib.Stream;
        z.NextIn = buffers.InputAddress;
        z.AvailableIn = (uint)piece.Length;
        while (true)
        {
            // Never ask for more than the limit leaves, so a bomb stops within one chunk of it.
            var room = (int)Math.Min(OutputChunkBytes, unit.Limit - unit.Bytes);
            if (room == 0)
            {
                return Spend(InflateStatus.LimitReached);
            }

            if (_finished)
            {
                break;
            }

            z.NextOut = buffers.OutputAddress;
            z.AvailableOut = (uint)room;
            var result = ZLibInterop.Inflate(_zlib.Address, ZLibInterop.NoFlush);
            if (result is not (ZLibInterop.Ok or ZLibInterop.StreamEnd or ZLibInterop.BufferError))
            {
                if (result == ZLibInterop.MemoryError)
                {
                    throw new InsufficientMemoryException("zlib could not allocate while inflating");
                }

                // Z_DATA_ERROR; Z_NEED_DICT and Z_STREAM_ERROR are not expected from raw DEFLATE and are blamed on the data too.
                // The failing call's output is not counted, as DeflateStream throws it away with its exception.
                LastError = Marshal.PtrToStringUTF8(z.Message) ?? $"zlib error {result}";
                return Spend(InflateStatus.InvalidData);
            }

            var produced = room - (int)z.AvailableOut;
            if (produced > 0)
            {
                unit.Add(buffers.Output.AsSpan(0, produced));
            }

            if (result == ZLibInterop.StreamEnd)
            {
                // The limit is checked first at the top: a stream ending exactly at it counts as reaching it, as before.
                _finished = true;
            }
            else if (z.AvailableOut > 0 && (z.AvailableIn == 0 || result == ZLibInterop.BufferError))
            {
                // Room left over: zlib used all the input it was given (Z_BUF_ERROR: it could not move at all).
                // Full output instead means another call, even without input: zlib may hold decodable bits.
                break;
            }
        }

        if (_finished && z.AvailableIn > 0)
        {
            // The final block ended before this piece did: the rest is past the stream's end and not read.
            return Spend(InflateStatus.StreamEnded);
        }

        return InflateStatus.Ok;
    }

    private InflateStatus InflateWithDeflateStream(ReadOnlySpan<byte> piece, uint maskKey, long payloadOffset, ref InflatedUnit unit)
    {
        var buffers = t_buffers ??= new ThreadBuffers();
        _input ??= new PieceStream();
        _input.Hand(buffers.Input, piece, maskKey, payloadOffset);
        _stream ??= new DeflateStream(_input, CompressionMode.Decompress, leaveOpen: true);
        var output = buffers.Output;
        try
        {
            while (true)
            {
                var room = (int)Math.Min(output.Length, unit.Limit - unit.Bytes);
                if (room == 0)
                {
                    return Spend(InflateStatus.LimitReached);
                }

                var read = _stream.Read(output, 0, room);
                if (read == 0)
                {
                    break;
                }

                unit.Add(output.AsSpan(0, read));
            }
        }
        catch (InvalidDataException ex)
        {
            LastError = ex.Message;
            return Spend(InflateStatus.InvalidData);
        }

        // DeflateStream stops reading its input only once the final block is inflated.
        return _input.Remaining > 0 ? Spend(InflateStatus.StreamEnded) : InflateStatus.Ok;
    }

    private InflateStatus Spend(InflateStatus status)
    {
        // zlib's state stays for Reset; DeflateStream's buffer goes back to its pool now.
        _ended = true;
        _stream?.Dispose();
        _stream = null;
        return status;
    }

    private static bool ProbeNative() => NativeUsable(static () =>
    {
        // Each entry point binds at its first call: call those a unit needs now rather than fail mid-capture.
        // (InflateReset2_ is optional.) Inflate without buffers is refused with Z_STREAM_ERROR and changes nothing.
        using var probe = ZStreamHandle.Create();
        _ = ZLibInterop.Inflate(probe.Address, ZLibInterop.NoFlush);
    });

    /// <summary>Whether <paramref name="probe"/> ran without finding the library or an entry point missing.</summary>
    internal static bool NativeUsable(Action probe)
    {
        try
        {
            probe();
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// This thread's input and output buffers, on the pinned object heap so zlib can be given their addresses. Each
    /// piece is used up within the call that hands it over, so every inflater on the thread shares them.
    /// </summary>
    private sealed class ThreadBuffers
    {
        public readonly byte[] Input = GC.AllocateUninitializedArray<byte>(PieceBytes, pinned: true);
        public readonly byte[] Output = GC.AllocateUninitializedArray<byte>(OutputChunkBytes, pinned: true);
        public readonly IntPtr InputAddress;
        public readonly IntPtr OutputAddress;

        public ThreadBuffers()
        {
            InputAddress = Marshal.UnsafeAddrOfPinnedArrayElement(Input, 0);
            OutputAddress = Marshal.UnsafeAddrOfPinnedArrayElement(Output, 0);
        }
    }

    /// <summary>The input side of the DeflateStream: hands out the current piece, then reports end of data until the next.</summary>
    private sealed class PieceStream : Stream
    {
        private byte[] _piece = [];
        private int _offset;
        private int _length;

        public int Remaining => _length - _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        /// <summary>Unmasks the piece into <paramref name="buffer"/> (a span cannot be kept; the piece is read at once).</summary>
        public void Hand(byte[] buffer, ReadOnlySpan<byte> piece, uint maskKey, long payloadOffset)
        {
            _piece = buffer;
            FrameHeader.CopyUnmasked(piece, _piece, maskKey, payloadOffset);

            _offset = 0;
            _length = piece.Length;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var take = Math.Min(buffer.Length, Remaining);
            _piece.AsSpan(_offset, take).CopyTo(buffer);
            _offset += take;
            return take;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
