using System.Globalization;
using WsCloseSniffer.Analysis;
using WsCloseSniffer.WebSockets;

namespace WsCloseSniffer.Tests.Analysis;

public sealed class OutcomeTests
{
    [Theory]
    [InlineData(0, "invalid_close_code")]
    [InlineData(999, "invalid_close_code")]
    [InlineData(1000, "normal_closure")]
    [InlineData(1001, "going_away")]
    [InlineData(1002, "protocol_error")]
    [InlineData(1003, "unsupported_data")]
    [InlineData(1004, "invalid_close_code")]
    [InlineData(1005, "invalid_close_code")]
    [InlineData(1006, "invalid_close_code")]
    [InlineData(1007, "invalid_payload")]
    [InlineData(1008, "policy_violation")]
    [InlineData(1009, "message_too_big")]
    [InlineData(1010, "mandatory_extension")]
    [InlineData(1011, "internal_error")]
    [InlineData(1012, "service_restart")]
    [InlineData(1013, "try_again_later")]
    [InlineData(1014, "bad_gateway")]
    [InlineData(1015, "invalid_close_code")]
    [InlineData(1016, "invalid_close_code")]
    [InlineData(2999, "invalid_close_code")]
    [InlineData(3000, "application")]
    [InlineData(3999, "application")]
    [InlineData(4000, "application")]
    [InlineData(4999, "application")]
    [InlineData(5000, "invalid_close_code")]
    [InlineData(65535, "invalid_close_code")]
    public void ForCloseCode_EveryContractWordAndBoundary_GivesTheContractWord(int code, string expected)
    {
        Assert.Equal(expected, Outcomes.ForCloseCode(code).Word());
        Assert.Equal(expected != "invalid_close_code", CloseCode.IsValidOnWire(code));
    }

    [Fact]
    public void ForCloseCode_EveryCode_AgreesWithIsValidOnWire()
    {
        for (var code = 0; code <= ushort.MaxValue; code++)
        {
            Assert.True(CloseCode.IsValidOnWire(code) == (Outcomes.ForCloseCode(code) != Outcome.InvalidCloseCode), code.ToString(CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void All_OneRowPerOutcome_InEnumOrderWithDistinctWordsAndCodes()
    {
        Assert.Equal(Enum.GetValues<Outcome>(), Outcomes.All.Select(row => row.Outcome));
        Assert.Equal(Outcomes.All.Count, Outcomes.All.Select(row => row.Word).Distinct(StringComparer.Ordinal).Count());
        var codes = Outcomes.All.Where(row => row.CloseCode is not null).Select(row => row.CloseCode!.Value).ToList();
        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.All(codes, code => Assert.Equal(Outcomes.All.Single(row => row.CloseCode == code).Outcome, Outcomes.ForCloseCode(code)));
    }

    [Fact]
    public void All_TheContractWordsInTheContractOrder()
    {
        // The report contract fixes these words and their order (the summary lists them so).
        Assert.Equal(
        [
            "normal_closure", "going_away", "protocol_error", "unsupported_data", "no_status", "invalid_payload",
            "policy_violation", "message_too_big", "mandatory_extension", "internal_error", "service_restart",
            "try_again_later", "bad_gateway", "application", "invalid_close_code", "abnormal_closure", "unfinished",
            "handshake_rejected",
        ], Outcomes.All.Select(row => row.Word));
        Assert.Equal(["normal_closure"], Outcomes.All.Where(row => row.Clean).Select(row => row.Word));
        Assert.True(Outcomes.TryParse("going_away", out var outcome) && outcome == Outcome.GoingAway);
        Assert.False(Outcomes.TryParse("closed", out _));
    }

    [Fact]
    public void Fill_EveryTemplate_HasAValueForEachPlaceholder()
    {
        (string, string)[] all =
        [
            ("side", "S"), ("other", "O"), ("said", "SAID"), ("echo", "ECHO"), ("code", "C"), ("name", "N"), ("reason", "R"),
            ("time", "T"), ("who", "W"), ("how", "H"), ("offered", "OF"), ("accepted", "AC"), ("missing", "M"),
            ("status", "ST"), ("hint", "HI"), ("ending", "E"), ("notices", "NO"),
            ("alert", "AL"), ("cipher", "CI"), ("random", "RA"), ("lines", "L"),
            ("problems", "P"), ("heads", "HE"), ("fields", "FI"), ("wanted", "WA"), ("proxy", "PR"), ("version", "V"),
            ("idle", "I"), ("duration", "D"), ("timeout", "TO"), ("timeoutWho", "TW"), ("unanswered", "U"),
            ("sender", "SE"), ("message", "ME"), ("cause", "CA"), ("bytes", "B"),
            ("pinger", "PI"), ("wait", "WT"), ("sizes", "SZ"), ("last", "LA"), ("lastWho", "LW"), ("largest", "LG"), ("unfinished", "UF"),
            ("count", "CO"), ("center", "CE"), ("spread", "SP"),
        ];
        var templates = Outcomes.All.Select(row => row.Diagnosis).Concat(
            typeof(DiagnosisTemplates).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!))
            .Concat(DiagnosisTemplates.InflateFailureCauses);
        foreach (var template in templates)
        {
            var filled = DiagnosisTemplates.Fill(template, all);
            Assert.DoesNotContain("{", filled, StringComparison.Ordinal);
            Assert.DoesNotContain("}", filled, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Fill_PlaceholdersAndValues_ValuesInsertedVerbatimAndAMissingOneThrows()
    {
        Assert.Equal("The client said {x}.", DiagnosisTemplates.Fill("The {side} said {what}.", ("side", "client"), ("what", "{x}")));
        Assert.Throws<InvalidOperationException>(() => DiagnosisTemplates.Fill("The {side} said {what}.", ("side", "client")));
        Assert.Throws<InvalidOperationException>(() => DiagnosisTemplates.Fill("The {side", ("side", "client")));
    }

    [Theory]
    [InlineData(400, "Sec-WebSocket-Key")]
    [InlineData(401, "credentials")]
    [InlineData(407, "credentials")]
    [InlineData(403, "allow list")]
    [InlineData(404, "request path")]
    [InlineData(426, "Sec-WebSocket-Version")]
    [InlineData(429, "rate-limiting")]
    [InlineData(302, "redirects")]
    [InlineData(503, "its logs")]
    [InlineData(200, "what the server expects")]
    public void RejectionHint_Status_NamesWhatToCheck(int status, string expected) =>
        Assert.Contains(expected, DiagnosisTemplates.RejectionHint(status), StringComparison.Ordinal);

    [Fact]
    public void NoticeTable_EveryNoticeOnceWithADescription()
    {
        var constants = typeof(Notice).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).Order(StringComparer.Ordinal);
        Assert.Equal(constants, Notice.All.Select(row => row.Name).Order(StringComparer.Ordinal));
        Assert.All(Notice.All, row => Assert.NotEqual(row.Name, row.Description));
        Assert.True(Notice.IsWorthSaying(Notice.HttpAcceptMismatch));
        Assert.False(Notice.IsWorthSaying(Notice.TcpGapInStream));
        Assert.False(Notice.IsWorthSaying("not_a_notice"));
    }
}
