using System.CommandLine;
using System.Globalization;

using WsCloseSniffer.Pcap;

namespace WsCloseSniffer.Cli.Commands;

/// <summary><c>wsclosesniffer interfaces</c>: the capture devices, numbered and flagged as <c>tcpdump -D</c> shows them.</summary>
internal sealed class InterfacesCommand
{
    private readonly CliConsole _console;

    public InterfacesCommand(CliConsole console)
    {
        _console = console;
        Command = new Command("interfaces", "List the interfaces 'live --interface' can capture on, with their addresses and flags");
        Command.SetAction(_ => Run());
    }

    public Command Command { get; }

    public int Run()
    {
        IReadOnlyList<CaptureInterface> interfaces;
        try
        {
            interfaces = CaptureInterface.List();
        }
        catch (PcapUnavailableException e)
        {
            _console.Warn(e.Message);
            return ExitCodes.InputError;
        }

        if (interfaces.Count == 0)
        {
            _console.Warn("libpcap lists no capture interface");
        }

        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < interfaces.Count; i++)
        {
            var device = interfaces[i];
            string description = device.Description is null ? string.Empty : $" ({device.Description})";
            _console.Out.WriteLine(string.Create(inv, $"{i + 1}.{device.Name}{description} [{device.FlagsText}]"));
            if (device.Addresses.Count > 0)
            {
                _console.Out.WriteLine($"    {string.Join(", ", device.Addresses)}");
            }
        }

        _console.Out.Flush();
        return ExitCodes.Success;
    }
}
