using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

using PacketDotNet;
using PacketDotNet.Utils;

namespace WsCloseSniffer.TestSupport;

/// <summary>TCP control bits (RFC 9293 section 3.1, RFC 3168 for ECE and CWR), the values they have on the wire.</summary>
[Flags]
public enum TcpControl : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
}

/// <summary>How the IPv4 header of a built packet is filled in beyond its addresses (RFC 791 section 3.1).</summary>
/// <param name="Identification">the identification field.</param>
/// <param name="DontFragment">the DF bit, as stacks that do path MTU discovery set it.</param>
/// <param name="MoreFragments">the MF bit: a fragment other than the last.</param>
/// <param name="FragmentOffset">in 8-byte units.</param>
public readonly record struct IpFields(ushort Identification = 0, bool DontFragment = false, bool MoreFragments = false, int FragmentOffset = 0);

/// <summary>
/// Builds frames. IP and TCP (and UDP) headers and checksums come from PacketDotNet, an implementation
/// independent of ours; what PacketDotNet cannot build (link headers other than Ethernet, VLAN stacks,
/// IPv4 options, IPv6 extension headers, GTP-U, TCP options) is assembled from byte literals here.
/// </summary>
public static class PacketFrames
{
    public static readonly PhysicalAddress SourceMac = PhysicalAddress.Parse("02-00-00-00-00-01");
    public static readonly PhysicalAddress DestinationMac = PhysicalAddress.Parse("02-00-00-00-00-02");

    private static readonly IPAddress s_floodTarget = IPAddress.Parse("10.255.0.1");

