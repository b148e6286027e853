using System.CommandLine;
using System.Globalization;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Cli.Commands;

/// <summary>Options shared by <c>analyze</c> and <c>live</c>, spelled once.</summary>
internal static class CommonOptions
{
    public static Option<string?> Csv { get; } = new("--csv")
    {
        Description = "Write the session report as CSV to FILE (- for stdout)",
        HelpName = "FILE|-",
    };

    public static Option<string?> Json { get; } = new("--json")
    {
        Description = "Write the session report as JSON Lines to FILE (- for stdout)",
        HelpName = "FILE|-",
    };

    public static Option<string?> Html { get; } = new("--html")
    {
        Description = "Write the session report as one self-contained HTML page (charts, sortable table) to FILE (- for stdout)",
        HelpName = "FILE|-",
    };

    public static Option<string?> Parquet { get; } = new("--parquet")
    {
        Description = "Write the session report as typed Parquet to FILE (for DuckDB, Spark, pandas)",
        HelpName = "FILE",
    };

    public static Option<string?> Filter { get; } = new("--filter")
    {
        Description = "Only packets matching this libpcap/BPF expression, as tcpdump takes it (live: default tcp)",
        HelpName = "BPF",
    };

    public static Option<string?> TlsKeyLog { get; } = new("--tls-keylog")
    {
        Description = "Decrypt wss:// with the TLS secrets in this NSS key log file (the SSLKEYLOGFILE format)",
        HelpName = "FILE",
    };

    public static Option<bool> Quiet { get; } = new("--quiet")
    {
        Description = "No progress output on stderr",
    };

    // Resource caps (defaults in ReassemblyOptions and AnalyzerOptions): each hit is counted in the summary.
    public static Option<int?> MaxConnections { get; } = Positive("--max-connections", "TCP connections tracked at once; past this the longest-idle one is evicted");

    public static Option<int?> MaxBufferedBytes { get; } = Positive("--max-buffered-bytes", "Out-of-order bytes held per connection direction; past this the hole becomes a gap");

    public static Option<int?> MaxBufferedTotalMegabytes { get; } = Positive("--max-buffered-total-mb", "Out-of-order bytes held over all connections, in MiB");

    public static Option<int?> MaxHttpHeadBytes { get; } = Positive("--max-http-head-bytes", "Longest HTTP upgrade request or response head read");

    public static Option<int?> MaxControlPayloadBytes { get; } = Positive("--max-control-payload-bytes", "Bytes of a control frame's payload held (at least 125)");

    public static Option<int?> MaxInflatedMessageMegabytes { get; } = Positive("--max-inflated-message-mb", "Inflated bytes counted per compressed message, in MiB; past this the rest of the message is skipped");

    public static Option<int?> MaxInflaters { get; } = Positive("--max-inflaters", "Compressed directions inflated at once (about 42 KiB each); past this further ones are not inflated");

    public static Option<bool> NoInflate { get; } = new("--no-inflate")
    {
        Description = "Do not inflate permessage-deflate messages: sizes as on the wire, no UTF-8 check of compressed text (faster where most traffic is compressed)",
    };

    public static Option<int?> IdleTimeoutSeconds { get; } = Positive("--idle-timeout", "Seconds of packet time without a packet after which a connection is given up on");

    public static IEnumerable<Option> Limits =>
        [MaxConnections, MaxBufferedBytes, MaxBufferedTotalMegabytes, MaxHttpHeadBytes, MaxControlPayloadBytes, MaxInflatedMessageMegabytes, MaxInflaters, NoInflate, IdleTimeoutSeconds];

    /// <summary>The analysis settings the command line asked for; defaults where an option is absent.</summary>
    public static AnalyzerOptions ReadAnalyzerOptions(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var defaults = new AnalyzerOptions();
        var reassembly = defaults.Reassembly;
        return defaults with
        {
            Reassembly = reassembly with
            {
                MaxConnections = parse.GetValue(MaxConnections) ?? reassembly.MaxConnections,
                MaxBufferedBytesPerDirection = parse.GetValue(MaxBufferedBytes) ?? reassembly.MaxBufferedBytesPerDirection,
                MaxBufferedBytesTotal = parse.GetValue(MaxBufferedTotalMegabytes) is int mb ? mb * 1024L * 1024 : reassembly.MaxBufferedBytesTotal,
                IdleTimeoutSeconds = parse.GetValue(IdleTimeoutSeconds) ?? reassembly.IdleTimeoutSeconds,
            },
            MaxHttpHeadBytes = parse.GetValue(MaxHttpHeadBytes) ?? defaults.MaxHttpHeadBytes,
            MaxControlPayloadBytes = Math.Max(parse.GetValue(MaxControlPayloadBytes) ?? defaults.MaxControlPayloadBytes, 125),
            MaxInflatedMessageBytes = parse.GetValue(MaxInflatedMessageMegabytes) is int inflated ? inflated * 1024L * 1024 : defaults.MaxInflatedMessageBytes,
            MaxInflaters = parse.GetValue(MaxInflaters) ?? defaults.MaxInflaters,
            Inflate = !parse.GetValue(NoInflate),
        };
    }

    /// <summary>
    /// Reads --tls-keylog into <paramref name="options"/>; false (after saying why) when the file cannot be read.
    /// Malformed lines are skipped with a warning, as Wireshark does.
    /// </summary>
    public static bool TryAddTlsKeyLog(ParseResult parse, CliConsole console, ref AnalyzerOptions options)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(options);
        if (parse.GetValue(TlsKeyLog) is not { } path)
        {
            return true;
        }

        Tls.TlsKeyLog keyLog;
        try
        {
            keyLog = Tls.TlsKeyLog.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            console.Warn($"cannot read the TLS key log {path}: {e.Message}");
            return false;
        }

        if (keyLog.MalformedLines > 0)
        {
            console.Warn(string.Create(CultureInfo.InvariantCulture,
                $"{path}: {keyLog.MalformedLines} line(s) are not NSS key log lines and were skipped (first: line {keyLog.FirstMalformedLine})"));
        }

        options = options with { TlsKeyLog = keyLog };
        return true;
    }

    private static Option<int?> Positive(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description, HelpName = "N" };
        option.Validators.Add(result =>
        {
            // Judge the token itself: asking the parser for a value it could not convert throws.
            foreach (var token in result.Tokens)
            {
                if (!int.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0)
                {
                    result.AddError($"{name} must be a positive whole number, not '{token.Value}'.");
                }
            }
        });
        return option;
    }
}
