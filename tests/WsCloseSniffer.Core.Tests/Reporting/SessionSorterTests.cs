using WsCloseSniffer.Analysis;
using WsCloseSniffer.Reporting;

namespace WsCloseSniffer.Tests.Reporting;

public sealed class SessionSorterTests : IDisposable
{
    private readonly string _spill = Directory.CreateTempSubdirectory("wscs-sorter-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    private static SessionRecord Record(long start, long flow, string file = "f.pcap") => new()
    {
        CaptureFile = file,
        StartTime = start.ToString(System.Globalization.CultureInfo.InvariantCulture),
        EndTime = "e",
        ClientIp = "10.0.0.1",
        ServerIp = "10.0.0.2",
        Host = "h\n\"quoted\", comma",
        Classification = "normal_closure",
        Diagnosis = "d",
        Notices = ["ws_a", "ws_b"],
        CloseCode = 1000,
        StartTimeNanoseconds = start,
        FlowOrder = flow,
    };

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(7)]
    [InlineData(1)]
    public void Sorted_AnyMemoryCap_SameOrderNumberedFromOne(int maxInMemory)
    {
        var random = new Random(1234);
        using var sorter = new SessionSorter(maxInMemory, _spill);
        var added = new List<(SessionRecord Record, int Input)>();
        for (var i = 0; i < 200; i++)
        {
            var record = Record(random.Next(0, 50), random.Next(0, 1000));
            var input = random.Next(0, 3);
            added.Add((record, input));
            sorter.Add(record, input);
        }

        var expected = added
            .OrderBy(a => a.Record.StartTimeNanoseconds).ThenBy(a => a.Input).ThenBy(a => a.Record.FlowOrder)
            .Select(a => (a.Record.StartTimeNanoseconds, a.Record.FlowOrder))
            .ToList();

        var sorted = sorter.Sorted().ToList();

        Assert.Equal(200, sorter.Count);
        Assert.Equal(expected, sorted.Select(s => (s.StartTimeNanoseconds, s.FlowOrder)));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), sorted.Select(s => s.SessionId));
        Assert.Equal(sorted.Select(s => (s.SessionId, s.StartTimeNanoseconds, s.FlowOrder)), sorter.Sorted().Select(s => (s.SessionId, s.StartTimeNanoseconds, s.FlowOrder)));
    }

    [Fact]
    public void Add_PastTheCap_SpillsRunsThatKeepEveryField()
    {
        using var sorter = new SessionSorter(maxInMemory: 2, _spill);
        var original = Record(5, 1) with { CloseReason = "bye\u00e9", ReplyCloseCode = null, ClientPort = 4242 };
        sorter.Add(original, 0);
        sorter.Add(Record(9, 2), 0);
        sorter.Add(Record(1, 3), 0);

        Assert.Equal(1, sorter.SpilledRuns);
        var roundTripped = sorter.Sorted().Single(s => s.FlowOrder == 1);
        Assert.Equal(original with { SessionId = 2, Notices = roundTripped.Notices }, roundTripped);
        Assert.Equal(original.Notices, roundTripped.Notices);
    }

    [Fact]
    public void Spill_EveryPropertySetOrNull_RoundTripsExactly()
    {
        // Set through reflection, so a property added to SessionRecord but not to the spill format fails here.
        var properties = typeof(SessionRecord).GetProperties().Where(p => p.CanWrite).ToList();
        var full = Record(5, 1);
        var number = 11;
        foreach (var property in properties)
        {
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            object value = type == typeof(string) ? $"v{number}\u00e9,\"" :
                type == typeof(int) ? number :
                type == typeof(long) ? (long)number << 33 :
                type == typeof(IReadOnlyList<string>) ? new[] { $"n{number}", "ws_x" } :
                throw new InvalidOperationException($"no test value for {property.Name} ({property.PropertyType})");
            property.SetValue(full, value);
            number++;
        }

        var empty = Record(6, 2) with { Host = null, Path = null, OfferedExtensions = null, AcceptedExtensions = null, CloseInitiator = null, CloseCode = null, CloseReason = null, ReplyCloseCode = null, HandshakeStatus = null, Notices = [] };
        using var sorter = new SessionSorter(maxInMemory: 1, _spill);
        sorter.Add(full, 3);
        sorter.Add(empty, 0);
        sorter.Add(Record(7, 3), 0);

        Assert.Equal(3, sorter.SpilledRuns);
        var back = sorter.Sorted().ToList();
        var fullBack = back.Single(s => s.FlowOrder == full.FlowOrder);
        var emptyBack = back.Single(s => s.FlowOrder == empty.FlowOrder);
        foreach (var property in properties.Where(p => p.Name is not nameof(SessionRecord.SessionId) and not nameof(SessionRecord.Notices)))
        {
            Assert.Equal(property.GetValue(full), property.GetValue(fullBack));
            Assert.Equal(property.GetValue(empty), property.GetValue(emptyBack));
        }

        Assert.Equal(full.Notices, fullBack.Notices);
        Assert.Empty(emptyBack.Notices);
    }

    [Fact]
    public void ClassificationCounts_SpilledOrNot_CountEverySessionAdded()
    {
        using var sorter = new SessionSorter(maxInMemory: 2, _spill);
        string[] classifications = ["normal_closure", "mandatory_extension", "normal_closure", "abnormal_closure", "normal_closure"];
        for (var i = 0; i < classifications.Length; i++)
        {
            sorter.Add(Record(i, i) with { Classification = classifications[i] }, 0);
        }

        var expected = sorter.Sorted().GroupBy(s => s.Classification).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(3, expected["normal_closure"]);
        Assert.Equal(expected.OrderBy(e => e.Key), sorter.ClassificationCounts.OrderBy(e => e.Key));
    }

    [Fact]
    public void Add_ManySpills_RunsMergedInTiersAndStillSorted()
    {
        using var sorter = new SessionSorter(maxInMemory: 1, _spill);
        var random = new Random(99);
        for (var i = 0; i < 1_000; i++)
        {
            sorter.Add(Record(random.Next(0, 400), i), 0);
        }

        // 1,000 runs of one session: 3 of tier 2 (256 each), 14 of tier 1, 8 of tier 0; no other files left.
        Assert.Equal(3 + 14 + 8, sorter.SpilledRuns);
        Assert.Equal(sorter.SpilledRuns, Directory.GetFiles(_spill).Length);
        var sorted = sorter.Sorted().ToList();
        Assert.Equal(1_000, sorted.Count);
        Assert.Equal(sorted.OrderBy(s => s.StartTimeNanoseconds).ThenBy(s => s.FlowOrder).Select(s => s.FlowOrder), sorted.Select(s => s.FlowOrder));
    }

    [Fact]
    public void Dispose_DeletesSpilledRuns()
    {
        var sorter = new SessionSorter(maxInMemory: 1, _spill);
        sorter.Add(Record(1, 1), 0);
        sorter.Add(Record(2, 2), 0);
        Assert.NotEmpty(Directory.GetFiles(_spill));

        sorter.Dispose();

        Assert.Empty(Directory.GetFiles(_spill));
    }
}
