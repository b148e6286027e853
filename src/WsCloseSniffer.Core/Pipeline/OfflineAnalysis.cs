using System.Runtime.CompilerServices;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tls;

namespace WsCloseSniffer.Pipeline;

/// <summary>Why an input did not give all its sessions.</summary>
public enum InputProblemKind : byte
{
    /// <summary>Missing, no permission, or not a capture file: nothing read.</summary>
    Unreadable = 0,
    /// <summary>Truncated or corrupt: everything before the damage was analyzed.</summary>
    Damaged = 1,
}

/// <summary>A problem with one input, worded for stderr: the file, the place, the problem.</summary>
public sealed record InputProblem(string File, InputProblemKind Kind, string Message)
{
    public override string ToString() => $"{File}: {Message}";
}

/// <summary>
/// Everything an offline run produced. <see cref="Sessions"/> gives them numbered in start-time order;
/// dispose the result to delete the sorter's temporary files.
/// </summary>
public sealed record AnalysisResult(SessionSorter Sessions, AnalysisStatistics Statistics, IReadOnlyList<InputProblem> Problems) : IDisposable
{
    /// <summary>How the files were read: each on its own, or several as one capture.</summary>
    public IReadOnlyList<CaptureGroup> Groups { get; init; } = [];

    /// <summary>The most files one group had open at once (1 for files read on their own).</summary>
    public int PeakOpenFilesPerGroup { get; init; }

    public void Dispose() => Sessions.Dispose();
}

/// <summary>Bytes read so far over all inputs, for a progress bar; updated from worker threads.</summary>
public sealed class AnalysisProgress
{
    private long _bytesRead;
    private long _totalBytes;

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    internal void AddTotal(long bytes) => Interlocked.Add(ref _totalBytes, bytes);

    internal void AddRead(long bytes) => Interlocked.Add(ref _bytesRead, bytes);
}

/// <summary>
/// Analyzes capture files: each file is an independent pipeline, files run in parallel across cores
/// (architecture decision 9), and the sessions of all files make one report.
/// </summary>
public static class OfflineAnalysis
{
    private const int ProgressEveryPackets = 4096;
    private const long PrefetchThresholdBytes = 16L * 1024 * 1024;

    public static AnalysisResult Run(IReadOnlyList<CaptureInput> inputs, AnalyzerOptions options, AnalysisProgress? progress = null, CancellationToken cancellationToken = default) =>
        Run(CaptureGroups.Separate(inputs), options, progress, cancellationToken);

    /// <summary>Analyzes each group as one capture: a single file as it is, several files merged by packet time.</summary>
    public static AnalysisResult Run(IReadOnlyList<CaptureGroup> groups, AnalyzerOptions options, AnalysisProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(options);
        var perGroup = new GroupResult[groups.Count];
        var sessions = new SessionSorter();
        foreach (var input in groups.SelectMany(g => g.Files))
        {
            progress?.AddTotal(SizeOf(input.Path));
        }

        // Files already keep every core busy when there are enough of them; a reading thread per file would then
        // only add the hand-over between threads (measured: 4 x 256 MiB on 2 cores, bench/README.md).
        var prefetch = groups.Count < Environment.ProcessorCount;

        // For the same reason, inflation gets threads of its own only then: compressed traffic makes it most of the
        // work, and without them one core inflates while the others wait.
        if (prefetch && options.Inflate && options.InflationThreads == 0)
        {
            options = options with { InflationThreads = Environment.ProcessorCount };
        }
        Parallel.For(
            0,
            groups.Count,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            i => perGroup[i] = groups[i].IsJoined
                ? AnalyzeJoined(groups[i], options, record => sessions.Add(record, i), prefetch, progress, cancellationToken)
                : AnalyzeFile(groups[i].Files[0], options, record => sessions.Add(record, i), prefetch, progress, cancellationToken));

        var statistics = new AnalysisStatistics();
        var problems = new List<InputProblem>();
        var peakOpenFiles = 0;
        foreach (var group in perGroup)
        {
            statistics.Add(group.Statistics);
            problems.AddRange(group.Problems);
            peakOpenFiles = Math.Max(peakOpenFiles, group.PeakOpenFiles);
        }

        return new AnalysisResult(sessions, statistics, problems)
        {
            Groups = groups,
            PeakOpenFilesPerGroup = peakOpenFiles,
        };
    }

