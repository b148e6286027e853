using System.Runtime.CompilerServices;

using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Decoding;
using WsCloseSniffer.Reporting;

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

    public static AnalysisResult Run(IReadOnlyList<CaptureInput> inputs, AnalyzerOptions options, AnalysisProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        var perFile = new FileResult[inputs.Count];
        var sessions = new SessionSorter();
        foreach (var input in inputs)
        {
            progress?.AddTotal(SizeOf(input.Path));
        }

        // Files already keep every core busy when there are enough of them; a reading thread per file would then
        // only add the hand-over between threads (measured: 4 x 256 MiB on 2 cores, bench/README.md).
        var prefetch = inputs.Count < Environment.ProcessorCount;
        Parallel.For(
            0,
            inputs.Count,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            i => perFile[i] = AnalyzeFile(inputs[i], options, record => sessions.Add(record, i), prefetch, progress, cancellationToken));

        var statistics = new AnalysisStatistics();
        var problems = new List<InputProblem>();
        foreach (var file in perFile)
        {
            statistics.Add(file.Statistics);
            if (file.Problem is { } problem)
            {
                problems.Add(problem);
            }
        }

        return new AnalysisResult(sessions, statistics, problems);
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

    private static FileResult AnalyzeFile(CaptureInput input, AnalyzerOptions options, Action<SessionRecord> onSession, bool prefetch, AnalysisProgress? progress, CancellationToken cancellationToken)
    {
        IPacketSource file;
        try
        {
            file = CaptureFile.Open(input.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CaptureFormatException)
        {
            return new FileResult(new AnalysisStatistics(), new InputProblem(input.DisplayName, InputProblemKind.Unreadable, DescribeOpenError(e)));
        }

        // Reading on a second core pays once the file is big enough to hide the thread's start-up. Measured
        // against sharding connections over per-core pipelines: on 2 cores that cost 45% more CPU (every packet
        // decoded twice, three threads) and was slower (bench/README.md).
        IHeaderedPacketSource<DecodedTcp> source = prefetch && file.TotalBytes is > PrefetchThresholdBytes
            ? new PrefetchingPacketSource<DecodedTcp>(file)
            : new DecodingPacketSource<DecodedTcp>(file);

        using (source)
        using (var analyzer = new CaptureAnalyzer(input.DisplayName, options, onSession))
        {
            var problem = ReadAll(input, source, analyzer, progress, cancellationToken);
            analyzer.Finish();
            return new FileResult(analyzer.Statistics, problem);
        }
    }

    /// <summary>Feeds every packet of <paramref name="source"/> on; returns the damage or read error that ended it, if any.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static InputProblem? ReadAll(CaptureInput input, IHeaderedPacketSource<DecodedTcp> source, CaptureAnalyzer analyzer, AnalysisProgress? progress, CancellationToken cancellationToken)
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
                analyzer.Process(packet, decoded);
                if (++packets % ProgressEveryPackets == 0)
                {
                    Progress();
                }
            }

            return source.Damage is { } damage
                ? new InputProblem(input.DisplayName, InputProblemKind.Damaged, $"damaged capture {damage}; sessions before it are reported")
                : null;
        }
        catch (IOException e)
        {
            // A read error mid-file is damage too: keep what was read.
            return new InputProblem(input.DisplayName, InputProblemKind.Damaged, $"read error after {source.BytesRead} bytes: {e.Message}; sessions before it are reported");
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

    private sealed record FileResult(AnalysisStatistics Statistics, InputProblem? Problem);
}
