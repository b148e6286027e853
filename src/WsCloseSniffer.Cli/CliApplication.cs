using System.CommandLine;
using WsCloseSniffer.Cli.Commands;

namespace WsCloseSniffer.Cli;

/// <summary>The command tree; Program.cs only hands it the process's console and arguments.</summary>
internal static class CliApplication
{
    public static RootCommand Build(CliConsole console) =>
        new("wsclosesniffer: why did each WebSocket session close, and what to do about it")
        {
            new AnalyzeCommand(console).Command,
            new LiveCommand(console).Command,
            new InterfacesCommand(console).Command,
        };

    public static int Run(string[] args, CliConsole console)
    {
        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        return Build(console).Parse(args).Invoke(configuration);
    }
}
