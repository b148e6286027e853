using System.CommandLine;

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

    public static Option<string?> Filter { get; } = new("--filter")
    {
        Description = "Only packets matching this libpcap/BPF expression, as tcpdump takes it",
        HelpName = "BPF",
    };

    public static Option<bool> Quiet { get; } = new("--quiet")
    {
        Description = "No progress output on stderr",
    };
}
