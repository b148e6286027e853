using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Decoding;

/// <summary>
/// What <see cref="PacketDecoder.TryDecodeTcp"/> made of a frame, kept apart from the frame so it can wait
/// in a queue (decoded on the reading thread, used on the analysis thread): the segment's payload is held
/// as a range of the frame and comes back with <see cref="Segment"/>.
/// </summary>
public readonly struct DecodedTcp : IPacketHeaders<DecodedTcp>
{
    private readonly ConnectionKey _key;
    private readonly bool _sourceIsLow;
    private readonly uint _sequenceNumber;
    private readonly uint _acknowledgmentNumber;
    private readonly TcpFlags _flags;
    private readonly ushort _window;
    private readonly sbyte _windowScale;
    private readonly int _payloadOffset;
    private readonly int _payloadLength;
    private readonly int _originalPayloadLength;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private DecodedTcp(DecodeStatus status, in TcpSegment segment, ReadOnlySpan<byte> frame)
    {
        Status = status;
        if (status != DecodeStatus.Tcp)
        {
            return;
        }

        _key = ConnectionKey.Of(segment);
        _sourceIsLow = _key.Low == new TcpEndpoint(segment.SourceAddress, segment.SourcePort);
        _sequenceNumber = segment.SequenceNumber;
        _acknowledgmentNumber = segment.AcknowledgmentNumber;
        _flags = segment.Flags;
        _window = segment.Window;
        _windowScale = segment.WindowScale;
        _originalPayloadLength = segment.OriginalPayloadLength;
        _payloadLength = segment.Payload.Length;

        // The decoder slices the payload out of the frame, never copies it.
        _payloadOffset = segment.Payload.IsEmpty
            ? 0
            : (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(frame), ref MemoryMarshal.GetReference(segment.Payload));
    }

    public DecodeStatus Status { get; }

    /// <summary>The segment's connection (valid when <see cref="Status"/> is Tcp), made here rather than on the analysis thread.</summary>
    public ConnectionKey Key => _key;

    /// <summary>Decodes <paramref name="packet"/> (see <see cref="PacketDecoder.TryDecodeTcp"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static DecodedTcp Decode(in CapturedPacket packet)
    {
        var status = PacketDecoder.TryDecodeTcp(packet.LinkType, packet.Data, packet.OriginalLength, out var segment);
        return new DecodedTcp(status, segment, packet.Data);
    }

    /// <summary>The segment again, its payload in <paramref name="frame"/> (the frame it was decoded from); valid when <see cref="Status"/> is Tcp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TcpSegment Segment(ReadOnlySpan<byte> frame)
    {
        var (source, destination) = _sourceIsLow ? (_key.Low, _key.High) : (_key.High, _key.Low);
        return new(
            source.Address,
            destination.Address,
            source.Port,
            destination.Port,
            _sequenceNumber,
            _acknowledgmentNumber,
            _flags,
            _window,
            frame.Slice(_payloadOffset, _payloadLength),
            _originalPayloadLength,
            _windowScale);
    }
}
