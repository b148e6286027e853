using System.Diagnostics;
using DuckDB.NET.Data;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>
/// The per-task contract of examples/: separate processes, run at once on split inputs, each writing a Parquet
/// part, merged by DuckDB, give the single-process report (session_id is per run, so rows are compared by content).
/// </summary>
public sealed class ParquetPartsTests : IDisposable
{
    private const string Content =
        "capture_file, start_time, end_time, client_ip, client_port, server_ip, server_port, host, path, offered_extensions, " +
        "accepted_extensions, close_initiator, close_code, close_reason, reply_close_code, classification, diagnosis, " +
        "client_frames, server_frames, client_payload_bytes, server_payload_bytes";

    private readonly string _temp = Directory.CreateTempSubdirectory("wsclosesniffer-parts-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void ParallelProcesses_OnePartPerFile_MergeToTheSingleRunReport()
    {
        var files = Directory.GetFiles(RepositoryPaths.Samples, "*.pcap").Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 4, $"only {files.Count} samples");
        var whole = Path.Combine(_temp, "whole.parquet");
        Assert.Equal(0, CliRunner.Run(["analyze", .. files, "--parquet", whole, "--quiet"]).ExitCode);

        var parts = Directory.CreateDirectory(Path.Combine(_temp, "parts")).FullName;
        var processes = files.Select((file, i) => Start(file, Path.Combine(parts, $"part-{i}.parquet"))).ToList();
        foreach (var process in processes)
        {
            using (process)
            {
                Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "a task did not finish within 120 s");
                Assert.Equal(0, process.ExitCode);
            }
        }

        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        var merged = $"'{parts}/*.parquet'";
        Assert.Equal(Count(db, $"SELECT count(*) FROM '{whole}'"), Count(db, $"SELECT count(*) FROM {merged}"));
        Assert.True(Count(db, $"SELECT count(*) FROM '{whole}'") > 5);
        Assert.Equal(0, Count(db, $"SELECT count(*) FROM ((SELECT {Content} FROM '{whole}' EXCEPT ALL SELECT {Content} FROM {merged}) " +
                                  $"UNION ALL (SELECT {Content} FROM {merged} EXCEPT ALL SELECT {Content} FROM '{whole}'))"));

        // Every part with sessions has its own capture_set, so (capture_set, session_id) never collides after the
        // merge (a wss:// sample without its key log, for one, gives an empty part).
        var partsWithSessions = Directory.GetFiles(parts).Count(part => Count(db, $"SELECT count(*) FROM '{part}'") > 0);
        Assert.True(partsWithSessions >= 4, $"only {partsWithSessions} parts with sessions");
        Assert.Equal(partsWithSessions, Count(db, $"SELECT count(DISTINCT capture_set) FROM {merged}"));
        Assert.Equal(Count(db, $"SELECT count(*) FROM {merged}"), Count(db, $"SELECT count(DISTINCT (capture_set, session_id)) FROM {merged}"));
    }

    private static Process Start(string file, string part)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "wsclosesniffer.dll"), "analyze", file, "--parquet", part, "--quiet" })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static int Count(DuckDBConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
