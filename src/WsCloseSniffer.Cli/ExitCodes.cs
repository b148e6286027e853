namespace WsCloseSniffer.Cli;

/// <summary>The contract's exit codes (docs/report-format.md), in one place.</summary>
internal static class ExitCodes
{
    /// <summary>The input was analyzed, whatever the close codes were.</summary>
    public const int Success = 0;

    /// <summary>The command line was wrong.</summary>
    public const int Usage = 1;

    /// <summary>An input could not be read at all, or was damaged (sessions before the damage are still reported).</summary>
    public const int InputError = 2;
}
