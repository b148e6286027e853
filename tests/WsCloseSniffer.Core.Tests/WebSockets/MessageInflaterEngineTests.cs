using System.IO.Compression;
using System.Text;

using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.WebSockets;

/// <summary>
/// The runtime's zlib called directly against the DeflateStream path it replaces: the same statuses and counts for
/// the same input however it is cut, and <see cref="MessageInflater.Reset"/> giving what a new inflater gives.
/// </summary>
public class MessageInflaterEngineTests
{
    private const uint Key = 0x37fa213d;

    private static readonly byte[] Json = JsonLike(seed: 1, bytes: 3000);
    private static readonly byte[] Records = RandomRecords(seed: 2, bytes: 2500);
    private static readonly byte[] Noise = RandomBytes(seed: 3, bytes: 1500);

    public static TheoryData<string, int> Inputs()
    {
        var data = new TheoryData<string, int>();
        foreach (var name in new[] { "json", "records", "noise" })
        {
            foreach (var level in new[] { 0, 1, 6, 9 })
            {
                data.Add(name, level);
            }
        }

        return data;
    }

    [Fact]
    public void NewInflater_OnThisRuntime_CallsTheSharedFrameworksZLib()
    {
        using var native = new MessageInflater();
        using var managed = new MessageInflater(useNative: false);

        Assert.True(native.UsesNativeZLib, "libSystem.IO.Compression.Native did not load: every comparison below would be the fallback against itself");
        Assert.False(managed.UsesNativeZLib);
    }

