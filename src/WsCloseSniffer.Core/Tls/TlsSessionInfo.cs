using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Tls;

/// <summary>
/// What the TLS stage learnt of one connection: the handshake's parameters, whether its records were decrypted,
/// alerts, and TLS notices. Filled in as the connection goes on; complete when the connection ends.
/// </summary>
public sealed class TlsSessionInfo
{
    private readonly SortedSet<string> _notices = new(StringComparer.Ordinal);

    /// <summary>"TLS 1.3", "TLS 1.2", ...; null until the ServerHello is seen.</summary>
    public string? Version { get; internal set; }

    /// <summary>IANA name of the negotiated suite; null until the ServerHello is seen.</summary>
    public string? CipherSuite { get; internal set; }

    /// <summary>server_name of the ClientHello (RFC 6066 3).</summary>
    public string? ServerName { get; internal set; }

    /// <summary>The protocol the server selected (RFC 7301), else the client's offers joined with ", ".</summary>
    public string? Alpn { get; internal set; }

    /// <summary>The side that sent the ClientHello.</summary>
    public FlowDirection? ClientDirection { get; internal set; }

    /// <summary>The ClientHello random, in hexadecimal: the key log lines' second field.</summary>
    public string? ClientRandom { get; internal set; }

    /// <summary>Both Finished messages were read: the handshake completed (so keys were right) whether or not data followed.</summary>
    public bool HandshakeCompleted { get; internal set; }

    /// <summary>True once application data was decrypted.</summary>
    public bool Decrypted { get; internal set; }

    /// <summary>Whether a key log (option or the capture's own secrets) was available to this analysis at all.</summary>
    public bool KeyLogAvailable { get; internal set; }

    /// <summary>Application data records that could not be decrypted (no keys, wrong keys, unsupported suite).</summary>
    public long UndecryptedRecords { get; internal set; }

    /// <summary>Which key log lines would decrypt the connection; null when none are missing.</summary>
    public string? MissingKeyLines { get; internal set; }

    /// <summary>The first alert other than close_notify (or close_notify when it was the only one), by name.</summary>
    public string? Alert { get; internal set; }

    public FlowDirection? AlertFrom { get; internal set; }

    /// <summary>True when the alert came before any application data (the handshake failed).</summary>
    public bool AlertInHandshake { get; internal set; }

    public bool IsHttp2 => string.Equals(Alpn, "h2", StringComparison.Ordinal);

    public IReadOnlyCollection<string> Notices => _notices;

    internal void AddNotice(string notice) => _notices.Add(notice);
}

/// <summary>Implemented by the stage after TLS to learn that its connection is TLS, and the details as they come.</summary>
public interface ITlsSessionObserver
{
    /// <summary>Called once, when the connection is recognised as TLS, before any decrypted byte is delivered.</summary>
    void OnTlsSession(TlsSessionInfo info);
}

/// <summary>TLS notices, named like the other layers' (stable snake_case, prefixed by the layer).</summary>
public static class TlsNotice
{
    public const string NotDecrypted = "tls_not_decrypted";
    public const string DecryptFailed = "tls_decrypt_failed";
    public const string CipherUnsupported = "tls_cipher_unsupported";
    public const string RecordTooLong = "tls_record_too_long";
    public const string RecordMalformed = "tls_record_malformed";
    public const string RecordLostInGap = "tls_record_lost_in_gap";
    public const string GapOverRecordHeader = "tls_gap_over_record_header";
    public const string HandshakeMalformed = "tls_handshake_malformed";
    public const string HandshakeMessageTooLarge = "tls_handshake_message_too_large";
    public const string Alert = "tls_alert";
    public const string Http2NotAnalyzed = "tls_h2_not_analyzed";
    public const string HelloRetryRequest = "tls_hello_retry_request";
    public const string KeyUpdate = "tls_key_update";
}

/// <summary>TLS alert descriptions (RFC 8446 6, RFC 5246 7.2).</summary>
public static class TlsAlert
{
    public const byte CloseNotify = 0;

    public static string Name(byte description) => description switch
    {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => $"alert_{description}",
    };

    /// <summary>What the alert usually means for whoever reviews the incident.</summary>
    public static string Hint(string name) => name switch
    {
        "bad_certificate" or "unsupported_certificate" or "certificate_unknown" or "unknown_ca" or "certificate_expired" or "certificate_revoked" =>
            "the peer rejected the certificate: check the certificate chain, its expiry and that the client trusts the issuing CA",
        "handshake_failure" or "insufficient_security" =>
            "client and server share no acceptable cipher suite or parameters: compare their TLS configurations",
        "protocol_version" => "client and server share no TLS version: enable a common version",
        "unrecognized_name" => "the server does not know the requested host name (SNI): check the URL and the server's host bindings",
        "no_application_protocol" => "client and server share no ALPN protocol: the server must offer http/1.1 for WebSocket",
        "certificate_required" => "the server wants a client certificate: configure one on the client",
        "decrypt_error" or "bad_record_mac" => "a record failed its integrity check: a broken middlebox, or mismatched keys",
        _ => "check both sides' TLS logs",
    };
}
