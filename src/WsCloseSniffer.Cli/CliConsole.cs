namespace WsCloseSniffer.Cli;

/// <summary>Where a command writes: the process's streams, or a test's.</summary>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, bool IsErrorTerminal)
{
    public static CliConsole System => new(Console.Out, Console.Error, !Console.IsErrorRedirected);

    public void Warn(string message) => Error.WriteLine($"wsclosesniffer: {message}");
}
