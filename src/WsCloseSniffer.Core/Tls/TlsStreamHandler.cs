using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

using WsCloseSniffer.Capture;
using WsCloseSniffer.Reassembly;

namespace WsCloseSniffer.Tls;

/// <summary>
/// Creates a <see cref="TlsStreamHandler"/> around each handler of the next stage, so TLS connections reach it
/// decrypted and everything else reaches it untouched. Creating one has no side effect beyond the handler.
/// </summary>
public sealed class TlsStreamHandlerFactory(ITcpStreamHandlerFactory inner, TlsKeyLog? keyLog) : ITcpStreamHandlerFactory
{
    public ITcpStreamHandler Create(in ConnectionInfo connection) => new TlsStreamHandler(inner.Create(connection), keyLog);
}

/// <summary>
/// A stream handler decorator for one connection: recognises TLS by its first record, follows the record layer of
/// both directions over the reassembled stream, reads the handshake (ClientHello, ServerHello, HelloRetryRequest,
/// EncryptedExtensions, Finished, KeyUpdate), derives keys from the logged secrets and hands the decrypted
/// application data to the next handler with the time of the segment that completed its record.
/// Memory is one record per direction (at most <see cref="MaxRecordFragmentBytes"/>), allocated only for TLS.
/// </summary>
public sealed class TlsStreamHandler : ITcpStreamHandler
{
    /// <summary>RFC 5246 6.2.3: a ciphertext fragment is at most 2^14 + 2048 bytes (TLS 1.3, RFC 8446 5.2: 2^14 + 256).</summary>
    public const int MaxRecordFragmentBytes = (1 << 14) + 2048;

    /// <summary>TLS 1.3's limit (RFC 8446 5.2): a longer record is a record_overflow.</summary>
    public const int MaxTls13RecordFragmentBytes = (1 << 14) + 256;

    /// <summary>Handshake messages read for their content (hellos, encrypted extensions); longer ones are skipped.</summary>
    public const int MaxHandshakeMessageBytes = 64 * 1024;

    private const int RandomBytes = 32;

    // RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random (SHA-256 of "HelloRetryRequest").
    private static readonly byte[] s_helloRetryRequestRandom = Convert.FromHexString("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C");

    private readonly ITcpStreamHandler _inner;
    private readonly TlsKeyLog? _keyLog;
    // Made when the first record shows TLS: every plain connection passes through this handler too, for its whole life.
    private Direction[] _directions = [];
    private Mode _mode;
    private TlsSessionInfo? _info;
    private byte[]? _clientRandom;
    private TlsCipherSuite? _suite;
    private bool _tls13;
    private bool _applicationDataSeen;
    private int _finishedMessages;

    public TlsStreamHandler(ITcpStreamHandler inner, TlsKeyLog? keyLog)
    {
        _inner = inner;
        _keyLog = keyLog;
    }

    public TlsSessionInfo? Info => _info;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnData(FlowDirection direction, ReadOnlySpan<byte> data, Timestamp time)
    {
        if (_mode == Mode.Plain)
        {
            _inner.OnData(direction, data, time);
            return;
        }

        OnDataSlow(direction, data, time);
    }

    public void OnGap(FlowDirection direction, long missingBytes, Timestamp time) =>
        OnGap(direction, missingBytes, GapCause.NotCaptured, time);

    public void OnGap(FlowDirection direction, long missingBytes, GapCause cause, Timestamp time)
    {
        if (_mode == Mode.Tls)
        {
            // Inside a record a cut tail is lost like any other bytes: the record cannot be decrypted either way.
            _directions[(int)direction].OnGap(missingBytes, time);
            return;
        }

        // A gap before the first byte: the first record cannot be recognised, so the stream is taken as it comes.
        _mode = Mode.Plain;
        _inner.OnGap(direction, missingBytes, cause, time);
    }

    public void OnClosed(FlowDirection direction, TcpCloseKind kind, Timestamp time) => _inner.OnClosed(direction, kind, time);

    public void OnConnectionEnd(in ConnectionEnd connectionEnd)
    {
        if (_info is not null)
        {
            _info.KeyLogAvailable = _keyLog is { Count: > 0 };
            if (!_info.Decrypted && (_info.UndecryptedRecords > 0 || _info.MissingKeyLines is not null
                || _info.Notices.Contains(TlsNotice.DecryptFailed) || _info.Notices.Contains(TlsNotice.CipherUnsupported)))
            {
                _info.AddNotice(TlsNotice.NotDecrypted);
            }

            if (_info.IsHttp2)
            {
                _info.AddNotice(TlsNotice.Http2NotAnalyzed);
            }

            foreach (var direction in _directions)
            {
                direction.Dispose();
            }
        }

        _inner.OnConnectionEnd(connectionEnd);
    }

