namespace WsCloseSniffer.Tests.Hardening;

/// <summary>Captures of one WebSocket session that the client closes, with the wire text a test chooses.</summary>
internal static class ClosedSessions
{
    /// <summary>
    /// Handshake, upgrade request and response, a client close and the server's reply, both FINs (ten packets), as
    /// a pcap file.
    /// </summary>
    public static byte[] Capture(string host, string path, string offered, string accepted, int closeCode, byte[] reason) =>
        SessionPacketBuilder.ToPcap(Connection(host, path, offered, accepted, closeCode, reason));

    public static SessionPacketBuilder Connection(string host, string path, string offered, string accepted, int closeCode, byte[] reason) =>
        new SessionPacketBuilder(clientIp: "192.0.2.7", clientPort: 50_123, serverIp: "198.51.100.8", serverPort: 8080).Connect()
            .Client(SessionHandshake.Request(path, host, offered))
            .Server(SessionHandshake.SwitchingProtocols(accepted))
            .Client(FrameBuilder.ClientClose(closeCode, reason))
            .Server(FrameBuilder.ServerClose(closeCode))
            .ServerFin().ClientFin().ServerAck();
}
