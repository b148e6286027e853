using System.Buffers.Binary;
using System.Net;

namespace WsCloseSniffer.Decoding;

/// <summary>
/// An IPv4 or IPv6 address held in two words, so the hot path compares and hashes addresses
/// without allocating <see cref="IPAddress"/> objects. IPv4 is kept apart from IPv4-mapped IPv6.
/// </summary>
public readonly record struct IpAddress
{
    private readonly ulong _high;
    private readonly ulong _low;

    private IpAddress(ulong high, ulong low, bool isIPv6)
    {
        _high = high;
        _low = low;
        IsIPv6 = isIPv6;
    }

    public bool IsIPv6 { get; }

    /// <summary>Reads a 4-byte (IPv4) or 16-byte (IPv6) address in network byte order.</summary>
    public static IpAddress FromBytes(ReadOnlySpan<byte> address) => address.Length switch
    {
        4 => new IpAddress(0, BinaryPrimitives.ReadUInt32BigEndian(address), isIPv6: false),
        16 => new IpAddress(
            BinaryPrimitives.ReadUInt64BigEndian(address),
            BinaryPrimitives.ReadUInt64BigEndian(address[8..]),
            isIPv6: true),
        _ => throw new ArgumentException("An IP address is 4 or 16 bytes.", nameof(address)),
    };

    /// <summary>Reads a 4-byte IPv4 address (network byte order); the decoder's hot path, no length switch.</summary>
    internal static IpAddress FromIPv4(ReadOnlySpan<byte> address) =>
        new(0, BinaryPrimitives.ReadUInt32BigEndian(address), isIPv6: false);

    /// <summary>Reads a 16-byte IPv6 address (network byte order).</summary>
    internal static IpAddress FromIPv6(ReadOnlySpan<byte> address) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]), isIPv6: true);

    public static IpAddress Parse(string text) => FromBytes(IPAddress.Parse(text).GetAddressBytes());

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!IsIPv6)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)_low);
            return new IPAddress(bytes[..4]);
        }

        BinaryPrimitives.WriteUInt64BigEndian(bytes, _high);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _low);
        return new IPAddress(bytes);
    }

    /// <summary>The address folded into one word, for hashing (the family is mixed in).</summary>
    internal ulong Fold() => _high ^ (_low * 0x100000001B3UL) ^ (IsIPv6 ? 0x5555555555555555UL : 0);

    /// <summary>Orders addresses (IPv4 before IPv6) so reports are deterministic.</summary>
    public int CompareTo(IpAddress other)
    {
        var byFamily = IsIPv6.CompareTo(other.IsIPv6);
        if (byFamily != 0)
        {
            return byFamily;
        }

        var byHigh = _high.CompareTo(other._high);
        return byHigh != 0 ? byHigh : _low.CompareTo(other._low);
    }

    public override string ToString() => ToIPAddress().ToString();
}