    private static long SizeOf(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static GroupResult AnalyzeFile(CaptureInput input, AnalyzerOptions options, Action<SessionRecord> onSession, bool prefetch, AnalysisProgress? progress, CancellationToken cancellationToken)
    {
        IPacketSource file;
        try
        {
            file = CaptureFile.Open(input.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CaptureFormatException)
        {
            return new GroupResult(new AnalysisStatistics(), [new InputProblem(input.DisplayName, InputProblemKind.Unreadable, DescribeOpenError(e))], 0);
        }

        // Reading on a second core pays once the file is big enough to hide the thread's start-up. Measured
        // against sharding connections over per-core pipelines: on 2 cores that cost 45% more CPU (every packet
        // decoded twice, three threads) and was slower (bench/README.md).
        if (file is PcapNgReader reader)
        {
            var keyLog = new TlsKeyLog(options.TlsKeyLog);
            options = options with { TlsKeyLog = keyLog };
            AddSecretsTo(keyLog, reader);
        }

        using (var source = Headered(file, prefetch))
        using (var analyzer = new CaptureAnalyzer(input.DisplayName, options, onSession))
        {
            var problem = ReadAll(input.DisplayName, source, analyzer, progress, cancellationToken);
            analyzer.Finish();
            return new GroupResult(analyzer.Statistics, problem is null ? [] : [problem], 1);
        }
    }

    private static IHeaderedPacketSource<DecodedTcp> Headered(IPacketSource file, bool prefetch) =>
        prefetch && file.TotalBytes is > PrefetchThresholdBytes
            ? new PrefetchingPacketSource<DecodedTcp>(file)
            : new DecodingPacketSource<DecodedTcp>(file);

    /// <summary>
    /// The capture's own TLS secrets, on top of --tls-keylog. Called on the reading thread when prefetching:
    /// the key log is safe for that, and the block comes before the packets it decrypts.
    /// </summary>
    private static void AddSecretsTo(TlsKeyLog keyLog, PcapNgReader reader) =>
        reader.DecryptionSecrets = (type, secrets) =>
        {
            if (type == PcapNgReader.TlsKeyLogSecretsType)
            {
                keyLog.Add(System.Text.Encoding.UTF8.GetString(secrets));
            }
        };

    /// <summary>
    /// Several files as one capture: each file's first packet time is read first (one file open at a time), then
    /// the files are merged by packet time with only the files whose time has come open (<see cref="MergingPacketSource{THeaders}"/>).
    /// </summary>
    private static GroupResult AnalyzeJoined(CaptureGroup group, AnalyzerOptions options, Action<SessionRecord> onSession, bool prefetch, AnalysisProgress? progress, CancellationToken cancellationToken)
    {
        var problems = new List<InputProblem>();
        var starts = new List<(CaptureInput Input, Timestamp First)>();
        foreach (var input in group.Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var summary = CaptureFileProbe.Read(input.Path, toEnd: false);
            if (summary.FirstPacketTime is { } first)
            {
                starts.Add((input, first));
            }
            else if (summary.OpenError is { } error)
            {
                problems.Add(new InputProblem(input.DisplayName, InputProblemKind.Unreadable, DescribeOpenError(error)));
            }
            else if (summary.Problem is { } problem)
            {
                // Nothing of the file can be merged: it is damaged before its first packet.
                problems.Add(new InputProblem(input.DisplayName, InputProblemKind.Damaged, $"damaged capture {problem}"));
            }
        }

        // Stable: files whose first packets share a time stay in the group's order.
        starts = [.. starts.OrderBy(s => s.First)];

        // Secrets from any file's Decryption Secrets Block serve the whole capture, as in one merged file.
        var keyLog = new TlsKeyLog(options.TlsKeyLog);
        options = options with { TlsKeyLog = keyLog };
        var parts = starts.Select(s => new MergePart<DecodedTcp>(s.Input.DisplayName, s.First, () =>
        {
            var file = CaptureFile.Open(s.Input.Path);
            if (file is PcapNgReader reader)
            {
                AddSecretsTo(keyLog, reader);
            }

            return Headered(file, prefetch);
        })).ToList();

        // A session is reported under the file its first packet was in (files of two interfaces overlap in time).
        var names = starts.Select(s => s.Input.DisplayName).ToArray();
        string NameOf(int part) => names.Length == 0 ? group.Files[0].DisplayName : names[Math.Clamp(part, 0, names.Length - 1)];

        var totalBytes = group.Files.Sum(f => SizeOf(f.Path));
        using var source = new MergingPacketSource<DecodedTcp>(parts, group.Files[0].DisplayName, totalBytes);
        using var analyzer = new CaptureAnalyzer(NameOf, options, onSession);
        if (ReadAll(group.Files[0].DisplayName, source, analyzer, progress, cancellationToken, source) is { } readProblem)
        {
            problems.Add(readProblem);
        }

        analyzer.Finish();
        problems.AddRange(source.Problems.Select(p => new InputProblem(p.Name, p.Opened ? InputProblemKind.Damaged : InputProblemKind.Unreadable, p.Message)));
        return new GroupResult(analyzer.Statistics, problems, source.PeakOpenParts);
    }

    /// <summary>Feeds every packet of <paramref name="source"/> on; returns the damage or read error that ended it, if any.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    /// <param name="merging">Files read as one: each packet's file is told to the analyzer before the packet.</param>
    private static InputProblem? ReadAll(string name, IHeaderedPacketSource<DecodedTcp> source, CaptureAnalyzer analyzer, AnalysisProgress? progress, CancellationToken cancellationToken, MergingPacketSource<DecodedTcp>? merging = null)
    {
        long reported = 0;
        void Progress()
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.AddRead(source.BytesRead - reported);
            reported = source.BytesRead;
        }

        try
        {
            long packets = 0;

            while (source.TryReadNext(out var packet, out var decoded))
            {
                if (merging is not null)
                {
                    analyzer.SourcePart = merging.CurrentPart;
                }

                analyzer.Process(packet, decoded);
                if (++packets % ProgressEveryPackets == 0)
                {
                    Progress();
                }
            }

            return source.Damage is { } damage
                ? new InputProblem(name, InputProblemKind.Damaged, $"damaged capture {damage}; sessions before it are reported")
                : null;
        }
        catch (IOException e)
        {
            // A read error mid-file is damage too: keep what was read.
            return new InputProblem(name, InputProblemKind.Damaged, $"read error after {source.BytesRead} bytes: {e.Message}; sessions before it are reported");
        }
        finally
        {
            progress?.AddRead(source.BytesRead - reported);
        }
    }

    private static string DescribeOpenError(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "cannot read: no such file or directory",
        UnauthorizedAccessException => "cannot read: permission denied",
        _ => $"cannot read: {e.Message}",
    };

    private sealed record GroupResult(AnalysisStatistics Statistics, IReadOnlyList<InputProblem> Problems, int PeakOpenFiles);
}
