#!/usr/bin/env python3
"""Builds fuzz/corpus/TARGET/ seeds: copies of samples/pcaps and small hand-made inputs.
Re-run after changing samples; the output is committed so run.sh needs no Python."""
import gzip, os, shutil, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
samples = os.path.join(here, "..", "samples", "pcaps")
corpus = os.path.join(here, "corpus")

def write(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def pcap_records(data):
    """(link type, frame) of each record of a little-endian classic pcap."""
    link = struct.unpack_from("<I", data, 20)[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        yield link, data[off + 16: off + 16 + incl]
        off += 16 + incl

def tcp_payloads(frame):
    """TCP payload of an Ethernet frame with IPv4 or IPv6 (no options beyond data offset)."""
    ethertype = struct.unpack_from(">H", frame, 12)[0]
    ip = frame[14:]
    if ethertype == 0x0800:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack_from(">H", ip, 2)[0]
        tcp = ip[ihl:total]
    elif ethertype == 0x86DD:
        tcp = ip[40:40 + struct.unpack_from(">H", ip, 4)[0]]
    else:
        return b""
    return tcp[(tcp[12] >> 4) * 4:]

pcaps = sorted(f for f in os.listdir(samples) if f.endswith((".pcap", ".pcapng", ".gz")))
for name in pcaps:
    data = open(os.path.join(samples, name), "rb").read()
    write("capture", name, data)
    write("pipeline", name, data)

# Hand-made capture seeds: big-endian nanosecond pcap header with one record, an empty pcapng section.
one_frame = bytes(14)
be_ns = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1) + struct.pack(">IIII", 1, 2, 14, 14) + one_frame
write("capture", "hand-be-ns.pcap", be_ns)
write("capture", "hand-be-ns.pcap.gz", gzip.compress(be_ns, mtime=0))
shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
shb = struct.pack("<II", 0x0A0D0D0A, 12 + len(shb_body)) + shb_body + struct.pack("<I", 12 + len(shb_body))
idb_body = struct.pack("<HHI", 113, 0, 0)
idb = struct.pack("<II", 1, 12 + len(idb_body)) + idb_body + struct.pack("<I", 12 + len(idb_body))
spb_body = struct.pack("<I", 16) + bytes(16)
spb = struct.pack("<II", 3, 12 + len(spb_body)) + spb_body + struct.pack("<I", 12 + len(spb_body))
write("capture", "hand-sll.pcapng", shb + idb + spb)

# Decoder: byte 0 = link type index (see FuzzTargets.s_linkTypes), byte 1 = original length slack.
frames = [f for link, f in pcap_records(open(os.path.join(samples, "01-client-close-1000.pcap"), "rb").read())]
v6 = [f for link, f in pcap_records(open(os.path.join(samples, "07-ipv6-going-away-1001.pcap"), "rb").read())]
for i, f in enumerate(frames[:4] + v6[:2] + [frames[3][:60]]):
    write("decoder", f"eth-{i}", bytes([1, 0]) + f)
write("decoder", "raw-ipv4", bytes([2, 0]) + frames[3][14:])
write("decoder", "raw-ipv6", bytes([7, 0]) + v6[3][14:])
write("decoder", "null-ipv4", bytes([0, 0]) + struct.pack("<I", 2) + frames[3][14:])
write("decoder", "loop-ipv6", bytes([3, 0]) + struct.pack(">I", 24) + v6[3][14:])
write("decoder", "sll-ipv4", bytes([4, 0]) + struct.pack(">HHH8sH", 0, 772, 6, bytes(8), 0x0800) + frames[3][14:])
write("decoder", "sll2-ipv4", bytes([5, 0]) + struct.pack(">HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, bytes(8)) + frames[3][14:])
write("decoder", "vlan", bytes([1, 0]) + frames[3][:12] + b"\x81\x00\x00\x05" + frames[3][12:])

# HTTP and frames: the two directions' payloads of each sample session.
for name in pcaps:
    if not name.endswith(".pcap"):
        continue
    data = open(os.path.join(samples, name), "rb").read()
    payloads = [p for p in (tcp_payloads(f) for _, f in pcap_records(data)) if p]
    if not payloads:
        continue
    stem = name[:2]
    write("http", f"{stem}-request", bytes([16]) + payloads[0])
    if len(payloads) > 1:
        write("http", f"{stem}-response", bytes([5]) + payloads[1])
    frames_data = b"".join(p for p in payloads[2:] if not p.startswith(b"HTTP/"))
    if frames_data:
        write("frames", f"{stem}-frames", bytes([22, 0]) + frames_data)
write("http", "hand-folded", bytes([3]) + b"GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits,\r\n x-foo; a=\"q\\\"s\"\r\n\r\n")
write("frames", "hand-64bit-length", bytes([22, 0]) + b"\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff")
write("frames", "hand-close-masked", bytes([3, 3]) + b"\x88\x84\x01\x02\x03\x04" + bytes([0x03 ^ 1, 0xE8 ^ 2, 0x41 ^ 3, 0xFF ^ 4]))
write("frames", "hand-ping-long", bytes([22, 0]) + b"\x89\x7e\x01\x00" + bytes(256))
print("corpus written to", corpus)
