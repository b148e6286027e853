namespace WsCloseSniffer.Http;

/// <summary>An extension parameter: name as sent, value unquoted (quoted-string unescaped), null when absent.</summary>
public readonly record struct ExtensionParameter(string Name, string? Value);
