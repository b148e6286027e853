using WsCloseSniffer.Cli;

return CliApplication.Run(args, CliConsole.System);
