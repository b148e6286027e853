using WsCloseSniffer.Cli;
using WsCloseSniffer.Pcap;

namespace WsCloseSniffer.Tests.Commands;

public sealed class ExitCodesTests
{
    public static TheoryData<Exception, int> Failures => new()
    {
        { new DirectoryNotFoundException("no such directory"), ExitCodes.Usage },
        { new UnauthorizedAccessException("denied"), ExitCodes.Usage },
        { new IOException("disk full"), ExitCodes.Usage },
        { new PacketFilterException("invalid filter"), ExitCodes.InputError },
        { new PcapUnavailableException("no libpcap"), ExitCodes.InputError },
        { new LiveCaptureException("no such interface"), ExitCodes.InputError },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Of_ExpectedFailure_GivesItsCode(Exception failure, int expected)
    {
        Assert.True(ExitCodes.IsExpected(failure));
        Assert.Equal(expected, ExitCodes.Of(failure));
    }

    [Fact]
    public void Of_UnexpectedFailure_IsNotMappedToAnExitCode()
    {
        var bug = new InvalidOperationException("a bug");

        Assert.False(ExitCodes.IsExpected(bug));
        Assert.Throws<ArgumentException>(() => ExitCodes.Of(bug));
    }
}
