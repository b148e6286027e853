using System.Globalization;
using System.Text.RegularExpressions;

namespace WsCloseSniffer.Capture;

/// <summary>How a capture tool names the files it rotates into.</summary>
public enum RotationNaming : byte
{
    /// <summary><c>tcpdump -C</c> (and <c>-W</c>): <c>trace.pcap</c>, <c>trace.pcap1</c>, <c>trace.pcap2</c>, ... (or <c>trace.pcap00</c>, <c>01</c>, ...).</summary>
    TcpdumpCount = 0,
    /// <summary><c>tcpdump -G</c> with strftime in the name: <c>trace-20261203-101500.pcap</c>, or <c>%s</c> seconds.</summary>
    TcpdumpTime = 1,
    /// <summary>dumpcap's (Wireshark's) ring buffer: <c>trace_00001_20261203101500.pcapng</c>.</summary>
    DumpcapRing = 2,
}

/// <summary>
/// A file name read as one of a rotation's: which rotation (<see cref="Stem"/>, the name without its rotation
/// number or time) and where in it (<see cref="Sequence"/>). Only the tools' own naming schemes are recognised,
/// never "any name with a number in it": <c>web1.pcap</c> and <c>web2.pcap</c> are more likely two hosts.
/// </summary>
public readonly record struct RotationName(RotationNaming Naming, string Stem, string Sequence)
{
    private static readonly Regex s_dumpcap = new(@"^(?<stem>.+)_(?<n>\d{5,})_(?<time>\d{14})(?<ext>\.pcapng|\.pcap)(?<gz>\.gz)?$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static readonly Regex s_tcpdumpCount = new(@"^(?<base>.+\.(?:pcapng|pcap|cap))(?<n>\d+)(?<gz>\.gz)?$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    private static readonly Regex s_digits = new(@"\d+", RegexOptions.CultureInvariant);

    /// <summary>Sequence of tcpdump -C's first file, which has no number: before "0", "1", ...</summary>
    public const string UnnumberedSequence = "";

    /// <summary>
    /// Reads <paramref name="fileName"/> as a rotated file's name. <paramref name="countedBases"/> are the names that
    /// numbered tcpdump -C files extend (<c>trace.pcap</c> for <c>trace.pcap1</c>): such a name is that rotation's first
    /// file, as tcpdump -C names it without -W.
    /// </summary>
    public static bool TryParse(string fileName, IReadOnlySet<string> countedBases, out RotationName name)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(countedBases);
        if (s_dumpcap.Match(fileName) is { Success: true } ring)
        {
            name = new RotationName(RotationNaming.DumpcapRing, ring.Groups["stem"].Value + "_#_#" + ring.Groups["ext"].Value + ring.Groups["gz"].Value,
                ring.Groups["n"].Value.PadLeft(20, '0') + ring.Groups["time"].Value);
            return true;
        }

        if (TryParseCounted(fileName, out var counted, out var number))
        {
            name = new RotationName(RotationNaming.TcpdumpCount, counted, number.PadLeft(20, '0'));
            return true;
        }

        if (countedBases.Contains(fileName))
        {
            name = new RotationName(RotationNaming.TcpdumpCount, fileName, UnnumberedSequence);
            return true;
        }

        if (TryParseTimed(fileName, out var stem, out var sequence))
        {
            name = new RotationName(RotationNaming.TcpdumpTime, stem, sequence);
            return true;
        }

        name = default;
        return false;
    }

    /// <summary>The name a tcpdump -C file extends with its number (and gzip suffix): <c>trace.pcap</c> for <c>trace.pcap12</c>.</summary>
    public static bool TryParseCounted(string fileName, out string baseName, out string number)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (s_tcpdumpCount.Match(fileName) is { Success: true } match && match.Groups["n"].Value.Length <= 19)
        {
            baseName = match.Groups["base"].Value + match.Groups["gz"].Value;
            number = match.Groups["n"].Value;
            return true;
        }

        baseName = string.Empty;
        number = string.Empty;
        return false;
    }

    /// <summary>
    /// A name whose digits are a date and time (year, month, day, hour, minute, in that order: strftime's
    /// <c>%Y%m%d%H%M</c> with any separators, seconds optional) or one 10-digit run of Unix seconds (<c>%s</c>).
    /// </summary>
    private static bool TryParseTimed(string fileName, out string stem, out string sequence)
    {
        stem = string.Empty;
        sequence = string.Empty;
        var runs = s_digits.Matches(fileName);
        if (runs.Count == 0 || runs.Any(r => r.Length > 19))
        {
            return false;
        }

        var digits = string.Concat(runs.Select(r => r.Value));
        var isUnixSeconds = runs.Count == 1 && digits.Length == 10 && digits[0] is '1' or '2';
        if (!isUnixSeconds && !IsDateAndTime(digits))
        {
            return false;
        }

        stem = s_digits.Replace(fileName, m => new string('#', m.Length));
        sequence = digits;
        return true;
    }

    // strftime's %Y%m%d%H%M with or without %S: 12 or 14 digits. Any other count means other numbers share the name
    // (an interface's eth0/eth1), and files that differ there are not one rotation.
    private static bool IsDateAndTime(string digits) =>
        digits.Length is 12 or 14
        && DateTime.TryParseExact(digits[..12], "yyyyMMddHHmm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
        && time.Year is >= 1990 and < 2100
        && (digits.Length < 14 || int.Parse(digits.AsSpan(12, 2), CultureInfo.InvariantCulture) < 61);
}
