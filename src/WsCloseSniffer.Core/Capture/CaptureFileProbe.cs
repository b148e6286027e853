namespace WsCloseSniffer.Capture;

/// <summary>What a look at a capture file found: its format, its packets' time range and link types.</summary>
/// <param name="Format">"pcap" or "pcapng" (after any gzip).</param>
/// <param name="FirstPacketTime">Null when the file has no packet (or could not be read).</param>
/// <param name="LastPacketTime">The latest packet time; known only when the file was read to its end.</param>
/// <param name="LinkTypes">The link types of the packets read, ascending.</param>
/// <param name="Problem">Why the file could not be read (fully), or null.</param>
/// <param name="OpenError">Set when the file could not be opened as a capture at all.</param>
public sealed record CaptureFileSummary(
    string Path,
    string? Format,
    Timestamp? FirstPacketTime,
    Timestamp? LastPacketTime,
    IReadOnlyList<LinkType> LinkTypes,
    string? Problem,
    Exception? OpenError = null)
{
    /// <summary>Interfaces described by the file when reading stopped: 1 for classic pcap, the last section's for pcapng.</summary>
    public int Interfaces { get; init; } = 1;
}

/// <summary>Reads just enough of a capture file to order it among others, or all of it to learn its time range.</summary>
public static class CaptureFileProbe
{
    /// <summary>
    /// Opens <paramref name="path"/> and reads its first packet, or with <paramref name="toEnd"/> every packet
    /// (records only, nothing decoded); never throws for an unreadable or damaged file (see <see cref="CaptureFileSummary.Problem"/>).
    /// </summary>
    public static CaptureFileSummary Read(string path, bool toEnd)
    {
        ArgumentNullException.ThrowIfNull(path);
        IPacketSource file;
        try
        {
            file = CaptureFile.Open(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CaptureFormatException)
        {
            return new CaptureFileSummary(path, null, null, null, [], e.Message, e);
        }

        using (file)
        {
            var format = file is PcapNgReader ? "pcapng" : "pcap";
            Timestamp? first = null;
            var last = Timestamp.Zero;
            var linkTypes = new SortedSet<LinkType>();
            try
            {
                while (file.TryReadNext(out var packet))
                {
                    first ??= packet.Timestamp;
                    last = Timestamp.Max(last, packet.Timestamp);
                    linkTypes.Add(packet.LinkType);
                    if (!toEnd)
                    {
                        return new CaptureFileSummary(path, format, first, null, [.. linkTypes], null) { Interfaces = InterfacesOf(file) };
                    }
                }
            }
            catch (IOException e)
            {
                return new CaptureFileSummary(path, format, first, null, [.. linkTypes], e.Message);
            }

            return new CaptureFileSummary(path, format, first, first is null ? null : last, [.. linkTypes], file.Damage?.ToString()) { Interfaces = InterfacesOf(file) };
        }
    }

    private static int InterfacesOf(IPacketSource file) => file is PcapNgReader pcapNg ? pcapNg.InterfaceCount : 1;
}
