using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace WsCloseSniffer.TestSupport;

/// <summary>One side of a TCP connection: its link and IP addresses, its port, and what it sends next.</summary>
public sealed class TcpPeer(PhysicalAddress mac, IPAddress address, ushort port, uint initialSequence, ushort initialIpId = 0)
{
    public PhysicalAddress Mac { get; } = mac;

    public IPAddress Address { get; } = address;

    public ushort Port { get; } = port;

    /// <summary>The next sequence number this side sends (SND.NXT, RFC 9293 section 3.3.1).</summary>
    public uint NextSequence { get; set; } = initialSequence;

    /// <summary>The IPv4 identification of this side's next packet; each packet takes the next one.</summary>
    public ushort NextIpId { get; set; } = initialIpId;

    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;
}

/// <summary>
/// One TCP connection's frames (Ethernet, IPv4 or IPv6, TCP; built by <see cref="PacketFrames"/> with PacketDotNet):
/// each segment carries its side's next sequence number and acknowledges all the peer sent, and SYN, FIN and
/// payload move the sender on (RFC 9293 section 3.4). Time is the caller's: this class only builds frames.
/// </summary>
/// <param name="dontFragment">sets the IPv4 DF bit on every packet, as stacks that do path MTU discovery do.</param>
public sealed class TcpConversation(TcpPeer client, TcpPeer server, bool dontFragment = false)
{
    public const ushort DefaultWindow = 65_535;

    public TcpPeer Client { get; } = client;

    public TcpPeer Server { get; } = server;

    public TcpPeer PeerOf(TcpPeer side) => side == Client ? Server : Client;

    /// <summary>A segment from <paramref name="from"/>; <paramref name="options"/> are raw TCP option bytes (whole words).</summary>
    public byte[] Segment(TcpPeer from, TcpControl flags, ReadOnlySpan<byte> payload, ushort window = DefaultWindow, byte[]? options = null)
    {
        ArgumentNullException.ThrowIfNull(from);
        var to = PeerOf(from);
        var frame = SegmentAt(from, from.NextSequence, (flags & TcpControl.Ack) != 0 ? to.NextSequence : 0, flags, payload, window, options);
        from.NextSequence += (uint)payload.Length + ((flags & (TcpControl.Syn | TcpControl.Fin)) != 0 ? 1u : 0u);
        return frame;
    }

    /// <summary>A segment with the given sequence and acknowledgment numbers (forged, or out of window); moves nobody on.</summary>
    public byte[] SegmentAt(TcpPeer from, uint sequence, uint acknowledgment, TcpControl flags, ReadOnlySpan<byte> payload, ushort window = DefaultWindow, byte[]? options = null)
    {
        ArgumentNullException.ThrowIfNull(from);
        var to = PeerOf(from);
        var spec = new TcpSpec(from.Port, to.Port, sequence, acknowledgment, flags, window, payload.ToArray(), options ?? []);
        var ipFields = new IpFields(from.NextIpId++, dontFragment);
        return PacketFrames.EthernetTcp(spec, from.Address, to.Address, from.Mac, to.Mac, ipFields);
    }
}
