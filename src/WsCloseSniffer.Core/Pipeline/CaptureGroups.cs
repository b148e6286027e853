using System.Globalization;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Pipeline;

/// <summary>
/// Capture files read as one capture (one reassembler, one set of sessions), or a single file. <see cref="Reason"/>
/// says why files were joined (null for a single file).
/// </summary>
public sealed record CaptureGroup(IReadOnlyList<CaptureInput> Files, string? Reason)
{
    public bool IsJoined => Files.Count > 1;

    /// <summary>The summary's line about this group: which files were joined (the first and last few of many) and why.</summary>
    public string Describe() =>
        Files.Count <= MaxNamedFiles
            ? $"{string.Join(", ", Files.Select(f => f.DisplayName))}: {Reason}"
            : $"{string.Join(", ", Files.Take(2).Select(f => f.DisplayName))}, ... {Files[^1].DisplayName} ({Files.Count} files): {Reason}";

    /// <summary>More files than this are named by the first two and the last.</summary>
    public const int MaxNamedFiles = 6;
}

/// <summary>
/// Which files are read as one capture: each file on its own (the default), all of them (<c>--as-one</c>), or the
/// sets that are clearly one rotation (<see cref="DetectRotations"/>).
/// </summary>
public static class CaptureGroups
{
    /// <summary>How far a file's first packet may precede the previous file's last one (timestamps taken on several CPUs).</summary>
    public const long MaxRotationOverlapMilliseconds = 1000;

    public static IReadOnlyList<CaptureGroup> Separate(IReadOnlyList<CaptureInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return [.. inputs.Select(i => new CaptureGroup([i], null))];
    }

    /// <summary>Every input in one capture, merged by packet time (<c>--as-one</c>).</summary>
    public static IReadOnlyList<CaptureGroup> AsOne(IReadOnlyList<CaptureInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return inputs.Count <= 1 ? Separate(inputs) : [new CaptureGroup(inputs, "--as-one: merged by packet time")];
    }

