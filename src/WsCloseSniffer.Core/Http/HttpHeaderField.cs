namespace WsCloseSniffer.Http;

/// <summary>One header field line: the name as sent and the value trimmed of optional whitespace (obs-folds joined).</summary>
public readonly record struct HttpHeaderField(string Name, string Value);
