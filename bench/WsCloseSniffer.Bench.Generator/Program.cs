using System.Diagnostics;
using System.Globalization;
using WsCloseSniffer.Bench.Generator;

// dotnet run -c Release --project bench/WsCloseSniffer.Bench.Generator -- --out FILE --size-mb N --seed S
string? output = null;
double sizeMb = 1024;
ulong seed = 1;
var concurrency = 64;
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--out" when value is not null:
            output = value;
            i++;
            break;
        case "--size-mb" when value is not null:
            sizeMb = double.Parse(value, CultureInfo.InvariantCulture);
            i++;
            break;
        case "--seed" when value is not null:
            seed = ulong.Parse(value, CultureInfo.InvariantCulture);
            i++;
            break;
        case "--concurrency" when value is not null:
            concurrency = int.Parse(value, CultureInfo.InvariantCulture);
            i++;
            break;
        default:
            Console.Error.WriteLine($"unknown or incomplete option '{args[i]}'");
            Console.Error.WriteLine("usage: --out FILE --size-mb N [--seed S] [--concurrency SESSIONS_AT_ONCE]");
            return 1;
    }
}

if (output is null || sizeMb <= 0 || concurrency <= 0)
{
    Console.Error.WriteLine("usage: --out FILE --size-mb N [--seed S] [--concurrency SESSIONS_AT_ONCE]");
    return 1;
}

var stopwatch = Stopwatch.StartNew();
var summary = CaptureGenerator.Generate(output, (long)(sizeMb * 1024 * 1024), seed, concurrency);
stopwatch.Stop();

// Facts for bench/run.sh (packets/s without a second pass over the file).
File.WriteAllText(output + ".info", string.Create(
    CultureInfo.InvariantCulture,
    $"bytes={summary.Bytes}\npackets={summary.Packets}\nsessions={summary.Sessions}\nseed={seed}\nsize_mb={sizeMb}\n"));
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"wrote {output}: {summary.Bytes / 1048576.0:F1} MiB, {summary.Packets} packets, {summary.Sessions} sessions, " +
    $"{summary.CaptureMicroseconds / 1e6:F1} s of packet time, seed {seed}; expected report {output}.expected.csv; " +
    $"took {stopwatch.Elapsed.TotalSeconds:F1} s"));
return 0;
