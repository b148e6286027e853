using WsCloseSniffer.Cli;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>Runs the command line in-process with captured stdout and stderr.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Result Run(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var exitCode = CliApplication.Run(args, new CliConsole(stdout, stderr, IsErrorTerminal: false));
        return new Result(exitCode, stdout.ToString(), stderr.ToString());
    }
}