    /// <summary>
    /// Joins the files that are clearly one rotation; every other file stays on its own. A set is joined only when all
    /// of these hold: (1) the files are in one directory and named by one tool's rotation scheme with one stem
    /// (<see cref="RotationName"/>); (2) each is readable to its end and undamaged, and at least two hold packets
    /// (files without packets join, but take no part in the checks on time); (3) all have the same format and the
    /// files with packets the same number of interfaces (pcapng) and the same link types; (4) in packet-time order, each file starts no earlier than
    /// <see cref="MaxRotationOverlapMilliseconds"/> before the previous file's last packet and no later than the
    /// reassembler's idle timeout after it (so no connection could have gone idle in between); (5) the time order
    /// is the names' order (for tcpdump -C -W, whose numbers wrap, a rotation of it). Learning each file's last
    /// packet time reads the candidate files once more before the analysis; files whose names match no scheme are
    /// not read.
    /// </summary>
    public static IReadOnlyList<CaptureGroup> DetectRotations(IReadOnlyList<CaptureInput> inputs, ReassemblyOptions reassembly)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(reassembly);
        // Per directory, the names numbered tcpdump -C files extend: such a name is its rotation's unnumbered first file.
        var countedBases = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (RotationName.TryParseCounted(Path.GetFileName(input.Path), out var baseName, out _))
            {
                var directory = DirectoryOf(input.Path);
                if (!countedBases.TryGetValue(directory, out var bases))
                {
                    countedBases[directory] = bases = new HashSet<string>(StringComparer.Ordinal);
                }

                bases.Add(baseName);
            }
        }

        var noBases = new HashSet<string>(StringComparer.Ordinal);
        var candidates = new Dictionary<(string Directory, RotationNaming Naming, string Stem), List<(CaptureInput Input, string Sequence)>>();
        foreach (var input in inputs)
        {
            var directory = DirectoryOf(input.Path);
            if (RotationName.TryParse(Path.GetFileName(input.Path), countedBases.GetValueOrDefault(directory) ?? noBases, out var name))
            {
                var key = (directory, name.Naming, name.Stem);
                if (!candidates.TryGetValue(key, out var list))
                {
                    candidates[key] = list = [];
                }

                list.Add((input, name.Sequence));
            }
        }

        var joinedBy = new Dictionary<CaptureInput, CaptureGroup>();
        foreach (var ((_, naming, _), members) in candidates)
        {
            if (members.Count > 1 && TryJoin(naming, members, reassembly) is { } group)
            {
                foreach (var file in group.Files)
                {
                    joinedBy[file] = group;
                }
            }
        }

        // Each group where its first file was in the input order; the files of a joined group only once.
        var groups = new List<CaptureGroup>();
        var placed = new HashSet<CaptureGroup>();
        foreach (var input in inputs)
        {
            if (!joinedBy.TryGetValue(input, out var group))
            {
                groups.Add(new CaptureGroup([input], null));
            }
            else if (placed.Add(group))
            {
                groups.Add(group);
            }
        }

        return groups;
    }

    private static string DirectoryOf(string path) => Path.GetDirectoryName(Path.GetFullPath(path)) ?? string.Empty;

    private static CaptureGroup? TryJoin(RotationNaming naming, List<(CaptureInput Input, string Sequence)> members, ReassemblyOptions reassembly)
    {
        var byName = members.OrderBy(m => m.Sequence, StringComparer.Ordinal).ToList();
        if (byName.Select(m => m.Sequence).Distinct(StringComparer.Ordinal).Count() != byName.Count)
        {
            // trace.pcap1 beside trace.pcap01: not one tool's one run.
            return null;
        }

        // Read to their ends on every core, as the files of a run are analyzed.
        var summaries = new CaptureFileSummary[byName.Count];
        Parallel.For(0, byName.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => summaries[i] = CaptureFileProbe.Read(byName[i].Input.Path, toEnd: true));

        var files = new List<(CaptureInput Input, string Sequence, CaptureFileSummary Summary)>();
        var empty = new List<CaptureInput>();
        foreach (var ((input, sequence), summary) in byName.Zip(summaries))
        {
            if (summary.Problem is not null)
            {
                return null;
            }

            if (summary.FirstPacketTime is null)
            {
                // tcpdump leaves a file without packets when it rotates before the first one: nothing to order.
                empty.Add(input);
                continue;
            }

            files.Add((input, sequence, summary));
        }

        if (files.Count < 2)
        {
            return null;
        }

        var first = files[0].Summary;
        if (files.Any(f => f.Summary.Format != first.Format || f.Summary.Interfaces != first.Interfaces || !f.Summary.LinkTypes.SequenceEqual(first.LinkTypes))
            || empty.Any(e => CaptureFileProbe.Read(e.Path, toEnd: false).Format != first.Format))
        {
            return null;
        }

        var byTime = files.OrderBy(f => f.Summary.FirstPacketTime!.Value).ThenBy(f => f.Sequence, StringComparer.Ordinal).ToList();
        if (!IsNameOrder(byTime.Select(f => f.Sequence).ToList(), files.Select(f => f.Sequence).ToList(), allowWrap: naming == RotationNaming.TcpdumpCount))
        {
            return null;
        }

        var maxOverlap = MaxRotationOverlapMilliseconds * 1_000_000;
        var maxGap = reassembly.IdleTimeoutSeconds * Timestamp.NanosecondsPerSecond;
        long largestGap = 0;
        for (var i = 1; i < byTime.Count; i++)
        {
            var gap = byTime[i].Summary.FirstPacketTime!.Value.NanosecondsSince(byTime[i - 1].Summary.LastPacketTime!.Value);
            if (gap < -maxOverlap || gap > maxGap)
            {
                return null;
            }

            largestGap = Math.Max(largestGap, gap);
        }

        var scheme = naming switch
        {
            RotationNaming.TcpdumpCount => "tcpdump -C names (one stem, a rotation number)",
            RotationNaming.TcpdumpTime => "tcpdump -G names (one stem, a date and time)",
            _ => "dumpcap ring-buffer names (one stem, a number and a date and time)",
        };
        var links = string.Join(" and ", first.LinkTypes.Select(LinkTypeNames.Describe));
        var interfaces = first.Format == "pcapng" ? string.Create(CultureInfo.InvariantCulture, $" with {first.Interfaces} interface{(first.Interfaces == 1 ? string.Empty : "s")}") : string.Empty;
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"joined as one rotation: {scheme}; each file starts after the previous one's last packet (largest gap {largestGap / 1_000_000_000.0:0.000} s, at most {reassembly.IdleTimeoutSeconds} s); all {first.Format}{interfaces}, {links}");
        return new CaptureGroup([.. byTime.Select(f => f.Input), .. empty], reason);
    }

    /// <summary>Whether files in time order are in their names' order (or, with <paramref name="allowWrap"/>, that order rotated).</summary>
    private static bool IsNameOrder(List<string> timeOrder, List<string> nameOrder, bool allowWrap)
    {
        var start = allowWrap ? nameOrder.IndexOf(timeOrder[0]) : 0;
        for (var i = 0; i < timeOrder.Count; i++)
        {
            if (timeOrder[i] != nameOrder[(start + i) % nameOrder.Count])
            {
                return false;
            }
        }

        return true;
    }
}
