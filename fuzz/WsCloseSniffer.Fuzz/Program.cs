using SharpFuzz;
using WsCloseSniffer.Fuzz;

// Usage: WsCloseSniffer.Fuzz TARGET [--out-of-process] | TARGET --replay FILE...
// Under afl-fuzz this is the .NET fork server (SharpFuzz); outside it, the action runs once per input.
if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: WsCloseSniffer.Fuzz {{{string.Join('|', FuzzTargets.All.Keys)}}} [--out-of-process | --replay FILE...]");
    return 1;
}

if (args.Length > 1 && args[1] == "--replay")
{
    foreach (var file in args.Skip(2))
    {
        target(File.ReadAllBytes(file));
        Console.WriteLine($"ok {file}");
    }

    return 0;
}

void RunOne(Stream stream)
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    target(copy.ToArray());
}

if (args.Length > 1 && args[1] == "--out-of-process")
{
    // Survives stack overflows and kills on timeout, at the cost of a slower loop.
    Fuzzer.OutOfProcess.Run(RunOne);
}
else
{
    Fuzzer.Run(RunOne);
}

return 0;
