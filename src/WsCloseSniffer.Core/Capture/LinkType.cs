namespace WsCloseSniffer.Capture;

/// <summary>
/// Link-layer header types as numbered in pcap and pcapng files (tcpdump.org LINKTYPE_ values).
/// Only the ones the decoder understands are named; any other value is carried as is.
/// </summary>
public enum LinkType : uint
{
    Null = 0,          // BSD loopback: 4-byte address family in the capturing host's byte order
    Ethernet = 1,
    Raw = 101,         // raw IPv4 or IPv6, version from the first nibble
    Loop = 108,        // OpenBSD loopback: 4-byte address family, big-endian
    LinuxSll = 113,
    LinuxSll2 = 276,
    Ipv4 = 228,
    Ipv6 = 229,
}
