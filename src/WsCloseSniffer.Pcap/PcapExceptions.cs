namespace WsCloseSniffer.Pcap;

/// <summary>A BPF filter expression libpcap rejected; the message is libpcap's own.</summary>
public sealed class PacketFilterException : Exception
{
    public PacketFilterException() { }
    public PacketFilterException(string message) : base(message) { }
    public PacketFilterException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>The native libpcap (Npcap on Windows) cannot be loaded; the message says how to install it.</summary>
public sealed class PcapUnavailableException : Exception
{
    public PcapUnavailableException() : base(PcapLibrary.MissingMessage) { }
    public PcapUnavailableException(string message) : base(message) { }
    public PcapUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}
