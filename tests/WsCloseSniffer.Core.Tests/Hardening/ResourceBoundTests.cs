using System.Buffers.Binary;
using System.Text;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.Capture;
using WsCloseSniffer.Http;
using WsCloseSniffer.Pipeline;
using WsCloseSniffer.Reassembly;
using WsCloseSniffer.Tests.TestInfrastructure;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.Hardening;

/// <summary>
/// Hostile inputs whose lengths come from the wire. Each test states its memory bound
/// and measures it in this process: bytes allocated on the test's thread (proves nothing is buffered on a
/// wire length) or bytes still reachable after a full collection (proves what a cap keeps).
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class ResourceBoundTests
{
    private static readonly Timestamp s_time = Timestamp.FromSeconds(1_800_000_000, 0);

    [Fact]
    public void FrameDecoder_FrameAnnouncingMaxInt63Bytes_SkipsPayloadWithoutAllocating()
    {
        // 127-form length 0x7FFF_FFFF_FFFF_FFFF (2^63-1), the largest RFC 6455 allows.
        var header = Convert.FromHexString("827F7FFFFFFFFFFFFFFF");
        var decoder = new FrameDecoder();
        var handler = new CountingFrameHandler();
        var chunk = new byte[64 * 1024];
        decoder.Decode(header, handler, s_time);

        // Bound: 1 KiB allocated while 64 MiB of payload go by (nothing is held for a data payload).
        var allocated = Memory.AllocatedBy(() =>
        {
            for (var i = 0; i < 1024; i++)
            {
                decoder.Decode(chunk, handler, s_time);
            }
        });

        Assert.True(allocated < Memory.KiB, $"allocated {allocated} bytes");
        Assert.Equal(0, handler.Frames);
        Assert.False(decoder.IsStopped);
        Assert.True(decoder.IsMidFrame);
        Assert.True(decoder.SkipGap(long.MaxValue - (64L * 1024 * 1024), handler, s_time));
        Assert.Equal(1, handler.Frames);
        Assert.Equal(long.MaxValue, decoder.PayloadBytes);
    }

    [Theory]
    [InlineData("827F8000000000000000")]
    [InlineData("827FFFFFFFFFFFFFFFFF")]
    [InlineData("88FF8000000000000001AABBCCDD")]
    public void FrameDecoder_LengthTopBitSet_StopsWithInvalidLength(string hex)
    {
        var decoder = new FrameDecoder();
        var handler = new CountingFrameHandler();

        var allocated = Memory.AllocatedBy(() => decoder.Decode(Convert.FromHexString(hex), handler, s_time));

        Assert.Equal(FrameDecoderStop.InvalidLength, decoder.Stop);
        Assert.Equal(0, handler.Frames);
        Assert.True(allocated < Memory.KiB, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Pipeline_ServerFrameWithTopBitLength_SessionReportedWithNotice()
    {
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols())
            .Server(Convert.FromHexString("827F8000000000000000"))
            .Server(new byte[1000])
            .ServerRst();

        var sessions = SessionPacketBuilder.Analyze(out var statistics, connection);

        var session = Assert.Single(sessions);
        Assert.Equal("abnormal_closure", session.Classification);
        Assert.Contains(Notice.WsFrameLengthInvalid, session.Notices);
        Assert.Equal(1, statistics.Notices[Notice.WsFrameLengthInvalid]);
    }

    [Fact]
    public void Pipeline_ServerFrameOfMaxInt63Bytes_PayloadCountedNotHeld()
    {
        var pieces = Enumerable.Range(0, 200).Select(_ => new byte[1400]).ToList();
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols())
            .Server(Convert.FromHexString("827F7FFFFFFFFFFFFFFF"));
        foreach (var piece in pieces)
        {
            connection.Server(piece);
        }

        connection.ServerRst();
        var file = SessionPacketBuilder.ToPcap(connection);

        // Bound: 280 KB of payload through the pipeline allocate less than 256 KiB (the session's own objects).
        PipelineRun? run = null;
        var allocated = Memory.AllocatedBy(() => run = HostileCaptures.Run(file));

        var session = Assert.Single(run!.Sessions);
        Assert.Equal("abnormal_closure", session.Classification);
        Assert.Equal(0, session.ServerFrames);
        Assert.True(allocated < 256 * Memory.KiB, $"allocated {allocated} bytes");
    }

    [Fact]
    public void HttpHeadParser_TenMegabyteHeadWithNoEnd_TooLargeAtCapWithBoundedBuffer()
    {
        var parser = new HttpHeadParser();
        var line = Encoding.ASCII.GetBytes("X-Filler: " + new string('a', 88) + "\r\n");
        var status = parser.Append("GET /chat HTTP/1.1\r\n"u8, out _);
        long offered = 0;
        var wrongAfterCap = 0;

        // Bound: the head buffer grows by doubling up to the 64 KiB cap: under 256 KiB allocated in all.
        var allocated = Memory.AllocatedBy(() =>
        {
            while (offered < 10 * Memory.MiB && status == HttpHeadStatus.NeedMoreData)
            {
                status = parser.Append(line, out _);
                offered += line.Length;
            }

            // Once over the cap, further bytes are refused without being looked at (counted here, asserted below:
            // xunit's Assert allocates, which would spoil the measurement).
            for (; offered < 10 * Memory.MiB; offered += line.Length)
            {
                if (parser.Append(line, out var consumed) != HttpHeadStatus.TooLarge || consumed != 0)
                {
                    wrongAfterCap++;
                }
            }
        });

        Assert.Equal(0, wrongAfterCap);

        Assert.Equal(HttpHeadStatus.TooLarge, status);
        Assert.Equal(HttpHeadParser.DefaultMaxHeadBytes, parser.HeadByteCount);
        Assert.True(allocated < 256 * Memory.KiB, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(16 * 1024)]
    public void HttpHeadParser_ConfiguredCap_IsTheLimit(int cap)
    {
        var parser = new HttpHeadParser(cap);
        var data = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Repeat("A: b\r\n", 5000)));

        var status = parser.Append(data, out var consumed);

        Assert.Equal(HttpHeadStatus.TooLarge, status);
        Assert.Equal(cap, consumed);
        Assert.Equal(cap, parser.MaxHeadBytes);
    }

    [Fact]
    public void Pipeline_TenMegabyteRequestHeadWithNoEnd_MemoryBounded()
    {
        var connection = new SessionPacketBuilder().Connect().Client("GET /chat HTTP/1.1\r\n"u8.ToArray());
        var segment = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("X-Filler: " + new string('a', 58) + "\r\n", 20)));
        for (long sent = 0; sent < 10 * Memory.MiB; sent += segment.Length)
        {
            connection.Client(segment);
        }

        connection.ClientRst();
        var file = SessionPacketBuilder.ToPcap(connection);

        // Bound: 10 MiB of head through the pipeline allocate under 1 MiB (one capped head buffer, no copies).
        PipelineRun? run = null;
        var allocated = Memory.AllocatedBy(() => run = HostileCaptures.Run(file));

        Assert.Null(run!.Damage);
        Assert.True(run.Packets > 7000, $"packets {run.Packets}");
        Assert.Empty(run.Sessions);
        Assert.Equal(1, run.Statistics.Connections);
        Assert.True(allocated < Memory.MiB, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Pipeline_300000SynsAndOneRealSession_ConnectionCapHoldsAndSessionReported()
    {
        const int Syns = 300_000;
        const int MaxConnections = 10_000;
        var real = new SessionPacketBuilder(clientIp: "192.0.2.99", startUnixSeconds: 1_800_000_100).Connect()
            .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols())
            .Client(FrameBuilder.ClientClose(1000, "bye")).Server(FrameBuilder.ServerClose(1000, "bye"))
            .CloseTcp();
        var file = SessionPacketBuilder.SynFloodAround(Syns, 1_800_000_100, real);
        var options = new AnalyzerOptions { Reassembly = new ReassemblyOptions { MaxConnections = MaxConnections } };
        var baseline = Memory.Retained();
        long peakRetained = 0;

        // Bound: with 10,000 connections tracked, the analyzer keeps under 64 MiB whatever the SYN count
        // (measured at the end of the SYN flood, before Finish releases everything).
        var run = HostileCaptures.Run(file, options, (number, _) =>
        {
            if (number == Syns + real.Packets.Count)
            {
                peakRetained = Memory.Retained() - baseline;
            }
        });

        var session = Assert.Single(run.Sessions);
        Assert.Equal("normal_closure", session.Classification);
        Assert.Equal("192.0.2.99", session.ClientIp);
        Assert.Equal(Syns + 1, run.Statistics.Connections);
        Assert.True(run.Statistics.EvictedForCap >= Syns - MaxConnections, $"evicted {run.Statistics.EvictedForCap}");
        Assert.True(peakRetained < 64 * Memory.MiB, $"retained {peakRetained} bytes");
    }

    [Fact]
    public void Pipeline_100000IncompleteFragmentedDatagramsAndOneFragmentedSession_CapsHoldAndSessionReported()
    {
        // Each flood datagram is a first fragment of 1,480 bytes whose rest never comes, from ever-new identifications.
        const int Flood = 100_000;
        var real = new SessionPacketBuilder(clientIp: "192.0.2.99", startUnixSeconds: 1_800_000_100).Connect()
            .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols())
            .Server(FrameBuilder.ServerText(new string('x', 4000)))
            .Client(FrameBuilder.ClientClose(1000, "bye")).Server(FrameBuilder.ServerClose(1000, "bye"))
            .CloseTcp();
        var bogus = PacketFrames.IPv4Tcp(TcpSpec.Default() with { Payload = new byte[3000] }, "203.0.113.1", "198.51.100.20");
        var ethernet = PacketFrames.EthernetHeader(0x0800);
        var pcap = new PcapFileBuilder(snapLength: 262_144);
        var realIndex = 0;
        for (var i = 0; i < Flood; i++)
        {
            var flood = IpFragmentBuilder.IPv4(bogus, 0, 1480, moreFragments: true, identification: (ushort)i);
            flood[15] = (byte)(i >> 16); // another source per 65,536 identifications
            pcap.Packet(1_800_000_100, (uint)i, PacketFrames.Concat(ethernet, flood));
            if (i % 5000 == 4999 && realIndex < real.Packets.Count)
            {
                var packet = real.Packets[realIndex++];
                foreach (var fragment in IpFragmentBuilder.IPv4(packet.Frame[14..], 1480, (ushort)(50_000 + realIndex)))
                {
                    pcap.Packet(1_800_000_100, (uint)i, PacketFrames.Concat(packet.Frame[..14], fragment));
                }
            }
        }

        Assert.Equal(real.Packets.Count, realIndex);
        var file = pcap.ToArray();
        var baseline = Memory.Retained();
        long peakRetained = 0;
        var run = HostileCaptures.Run(file, afterPacket: (number, _) =>
        {
            if (number == Flood / 2)
            {
                peakRetained = Memory.Retained() - baseline;
            }
        });

        // Bound: the 4 MiB fragment cap and 1,024 datagrams, whatever the flood (plus the pool's spare arrays).
        var session = Assert.Single(run.Sessions);
        Assert.Equal("normal_closure", session.Classification);
        Assert.Equal("192.0.2.99", session.ClientIp);
        Assert.Equal(4000 + 5, session.ServerPayloadBytes); // the text, then the close payload (code and "bye")
        Assert.True(run.Statistics.IpDatagramsEvictedByCap >= Flood - 1024, $"evicted {run.Statistics.IpDatagramsEvictedByCap}");
        Assert.True(run.Statistics.IpDatagramsReassembled >= 1);
        Assert.True(peakRetained < 32 * Memory.MiB, $"retained {peakRetained} bytes");
    }

    [Fact]
    public void Pipeline_SegmentsGigabytesAheadOfWindow_DroppedAndCountedNotBuffered()
    {
        var connection = new SessionPacketBuilder().Connect()
            .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols())
            .ClientLoses(1_500_000_000);
        for (var i = 0; i < 2000; i++)
        {
            connection.Client(new byte[1400]);
        }

        connection.Client(FrameBuilder.ClientClose(1000)).Server(FrameBuilder.ServerClose(1000)).CloseTcp();
        var file = SessionPacketBuilder.ToPcap(connection);
        var baseline = Memory.Retained();
        long retained = 0;

        // Bound: 2.8 MB arrive 1.5 GB ahead, past the 64 MiB sequence bound: dropped, none of it held.
        var run = HostileCaptures.Run(file, afterPacket: (number, _) =>
        {
            if (number == 6 + 2000)
            {
                retained = Memory.Retained() - baseline;
            }
        });

        var session = Assert.Single(run.Sessions);
        Assert.Equal("192.0.2.10", session.ClientIp);
        Assert.Equal(0, run.Statistics.BufferCapGaps);
        Assert.Equal(0, run.Statistics.GapCount);
        Assert.Equal(2000 + 1 + 1, run.Statistics.SegmentsOutsideWindow);  // data, the client's close, the client's FIN
        Assert.True(retained < 256 * Memory.KiB, $"retained {retained} bytes");
    }

    [Theory]
    [InlineData(1L << 30)]
    [InlineData(-(1L << 30))]
    [InlineData(100L * 1024 * 1024)]
    [InlineData(-(100L * 1024 * 1024))]
    [InlineData(2L * 1024 * 1024)] // within the fixed bound, past four of the client's 64 KiB windows (handshake seen)
    [InlineData(16L * 1024 * 1024)]
    public void Pipeline_ForgedSegmentsFarFromTheWindowInterleaved_RealSessionExact(long distance)
    {
        static SessionPacketBuilder Build(long? forged)
        {
            var connection = new SessionPacketBuilder().Connect()
                .Client(SessionHandshake.Request()).Server(SessionHandshake.SwitchingProtocols());
            for (var i = 0; i < 20; i++)
            {
                connection.Client(FrameBuilder.ClientText("message " + i));
                if (forged is long d)
                {
                    // Thousands would be the same; a few hundred keep the test fast. Some look like close frames.
                    for (var j = 0; j < 25; j++)
                    {
                        connection.ClientForged(d + (j * 1400), j % 5 == 0 ? FrameBuilder.ClientClose(4000) : new byte[1400]);
                    }
                }

                connection.Server(FrameBuilder.ServerText("reply " + i));
            }

            return connection.Client(FrameBuilder.ClientClose(1000, "bye")).Server(FrameBuilder.ServerClose(1000, "bye")).CloseTcp();
        }

        var clean = HostileCaptures.Run(SessionPacketBuilder.ToPcap(Build(null)));
        var run = HostileCaptures.Run(SessionPacketBuilder.ToPcap(Build(distance)));

        var expected = Assert.Single(clean.Sessions);
        var actual = Assert.Single(run.Sessions);
        // Times differ (each built packet is a millisecond later); everything else is the clean session's.
        Assert.Equal(
            (expected.CloseInitiator, expected.CloseCode, expected.CloseReason, expected.ReplyCloseCode, expected.Classification, expected.Diagnosis),
            (actual.CloseInitiator, actual.CloseCode, actual.CloseReason, actual.ReplyCloseCode, actual.Classification, actual.Diagnosis));
        Assert.Equal(
            (expected.ClientFrames, expected.ServerFrames, expected.ClientPayloadBytes, expected.ServerPayloadBytes),
            (actual.ClientFrames, actual.ServerFrames, actual.ClientPayloadBytes, actual.ServerPayloadBytes));
        Assert.Equal(21, actual.ClientFrames);
        Assert.Equal(1000, actual.CloseCode);
        Assert.Empty(actual.Notices);
        Assert.Equal(20 * 25, run.Statistics.SegmentsOutsideWindow);
        Assert.Equal(0, run.Statistics.GapCount);
        Assert.Equal(0, run.Statistics.BufferCapGaps);
    }

    [Theory]
    [InlineData(0xFFFFFFFCu)]
    [InlineData(0x80000000u)]
    [InlineData(0x7FFFFFF0u)]
    public void CaptureFile_PcapNgBlockClaimingGigabytes_DamageWithoutAllocating(uint blockLength)
    {
        var sample = HostileCaptures.Sample("07-ipv6-going-away-1001.pcapng");
        var block = new byte[28];
        BinaryPrimitives.WriteUInt32LittleEndian(block, 6);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(4), blockLength);
        var file = HostileCaptures.Concat(sample, block);

        (long Packets, CaptureDamage? Damage) read = default;
        var allocated = Memory.AllocatedBy(() => read = HostileCaptures.ReadAll(new MemoryStream(file)));

        // Bound: 1 MiB (the reader's buffers), whatever the block claims.
        Assert.Equal(28, read.Packets);
        Assert.NotNull(read.Damage);
        Assert.Equal(sample.Length, read.Damage.ByteOffset);
        Assert.True(allocated < Memory.MiB, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(0x00FFFFFCu)]
    [InlineData(0x00400000u)]
    public void CaptureFile_PcapNgBlockClaimingUnderRecordCap_AllocationBoundedByTheCap(uint blockLength)
    {
        var (read, allocated) = ReadWithTrailingBlock(blockLength);

        // Bound today: the reader's record cap (CaptureBuffer.MaxRecordBytes, 16 MiB) plus 1 MiB of buffers.
        Assert.Equal(28, read.Packets);
        Assert.NotNull(read.Damage);
        Assert.True(allocated < (16 + 1) * Memory.MiB, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(0x00FFFFFCu)]
    [InlineData(0x00400000u)]
    public void CaptureFile_PcapNgBlockClaimingUnderRecordCap_AllocatesOnlyWhatArrives(uint blockLength)
    {
        var (read, allocated) = ReadWithTrailingBlock(blockLength);

        // 28 bytes of the claimed block exist: nothing justifies more than the reader's 1 MiB buffers.
        Assert.NotNull(read.Damage);
        Assert.True(allocated < Memory.MiB, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(65535u, 0x7FFFFFFFu)]
    [InlineData(0xFFFFFFFFu, 0x7FFFFFFFu)]
    [InlineData(0xFFFFFFFFu, 0xFFFFFFFFu)]
    [InlineData(0x7FFFFFFFu, 0x7FFFFFF0u)]
    public void CaptureFile_PcapRecordClaimingGigabytes_DamageWithoutAllocating(uint snapLength, uint recordLength)
    {
        var sample = HostileCaptures.Sample("01-client-close-1000.pcap");
        var header = HostileCaptures.PcapHeader(snapLength);
        var body = sample.AsSpan(24).ToArray();
        var record = new byte[16 + 100];
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), recordLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), recordLength);
        var file = HostileCaptures.Concat(header, body, record);
        var (expectedPackets, _) = HostileCaptures.ReadAll(new MemoryStream(sample));

        (long Packets, CaptureDamage? Damage) read = default;
        var allocated = Memory.AllocatedBy(() => read = HostileCaptures.ReadAll(new MemoryStream(file)));

        // Bound: 1 MiB (the reader's buffers), whatever the record claims.
        Assert.Equal(expectedPackets, read.Packets);
        Assert.NotNull(read.Damage);
        Assert.Equal(sample.Length, read.Damage.ByteOffset);
        Assert.True(allocated < Memory.MiB, $"allocated {allocated} bytes");
    }

    [Fact]
    public void CaptureFile_GzipOfTwoGigabytesOfZeros_RejectedAtTheMagic()
    {
        // 32 members of 64 MiB of zeros: 2 GiB once inflated, about 2 MB on disk.
        var bomb = CaptureBytes.GzipMembers(new byte[64 * 1024 * 1024], 32);
        var stream = new ReadCountingStream(bomb);

        CaptureFormatException? error = null;
        var allocated = Memory.AllocatedBy(() => error = Assert.Throws<CaptureFormatException>(() => CaptureFile.Open(stream, "bomb.pcap.gz")));

        Assert.Contains("00000000", error!.Message, StringComparison.Ordinal);
        Assert.True(stream.BytesRead < 2 * Memory.MiB, $"read {stream.BytesRead} compressed bytes");
        Assert.True(allocated < 2 * Memory.MiB, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Pipeline_GzipExpandingToAGigabyteOfZeroFrames_StreamsWithBoundedMemory()
    {
        // A gzip member holding the pcap header, then 16 members of 64 MiB each: 1,024 records of a 65,520-byte
        // all-zero frame. 1 GiB once inflated, about 1 MB on disk.
        const int RecordsPerMember = 1024;
        const int FrameBytes = (64 * 1024) - 16;
        var member = new byte[RecordsPerMember * (16 + FrameBytes)];
        for (var i = 0; i < RecordsPerMember; i++)
        {
            var record = member.AsSpan(i * (16 + FrameBytes));
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], FrameBytes);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], FrameBytes);
        }

        var bomb = HostileCaptures.Concat(
            CaptureBytes.GzipMembers(HostileCaptures.PcapHeader(snapLength: 262_144), 1),
            CaptureBytes.GzipMembers(member, 16));

        // Bound: 1 GiB streams through with under 8 MiB allocated (gzip window, read buffer, statistics).
        PipelineRun? run = null;
        var allocated = Memory.AllocatedBy(() => run = HostileCaptures.Run(bomb));

        Assert.Null(run!.Damage);
        Assert.Equal(16 * RecordsPerMember, run.Packets);
        Assert.Empty(run.Sessions);
        Assert.Equal(run.Packets, run.Statistics.Malformed + run.Statistics.NotTcp);
        Assert.True(allocated < 8 * Memory.MiB, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData("none", 1)]
    [InlineData("none", 2)]
    [InlineData("pcap", 3)]
    [InlineData("pcap-be-ns", 4)]
    [InlineData("pcapng", 5)]
    [InlineData("gzip-pcap", 6)]
    [InlineData("gzip-random", 7)]
    public void Pipeline_MegabyteOfRandomBytes_EndsCleanlyWithBoundedMemory(string magic, int seed)
    {
        var random = HostileCaptures.RandomBytes(1024 * 1024, seed);
        var file = magic switch
        {
            "pcap" => HostileCaptures.Concat(HostileCaptures.PcapHeader(), random),
            "pcap-be-ns" => HostileCaptures.Concat(new PcapFileBuilder(bigEndian: true, nanosecond: true).ToArray(), random),
            "pcapng" => HostileCaptures.Concat(new PcapNgFileBuilder().Section().Interface(1).ToArray(), random),
            "gzip-pcap" => CaptureBytes.Gzip(HostileCaptures.Concat(HostileCaptures.PcapHeader(), random)),
            "gzip-random" => HostileCaptures.Concat([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 0xFF], random),
            _ => random,
        };

        PipelineRun? run = null;
        CaptureFormatException? rejected = null;
        var allocated = Memory.AllocatedBy(() =>
        {
            try
            {
                run = HostileCaptures.Run(file);
            }
            catch (CaptureFormatException e)
            {
                rejected = e;
            }
        });

        // Bound: 8 MiB allocated for 1 MiB of input (buffers and per-connection objects, never a wire length).
        Assert.True(allocated < 8 * Memory.MiB, $"allocated {allocated} bytes");
        if (magic is "none" or "gzip-random")
        {
            Assert.NotNull(rejected);
            Assert.Contains("hostile.pcap", rejected.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Null(rejected);
            Assert.NotNull(run!.Damage);
            Assert.Empty(run.Sessions);
        }
    }

    private static ((long Packets, CaptureDamage? Damage) Read, long Allocated) ReadWithTrailingBlock(uint blockLength)
    {
        var block = new byte[28];
        BinaryPrimitives.WriteUInt32LittleEndian(block, 6);
        BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(4), blockLength);
        var file = HostileCaptures.Concat(HostileCaptures.Sample("07-ipv6-going-away-1001.pcapng"), block);
        (long Packets, CaptureDamage? Damage) read = default;
        var allocated = Memory.AllocatedBy(() => read = HostileCaptures.ReadAll(new MemoryStream(file)));
        return (read, allocated);
    }

    private sealed class ReadCountingStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public long BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = base.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override int Read(Span<byte> buffer)
        {
            var read = base.Read(buffer);
            BytesRead += read;
            return read;
        }
    }

    private sealed class CountingFrameHandler : IFrameHandler
    {
        public long Frames { get; private set; }

        public void OnFrame(in FrameHeader header, in ControlPayload controlPayload, Timestamp time) => Frames++;
    }
}
