using System.Runtime.CompilerServices;

namespace WsCloseSniffer.Decoding;

/// <summary>A TCP endpoint: address and port.</summary>
public readonly record struct TcpEndpoint(IpAddress Address, ushort Port)
{
    public override string ToString() =>
        Address.IsIPv6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}

/// <summary>
/// A connection's 4-tuple, normalized so both directions give the same key: <see cref="Low"/> is the
/// smaller endpoint (address, then port). A value type: looking a connection up allocates nothing.
/// </summary>
public readonly record struct ConnectionKey
{
    // First, so unequal keys usually differ at the first field compared; computed once per key, because a key
    // is hashed by the table on every packet (and built on the reading thread when there is one).
    private readonly int _hash;

    private ConnectionKey(TcpEndpoint low, TcpEndpoint high)
    {
        Low = low;
        High = high;
        _hash = Hash(low, high);
    }

    public TcpEndpoint Low { get; }

    public TcpEndpoint High { get; }

    // Per packet (on the reading thread, or the analysis thread): compiled into its JIT-compiled callers.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ConnectionKey Create(TcpEndpoint source, TcpEndpoint destination) =>
        Compare(source, destination) <= 0 ? new ConnectionKey(source, destination) : new ConnectionKey(destination, source);

    public static ConnectionKey Create(IpAddress sourceAddress, ushort sourcePort, IpAddress destinationAddress, ushort destinationPort) =>
        Create(new TcpEndpoint(sourceAddress, sourcePort), new TcpEndpoint(destinationAddress, destinationPort));

    /// <summary>The key of the connection <paramref name="segment"/> belongs to.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ConnectionKey Of(in TcpSegment segment) =>
        Create(segment.SourceAddress, segment.SourcePort, segment.DestinationAddress, segment.DestinationPort);

    /// <summary>Orders endpoints by address (IPv4 before IPv6), then port.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Compare(TcpEndpoint left, TcpEndpoint right)
    {
        var byAddress = left.Address.CompareTo(right.Address);
        return byAddress != 0 ? byAddress : left.Port.CompareTo(right.Port);
    }

    public override int GetHashCode() => _hash;

    public override string ToString() => $"{Low} <-> {High}";

    // Fold each address to one word, then a full 64-bit avalanche (MurmurHash3's finalizer) so connections
    // that differ only in a port still spread.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(TcpEndpoint low, TcpEndpoint high)
    {
        var h = (low.Address.Fold() * 0x9E3779B97F4A7C15UL) ^ high.Address.Fold() ^ ((ulong)low.Port << 32) ^ high.Port;
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return (int)h;
    }
}
