using System.Globalization;
using System.Text;

namespace WsCloseSniffer.Tls;

/// <summary>The secrets logged for one TLS connection, found by its ClientHello random.</summary>
public sealed class TlsSecrets
{
    /// <summary>TLS 1.2 and earlier: the 48-byte master secret (<c>CLIENT_RANDOM</c>).</summary>
    public byte[]? MasterSecret { get; internal set; }

    public byte[]? ClientHandshakeTrafficSecret { get; internal set; }

    public byte[]? ServerHandshakeTrafficSecret { get; internal set; }

    public byte[]? ClientTrafficSecret0 { get; internal set; }

    public byte[]? ServerTrafficSecret0 { get; internal set; }
}

/// <summary>
/// Secrets in the NSS key log format (what SSLKEYLOGFILE makes browsers, curl, OpenSSL and .NET write):
/// <c>LABEL &lt;client random hex&gt; &lt;secret hex&gt;</c> per line, <c>#</c> comments. Also fed by the pcapng
/// Decryption Secrets Block, whose TLS payload is the same text. Lines for other protocols or labels we do not use
/// (early data, exporter secrets) are ignored; malformed lines are counted, never fatal.
/// </summary>
public sealed class TlsKeyLog
{
    /// <summary>A line longer than this cannot be a key log line (a label, 64 and at most 128 hex digits).</summary>
    public const int MaxLineChars = 1024;

    private const int ClientRandomBytes = 32;
    private const int MaxSecretBytes = 64;

    private readonly Dictionary<string, TlsSecrets> _entries = new(StringComparer.Ordinal);

    // Secrets from a capture's Decryption Secrets Block arrive on the reading thread, lookups on the analysis thread.
    private readonly Lock _gate = new();
    private readonly TlsKeyLog? _fallback;

    public TlsKeyLog(TlsKeyLog? fallback = null) => _fallback = fallback;

    /// <summary>Connections with at least one secret.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count + (_fallback?.Count ?? 0);
            }
        }
    }

    public int MalformedLines { get; private set; }

    /// <summary>The first malformed line's number (1-based), for the warning; 0 when none.</summary>
    public int FirstMalformedLine { get; private set; }

    /// <summary>Reads a key log file. I/O errors propagate (the caller names the file).</summary>
    public static TlsKeyLog Load(string path)
    {
        var log = new TlsKeyLog();
        using var reader = new StreamReader(path, Encoding.UTF8);
        log.Add(reader);
        return log;
    }

    public void Add(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        Add(reader);
    }

    public void Add(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (!TryAddLine(line))
            {
                MalformedLines++;
                if (FirstMalformedLine == 0)
                {
                    FirstMalformedLine = number;
                }
            }
        }
    }

    /// <summary>The secrets for the connection whose ClientHello carried <paramref name="clientRandom"/>, or null.</summary>
    public TlsSecrets? Find(ReadOnlySpan<byte> clientRandom)
    {
        var key = Convert.ToHexStringLower(clientRandom);
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var secrets))
            {
                return secrets;
            }
        }

        return _fallback?.Find(clientRandom);
    }

    private bool TryAddLine(string line)
    {
        var text = line.AsSpan().Trim();
        if (text.IsEmpty || text[0] == '#')
        {
            return true;
        }

        if (text.Length > MaxLineChars)
        {
            return false;
        }

        Span<Range> parts = stackalloc Range[4];
        if (text.Split(parts, ' ', StringSplitOptions.RemoveEmptyEntries) != 3)
        {
            return false;
        }

        var label = text[parts[0]];
        var random = text[parts[1]];
        var secretHex = text[parts[2]];
        if (random.Length != ClientRandomBytes * 2 || secretHex.Length % 2 != 0 || secretHex.Length > MaxSecretBytes * 2
            || !IsHex(random) || !IsHex(secretHex))
        {
            return false;
        }

        var secret = Convert.FromHexString(secretHex);
        Action<TlsSecrets>? set = label switch
        {
            "CLIENT_RANDOM" when secret.Length == 48 => s => s.MasterSecret = secret,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => s => s.ClientHandshakeTrafficSecret = secret,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => s => s.ServerHandshakeTrafficSecret = secret,
            "CLIENT_TRAFFIC_SECRET_0" => s => s.ClientTrafficSecret0 = secret,
            "SERVER_TRAFFIC_SECRET_0" => s => s.ServerTrafficSecret0 = secret,
            "CLIENT_RANDOM" => null,
            _ => s => { },
        };
        if (set is null)
        {
            return false;
        }

        var key = random.ToString().ToLower(CultureInfo.InvariantCulture);
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var secrets))
            {
                secrets = new TlsSecrets();
                _entries.Add(key, secrets);
            }

            set(secrets);
        }

        return true;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (var ch in text)
        {
            if (!char.IsAsciiHexDigit(ch))
            {
                return false;
            }
        }

        return true;
    }
}
