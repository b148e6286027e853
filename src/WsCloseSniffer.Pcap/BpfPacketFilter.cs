using System.Runtime.InteropServices;

using PacketDotNet;

using SharpPcap;
using SharpPcap.LibPcap;

using WsCloseSniffer.Capture;

namespace WsCloseSniffer.Pcap;

/// <summary>
/// A libpcap/BPF filter expression (as tcpdump's) applied to frames read by our own capture reader.
/// The expression is compiled once per link type, lazily; matching a frame allocates nothing.
/// Not thread-safe: use one instance per reading thread.
/// </summary>
public sealed class BpfPacketFilter : IPacketFilter, IDisposable
{
    // struct pcap_pkthdr is { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; }: timeval holds two
    // C longs, 4 bytes each on Windows (LLP64), pointer-sized elsewhere (on 64-bit macOS 8 + 4 + 4 padding).
    private static readonly int s_captureLengthOffset = OperatingSystem.IsWindows() ? 8 : 2 * IntPtr.Size;

    private readonly Dictionary<LinkType, BpfProgram?> _programs = [];
    private readonly Dictionary<LinkType, string> _rejectedLinkTypes = [];
    private readonly IntPtr _header;
    private readonly IntPtr _emptyFrame;
    private LinkType _lastLinkType;
    private BpfProgram? _lastProgram;
    private bool _disposed;

    private BpfPacketFilter(string expression, BpfProgram ethernetProgram)
    {
        Expression = expression;
        _header = Marshal.AllocHGlobal(s_captureLengthOffset + 16);
        _emptyFrame = Marshal.AllocHGlobal(16);
        for (int i = 0; i < s_captureLengthOffset + 16; i += 4)
        {
            Marshal.WriteInt32(_header, i, 0);
        }

        _programs[LinkType.Ethernet] = ethernetProgram;
        _lastLinkType = LinkType.Ethernet;
        _lastProgram = ethernetProgram;
    }

    ~BpfPacketFilter()
    {
        Release();
    }

    public string Expression { get; }

    /// <summary>Link types the expression does not compile for (libpcap's message); their frames never match.</summary>
    public IReadOnlyDictionary<LinkType, string> RejectedLinkTypes => _rejectedLinkTypes;

    /// <summary>
    /// Compiles <paramref name="expression"/> (validated against Ethernet, as tcpdump on a file would).
    /// Throws <see cref="PacketFilterException"/> with libpcap's message for an invalid expression and
    /// <see cref="PcapUnavailableException"/> when libpcap cannot be loaded.
    /// </summary>
    public static BpfPacketFilter Create(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (!TryCompile(LinkType.Ethernet, expression, out var program, out string? error))
        {
            throw new PacketFilterException($"invalid filter '{expression}': {error}");
        }

        return new BpfPacketFilter(expression, program!);
    }

    public bool Matches(LinkType linkType, ReadOnlySpan<byte> frame, int originalLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var program = linkType == _lastLinkType ? _lastProgram : Lookup(linkType);
        if (program is null)
        {
            return false;
        }

        Marshal.WriteInt32(_header, s_captureLengthOffset, frame.Length);
        Marshal.WriteInt32(_header, s_captureLengthOffset + 4, Math.Max(originalLength, frame.Length));
        unsafe
        {
            fixed (byte* data = frame)
            {
                return program.Matches(_header, data == null ? _emptyFrame : (IntPtr)data);
            }
        }
    }

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private static bool TryCompile(LinkType linkType, string expression, out BpfProgram? program, out string? error)
    {
        try
        {
            program = BpfProgram.Create((LinkLayers)ToDataLinkType(linkType), expression, 1, 0);
            error = null;
            return true;
        }
        catch (PcapException ex)
        {
            program = null;
            error = ex.Message;
            return false;
        }
        catch (Exception ex) when (PcapLibrary.IsLibraryMissing(ex))
        {
            throw new PcapUnavailableException(PcapLibrary.MissingMessage, ex);
        }
    }

    /// <summary>
    /// pcap_open_dead wants a DLT_ value, files carry LINKTYPE_ values; they differ for a few types
    /// (pcap-common.c's linktype_to_dlt), raw IP among them.
    /// </summary>
    private static uint ToDataLinkType(LinkType linkType) => (uint)linkType switch
    {
        100 => 11,   // ATM_RFC1483
        101 => 12,   // RAW (14 only on OpenBSD, where .NET does not run)
        102 => 15,   // SLIP_BSDOS
        103 => 16,   // PPP_BSDOS
        _ => (uint)linkType,
    };

    private BpfProgram? Lookup(LinkType linkType)
    {
        if (!_programs.TryGetValue(linkType, out var program))
        {
            if (!TryCompile(linkType, Expression, out program, out string? error))
            {
                _rejectedLinkTypes[linkType] = error!;
            }

            _programs[linkType] = program;
        }

        _lastLinkType = linkType;
        _lastProgram = program;
        return program;
    }

    private void Release()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var program in _programs.Values)
        {
            program?.Dispose();
        }

        Marshal.FreeHGlobal(_header);
        Marshal.FreeHGlobal(_emptyFrame);
    }
}
