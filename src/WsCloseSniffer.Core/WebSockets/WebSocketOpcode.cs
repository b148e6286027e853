namespace WsCloseSniffer.WebSockets;

/// <summary>Frame opcodes of RFC 6455 section 5.2. Values 3-7 and 0xB-0xF are reserved.</summary>
public enum WebSocketOpcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}