    /// <summary>"88 02 03 e8" or "8802 03e8": whitespace is ignored.</summary>
    public static byte[] FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var digits = string.Concat(hex.Where(c => !char.IsWhiteSpace(c)));
        return Convert.FromHexString(digits);
    }

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLower(CultureInfo.InvariantCulture);

    public static byte[] Concat(params byte[][] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var result = new byte[parts.Sum(p => p.Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }

        return result;
    }

    public static TcpPacket Tcp(TcpSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var tcp = new TcpPacket(spec.SourcePort, spec.DestinationPort)
        {
            SequenceNumber = spec.Sequence,
            AcknowledgmentNumber = spec.Acknowledgment,
            WindowSize = spec.Window,
            Finished = (spec.Flags & TcpControl.Fin) != 0,
            Synchronize = (spec.Flags & TcpControl.Syn) != 0,
            Reset = (spec.Flags & TcpControl.Rst) != 0,
            Push = (spec.Flags & TcpControl.Psh) != 0,
            Acknowledgment = (spec.Flags & TcpControl.Ack) != 0,
            Urgent = (spec.Flags & TcpControl.Urg) != 0,
            ExplicitCongestionNotificationEcho = (spec.Flags & TcpControl.Ece) != 0,
            CongestionWindowReduced = (spec.Flags & TcpControl.Cwr) != 0,
        };
        if (spec.Options.Length == 0)
        {
            tcp.PayloadData = spec.Payload;
            return tcp;
        }

        // PacketDotNet 1.4.8's Options setter cannot grow a header it built; insert them after its 20 bytes.
        if (spec.Options.Length % 4 != 0 || spec.Options.Length > 40)
        {
            throw new ArgumentException("TCP options fill whole 32-bit words, at most 40 bytes.", nameof(spec));
        }

        var withOptions = Concat(tcp.Bytes, spec.Options, spec.Payload);
        withOptions[12] = (byte)(((20 + spec.Options.Length) / 4) << 4 | (withOptions[12] & 0x0F));
        return new TcpPacket(new ByteArraySegment(withOptions));
    }

    /// <summary>An IPv4 packet (no link header) carrying the TCP segment.</summary>
    public static byte[] IPv4Tcp(TcpSpec spec, string source = "192.0.2.10", string destination = "198.51.100.20") =>
        Finish(IP(IPAddress.Parse(source), IPAddress.Parse(destination), default), Tcp(spec)).Bytes;

    /// <summary>An IPv6 packet (no link header) carrying the TCP segment.</summary>
    public static byte[] IPv6Tcp(TcpSpec spec, string source = "2001:db8::10", string destination = "2001:db8::20") =>
        Finish(IP(IPAddress.Parse(source), IPAddress.Parse(destination), default), Tcp(spec)).Bytes;

    /// <summary>An IPv4 packet carrying a UDP datagram with the given payload.</summary>
    public static byte[] IPv4Udp(ushort sourcePort, ushort destinationPort, byte[] payload, string source = "10.0.0.1", string destination = "10.0.0.2")
    {
        var ip = new IPv4Packet(IPAddress.Parse(source), IPAddress.Parse(destination)) { TimeToLive = 64 };
        var udp = new UdpPacket(sourcePort, destinationPort) { PayloadData = payload };
        ip.PayloadPacket = udp;
        udp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    /// <summary>A complete Ethernet II frame (IPv4) built by PacketDotNet, from <see cref="SourceMac"/> to <see cref="DestinationMac"/>.</summary>
    public static byte[] EthernetIPv4Tcp(TcpSpec spec, string source = "192.0.2.10", string destination = "198.51.100.20") =>
        EthernetTcp(spec, IPAddress.Parse(source), IPAddress.Parse(destination), SourceMac, DestinationMac, default);

    /// <summary>
    /// A complete Ethernet II frame built by PacketDotNet: IPv4 or IPv6 by the addresses' family, hop limit 64,
    /// valid checksums.
    /// </summary>
    public static byte[] EthernetTcp(TcpSpec spec, IPAddress source, IPAddress destination, PhysicalAddress sourceMac, PhysicalAddress destinationMac, IpFields ipFields)
    {
        ArgumentNullException.ThrowIfNull(source);
        var ip = IP(source, destination, ipFields);
        var ethernet = new EthernetPacket(sourceMac, destinationMac, ip is IPv6Packet ? EthernetType.IPv6 : EthernetType.IPv4)
        {
            PayloadPacket = ip,
        };
        Finish(ip, Tcp(spec));
        return ethernet.Bytes;
    }

    /// <summary>
    /// An IPv4 or IPv6 packet (by the addresses' family) whose payload is <paramref name="inner"/> with the given
    /// protocol number: IP in IP (4), IPv6 in IP (41), GRE (47) and the like.
    /// </summary>
    public static byte[] Encapsulated(byte[] inner, byte protocol, string source, string destination)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var outer = IP(IPAddress.Parse(source), IPAddress.Parse(destination), default);
        outer.PayloadData = inner;
        outer.Protocol = (PacketDotNet.ProtocolType)protocol;
        outer.UpdateCalculatedValues();
        var bytes = outer.Bytes;

        // PacketDotNet 1.4.8 fills in neither the protocol nor the lengths for a raw payload.
        if (outer is IPv6Packet)
        {
            bytes[6] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)(bytes.Length - 40));
        }
        else
        {
            bytes[9] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)bytes.Length);
        }

        return bytes;
    }

    /// <summary>Ethernet header with an optional stack of (TPID, VLAN id) tags, then the EtherType.</summary>
    public static byte[] EthernetHeader(ushort etherType, params (ushort Tpid, ushort VlanId)[] tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var header = new byte[14 + (4 * tags.Length)];
        DestinationMac.GetAddressBytes().CopyTo(header, 0);
        SourceMac.GetAddressBytes().CopyTo(header, 6);
        var offset = 12;
        foreach (var (tpid, vlanId) in tags)
        {
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(offset), tpid);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(offset + 2), vlanId);
            offset += 4;
        }

        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(offset), etherType);
        return header;
    }

    /// <summary>Inserts IPv4 options after the 20-byte header, fixing IHL and total length.</summary>
    public static byte[] WithIPv4Options(byte[] ipv4, byte[] options)
    {
        ArgumentNullException.ThrowIfNull(ipv4);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Length % 4 != 0)
        {
            throw new ArgumentException("IPv4 options fill whole 32-bit words.", nameof(options));
        }

        var result = Concat(ipv4[..20], options, ipv4[20..]);
        result[0] = (byte)(0x40 | ((20 + options.Length) / 4));
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(2), (ushort)result.Length);
        return result;
    }

    /// <summary>
    /// Inserts IPv6 extension headers between the fixed header and the upper layer, chaining their
    /// next-header fields and fixing the payload length. Each header's first byte is overwritten.
    /// </summary>
    public static byte[] WithIPv6Extensions(byte[] ipv6, params (byte Kind, byte[] Bytes)[] headers)
    {
        ArgumentNullException.ThrowIfNull(ipv6);
        ArgumentNullException.ThrowIfNull(headers);
        var upperProtocol = ipv6[6];
        var parts = new List<byte[]> { (byte[])ipv6[..40].Clone() };
        for (var i = 0; i < headers.Length; i++)
        {
            var bytes = (byte[])headers[i].Bytes.Clone();
            bytes[0] = i + 1 < headers.Length ? headers[i + 1].Kind : upperProtocol;
            parts.Add(bytes);
        }

        parts.Add(ipv6[40..]);
        var result = Concat([.. parts]);
        result[6] = headers.Length > 0 ? headers[0].Kind : upperProtocol;
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(4), (ushort)(result.Length - 40));
        return result;
    }

    /// <summary>
    /// Hop-by-hop (0), routing (43) or destination options (60): length in 8-octet units; the option
    /// area is all Pad1 options (zero bytes, RFC 8200 section 4.2).
    /// </summary>
    public static (byte Kind, byte[] Bytes) OptionsHeader(byte kind, int totalBytes)
    {
        var bytes = new byte[totalBytes];
        bytes[1] = (byte)((totalBytes / 8) - 1);
        if (kind == 43)
        {
            // Routing type 4 (segment routing) with no segments left: processed as a no-op by receivers.
            bytes[2] = 4;
        }

        return (kind, bytes);
    }

    public static (byte Kind, byte[] Bytes) FragmentHeader(int offsetUnits, bool moreFragments, uint identification = 0x12345678)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)((offsetUnits << 3) | (moreFragments ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), identification);
        return (44, bytes);
    }

    /// <summary>RFC 4302 authentication header: length in 32-bit words minus 2.</summary>
    public static (byte Kind, byte[] Bytes) AuthenticationHeader(int totalBytes)
    {
        var bytes = new byte[totalBytes];
        bytes[1] = (byte)((totalBytes / 4) - 2);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 0x1000);
        return (51, bytes);
    }

    /// <summary>A GTPv1-U message: flags, type, length (after the first 8 bytes), TEID, then the rest.</summary>
    public static byte[] Gtp(byte flags, byte messageType, string optionalHex, byte[] inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var optional = FromHex(optionalHex);
        var header = new byte[8];
        header[0] = flags;
        header[1] = messageType;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)(optional.Length + inner.Length));
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 0x07E029A2);
        return Concat(header, optional, inner);
    }

    /// <summary>
    /// SYN number <paramref name="index"/> of a flood: each from its own address and port (10.x.y.z, unique for
    /// the first 2^24 indexes) to 10.255.0.1:80, so every one is a new connection.
    /// </summary>
    public static byte[] FloodSyn(int index)
    {
        var spec = new TcpSpec(
            SourcePort: (ushort)(1024 + (index % 60_000)),
            DestinationPort: 80,
            Sequence: 1,
            Acknowledgment: 0,
            Flags: TcpControl.Syn,
            Window: 64_240,
            Payload: [],
            Options: []);
        var source = new IPAddress(new byte[] { 10, (byte)(index >> 16), (byte)(index >> 8), (byte)index });
        return EthernetTcp(spec, source, s_floodTarget, SourceMac, DestinationMac, default);
    }

    private static IPPacket IP(IPAddress source, IPAddress destination, IpFields fields) =>
        source.AddressFamily == AddressFamily.InterNetworkV6
            ? new IPv6Packet(source, destination) { HopLimit = 64 }
            : new IPv4Packet(source, destination)
            {
                TimeToLive = 64,
                Id = fields.Identification,
                FragmentFlags = (fields.DontFragment ? 0x2 : 0) | (fields.MoreFragments ? 0x1 : 0),
                FragmentOffset = fields.FragmentOffset,
            };

    private static IPPacket Finish(IPPacket ip, TcpPacket tcp)
    {
        ip.PayloadPacket = tcp;
        tcp.UpdateCalculatedValues();
        ip.UpdateCalculatedValues();
        tcp.UpdateTcpChecksum();
        if (ip is IPv4Packet ipv4)
        {
            ipv4.UpdateIPChecksum();
        }

        return ip;
    }
}

/// <summary>What a test puts into a TCP segment, and so what the decoder must give back.</summary>
public sealed record TcpSpec(
    ushort SourcePort,
    ushort DestinationPort,
    uint Sequence,
    uint Acknowledgment,
    TcpControl Flags,
    ushort Window,
    byte[] Payload,
    byte[] Options)
{
    /// <summary>A data segment with a timestamp option, as most stacks send.</summary>
    public static TcpSpec Default() => new(
        SourcePort: 51000,
        DestinationPort: 80,
        Sequence: 0x01020304,
        Acknowledgment: 0xA0B0C0D0,
        Flags: TcpControl.Psh | TcpControl.Ack,
        Window: 0xFAF0,
        Payload: "GET /chat HTTP/1.1\r\n\r\n"u8.ToArray(),
        Options: PacketFrames.FromHex("0101 080a 00252f1c 00000000"));
}
