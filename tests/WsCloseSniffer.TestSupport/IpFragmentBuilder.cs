using System.Buffers.Binary;

namespace WsCloseSniffer.TestSupport;

/// <summary>
/// Cuts whole IP packets (built by PacketDotNet) into fragments the way a sender does (RFC 791 section 3.2,
/// RFC 8200 section 4.5), by byte arithmetic on the packet only: nothing of our decoder is used.
/// </summary>
public static class IpFragmentBuilder
{
    /// <summary>
    /// IPv4 fragments of <paramref name="ipv4"/> holding the data ranges given (offset and length in bytes of the
    /// data after the header; an offset must be a multiple of 8). The last range of the data is sent with MF clear,
    /// every other with MF set, unless <paramref name="moreFragments"/> says otherwise for each piece.
    /// </summary>
    public static byte[] IPv4(byte[] ipv4, int offset, int length, bool? moreFragments = null, ushort identification = 0x4242)
    {
        var headerLength = (ipv4[0] & 0x0F) * 4;
        var dataLength = BinaryPrimitives.ReadUInt16BigEndian(ipv4.AsSpan(2)) - headerLength;
        var more = moreFragments ?? offset + length < dataLength;
        var fragment = PacketFrames.Concat(ipv4[..headerLength], ipv4.AsSpan(headerLength + offset, length).ToArray());
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(2), (ushort)fragment.Length);
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(4), identification);
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(6), (ushort)((more ? 0x2000 : 0) | (offset / 8)));
        WriteIPv4Checksum(fragment, headerLength);
        return fragment;
    }

    /// <summary>Fragments of <paramref name="ipv4"/> of at most <paramref name="maxData"/> data bytes each (a multiple of 8), in order.</summary>
    public static List<byte[]> IPv4(byte[] ipv4, int maxData, ushort identification = 0x4242)
    {
        var headerLength = (ipv4[0] & 0x0F) * 4;
        var dataLength = BinaryPrimitives.ReadUInt16BigEndian(ipv4.AsSpan(2)) - headerLength;
        var fragments = new List<byte[]>();
        for (var offset = 0; offset < dataLength; offset += maxData)
        {
            fragments.Add(IPv4(ipv4, offset, Math.Min(maxData, dataLength - offset), identification: identification));
        }

        return fragments;
    }

    /// <summary>
    /// An IPv6 fragment of <paramref name="ipv6"/>: its first <paramref name="unfragmentableLength"/> bytes (the
    /// fixed header and the extension headers that stay in every fragment), a Fragment header, then the data range.
    /// <paramref name="nextHeaderIndex"/> is the byte naming the first fragmentable header (6 with no extension headers before).
    /// </summary>
    public static byte[] IPv6(byte[] ipv6, int unfragmentableLength, int nextHeaderIndex, int offset, int length, bool? moreFragments = null, uint identification = 0xC0FFEE)
    {
        var dataLength = 40 + BinaryPrimitives.ReadUInt16BigEndian(ipv6.AsSpan(4)) - unfragmentableLength;
        var more = moreFragments ?? offset + length < dataLength;
        var header = new byte[8];
        header[0] = ipv6[nextHeaderIndex];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)((offset / 8) << 3 | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), identification);
        var fragment = PacketFrames.Concat(ipv6[..unfragmentableLength], header, ipv6.AsSpan(unfragmentableLength + offset, length).ToArray());
        fragment[nextHeaderIndex] = 44;
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(4), (ushort)(fragment.Length - 40));
        return fragment;
    }

    /// <summary>Fragments of at most <paramref name="maxData"/> data bytes each, in order; no extension headers before the Fragment header.</summary>
    public static List<byte[]> IPv6(byte[] ipv6, int maxData, uint identification = 0xC0FFEE)
    {
        var dataLength = BinaryPrimitives.ReadUInt16BigEndian(ipv6.AsSpan(4));
        var fragments = new List<byte[]>();
        for (var offset = 0; offset < dataLength; offset += maxData)
        {
            fragments.Add(IPv6(ipv6, 40, 6, offset, Math.Min(maxData, dataLength - offset), identification: identification));
        }

        return fragments;
    }

    private static void WriteIPv4Checksum(byte[] packet, int headerLength)
    {
        packet[10] = 0;
        packet[11] = 0;
        uint sum = 0;
        for (var i = 0; i < headerLength; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(i));
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), (ushort)~sum);
    }
}
