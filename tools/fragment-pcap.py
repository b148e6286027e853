#!/usr/bin/env python3
"""Fragments the IP packets of a pcap file the way a sending host does when a packet is larger than its MTU.

Usage: tools/fragment-pcap.py IN.pcap OUT.pcap [--mtu BYTES] [--reverse] [--duplicate-every N]

Every IPv4 or IPv6 packet longer than the MTU is replaced by its fragments (RFC 791 section 3.2, RFC 8200
section 4.5), at the same time stamp; the others are copied unchanged. IPv4 fragments get a fresh header
checksum, the Don't Fragment bit cleared (a sender with path MTU discovery off, as net.ipv4.ip_no_pmtu_disc=1
makes Linux) and an identification of their own; options without the copy flag stay in the first fragment
only. IPv6 fragments keep the hop-by-hop and routing headers (and destination options before a routing header)
in every fragment and get a Fragment header. Identifications are counted from 0x10000 (the low 16 bits for IPv4). --reverse sends each packet's fragments last first
(as Linux 2.0 to 2.4 did); --duplicate-every N sends the second fragment of every Nth fragmented packet twice.

Reads and writes classic pcap (either byte order, microsecond or nanosecond) with Ethernet (1) or raw IP (101)
frames; the standard library only (scapy's fragment() is not needed). Deterministic: the same input gives the
same bytes.
"""

import argparse
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
IPV6_UNFRAGMENTABLE = {0, 43}
DESTINATION_OPTIONS = 60
FRAGMENT_HEADER = 44


def ipv4_checksum(header):
    total = 0
    for i in range(0, len(header), 2):
        total += (header[i] << 8) | header[i + 1]
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ipv4_copied_options(options):
    """The options a later fragment repeats: those with the copy flag (RFC 791 section 3.1), padded to 32 bits."""
    kept = bytearray()
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        length = options[i + 1] if i + 1 < len(options) else 0
        if length < 2:
            break
        if kind & 0x80:
            kept += options[i:i + length]
        i += length
    while len(kept) % 4:
        kept.append(0)
    return bytes(kept)


def fragment_ipv4(packet, mtu, identification):
    header_length = (packet[0] & 0x0F) * 4
    total_length = struct.unpack_from("!H", packet, 2)[0]
    if total_length <= mtu or total_length > len(packet):
        return None
    header = bytearray(packet[:header_length])
    data = packet[header_length:total_length]
    later_header = bytearray(header[:20] + ipv4_copied_options(packet[20:header_length]))
    later_header[0] = 0x40 | (len(later_header) // 4)
    fragments = []
    offset = 0
    while offset < len(data):
        this_header = header if offset == 0 else later_header
        room = (mtu - len(this_header)) // 8 * 8
        piece = data[offset:offset + room]
        more = offset + len(piece) < len(data)
        fragment = bytearray(this_header) + piece
        struct.pack_into("!H", fragment, 2, len(fragment))
        struct.pack_into("!H", fragment, 4, identification & 0xFFFF)
        flags = struct.unpack_from("!H", packet, 6)[0] & 0x8000  # the reserved bit; DF cleared
        struct.pack_into("!H", fragment, 6, flags | (0x2000 if more else 0) | (offset // 8))
        struct.pack_into("!H", fragment, 10, 0)
        struct.pack_into("!H", fragment, 10, ipv4_checksum(fragment[:len(this_header)]))
        fragments.append(bytes(fragment))
        offset += len(piece)
    return fragments


def ipv6_unfragmentable_length(packet):
    """Where the fragmentable part starts and which byte names it (RFC 8200 section 4.5)."""
    position, next_header_index = 40, 6
    next_header = packet[6]
    while True:
        following = packet[position] if position + 2 <= len(packet) else None
        if next_header in IPV6_UNFRAGMENTABLE or (next_header == DESTINATION_OPTIONS and following == 43):
            length = (packet[position + 1] + 1) * 8
            next_header_index = position
            next_header = packet[position]
            position += length
            continue
        return position, next_header_index


def fragment_ipv6(packet, mtu, identification):
    total_length = 40 + struct.unpack_from("!H", packet, 4)[0]
    if total_length <= mtu or total_length > len(packet):
        return None
    unfragmentable, next_header_index = ipv6_unfragmentable_length(packet)
    head = bytearray(packet[:unfragmentable])
    fragmentable_next = head[next_header_index]
    head[next_header_index] = FRAGMENT_HEADER
    data = packet[unfragmentable:total_length]
    room = (mtu - unfragmentable - 8) // 8 * 8
    fragments = []
    offset = 0
    while offset < len(data):
        piece = data[offset:offset + room]
        more = offset + len(piece) < len(data)
        fragment_header = struct.pack("!BBHI", fragmentable_next, 0, offset | (1 if more else 0), identification)
        fragment = bytearray(head) + fragment_header + piece
        struct.pack_into("!H", fragment, 4, len(fragment) - 40)
        fragments.append(bytes(fragment))
        offset += len(piece)
    return fragments


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--mtu", type=int, default=1500)
    parser.add_argument("--reverse", action="store_true")
    parser.add_argument("--duplicate-every", type=int, default=0)
    args = parser.parse_args()
    if args.mtu < 68:
        sys.exit("fragment-pcap: the MTU is at least 68 bytes (RFC 791)")

    with open(args.input, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        sys.exit(f"fragment-pcap: {args.input}: not a classic pcap file (magic {magic.hex()})")
    link_type = struct.unpack_from(order + "I", data, 20)[0] & 0x0FFFFFFF
    if link_type not in (LINKTYPE_ETHERNET, LINKTYPE_RAW):
        sys.exit(f"fragment-pcap: {args.input}: link type {link_type}, only Ethernet (1) and raw IP (101) are fragmented")

    out = bytearray(data[:24])
    position = 24
    fragmented = 0
    identification = 0x10000
    while position + 16 <= len(data):
        seconds, fraction, captured, original = struct.unpack_from(order + "IIII", data, position)
        frame = data[position + 16:position + 16 + captured]
        position += 16 + captured
        if len(frame) < captured:
            sys.exit(f"fragment-pcap: {args.input}: the last record is cut short")
        link = frame[:14] if link_type == LINKTYPE_ETHERNET else b""
        packet = frame[len(link):]
        fragments = None
        if captured == original and len(packet) >= 20:
            ether_type = struct.unpack_from("!H", link, 12)[0] if link else None
            version = packet[0] >> 4
            if version == 4 and ether_type in (None, ETHERTYPE_IPV4):
                fragments = fragment_ipv4(packet, args.mtu, identification)
            elif version == 6 and ether_type in (None, ETHERTYPE_IPV6) and len(packet) >= 40:
                fragments = fragment_ipv6(packet, args.mtu, identification)
        if fragments is None:
            out += struct.pack(order + "IIII", seconds, fraction, captured, original) + frame
            continue
        identification += 1
        fragmented += 1
        if args.reverse:
            fragments.reverse()
        if args.duplicate_every and fragmented % args.duplicate_every == 0 and len(fragments) > 1:
            fragments.insert(2, fragments[1])
        for fragment in fragments:
            record = link + fragment
            out += struct.pack(order + "IIII", seconds, fraction, len(record), len(record)) + record

    with open(args.output, "wb") as f:
        f.write(out)
    print(f"{args.output}: {fragmented} packets fragmented at MTU {args.mtu}")


if __name__ == "__main__":
    main()
