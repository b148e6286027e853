using System.Net;
using System.Net.Sockets;

namespace WsCloseSniffer.SampleRecorder;

/// <summary>
/// A raw TCP forwarder on loopback with an idle timeout, as a load balancer in front of a WebSocket server has:
/// each accepted connection is joined to a new connection to the target, bytes are copied both ways, and a
/// connection pair that carried no byte in either direction for the idle timeout is reset on both sides (RST,
/// as a load balancer that drops its state does). Started once per scenario and disposed with it.
/// </summary>
internal sealed class IdleTimeoutProxy : IAsyncDisposable
{
    // A scenario opens a few connections; more would mean a runaway client.
    private const int MaxConnections = 8;

    private const int CopyBufferBytes = 16 * 1024;

    // How often idle pairs are looked for: the cut comes at most this late after the timeout.
    private static readonly TimeSpan s_checkInterval = TimeSpan.FromMilliseconds(20);

    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly TimeSpan _idleTimeout;
    private readonly CancellationTokenSource _stop;
    private readonly List<Pair> _pairs = [];
    private readonly Task _acceptLoop;

    private IdleTimeoutProxy(IPEndPoint target, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        _target = target;
        _idleTimeout = idleTimeout;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _listener = new TcpListener(new IPEndPoint(target.Address, 0));
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>Connections that were cut by the idle timeout so far.</summary>
    public int Cut { get; private set; }

    public static IdleTimeoutProxy Start(IPEndPoint target, TimeSpan idleTimeout, CancellationToken cancellationToken) =>
        new(target, idleTimeout, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping the listener ends the accept loop this way.
        }

        lock (_pairs)
        {
            foreach (Pair pair in _pairs)
            {
                pair.Client.Dispose();
                pair.Server.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        Task watchdog = WatchIdleAsync(cancellationToken);
        for (int accepted = 0; accepted < MaxConnections; accepted++)
        {
            Socket client = await _listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
            var server = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(_target, cancellationToken).ConfigureAwait(false);
            var pair = new Pair(client, server);
            lock (_pairs)
            {
                _pairs.Add(pair);
            }

            _ = CopyAsync(pair, client, server, cancellationToken);
            _ = CopyAsync(pair, server, client, cancellationToken);
        }

        await watchdog.ConfigureAwait(false);
    }

    private async Task WatchIdleAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(s_checkInterval, cancellationToken).ConfigureAwait(false);
            lock (_pairs)
            {
                foreach (Pair pair in _pairs.Where(p => !p.Done && Environment.TickCount64 - p.LastActivity >= _idleTimeout.TotalMilliseconds))
                {
                    // Linger on with a zero timeout makes close() send a RST (SO_LINGER semantics).
                    pair.Done = true;
                    Cut++;
                    foreach (Socket socket in (Socket[])[pair.Client, pair.Server])
                    {
                        socket.LingerState = new LingerOption(enable: true, seconds: 0);
                        socket.Close();
                    }
                }
            }
        }
    }

    private static async Task CopyAsync(Pair pair, Socket from, Socket to, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[CopyBufferBytes];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    // A FIN travels on as a FIN; the other direction goes on until its own.
                    to.Shutdown(SocketShutdown.Send);
                    pair.OneDirectionEnded();
                    return;
                }

                pair.LastActivity = Environment.TickCount64;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The idle cut (or the end of the scenario) closed the sockets under the copy.
        }
    }

    private sealed class Pair(Socket client, Socket server)
    {
        public Socket Client { get; } = client;

        public Socket Server { get; } = server;

        public long LastActivity { get; set; } = Environment.TickCount64;

        private int _directionsEnded;

        public bool Done { get; set; }

        /// <summary>Both directions ended with a FIN: the pair closed by itself and is no longer watched.</summary>
        public void OneDirectionEnded()
        {
            if (Interlocked.Increment(ref _directionsEnded) == 2)
            {
                Done = true;
            }
        }
    }
}
