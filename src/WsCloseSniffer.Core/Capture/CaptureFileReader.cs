using System.Buffers.Binary;

namespace WsCloseSniffer.Capture;

/// <summary>
/// What the pcap and pcapng readers share: the read buffer, the name, the byte order, the packet count, and how
/// reading ends (cleanly, or on damage named by offset, packet number and problem).
/// </summary>
public abstract class CaptureFileReader : IPacketSource, IBufferedCaptureReader
{
    // Fields rather than properties: the per-packet loops of the derived readers read them on every record.
    private protected readonly CaptureBuffer _input;
    private protected long _packetsRead;
    private protected bool _finished;
    private protected bool _bigEndian;

    private protected CaptureFileReader(CaptureBuffer input, string name)
    {
        _input = input;
        Name = name;
    }

    public string Name { get; }

    public CaptureDamage? Damage { get; private set; }

    CaptureBuffer IBufferedCaptureReader.Input => _input;

    public long BytesRead => _input.RawBytesRead;

    public long? TotalBytes => _input.RawLength;

    public abstract bool TryReadNext(out CapturedPacket packet);

    public void Dispose()
    {
        _finished = true;
        _input.Dispose();
        GC.SuppressFinalize(this);
    }

    private protected ushort ReadUInt16(ReadOnlySpan<byte> span) =>
        _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span);

    private protected uint ReadUInt32(ReadOnlySpan<byte> span) =>
        _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span);

    private protected string Truncation(int available, int needed, string what) => _input.DescribeEnd(available, needed, what);

    /// <summary>Stops reading on damage at <paramref name="offset"/>; returns false for the caller to return.</summary>
    private protected bool Fail(long offset, string problem)
    {
        Damage = new CaptureDamage(offset, _packetsRead + 1, problem);
        _finished = true;
        return false;
    }
}