    [Fact]
    public void NativeUsable_LibraryOrEntryPointMissing_FallsBackInsteadOfFailing()
    {
        Assert.True(MessageInflater.NativeUsable(() => { }));
        Assert.False(MessageInflater.NativeUsable(() => throw new DllNotFoundException("libSystem.IO.Compression.Native")));
        Assert.False(MessageInflater.NativeUsable(() => throw new EntryPointNotFoundException("CompressionNative_Inflate")));

        // Anything else is a real failure, not a missing library.
        Assert.Throws<InsufficientMemoryException>(() => MessageInflater.NativeUsable(() => throw new InsufficientMemoryException()));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Inflate_SyncFlushedUnitCutAtEveryByte_NativeAndDeflateStreamAgree(string name, int level)
    {
        var text = Source(name);
        var unit = SyncFlushed(text, level);
        var expected = Run(new MessageInflater(useNative: false), unit, Key, [], long.MaxValue, checkUtf8: name != "noise");
        Assert.Equal((text.Length, InflateStatus.Ok), (expected.Bytes, expected.Outcome));

        foreach (var key in new uint[] { 0, Key })
        {
            for (var cut = 0; cut <= unit.Length; cut++)
            {
                AssertSame(unit, key, [cut], long.MaxValue, checkUtf8: name != "noise");
            }

            AssertSame(unit, key, [.. Enumerable.Range(1, unit.Length - 1)], long.MaxValue, checkUtf8: true);
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Inflate_FinalBlockWithAndWithoutBytesAfterIt_NativeAndDeflateStreamAgree(string name, int level)
    {
        var final = Final(Source(name), level);
        byte[] trailing = [.. final, 0x00, 0x00, 0x12];
        foreach (var key in new uint[] { 0, Key })
        {
            for (var cut = 0; cut <= final.Length; cut += 7)
            {
                AssertSame(final, key, [cut], long.MaxValue, checkUtf8: false);
            }

            AssertSame(final, key, [.. Enumerable.Range(1, final.Length - 1)], long.MaxValue, checkUtf8: false);

            // Bytes after the final block in the same call: DeflateStream notices them only once its own 8 KiB buffer
            // drains, so the call that says StreamEnded may come later; the unit's outcome is the same.
            foreach (var cut in new[] { 0, final.Length / 2, final.Length, final.Length + 2 })
            {
                var native = Run(new MessageInflater(useNative: true), trailing, key, [cut], long.MaxValue, checkUtf8: false);
                var managed = Run(new MessageInflater(useNative: false), trailing, key, [cut], long.MaxValue, checkUtf8: false);
                Assert.Equal((managed.Bytes, managed.Outcome), (native.Bytes, native.Outcome));
                Assert.Equal(InflateStatus.StreamEnded, native.Outcome);
            }
        }
    }

    [Fact]
    public void Inflate_UnitsSharingOneWindow_NativeAndDeflateStreamAgreeAcrossUnits()
    {
        var units = DeflateFrames.SyncFlushed(Json, Records, Json, Records);
        foreach (var pieceBytes in new[] { 1, 5, 100, 100_000 })
        {
            using var native = new MessageInflater(useNative: true);
            using var managed = new MessageInflater(useNative: false);
            foreach (var unit in units)
            {
                var cuts = Enumerable.Range(1, (unit.Length - 1) / pieceBytes).Select(i => i * pieceBytes).ToArray();
                var n = Run(native, unit, Key, cuts, long.MaxValue, checkUtf8: true, dispose: false);
                var m = Run(managed, unit, Key, cuts, long.MaxValue, checkUtf8: true, dispose: false);
                Assert.Equal(m, n);
                Assert.True(n.Utf8Complete);
            }
        }

        // The second Json refers back into the first: the window really was carried over.
        Assert.True(units[2].Length < units[0].Length / 4, $"{units[2].Length} vs {units[0].Length}");
    }

    public static TheoryData<byte[]> InvalidUnits()
    {
        var valid = SyncFlushed(Json, 6);
        var data = new TheoryData<byte[]>
        {
            new byte[] { 0xFF, 0xFF },
            new byte[] { 0x00, 0x05, 0x00, 0x05, 0x00 },

            // Refers back into a message this inflater never saw.
            DeflateFrames.SyncFlushed(Json, Json)[1],
        };
        foreach (var at in new[] { 1, 10, 40, 200, valid.Length / 2 })
        {
            var corrupt = (byte[])valid.Clone();
            corrupt[at] ^= 0x5A;
            data.Add(corrupt);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidUnits))]
    public void Inflate_InvalidData_NativeAndDeflateStreamAgreeWithZLibsWords(byte[] unit)
    {
        foreach (var key in new uint[] { 0, Key })
        {
            for (var cut = 0; cut <= unit.Length; cut += Math.Max(1, unit.Length / 40))
            {
                AssertSame(unit, key, [cut], long.MaxValue, checkUtf8: true);
            }

            AssertSame(unit, key, [.. Enumerable.Range(1, unit.Length - 1)], long.MaxValue, checkUtf8: true);
        }

        using var native = new MessageInflater(useNative: true);
        var counted = new InflatedUnit(long.MaxValue, checkUtf8: false);
        var status = native.Inflate(unit, ref counted);
        if (status == InflateStatus.Ok)
        {
            status = native.EndUnit(ref counted);
        }

        // A flipped bit may still be valid DEFLATE (other bytes); when it is not, zlib says why.
        if (status == InflateStatus.InvalidData)
        {
            Assert.Matches("^(invalid|incorrect|too many|distance|oversubscribed|unexpected|empty)", native.LastError);
            Assert.True(native.IsSpent);
        }
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(16_384)]
    [InlineData(16_385)]
    [InlineData(1_000_000)]
    [InlineData(1_000_001)]
    public void Inflate_ZerosPastTheLimit_NativeAndDeflateStreamStopAtExactlyTheLimit(long limit)
    {
        var bomb = SyncFlushed(new byte[1_000_000], 9);
        foreach (var cuts in new[] { Array.Empty<int>(), [.. Enumerable.Range(1, bomb.Length - 1)] })
        {
            var native = AssertSame(bomb, Key, cuts, limit, checkUtf8: false);
            Assert.Equal(Math.Min(limit, 1_000_000), native.Bytes);
            Assert.Equal(limit <= 1_000_000 ? InflateStatus.LimitReached : InflateStatus.Ok, native.Outcome);
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Reset_UnitReferringBackIntoTheLastOne_FailsAsWithANewInflater(bool useNative, bool resetInPlace)
    {
        var units = DeflateFrames.SyncFlushed(Json, Json);
        using var fresh = new MessageInflater(useNative);
        var expected = Run(fresh, units[1], 0, [], long.MaxValue, checkUtf8: true, dispose: false);
        Assert.Equal(InflateStatus.InvalidData, expected.Outcome);

        using var reset = new MessageInflater(useNative, resetInPlace);
        Assert.Equal(Json.Length, Run(reset, units[0], 0, [], long.MaxValue, checkUtf8: true, dispose: false).Bytes);
        reset.Reset();
        var after = Run(reset, units[1], 0, [], long.MaxValue, checkUtf8: true, dispose: false);

        Assert.Equal(expected, after);
        Assert.Equal(fresh.LastError, reset.LastError);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Reset_AfterEachWayAStreamEnds_InflatesTheNextUnitAsANewInflater(bool useNative, bool resetInPlace)
    {
        var next = SyncFlushed(Records, 6);
        using var fresh = new MessageInflater(useNative);
        var expected = Run(fresh, next, Key, [17], long.MaxValue, checkUtf8: true, dispose: false);
        Assert.Equal((Records.Length, InflateStatus.Ok), (expected.Bytes, expected.Outcome));

        using var inflater = new MessageInflater(useNative, resetInPlace);
        (byte[] Unit, long Limit, InflateStatus Outcome)[] endings =
        [
            (SyncFlushed(Json, 6), long.MaxValue, InflateStatus.Ok),
            ([.. Final(Json, 6), 0x01], long.MaxValue, InflateStatus.StreamEnded),
            ([0xFF, 0xFF], long.MaxValue, InflateStatus.InvalidData),
            (SyncFlushed(Json, 6), 100, InflateStatus.LimitReached),
        ];
        foreach (var (unit, limit, outcome) in endings)
        {
            Assert.Equal(outcome, Run(inflater, unit, Key, [], limit, checkUtf8: true, dispose: false).Outcome);
            Assert.Equal(outcome != InflateStatus.Ok, inflater.IsSpent);

            inflater.Reset();

            Assert.False(inflater.IsSpent);
            Assert.Null(inflater.LastError);
            Assert.Equal(expected, Run(inflater, next, Key, [17], long.MaxValue, checkUtf8: true, dispose: false));
            inflater.Reset();
        }
    }

    [Fact]
    public void Reset_AfterDispose_Throws()
    {
        var inflater = new MessageInflater();
        inflater.Dispose();

        Assert.Throws<ObjectDisposedException>(inflater.Reset);
        var counted = new InflatedUnit(long.MaxValue, checkUtf8: false);
        Assert.Equal(InflateStatus.StreamEnded, inflater.Inflate([0x00], ref counted));
    }

    [Fact]
    public void Pool_ReturnedInflaters_ComeBackResetAndAtMostFourWait()
    {
        // Whatever other tests on this thread left behind.
        var leftover = Enumerable.Range(0, MessageInflaterPool.IdlePerThread).Select(_ => MessageInflaterPool.Rent()).ToList();
        leftover.ForEach(i => i.Dispose());
        Assert.Equal(0, MessageInflaterPool.IdleOnThisThread);

        var spent = new MessageInflater();
        var counted = new InflatedUnit(long.MaxValue, checkUtf8: false);
        Assert.Equal(InflateStatus.InvalidData, spent.Inflate([0xFF, 0xFF], ref counted));
        var others = Enumerable.Range(0, MessageInflaterPool.IdlePerThread).Select(_ => new MessageInflater()).ToList();

        MessageInflaterPool.Return(spent);
        others.ForEach(MessageInflaterPool.Return);

        Assert.Equal(MessageInflaterPool.IdlePerThread, MessageInflaterPool.IdleOnThisThread);
        Assert.True(others[^1].IsDisposed, "a fifth idle inflater is disposed, not kept");
        var rented = Enumerable.Range(0, MessageInflaterPool.IdlePerThread).Select(_ => MessageInflaterPool.Rent()).ToList();
        Assert.Contains(spent, rented);
        Assert.False(spent.IsSpent);
        Assert.Equal(Json.Length, Run(spent, SyncFlushed(Json, 6), 0, [], long.MaxValue, checkUtf8: true).Bytes);
        rented.ForEach(i => i.Dispose());
    }

    private static UnitResult AssertSame(byte[] unit, uint key, int[] cuts, long limit, bool checkUtf8)
    {
        var native = Run(new MessageInflater(useNative: true), unit, key, cuts, limit, checkUtf8);
        var managed = Run(new MessageInflater(useNative: false), unit, key, cuts, limit, checkUtf8);
        Assert.True(managed == native, $"cuts {string.Join(',', cuts.Take(3))}{(cuts.Length > 3 ? "..." : string.Empty)} key {key:x}: DeflateStream {managed}, zlib {native}");
        return native;
    }

    /// <summary>Feeds the unit masked with <paramref name="key"/>, cut where <paramref name="cuts"/> say, then its end.</summary>
    private static UnitResult Run(MessageInflater inflater, byte[] unit, uint key, int[] cuts, long limit, bool checkUtf8, bool dispose = true)
    {
        var wire = (byte[])unit.Clone();
        if (key != 0)
        {
            FrameHeader.Unmask(wire, key, 0);
        }

        var counted = new InflatedUnit(limit, checkUtf8);
        var statuses = new List<InflateStatus>();
        var start = 0;
        foreach (var end in cuts.Append(wire.Length))
        {
            statuses.Add(inflater.Inflate(wire.AsSpan(start, end - start), key, start, ref counted));
            start = end;
        }

        statuses.Add(inflater.EndUnit(ref counted));
        if (dispose)
        {
            inflater.Dispose();
        }

        var utf8 = counted.Utf8;
        return new UnitResult(string.Join(' ', statuses), statuses.FirstOrDefault(s => s != InflateStatus.Ok), counted.Bytes, utf8.IsInvalid, utf8.Complete());
    }

    private static byte[] Source(string name) => name switch
    {
        "json" => Json,
        "records" => Records,
        _ => Noise,
    };

    /// <summary>One message as an RFC 7692 sender compresses it without context takeover: its own stream, sync-flushed, tail cut.</summary>
    private static byte[] SyncFlushed(byte[] data, int level)
    {
        var output = new MemoryStream();
        using var deflate = new DeflateStream(output, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true);
        deflate.Write(data);
        deflate.Flush();
        var bytes = output.ToArray();
        Assert.True(bytes.AsSpan(^4).SequenceEqual(MessageInflater.FlushTail));
        return bytes[..^4];
    }

    /// <summary>The data as one stream ending in a BFINAL block.</summary>
    private static byte[] Final(byte[] data, int level)
    {
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
        {
            deflate.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] JsonLike(int seed, int bytes)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        while (text.Length < bytes)
        {
            text.Append($"{{\"id\":{random.Next(100_000)},\"user\":\"user-{random.Next(500)}\",\"price\":{random.NextDouble():F4},\"tags\":[\"t{random.Next(9)}\",\"ünïcödé\"]}},");
        }

        return Encoding.UTF8.GetBytes(text.ToString(0, bytes));
    }

    private static byte[] RandomRecords(int seed, int bytes)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        while (text.Length < bytes)
        {
            text.Append(string.Create(random.Next(8, 40), random, (span, r) =>
            {
                for (var i = 0; i < span.Length; i++)
                {
                    span[i] = (char)('a' + r.Next(26));
                }
            }));
            text.Append(';').Append(random.Next()).Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, bytes));
    }

    private static byte[] RandomBytes(int seed, int bytes)
    {
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        return data;
    }

    private sealed record UnitResult(string Statuses, InflateStatus Outcome, long Bytes, bool Utf8Invalid, bool Utf8Complete)
    {
        public override string ToString() => $"[{Statuses}] {Bytes} bytes, utf8 {(Utf8Invalid ? "invalid" : Utf8Complete ? "complete" : "open")}";
    }
}
