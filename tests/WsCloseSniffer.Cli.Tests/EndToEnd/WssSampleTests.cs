using System.Diagnostics;
using System.Text.Json;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.EndToEnd;

/// <summary>The recorded wss:// samples, decrypted with the key log .NET wrote while recording them.</summary>
public sealed class WssSampleTests
{
    private static string KeyLog => Path.Combine(RepositoryPaths.Samples, "wss.keylog");

    [Theory]
    [InlineData("20-wss-tls13-aes128gcm-1000.pcap", "TLS 1.3", "TLS_AES_128_GCM_SHA256", "normal_closure", 1000)]
    [InlineData("21-wss-tls13-aes256gcm-1010.pcap", "TLS 1.3", "TLS_AES_256_GCM_SHA384", "mandatory_extension", 1010)]
    [InlineData("22-wss-tls13-chacha20-rst.pcap", "TLS 1.3", "TLS_CHACHA20_POLY1305_SHA256", "abnormal_closure", null)]
    [InlineData("23-wss-tls12-aes128gcm-1000.pcap", "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "normal_closure", 1000)]
    [InlineData("24-wss-tls12-aes256gcm-1010.pcap", "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "mandatory_extension", 1010)]
    [InlineData("25-wss-tls12-chacha20-rst.pcap", "TLS 1.2", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "abnormal_closure", null)]
    public void Analyze_WithKeyLog_DecryptsAndClassifies(string file, string version, string cipher, string classification, int? closeCode)
    {
        var session = Single(Path.Combine(RepositoryPaths.Samples, file), "--tls-keylog", KeyLog);

        Assert.Equal(version, session.GetProperty("tls_version").GetString());
        Assert.Equal(cipher, session.GetProperty("tls_cipher").GetString());
        Assert.True(session.GetProperty("decrypted").GetBoolean());
        Assert.Equal(classification, session.GetProperty("classification").GetString());
        Assert.Equal(closeCode, session.GetProperty("close_code").ValueKind == JsonValueKind.Null ? null : session.GetProperty("close_code").GetInt32());
        Assert.Equal("/echo", session.GetProperty("path").GetString() is "/server-close" ? "/echo" : session.GetProperty("path").GetString());
    }

    [Fact]
    public void Analyze_HandshakeRefusedWithAnAlert_NamesTheAlert()
    {
        var session = Single(Path.Combine(RepositoryPaths.Samples, "27-wss-tls12-unknown-ca-alert.pcap"), "--tls-keylog", KeyLog);

        Assert.Equal("abnormal_closure", session.GetProperty("classification").GetString());
        Assert.Equal("localhost", session.GetProperty("tls_sni").GetString());
        Assert.Equal("localhost", session.GetProperty("host").GetString());
        Assert.StartsWith("The TLS handshake failed: the client sent the alert unknown_ca", session.GetProperty("diagnosis").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_HandshakeCompletedThenClientLeft_SaysSo()
    {
        var session = Single(Path.Combine(RepositoryPaths.Samples, "28-wss-tls13-untrusted-certificate.pcap"), "--tls-keylog", KeyLog);

        Assert.False(session.GetProperty("decrypted").GetBoolean());
        Assert.StartsWith("The TLS handshake completed (TLS 1.3) but the client left before sending any request", session.GetProperty("diagnosis").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_Http2WebSocket_IsReportedAsNotAnalyzedYet()
    {
        var session = Single(Path.Combine(RepositoryPaths.Samples, "29-wss-h2-tls13-1000.pcap"), "--tls-keylog", KeyLog);

        Assert.Equal("h2", session.GetProperty("tls_alpn").GetString());
        Assert.True(session.GetProperty("decrypted").GetBoolean());
        Assert.Contains("WebSocket over HTTP/2 (RFC 8441) is not analyzed yet", session.GetProperty("diagnosis").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_PcapngWithDecryptionSecretsBlock_DecryptsWithoutKeyLogOption()
    {
        var session = Single(Path.Combine(RepositoryPaths.Samples, "26-wss-tls13-secrets-in-capture.pcapng"));

        Assert.True(session.GetProperty("decrypted").GetBoolean());
        Assert.Equal("normal_closure", session.GetProperty("classification").GetString());
        Assert.Equal(2, session.GetProperty("client_frames").GetInt32());
    }

    [Fact]
    public void Analyze_KeyLogWithoutThisSession_ReportsNotDecryptedAndNamesTheNeededLines()
    {
        var keyLog = Path.Combine(Path.GetTempPath(), $"wscs-other-{Guid.NewGuid():N}.keylog");
        File.WriteAllText(keyLog, $"CLIENT_RANDOM {new string('0', 64)} {new string('1', 96)}\n");
        try
        {
            var tls13 = Single(Path.Combine(RepositoryPaths.Samples, "20-wss-tls13-aes128gcm-1000.pcap"), "--tls-keylog", keyLog);
            var tls12 = Single(Path.Combine(RepositoryPaths.Samples, "23-wss-tls12-aes128gcm-1000.pcap"), "--tls-keylog", keyLog);

            Assert.False(tls13.GetProperty("decrypted").GetBoolean());
            Assert.Equal("abnormal_closure", tls13.GetProperty("classification").GetString());
            Assert.Contains("CLIENT_TRAFFIC_SECRET_0", tls13.GetProperty("diagnosis").GetString(), StringComparison.Ordinal);
            Assert.Contains("a CLIENT_RANDOM line for client random", tls12.GetProperty("diagnosis").GetString(), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.Null, tls12.GetProperty("path").ValueKind);
        }
        finally
        {
            File.Delete(keyLog);
        }
    }

    [Fact]
    public void Analyze_WrongSecrets_ReportsDecryptFailure()
    {
        // The right client randoms with every secret's first hex digit changed.
        var keyLog = Path.Combine(Path.GetTempPath(), $"wscs-wrong-{Guid.NewGuid():N}.keylog");
        File.WriteAllLines(keyLog, File.ReadAllLines(KeyLog).Select(line =>
        {
            var parts = line.Split(' ');
            return parts.Length == 3 ? $"{parts[0]} {parts[1]} {(parts[2][0] == 'f' ? 'e' : 'f')}{parts[2][1..]}" : line;
        }));
        try
        {
            var session = Single(Path.Combine(RepositoryPaths.Samples, "23-wss-tls12-aes128gcm-1000.pcap"), "--tls-keylog", keyLog);

            Assert.False(session.GetProperty("decrypted").GetBoolean());
            Assert.Contains("wrong or mismatched keys", session.GetProperty("diagnosis").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(keyLog);
        }
    }

    [Fact]
    public void Analyze_WithoutAnyKeys_DoesNotReportOpaqueTls()
    {
        var result = CliRunner.Run("analyze", Path.Combine(RepositoryPaths.Samples, "20-wss-tls13-aes128gcm-1000.pcap"), "--json", "-", "--quiet");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Out);
    }

    [Fact]
    public void Analyze_MissingKeyLogFile_ExitsTwoNamingIt()
    {
        var result = CliRunner.Run("analyze", RepositoryPaths.Samples, "--tls-keylog", "/nonexistent/keys.log", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("/nonexistent/keys.log", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Live_MissingKeyLogFile_ExitsTwoBeforeCapturing()
    {
        var result = CliRunner.Run("live", "--interface", "lo", "--duration", "1", "--tls-keylog", "/nonexistent/live-keys.log", "--quiet");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("/nonexistent/live-keys.log", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_KeyLogWithMalformedLines_WarnsWithTheLineAndStillDecrypts()
    {
        var keyLog = Path.Combine(Path.GetTempPath(), $"wscs-mixed-{Guid.NewGuid():N}.keylog");
        File.WriteAllLines(keyLog, ["not a key log line", .. File.ReadAllLines(KeyLog)]);
        try
        {
            var result = CliRunner.Run("analyze", Path.Combine(RepositoryPaths.Samples, "20-wss-tls13-aes128gcm-1000.pcap"), "--json", "-", "--quiet", "--tls-keylog", keyLog);

            Assert.Equal(0, result.ExitCode);
            Assert.Contains("1 line(s) are not NSS key log lines and were skipped (first: line 1)", result.Error, StringComparison.Ordinal);
            Assert.Contains("\"decrypted\":true", result.Out, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(keyLog);
        }
    }

    // Cross-check with Wireshark's decryption of the same samples and key log: the close codes it decodes.
    [SkippableTheory]
    [InlineData("20-wss-tls13-aes128gcm-1000.pcap")]
    [InlineData("21-wss-tls13-aes256gcm-1010.pcap")]
    [InlineData("23-wss-tls12-aes128gcm-1000.pcap")]
    [InlineData("24-wss-tls12-aes256gcm-1010.pcap")]
    public void Analyze_CloseCodes_MatchTshark(string file)
    {
        var path = Path.Combine(RepositoryPaths.Samples, file);
        var tshark = RunTshark(path);
        Skip.If(tshark is null, "tshark is not installed");

        var codes = tshark!.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var session = Single(path, "--tls-keylog", KeyLog);

        Assert.Equal(2, codes.Length);
        Assert.Equal(codes[0], session.GetProperty("close_code").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(codes[1], session.GetProperty("reply_close_code").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string? RunTshark(string path)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("tshark",
                ["-r", path, "-o", $"tls.keylog_file:{KeyLog}", "-Y", "websocket.opcode == 8", "-T", "fields", "-e", "websocket.payload.close.status_code"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill();
                return null;
            }

            return output.Result;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static JsonElement Single(string capture, params string[] extra)
    {
        var result = CliRunner.Run(["analyze", capture, "--json", "-", "--quiet", .. extra]);
        Assert.True(result.ExitCode == 0, result.Error);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        return JsonDocument.Parse(lines[0]).RootElement.Clone();
    }
}
