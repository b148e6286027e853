namespace WsCloseSniffer.Capture;

/// <summary>
/// A pull source of captured frames (a capture file, or a live interface's queue).
/// </summary>
public interface IPacketSource : IDisposable
{
    /// <summary>The file name (or interface name) sessions from this source are reported under.</summary>
    string Name { get; }

    /// <summary>
    /// Reads the next packet. Returns false at the end of the input or when the input is damaged;
    /// <see cref="Damage"/> then says which. Never throws for bad content; I/O errors propagate.
    /// </summary>
    bool TryReadNext(out CapturedPacket packet);

    /// <summary>Set once reading stopped on damaged input: where and what. Null at a clean end.</summary>
    CaptureDamage? Damage { get; }

    /// <summary>Bytes of the underlying file consumed so far (compressed bytes for gzip); for progress.</summary>
    long BytesRead { get; }

    /// <summary>Total size of the underlying file when known (for progress), else null.</summary>
    long? TotalBytes { get; }
}

/// <summary>Where a capture file is damaged and how. Offsets are in the decompressed stream.</summary>
public sealed record CaptureDamage(long ByteOffset, long PacketNumber, string Problem)
{
    public override string ToString() =>
        $"at byte offset {ByteOffset} (packet {PacketNumber}): {Problem}";
}

/// <summary>Thrown when a file cannot be read as a capture at all (unknown magic number, empty).</summary>
public sealed class CaptureFormatException : Exception
{
    public CaptureFormatException() { }
    public CaptureFormatException(string message) : base(message) { }
    public CaptureFormatException(string message, Exception innerException) : base(message, innerException) { }
}
