using WsCloseSniffer.Decoding;

namespace WsCloseSniffer.Reassembly;

/// <summary>
/// A connection's 4-tuple, normalized so both directions give the same key: <see cref="Low"/> is the
/// smaller endpoint (address, then port). A value type: looking a connection up allocates nothing.
/// </summary>
public readonly record struct ConnectionKey
{
    private ConnectionKey(TcpEndpoint low, TcpEndpoint high)
    {
        Low = low;
        High = high;
    }

    public TcpEndpoint Low { get; }

    public TcpEndpoint High { get; }

    public static ConnectionKey Create(TcpEndpoint source, TcpEndpoint destination) =>
        Compare(source, destination) <= 0 ? new ConnectionKey(source, destination) : new ConnectionKey(destination, source);

    public static ConnectionKey Create(IpAddress sourceAddress, ushort sourcePort, IpAddress destinationAddress, ushort destinationPort) =>
        Create(new TcpEndpoint(sourceAddress, sourcePort), new TcpEndpoint(destinationAddress, destinationPort));

    /// <summary>Orders endpoints by address (IPv4 before IPv6), then port.</summary>
    public static int Compare(TcpEndpoint left, TcpEndpoint right)
    {
        var byAddress = left.Address.CompareTo(right.Address);
        return byAddress != 0 ? byAddress : left.Port.CompareTo(right.Port);
    }

    // The generated hash multiplies field hashes by a constant; HashCode mixes all bits, which
    // matters when many connections share both addresses and differ only in a port.
    public override int GetHashCode() => HashCode.Combine(Low.Address, Low.Port, High.Address, High.Port);

    public override string ToString() => $"{Low} <-> {High}";
}
