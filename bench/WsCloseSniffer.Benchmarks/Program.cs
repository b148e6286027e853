using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/WsCloseSniffer.Benchmarks -- --filter '*' --job short
BenchmarkSwitcher.FromAssembly(typeof(WsCloseSniffer.Benchmarks.StageBenchmarks).Assembly).Run(args);
