using System.Runtime.CompilerServices;

namespace WsCloseSniffer.Capture;

/// <summary>
/// A packet source that hands out, with each packet, what a later stage decoded of its headers: the one seam
/// the reading loop reads through, whether the decoding ran on a reading thread
/// (<see cref="PrefetchingPacketSource{THeaders}"/>) or inline (<see cref="DecodingPacketSource{THeaders}"/>).
/// </summary>
public interface IHeaderedPacketSource<THeaders> : IPacketSource
    where THeaders : struct, IPacketHeaders<THeaders>
{
    /// <summary>Like <see cref="IPacketSource.TryReadNext"/>, with the packet's decoded headers.</summary>
    bool TryReadNext(out CapturedPacket packet, out THeaders headers);
}

/// <summary>Decodes each packet's headers on the calling thread, as it is read: for sources too small to read ahead.</summary>
public sealed class DecodingPacketSource<THeaders> : IHeaderedPacketSource<THeaders>
    where THeaders : struct, IPacketHeaders<THeaders>
{
    private readonly IPacketSource _inner;

    /// <param name="inner">The source to read; this one owns it.</param>
    public DecodingPacketSource(IPacketSource inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    public string Name => _inner.Name;

    public CaptureDamage? Damage => _inner.Damage;

    public long BytesRead => _inner.BytesRead;

    public long? TotalBytes => _inner.TotalBytes;

    public bool TryReadNext(out CapturedPacket packet) => _inner.TryReadNext(out packet);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadNext(out CapturedPacket packet, out THeaders headers)
    {
        if (_inner.TryReadNext(out packet))
        {
            headers = THeaders.Decode(packet);
            return true;
        }

        headers = default;
        return false;
    }

    public void Dispose() => _inner.Dispose();
}
