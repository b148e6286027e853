using WsCloseSniffer.Analysis;
using WsCloseSniffer.Cli;

PipelineWarmUp.Start();
return CliApplication.Run(args, CliConsole.System);
