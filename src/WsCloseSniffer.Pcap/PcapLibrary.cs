namespace WsCloseSniffer.Pcap;

/// <summary>Placeholder so the project builds until the adapter lands.</summary>
internal static class PcapLibrary
{
}