    private void OnDataSlow(FlowDirection direction, ReadOnlySpan<byte> data, Timestamp time)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (_mode == Mode.Detecting)
        {
            // A TLS connection opens with a handshake record, protocol major version 3 (RFC 8446 5.1, 5246 6.2.1).
            if (data[0] != (byte)TlsContentType.Handshake || (data.Length > 1 && data[1] != 3))
            {
                _mode = Mode.Plain;
                _inner.OnData(direction, data, time);
                return;
            }

            _mode = Mode.Tls;
            _directions = [new Direction(this, FlowDirection.FromOriginator), new Direction(this, FlowDirection.FromResponder)];
            _info = new TlsSessionInfo();
            (_inner as ITlsSessionObserver)?.OnTlsSession(_info);
        }

        _directions[(int)direction].OnData(data, time);
    }

    private void OnHandshakeMessage(Direction from, byte type, ReadOnlySpan<byte> body)
    {
        switch (type)
        {
            case 1:
                ReadClientHello(from, body);
                break;
            case 2:
                ReadServerHello(from, body);
                break;
            case 8:
                ReadEncryptedExtensions(body);
                break;
            case 20:
                if (++_finishedMessages == 2)
                {
                    _info!.HandshakeCompleted = true;
                }

                // RFC 8446 7.2: after its Finished, a side protects application data with its traffic secret.
                if (_tls13)
                {
                    from.StartApplicationTraffic();
                }

                break;
            case 24 when _tls13:
                _info!.AddNotice(TlsNotice.KeyUpdate);
                from.UpdateTrafficKey();
                break;
        }
    }

    private void ReadClientHello(Direction from, ReadOnlySpan<byte> body)
    {
        // legacy_version(2) random(32) session_id<0..32> cipher_suites<2..> compression<1..> extensions<..>
        var reader = new WireReader(body);
        if (!reader.Skip(2) || !reader.TryRead(RandomBytes, out var random) || !reader.SkipVector(1) || !reader.SkipVector(2)
            || !reader.SkipVector(1))
        {
            _info!.AddNotice(TlsNotice.HandshakeMalformed);
            return;
        }

        var info = _info!;
        if (_clientRandom is null)
        {
            _clientRandom = random.ToArray();
            info.ClientRandom = Convert.ToHexStringLower(random);
            info.ClientDirection = from.FlowDirection;
        }

        if (!reader.TryReadVector(2, out var extensions))
        {
            return;
        }

        var ext = new WireReader(extensions);
        while (ext.TryReadUInt16(out var extType) && ext.TryReadVector(2, out var data))
        {
            if (extType == 0)
            {
                info.ServerName ??= ReadServerName(data);
            }
            else if (extType == 16 && info.Alpn is null)
            {
                info.Alpn = string.Join(", ", ReadProtocolNames(data));
            }
        }
    }

    private void ReadServerHello(Direction from, ReadOnlySpan<byte> body)
    {
        var info = _info!;
        var reader = new WireReader(body);
        if (!reader.TryReadUInt16(out var legacyVersion) || !reader.TryRead(RandomBytes, out var serverRandom) || !reader.SkipVector(1)
            || !reader.TryReadUInt16(out var suiteId) || !reader.Skip(1))
        {
            info.AddNotice(TlsNotice.HandshakeMalformed);
            return;
        }

        if (serverRandom.SequenceEqual(s_helloRetryRequestRandom))
        {
            // The real ServerHello follows the client's second ClientHello (same random).
            info.AddNotice(TlsNotice.HelloRetryRequest);
            return;
        }

        var version = legacyVersion;
        string? selectedAlpn = null;
        if (reader.TryReadVector(2, out var extensions))
        {
            var ext = new WireReader(extensions);
            while (ext.TryReadUInt16(out var extType) && ext.TryReadVector(2, out var data))
            {
                if (extType == 43 && data.Length == 2)
                {
                    version = BinaryPrimitives.ReadUInt16BigEndian(data);
                }
                else if (extType == 16)
                {
                    selectedAlpn = ReadProtocolNames(data).FirstOrDefault();
                }
            }
        }

        if (selectedAlpn is not null)
        {
            info.Alpn = selectedAlpn;
        }

        var suite = TlsCipherSuite.FromId(suiteId);
        _suite = suite;
        _tls13 = version == 0x0304;
        info.Version = VersionName(version);
        info.CipherSuite = suite.Name;
        var server = from;
        var client = _directions[1 - (int)from.FlowDirection];
        if (_tls13)
        {
            // RFC 8446 2: everything after the ServerHello is encrypted, both ways (a compatibility
            // change_cipher_spec aside).
            server.Encrypted = true;
            client.Encrypted = true;
        }

        if (!TlsRecordDecryptor.IsSupported(suite))
        {
            info.AddNotice(TlsNotice.CipherUnsupported);
            return;
        }

        var secrets = _clientRandom is null ? null : _keyLog?.Find(_clientRandom);
        if (_tls13)
        {
            if (secrets?.ClientTrafficSecret0 is null || secrets.ServerTrafficSecret0 is null)
            {
                info.MissingKeyLines = $"CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0 lines for client random {info.ClientRandom}";
                return;
            }

            server.SetTls13Secrets(suite, secrets.ServerHandshakeTrafficSecret, secrets.ServerTrafficSecret0);
            client.SetTls13Secrets(suite, secrets.ClientHandshakeTrafficSecret, secrets.ClientTrafficSecret0);
            return;
        }

        if (secrets?.MasterSecret is null)
        {
            info.MissingKeyLines = $"a CLIENT_RANDOM line for client random {info.ClientRandom}";
            return;
        }

        var (clientKey, serverKey, clientIv, serverIv) = TlsKeySchedule.Tls12KeyBlock(suite, secrets.MasterSecret, _clientRandom, serverRandom);
        client.Pending = new TlsRecordDecryptor(suite, clientKey, clientIv, tls13: false);
        server.Pending = new TlsRecordDecryptor(suite, serverKey, serverIv, tls13: false);
    }

    private void ReadEncryptedExtensions(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        if (!reader.TryReadVector(2, out var extensions))
        {
            _info!.AddNotice(TlsNotice.HandshakeMalformed);
            return;
        }

        var ext = new WireReader(extensions);
        while (ext.TryReadUInt16(out var extType) && ext.TryReadVector(2, out var data))
        {
            if (extType == 16 && ReadProtocolNames(data).FirstOrDefault() is { } selected)
            {
                _info!.Alpn = selected;
            }
        }
    }

    private void OnAlert(Direction from, ReadOnlySpan<byte> content)
    {
        if (content.Length < 2)
        {
            _info!.AddNotice(TlsNotice.RecordMalformed);
            return;
        }

        var info = _info!;
        var description = content[1];
        if (info.Alert is null || (info.Alert == "close_notify" && description != TlsAlert.CloseNotify))
        {
            info.Alert = TlsAlert.Name(description);
            info.AlertFrom = from.FlowDirection;
            info.AlertInHandshake = !_applicationDataSeen;
        }

        if (description != TlsAlert.CloseNotify)
        {
            info.AddNotice(TlsNotice.Alert);
        }
    }

    private static string VersionName(ushort version) => version switch
    {
        0x0304 => "TLS 1.3",
        0x0303 => "TLS 1.2",
        0x0302 => "TLS 1.1",
        0x0301 => "TLS 1.0",
        0x0300 => "SSL 3.0",
        _ => string.Create(CultureInfo.InvariantCulture, $"0x{version:X4}"),
    };

    private static string? ReadServerName(ReadOnlySpan<byte> data)
    {
        // RFC 6066 3: server_name_list<1..2^16-1> of (name_type(1), HostName<1..2^16-1>); type 0 is host_name.
        var reader = new WireReader(data);
        if (!reader.TryReadVector(2, out var list))
        {
            return null;
        }

        var names = new WireReader(list);
        while (names.TryReadByte(out var nameType) && names.TryReadVector(2, out var name))
        {
            if (nameType == 0)
            {
                return Printable(name);
            }
        }

        return null;
    }

    private static List<string> ReadProtocolNames(ReadOnlySpan<byte> data)
    {
        var result = new List<string>();
        var reader = new WireReader(data);
        if (!reader.TryReadVector(2, out var list))
        {
            return result;
        }

        var names = new WireReader(list);
        while (names.TryReadVector(1, out var name))
        {
            result.Add(Printable(name));
        }

        return result;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        // Names come from the wire and end up in reports: control characters are replaced, not passed on.
        var text = Encoding.ASCII.GetString(bytes);
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = source[i] is >= ' ' and < (char)0x7f ? source[i] : '?';
            }
        });
    }

    private enum Mode : byte
    {
        Detecting = 0,
        Plain = 1,
        Tls = 2,
    }

    /// <summary>One direction's record layer: record boundaries, the current key, the handshake message in progress.</summary>
    private sealed class Direction(TlsStreamHandler owner, FlowDirection flowDirection) : IDisposable
    {
        private const int HandshakeHeaderBytes = 4;

        private byte[]? _record;
        private byte[]? _plaintext;
        private int _filled;
        private int _needed;
        private long _skip;
        private bool _stopped;

        private TlsCipherSuite? _suite;
        private byte[]? _applicationSecret;
        private TlsRecordDecryptor? _decryptor;
        private bool _awaitingApplicationKey;

        // The handshake message being read: its header, then its body (held only when it is read for content).
        private readonly byte[] _messageHeader = new byte[HandshakeHeaderBytes];
        private int _messageHeaderFilled;
        private int _messageRemaining;
        private byte[]? _messageBody;
        private int _messageBodyFilled;

        public FlowDirection FlowDirection => flowDirection;

        /// <summary>Records from this side are protected (TLS 1.3 after the ServerHello, TLS 1.2 after change_cipher_spec).</summary>
        public bool Encrypted { get; set; }

        /// <summary>TLS 1.2: the key that change_cipher_spec from this side switches to.</summary>
        public TlsRecordDecryptor? Pending { get; set; }

        public void SetTls13Secrets(TlsCipherSuite suite, byte[]? handshakeSecret, byte[] applicationSecret)
        {
            _suite = suite;
            _applicationSecret = applicationSecret;
            if (handshakeSecret is not null)
            {
                var (key, iv) = TlsKeySchedule.Tls13TrafficKeys(suite, handshakeSecret);
                _decryptor = new TlsRecordDecryptor(suite, key, iv, tls13: true);
            }
            else
            {
                // Without the handshake secret the handshake stays opaque; the first record that opens with the
                // traffic secret (sequence 0) is the first application record.
                _awaitingApplicationKey = true;
            }
        }

        public void StartApplicationTraffic()
        {
            if (_suite is null || _applicationSecret is null)
            {
                return;
            }

            Replace(NewTls13Decryptor(_applicationSecret));
        }

        public void UpdateTrafficKey()
        {
            if (_suite is null || _applicationSecret is null)
            {
                return;
            }

            _applicationSecret = TlsKeySchedule.Tls13NextTrafficSecret(_suite, _applicationSecret);
            Replace(NewTls13Decryptor(_applicationSecret));
        }

        public void OnData(ReadOnlySpan<byte> data, Timestamp time)
        {
            while (!data.IsEmpty && !_stopped)
            {
                if (_skip > 0)
                {
                    var skipped = (int)Math.Min(_skip, data.Length);
                    _skip -= skipped;
                    data = data[skipped..];
                    continue;
                }

                if (_filled == 0 && data.Length >= TlsRecordDecryptor.HeaderBytes)
                {
                    // The common case: the whole record is in this piece, read in place.
                    if (!TryReadHeader(data, out var fragmentLength))
                    {
                        return;
                    }

                    var total = TlsRecordDecryptor.HeaderBytes + fragmentLength;
                    if (data.Length >= total)
                    {
                        OnRecord(data[..total], time);
                        data = data[total..];
                        continue;
                    }
                }

                _record ??= new byte[TlsRecordDecryptor.HeaderBytes + MaxRecordFragmentBytes];
                if (_filled < TlsRecordDecryptor.HeaderBytes)
                {
                    var take = Math.Min(TlsRecordDecryptor.HeaderBytes - _filled, data.Length);
                    data[..take].CopyTo(_record.AsSpan(_filled));
                    _filled += take;
                    data = data[take..];
                    if (_filled < TlsRecordDecryptor.HeaderBytes)
                    {
                        return;
                    }

                    if (!TryReadHeader(_record, out var fragmentLength))
                    {
                        return;
                    }

                    _needed = TlsRecordDecryptor.HeaderBytes + fragmentLength;
                }

                var more = Math.Min(_needed - _filled, data.Length);
                data[..more].CopyTo(_record.AsSpan(_filled));
                _filled += more;
                data = data[more..];
                if (_filled == _needed)
                {
                    _filled = 0;
                    OnRecord(_record.AsSpan(0, _needed), time);
                }
            }
        }

        public void OnGap(long missingBytes, Timestamp time)
        {
            if (_stopped)
            {
                return;
            }

            var info = owner._info!;
            if (_skip > 0 && missingBytes <= _skip)
            {
                _skip -= missingBytes;
                return;
            }

            if (_skip == 0 && _filled >= TlsRecordDecryptor.HeaderBytes && missingBytes <= _needed - _filled)
            {
                // Inside a record whose length is known: that record is lost, the next one starts at a known place.
                _skip = _needed - _filled - missingBytes;
                _filled = 0;
                info.AddNotice(TlsNotice.RecordLostInGap);
                OnRecordLost(_record![0], _needed - TlsRecordDecryptor.HeaderBytes, time);
                return;
            }

            // The gap covers a record header: where the next record starts cannot be proven, and guessing a
            // boundary could feed garbage on, so this direction stops here.
            info.AddNotice(TlsNotice.GapOverRecordHeader);
            Stop();
            if (_decryptor is not null && owner._applicationDataSeen)
            {
                owner._inner.OnGap(flowDirection, missingBytes, time);
            }
        }

        public void Dispose()
        {
            _decryptor?.Dispose();
            Pending?.Dispose();
            _decryptor = null;
            Pending = null;
        }

        private TlsRecordDecryptor NewTls13Decryptor(byte[] secret)
        {
            var (key, iv) = TlsKeySchedule.Tls13TrafficKeys(_suite!, secret);
            return new TlsRecordDecryptor(_suite!, key, iv, tls13: true);
        }

        private void Replace(TlsRecordDecryptor decryptor)
        {
            _decryptor?.Dispose();
            _decryptor = decryptor;
            _awaitingApplicationKey = false;
        }

        private void Stop()
        {
            _stopped = true;
            _record = null;
            _plaintext = null;
            _messageBody = null;
        }

        private bool TryReadHeader(ReadOnlySpan<byte> header, out int fragmentLength)
        {
            fragmentLength = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
            var info = owner._info!;
            if (header[0] is < (byte)TlsContentType.ChangeCipherSpec or > (byte)TlsContentType.Heartbeat || header[1] != 3)
            {
                info.AddNotice(TlsNotice.RecordMalformed);
                Stop();
                return false;
            }

            var limit = owner._tls13 ? MaxTls13RecordFragmentBytes : MaxRecordFragmentBytes;
            if (fragmentLength > limit)
            {
                info.AddNotice(TlsNotice.RecordTooLong);
                Stop();
                return false;
            }

            return true;
        }

        private void OnRecordLost(byte type, int fragmentLength, Timestamp time)
        {
            var decryptor = _decryptor;
            if (decryptor is null)
            {
                return;
            }

            decryptor.SkipRecord();
            if (type == (byte)TlsContentType.ApplicationData && owner._applicationDataSeen)
            {
                // The plaintext length is the fragment less the protection (padding, rare, aside): the next stage
                // can skip it exactly when it falls inside a frame payload.
                owner._inner.OnGap(flowDirection, Math.Max(0, fragmentLength - decryptor.Overhead), time);
            }
        }

        private void OnRecord(ReadOnlySpan<byte> record, Timestamp time)
        {
            var header = record[..TlsRecordDecryptor.HeaderBytes];
            var fragment = record[TlsRecordDecryptor.HeaderBytes..];
            var type = (TlsContentType)header[0];
            var info = owner._info!;
            if (type == TlsContentType.ChangeCipherSpec)
            {
                // TLS 1.2: the sender's next records use the new keys. TLS 1.3 sends one only for middleboxes.
                if (!owner._tls13)
                {
                    Encrypted = true;
                    if (Pending is not null)
                    {
                        Replace(Pending);
                        Pending = null;
                    }
                }

                return;
            }

            var content = fragment;
            if (Encrypted)
            {
                if (_awaitingApplicationKey && !TryFindApplicationKey(header, fragment))
                {
                    CountUndecrypted(type);
                    return;
                }

                if (_decryptor is null)
                {
                    CountUndecrypted(type);
                    return;
                }

                _plaintext ??= new byte[MaxRecordFragmentBytes];
                if (!_decryptor.TryDecrypt(header, fragment, _plaintext, out var length, out type))
                {
                    info.AddNotice(TlsNotice.DecryptFailed);
                    Stop();
                    return;
                }

                content = _plaintext.AsSpan(0, length);
            }

            switch (type)
            {
                case TlsContentType.Handshake:
                    OnHandshakeBytes(content);
                    break;
                case TlsContentType.Alert:
                    owner.OnAlert(this, content);
                    break;
                case TlsContentType.ApplicationData:
                    if (!Encrypted)
                    {
                        // Application data before the keys are in place breaks RFC 8446 5.1 / RFC 5246 7.4.
                        info.AddNotice(TlsNotice.RecordMalformed);
                        Stop();
                        return;
                    }

                    owner._applicationDataSeen = true;
                    info.Decrypted = true;
                    if (!content.IsEmpty)
                    {
                        owner._inner.OnData(flowDirection, content, time);
                    }

                    break;
            }
        }

        private bool TryFindApplicationKey(ReadOnlySpan<byte> header, ReadOnlySpan<byte> fragment)
        {
            var candidate = NewTls13Decryptor(_applicationSecret!);
            _plaintext ??= new byte[MaxRecordFragmentBytes];
            if (candidate.TryDecrypt(header, fragment, _plaintext, out _, out _))
            {
                // Opened as sequence 0: start over so the record is decrypted again with the same sequence.
                candidate.Dispose();
                Replace(NewTls13Decryptor(_applicationSecret!));
                return true;
            }

            candidate.Dispose();
            return false;
        }

        private void CountUndecrypted(TlsContentType type)
        {
            var info = owner._info!;
            if (type == TlsContentType.ApplicationData)
            {
                info.UndecryptedRecords++;
            }
        }

        private void OnHandshakeBytes(ReadOnlySpan<byte> content)
        {
            // Handshake messages may span records and records may hold several (RFC 8446 5.1).
            while (!content.IsEmpty && !_stopped)
            {
                if (_messageHeaderFilled < HandshakeHeaderBytes)
                {
                    var take = Math.Min(HandshakeHeaderBytes - _messageHeaderFilled, content.Length);
                    content[..take].CopyTo(_messageHeader.AsSpan(_messageHeaderFilled));
                    _messageHeaderFilled += take;
                    content = content[take..];
                    if (_messageHeaderFilled < HandshakeHeaderBytes)
                    {
                        return;
                    }

                    _messageRemaining = (_messageHeader[1] << 16) | (_messageHeader[2] << 8) | _messageHeader[3];
                    _messageBodyFilled = 0;
                    var type = _messageHeader[0];
                    var wanted = type is 1 or 2 or 8;
                    if (wanted && _messageRemaining > MaxHandshakeMessageBytes)
                    {
                        owner._info!.AddNotice(TlsNotice.HandshakeMessageTooLarge);
                        wanted = false;
                    }

                    _messageBody = wanted ? new byte[_messageRemaining] : null;
                    if (_messageRemaining == 0)
                    {
                        CompleteMessage();
                        continue;
                    }
                }

                var part = Math.Min(_messageRemaining, content.Length);
                if (_messageBody is not null)
                {
                    content[..part].CopyTo(_messageBody.AsSpan(_messageBodyFilled));
                    _messageBodyFilled += part;
                }

                _messageRemaining -= part;
                content = content[part..];
                if (_messageRemaining == 0)
                {
                    CompleteMessage();
                }
            }
        }

        private void CompleteMessage()
        {
            _messageHeaderFilled = 0;
            var body = _messageBody;
            _messageBody = null;
            owner.OnHandshakeMessage(this, _messageHeader[0], body);
        }
    }

    /// <summary>Reads TLS presentation-language fields (RFC 8446 3) from a span, never past its end.</summary>
    private ref struct WireReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public bool Skip(int count)
        {
            if (_data.Length < count)
            {
                return false;
            }

            _data = _data[count..];
            return true;
        }

        public bool TryRead(int count, out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (_data.Length < count)
            {
                return false;
            }

            bytes = _data[..count];
            _data = _data[count..];
            return true;
        }

        public bool TryReadByte(out byte value)
        {
            value = 0;
            if (_data.IsEmpty)
            {
                return false;
            }

            value = _data[0];
            _data = _data[1..];
            return true;
        }

        public bool TryReadUInt16(out ushort value)
        {
            value = 0;
            if (_data.Length < 2)
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt16BigEndian(_data);
            _data = _data[2..];
            return true;
        }

        public bool TryReadVector(int lengthBytes, out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (_data.Length < lengthBytes)
            {
                return false;
            }

            var length = lengthBytes == 1 ? _data[0] : BinaryPrimitives.ReadUInt16BigEndian(_data);
            return Skip(lengthBytes) && TryRead(length, out bytes);
        }

        public bool SkipVector(int lengthBytes) => TryReadVector(lengthBytes, out _);
    }
}
