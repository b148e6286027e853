using System.Text.Json;
using DuckDB.NET.Data;
using WsCloseSniffer.Reporting;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>The Parquet report read back by an engine that is not ours (embedded DuckDB).</summary>
public sealed class ParquetReportTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("wsclosesniffer-parquet-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void Analyze_Parquet_MatchesJsonLinesInRowsTypesAndClassifications()
    {
        var json = Path.Combine(_temp, "report.jsonl");
        var parquet = Path.Combine(_temp, "report.parquet");

        var result = CliRunner.Run("analyze", RepositoryPaths.Samples, "--json", json, "--parquet", parquet, "--quiet");

        Assert.Equal(0, result.ExitCode);
        var rows = File.ReadAllLines(json).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(rows.Count > 5, $"samples gave only {rows.Count} sessions");

        using var db = Open();
        Assert.Equal((long)rows.Count, Scalar<long>(db, $"SELECT count(*) FROM '{parquet}'"));

        var types = Query(db, $"DESCRIBE SELECT * FROM '{parquet}'", r => (r.GetString(0), r.GetString(1)));
        Assert.Equal(ReportColumns.All, types.Select(t => t.Item1));
        var type = types.ToDictionary(t => t.Item1, t => t.Item2);
        Assert.Equal("BIGINT", type["session_id"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", type["start_time"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", type["end_time"]);
        Assert.Equal("INTEGER", type["close_code"]);
        Assert.Equal("INTEGER", type["client_port"]);
        Assert.Equal("VARCHAR", type["host"]);
        Assert.Equal("BIGINT", type["server_payload_bytes"]);

        var expected = rows.GroupBy(r => r.GetProperty("classification").GetString()!)
            .ToDictionary(g => g.Key, g => (long)g.Count());
        var actual = Query(db, $"SELECT classification, count(*) FROM '{parquet}' GROUP BY 1", r => (r.GetString(0), r.GetInt64(1)))
            .ToDictionary(t => t.Item1, t => t.Item2);
        Assert.Equal(expected.OrderBy(p => p.Key), actual.OrderBy(p => p.Key));

        // Nulls stay nulls and times keep their microseconds (compared as text in UTC, as the JSON writes them).
        var first = rows.OrderBy(r => r.GetProperty("session_id").GetInt64()).First();
        var closeCodeNulls = rows.Count(r => r.GetProperty("close_code").ValueKind == JsonValueKind.Null);
        Assert.Equal((long)closeCodeNulls, Scalar<long>(db, $"SELECT count(*) FROM '{parquet}' WHERE close_code IS NULL"));
        var start = Scalar<string>(db,
            $"SET TimeZone = 'UTC'; SELECT strftime(start_time, '%Y-%m-%dT%H:%M:%S.%fZ') FROM '{parquet}' WHERE session_id = {first.GetProperty("session_id").GetInt64()}");
        Assert.Equal(first.GetProperty("start_time").GetString(), start);
        Assert.Equal(1L, Scalar<long>(db, $"SELECT count(DISTINCT capture_set) FROM '{parquet}'"));

        // One column list: the JSON Lines report carries the same capture_set, last.
        Assert.Equal(Scalar<string>(db, $"SELECT min(capture_set) FROM '{parquet}'"), first.GetProperty("capture_set").GetString());
        Assert.Equal("capture_set", first.EnumerateObject().Last().Name);
    }

    [Fact]
    public void Analyze_ParquetToStdout_IsAUsageError()
    {
        var result = CliRunner.Run("analyze", RepositoryPaths.Samples, "--parquet", "-", "--quiet");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--parquet needs a file name", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists("-"));
    }

    [Fact]
    public void Writer_ManyRows_WritesARowGroupEveryNRows()
    {
        var parquet = Path.Combine(_temp, "groups.parquet");
        using (var writer = new ParquetSessionWriter(File.Create(parquet), "set-a", rowGroupRows: 2))
        {
            for (var i = 1; i <= 5; i++)
            {
                writer.Write(new SessionRecord
                {
                    SessionId = i, CaptureFile = "x.pcap", StartTime = "2024-01-02T03:04:05.123456Z", EndTime = "2024-01-02T03:04:06.000001Z",
                    ClientIp = "127.0.0.1", ClientPort = 40000 + i, ServerIp = "127.0.0.1", ServerPort = 80,
                    CloseCode = i % 2 == 0 ? 1000 : null, Classification = "normal_closure", Diagnosis = "d",
                });
            }
        }

        using var db = Open();
        Assert.Equal(3L, Scalar<long>(db, $"SELECT count(DISTINCT row_group_id) FROM parquet_metadata('{parquet}')"));
        Assert.Equal(15L, Scalar<long>(db, $"SELECT sum(session_id)::BIGINT FROM '{parquet}'"));
        Assert.Equal(2L, Scalar<long>(db, $"SELECT count(close_code) FROM '{parquet}'"));
        Assert.Equal("set-a", Scalar<string>(db, $"SELECT min(capture_set) FROM '{parquet}'"));
        Assert.Equal(40005, Scalar<int>(db, $"SELECT max(client_port) FROM '{parquet}'"));
    }

    [Fact]
    public void CaptureSetOf_SameFilesAnyOrder_SameId()
    {
        var a = ReportColumns.CaptureSetOf(["/data/a.pcap", "/data/b.pcap"]);

        Assert.Equal(a, ReportColumns.CaptureSetOf(["/data/b.pcap", "/data/a.pcap"]));
        Assert.NotEqual(a, ReportColumns.CaptureSetOf(["/data/a.pcap"]));
        Assert.Equal(16, a.Length);
    }

    internal static DuckDBConnection Open()
    {
        var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        return db;
    }

    internal static T Scalar<T>(DuckDBConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<T> Query<T>(DuckDBConnection db, string sql, Func<System.Data.Common.DbDataReader, T> row)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(row(reader));
        }

        return rows;
    }
}
