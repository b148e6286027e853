using System.IO.Compression;
using System.Net.WebSockets;

namespace WsCloseSniffer.TestSupport;

/// <summary>
/// Compressed frames for tests, made by implementations independent of the analyzer: System.Net.WebSockets' own
/// permessage-deflate sender (which limits its window to the agreed bits and resets it without context takeover),
/// and System.IO.Compression's DeflateStream with a sync flush, the 00 00 FF FF tail cut as RFC 7692 7.2.1 says.
/// </summary>
public static class DeflateFrames
{
    /// <summary>
    /// The wire bytes of each message as .NET's WebSocket sends them with the given window bits and context
    /// takeover: one array of frames per message (client frames masked).
    /// </summary>
    public static List<byte[]> Messages(bool fromClient, int windowBits, bool contextTakeover, IEnumerable<(string? Text, byte[]? Binary)> messages)
    {
        var wire = new WireRecorder();
        using var socket = WebSocket.CreateFromStream(wire, new WebSocketCreationOptions
        {
            IsServer = !fromClient,
            KeepAliveInterval = TimeSpan.Zero,
            DangerousDeflateOptions = new WebSocketDeflateOptions
            {
                ClientMaxWindowBits = windowBits,
                ServerMaxWindowBits = windowBits,
                ClientContextTakeover = contextTakeover,
                ServerContextTakeover = contextTakeover,
            },
        });
        var frames = new List<byte[]>();
        foreach (var (text, binary) in messages)
        {
            var payload = text is not null ? System.Text.Encoding.UTF8.GetBytes(text) : binary!;
            socket.SendAsync(new ReadOnlyMemory<byte>(payload), text is not null ? WebSocketMessageType.Text : WebSocketMessageType.Binary, endOfMessage: true, default)
                .AsTask().GetAwaiter().GetResult();
            frames.Add(wire.Take());
        }

        socket.Abort();
        return frames;
    }

    /// <summary>The 101's Sec-WebSocket-Extensions for those parameters, as a server agreeing to them answers.</summary>
    public static string Accepted(int windowBits, bool contextTakeover) =>
        $"permessage-deflate; client_max_window_bits={windowBits}; server_max_window_bits={windowBits}"
        + (contextTakeover ? string.Empty : "; client_no_context_takeover; server_no_context_takeover");

    /// <summary>DEFLATE data of each piece, sync-flushed through one DeflateStream (context kept), each without its 00 00 FF FF tail.</summary>
    public static List<byte[]> SyncFlushed(params byte[][] pieces)
    {
        var output = new MemoryStream();
        using var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
        var units = new List<byte[]>();
        foreach (var piece in pieces)
        {
            output.SetLength(0);
            deflate.Write(piece);
            deflate.Flush();
            var bytes = output.ToArray();
            if (!bytes.AsSpan(bytes.Length - 4).SequenceEqual(new byte[] { 0, 0, 0xFF, 0xFF }))
            {
                throw new InvalidOperationException("a sync flush ends with 00 00 FF FF");
            }

            units.Add(bytes[..^4]);
        }

        return units;
    }

    /// <summary>A write-only stream that hands out what was written since the last <see cref="Take"/>.</summary>
    private sealed class WireRecorder : Stream
    {
        private readonly MemoryStream _written = new();

        public byte[] Take()
        {
            var bytes = _written.ToArray();
            _written.SetLength(0);
            return bytes;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => 0;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => _written.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => _written.Write(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _written.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            _written.Write(buffer, offset, count);
            return Task.CompletedTask;
        }
    }
}
