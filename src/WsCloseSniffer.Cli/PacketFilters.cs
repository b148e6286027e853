using System.Diagnostics.CodeAnalysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Pcap;

namespace WsCloseSniffer.Cli;

/// <summary>Turns --filter into a per-source filter factory, reporting libpcap problems in one line.</summary>
internal static class PacketFilters
{
    public static bool TryCreateFactory(string expression, CliConsole console, [NotNullWhen(true)] out Func<IPacketFilter>? factory)
    {
        factory = null;
        try
        {
            // Compiled once up front so a bad expression fails before any file is read.
            BpfPacketFilter.Create(expression).Dispose();
        }
        catch (PacketFilterException e)
        {
            console.Warn(e.Message);
            return false;
        }
        catch (PcapUnavailableException e)
        {
            console.Warn(e.Message);
            return false;
        }

        factory = () => BpfPacketFilter.Create(expression);
        return true;
    }
}
