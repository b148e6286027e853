using System.Globalization;
using System.Net;
using System.Text;
using WsCloseSniffer.Analysis;

namespace WsCloseSniffer.Reporting;

/// <summary>
/// Writes the session report as one self-contained HTML page: styles, script and charts (SVG drawn here) inline,
/// nothing fetched, the same bytes for the same sessions. Rows are streamed as sessions come; the charts are
/// drawn from a bounded <see cref="HtmlReportModel"/> when the writer is disposed and placed above the table by CSS
/// (flex order), so memory does not grow with the number of sessions. Every text from the wire is HTML-encoded.
/// </summary>
public sealed class HtmlReportWriter : ISessionSink
{
    private const double ChartWidth = 1000;

    // One colour per outcome, in the outcome table's order: green for the clean close, red for resets, warm for the rest.
    private static readonly string[] s_palette =
    [
        "#2e9d5b", "#e0a526", "#b5651d", "#8c564b", "#7f8c8d", "#a0522d", "#d35d9b", "#6c8a2b", "#e67e22",
        "#7b2d26", "#16a2b8", "#1f6f8b", "#5d6d7e", "#3b82c4", "#9b59b6", "#d64545", "#95a5a6", "#8e5cc2",
    ];

    private readonly TextWriter _writer;
    private readonly bool _leaveOpen;
    private readonly HtmlReportModel _model;
    private readonly string? _captureSet;
    private bool _finished;

    /// <param name="captureSet">The run's capture_set (<see cref="ReportColumns.CaptureSetOf"/>); null leaves the column empty.</param>
    public HtmlReportWriter(TextWriter writer, bool leaveOpen = false, HtmlReportModel? model = null, string? captureSet = null)
    {
        _captureSet = captureSet;
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _leaveOpen = leaveOpen;
        _model = model ?? new HtmlReportModel();
        WriteHead();
    }

    /// <summary>The colour of a classification word in every chart and in the table.</summary>
    public static string ColourOf(string classification) =>
        Outcomes.TryParse(classification, out var outcome) ? s_palette[(int)outcome % s_palette.Length] : "#555555";

    public void Write(SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _model.Add(record, record.IdleBeforeEndMicroseconds / 1e6);
        var w = _writer;
        w.Write("<tr data-class=\"");
        w.Write(Encode(record.Classification));
        w.Write("\">");
        var cells = ReportColumns.Cells(record, _captureSet);
        for (var i = 0; i < cells.Length; i++)
        {
            var text = cells[i] switch
            {
                null => string.Empty,
                long number => number.ToString(CultureInfo.InvariantCulture),
                string s => s,
                var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? string.Empty,
            };
            if (ReportColumns.All[i] == "classification")
            {
                w.Write($"<td><span class=\"dot\" style=\"background:{ColourOf(record.Classification)}\"></span>");
                w.Write(Encode(text));
                w.Write("</td>");
            }
            else
            {
                w.Write(ReportColumns.All[i] == "diagnosis" ? "<td class=\"diag\">" : "<td>");
                w.Write(Encode(text));
                w.Write("</td>");
            }
        }

        WriteHandshake(record);
        w.Write("</tr>\n");
    }

    public void Flush() => _writer.Flush();

    public void Dispose()
    {
        if (!_finished)
        {
            _finished = true;
            WriteTail();
            _writer.Flush();
        }

        if (!_leaveOpen)
        {
            _writer.Dispose();
        }
    }

    /// <summary>HTML-encodes text for element content and quoted attributes (&lt; &gt; &amp; " ' and non-ASCII).</summary>
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);

    /// <summary>The extension names of a Sec-WebSocket-Extensions value, in order, each once (parameters dropped).</summary>
    public static IReadOnlyList<string> ExtensionNames(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return [];
        }

        var names = new List<string>();
        foreach (var element in header.Split(','))
        {
            var name = element.Split(';')[0].Trim();
            if (name.Length > 0 && !names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                names.Add(name);
            }
        }

        return names;
    }

    private void WriteHandshake(SessionRecord record)
    {
        var offered = ExtensionNames(record.OfferedExtensions);
        var accepted = ExtensionNames(record.AcceptedExtensions);
        var w = _writer;
        w.Write("<td class=\"hs\"><div class=\"pair\"><div><b>offered</b>");
        WriteNames(offered, accepted, "missing");
        w.Write("</div><div><b>accepted");
        if (record.HandshakeStatus is int status)
        {
            w.Write(string.Create(CultureInfo.InvariantCulture, $" ({status})"));
        }

        w.Write("</b>");
        WriteNames(accepted, offered, "unoffered");
        w.Write("</div></div></td>");
    }

    private void WriteNames(IReadOnlyList<string> names, IReadOnlyList<string> other, string absentClass)
    {
        var w = _writer;
        if (names.Count == 0)
        {
            w.Write("<span class=\"none\">none</span>");
            return;
        }

        w.Write("<ul>");
        foreach (var name in names)
        {
            var absent = !other.Contains(name, StringComparer.OrdinalIgnoreCase);
            w.Write(absent ? $"<li class=\"{absentClass}\" title=\"{(absentClass == "missing" ? "offered but not accepted" : "accepted but not offered")}\">" : "<li>");
            w.Write(Encode(name));
            w.Write("</li>");
        }

        w.Write("</ul>");
    }

    private void WriteHead()
    {
        var w = _writer;
        w.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        w.Write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
        w.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>wsclosesniffer report</title>\n<style>\n");
        w.Write(Style);
        w.Write("</style>\n</head>\n<body>\n<main>\n<section id=\"sessions\">\n<h2>Sessions</h2>\n<div class=\"controls\">");
        w.Write("<input id=\"filter\" type=\"search\" placeholder=\"Filter: any text in a row\" aria-label=\"filter\">");
        w.Write("<select id=\"classification\" aria-label=\"classification\"><option value=\"\">every classification</option>");
        foreach (var row in Outcomes.All)
        {
            w.Write($"<option value=\"{row.Word}\">{row.Word}</option>");
        }

        w.Write("</select><span id=\"shown\"></span></div>\n<div class=\"scroll\"><table id=\"table\">\n<thead><tr>");
        foreach (var column in ReportColumns.All)
        {
            w.Write("<th title=\"sort\">");
            w.Write(Encode(column));
            w.Write("</th>");
        }

        w.Write("<th>handshake</th></tr></thead>\n<tbody>\n");
    }

    private void WriteTail()
    {
        var w = _writer;
        w.Write("</tbody>\n</table></div>\n</section>\n<section id=\"overview\">\n");
        w.Write(string.Create(CultureInfo.InvariantCulture, $"<h1>wsclosesniffer: {_model.SessionCount} WebSocket session{(_model.SessionCount == 1 ? "" : "s")}</h1>\n"));
        WriteSummaryChart();
        WriteTimeline();
        w.Write("<div class=\"hists\">");
        WriteHistogram("Session durations", "durations", _model.DurationBins, _model.SessionCount);
        WriteHistogram("Idle time before the end", "idle", _model.IdleBins, _model.IdleSampleCount);
        w.Write("</div>\n</section>\n</main>\n<script>\n");
        w.Write(Script);
        w.Write("</script>\n</body>\n</html>\n");
    }

    private void WriteSummaryChart()
    {
        var w = _writer;
        var counts = _model.ClassificationCounts;
        w.Write("<div class=\"card\"><h3>Sessions by classification</h3>");
        if (counts.Count == 0)
        {
            w.Write("<p class=\"none\">no sessions</p></div>\n");
            return;
        }

        const double rowHeight = 26, labelWidth = 190, countWidth = 60;
        var max = counts.Max(pair => pair.Value);
        var height = (counts.Count * rowHeight) + 8;
        w.Write(Svg(ChartWidth, height, "summary"));
        for (var i = 0; i < counts.Count; i++)
        {
            var (word, count) = (counts[i].Key, counts[i].Value);
            var y = 4 + (i * rowHeight);
            var barWidth = Math.Max(2, (ChartWidth - labelWidth - countWidth) * count / max);
            w.Write(F($"<g class=\"bar\" data-class=\"{Encode(word)}\"><text x=\"{labelWidth - 8}\" y=\"{y + 17}\" text-anchor=\"end\">{Encode(word)}</text>"));
            w.Write(F($"<rect x=\"{labelWidth}\" y=\"{y + 3}\" width=\"{barWidth:0.#}\" height=\"{rowHeight - 6}\" rx=\"3\" fill=\"{ColourOf(word)}\"><title>{Encode(word)}: {count}</title></rect>"));
            w.Write(F($"<text x=\"{labelWidth + barWidth + 6:0.#}\" y=\"{y + 17}\" class=\"count\">{count}</text></g>"));
        }

        w.Write("</svg></div>\n");
    }

    private void WriteTimeline()
    {
        var w = _writer;
        var bars = _model.Timeline;
        w.Write("<div class=\"card\"><h3>Timeline</h3>");
        if (_model.EarliestStartSeconds is not double origin || bars.Count == 0)
        {
            w.Write("<p class=\"none\">no sessions</p></div>\n");
            return;
        }

        var span = Math.Max(_model.LatestEndSeconds - origin, 1e-3);
        w.Write(F($"<p class=\"note\">Each bar is a session from its first to its last packet, coloured by classification; a black tick marks the close code at the end. Time in seconds from {Encode(FormatTime(origin))}"));
        if (bars.Count < _model.SessionCount)
        {
            w.Write(F($"; {bars.Count} of {_model.SessionCount} sessions drawn, evenly spread in start order"));
        }

        w.Write(".</p>");

        // Lanes: a bar goes in the first lane free at its start (sessions come in start order); past the last lane they share.
        const int maxLanes = 48;
        const double laneHeight = 12, left = 10, top = 6, axisHeight = 26;
        var laneEnds = new List<double>();
        var lanes = new int[bars.Count];
        for (var i = 0; i < bars.Count; i++)
        {
            var lane = laneEnds.FindIndex(end => end < bars[i].StartSeconds);
            if (lane < 0)
            {
                if (laneEnds.Count < maxLanes)
                {
                    laneEnds.Add(bars[i].EndSeconds);
                    lane = laneEnds.Count - 1;
                }
                else
                {
                    lane = i % maxLanes;
                }
            }

            laneEnds[lane] = Math.Max(laneEnds[lane], bars[i].EndSeconds);
            lanes[i] = lane;
        }

        var plotWidth = ChartWidth - (2 * left);
        var height = top + (laneEnds.Count * laneHeight) + axisHeight;
        w.Write(Svg(ChartWidth, height, "timeline"));
        var step = NiceStep(span / 8);
        for (var seconds = 0.0; seconds <= span; seconds += step)
        {
            var x = left + (plotWidth * seconds / span);
            w.Write(F($"<line x1=\"{x:0.#}\" x2=\"{x:0.#}\" y1=\"{top}\" y2=\"{height - axisHeight + 4}\" class=\"grid\"/><text x=\"{x:0.#}\" y=\"{height - 8}\" text-anchor=\"middle\" class=\"axis\">{FormatSeconds(seconds)}</text>"));
        }

        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var x = left + (plotWidth * (bar.StartSeconds - origin) / span);
            var width = Math.Max(3, plotWidth * (bar.EndSeconds - bar.StartSeconds) / span);
            var y = top + (lanes[i] * laneHeight) + 2;
            var code = bar.CloseCode is int c ? c.ToString(CultureInfo.InvariantCulture) : "no close code";
            w.Write(F($"<rect x=\"{x:0.##}\" y=\"{y}\" width=\"{width:0.##}\" height=\"{laneHeight - 4}\" rx=\"2\" fill=\"{ColourOf(bar.Classification)}\"><title>#{bar.SessionId} {Encode(bar.Classification)} ({code}), {FormatSeconds(bar.EndSeconds - bar.StartSeconds)}</title></rect>"));
            if (bar.CloseCode is not null)
            {
                w.Write(F($"<line x1=\"{x + width:0.##}\" x2=\"{x + width:0.##}\" y1=\"{y - 2}\" y2=\"{y + laneHeight - 2}\" class=\"code\"/>"));
            }
        }

        w.Write("</svg>");
        WriteLegend(bars.Select(bar => bar.Classification).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        w.Write("</div>\n");
    }

    private void WriteLegend(IEnumerable<string> words)
    {
        _writer.Write("<div class=\"legend\">");
        foreach (var word in words)
        {
            _writer.Write($"<span><span class=\"dot\" style=\"background:{ColourOf(word)}\"></span>{Encode(word)}</span>");
        }

        _writer.Write("</div>");
    }

    private void WriteHistogram(string title, string id, IReadOnlyList<long> bins, long samples)
    {
        var w = _writer;
        w.Write(F($"<div class=\"card\"><h3>{title}</h3>"));
        if (samples == 0)
        {
            w.Write(id == "idle"
                ? "<p class=\"none\">No session in this report has an idle time before its end (none had a frame or a 101 response before it ended).</p></div>"
                : "<p class=\"none\">no sessions</p></div>");
            return;
        }

        const double width = 490, height = 250, left = 36, bottom = 40, top = 42;
        var edges = HtmlReportModel.BinEdges;
        var plotWidth = width - left - 8;
        var barWidth = plotWidth / bins.Count;
        var max = Math.Max(1, bins.Max());
        var plotHeight = height - bottom - top;
        w.Write(Svg(width, height, id));
        w.Write(F($"<line x1=\"{left}\" x2=\"{width - 8}\" y1=\"{height - bottom}\" y2=\"{height - bottom}\" class=\"axisline\"/>"));
        w.Write(F($"<text x=\"{left - 4}\" y=\"{top + 4}\" text-anchor=\"end\" class=\"axis\">{max}</text><text x=\"{left - 4}\" y=\"{height - bottom}\" text-anchor=\"end\" class=\"axis\">0</text>"));
        for (var i = 0; i < bins.Count; i++)
        {
            var x = left + (i * barWidth);
            var h = plotHeight * bins[i] / max;
            if (bins[i] > 0)
            {
                w.Write(F($"<rect x=\"{x + 1:0.##}\" y=\"{height - bottom - h:0.##}\" width=\"{barWidth - 2:0.##}\" height=\"{h:0.##}\" class=\"hbar\"><title>{BinLabel(i)}: {bins[i]}</title></rect>"));
            }

            if (i < edges.Count && (i % 3 == 0))
            {
                w.Write(F($"<text x=\"{x + barWidth:0.##}\" y=\"{height - bottom + 14}\" text-anchor=\"middle\" class=\"axis\">{FormatSeconds(edges[i])}</text>"));
            }
        }

        foreach (var marker in HtmlReportModel.ProxyTimeoutMarkers)
        {
            var bin = HtmlReportModel.BinOf(marker);
            var lo = edges[bin - 1];
            var hi = edges[bin];
            var x = left + ((bin + (Math.Log(marker / lo) / Math.Log(hi / lo))) * barWidth);
            var labelY = top - 30 + (marker switch { 60 => 10, 120 => 20, _ => 0 });
            w.Write(F($"<line x1=\"{x:0.##}\" x2=\"{x:0.##}\" y1=\"{top - 4}\" y2=\"{height - bottom}\" class=\"marker\"><title>{marker} s: a common proxy idle timeout</title></line><text x=\"{x:0.##}\" y=\"{labelY + 8}\" text-anchor=\"middle\" class=\"mlabel\">{marker}s</text>"));
        }

        w.Write(F($"<text x=\"{left + (plotWidth / 2):0.#}\" y=\"{height - 6}\" text-anchor=\"middle\" class=\"axis\">seconds (logarithmic bins); dashed: common proxy idle timeouts</text>"));
        w.Write("</svg></div>");
    }

    /// <summary>The 1-2-5 step at or above <paramref name="rough"/>, so axis ticks fall on round numbers.</summary>
    private static double NiceStep(double rough)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        return rough <= magnitude ? magnitude : rough <= 2 * magnitude ? 2 * magnitude : rough <= 5 * magnitude ? 5 * magnitude : 10 * magnitude;
    }

    private static string BinLabel(int bin)
    {
        var edges = HtmlReportModel.BinEdges;
        return bin == 0 ? $"under {FormatSeconds(edges[0])}"
            : bin == edges.Count ? $"{FormatSeconds(edges[^1])} or more"
            : $"{FormatSeconds(edges[bin - 1])} to {FormatSeconds(edges[bin])}";
    }

    private static string Svg(double width, double height, string id) =>
        F($"<svg id=\"chart-{id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:0.##} {height:0.##}\" width=\"100%\" role=\"img\">");

    private static string FormatSeconds(double seconds) =>
        seconds == 0 ? "0"
            : seconds < 1 ? F($"{seconds * 1000:0.###} ms")
            : F($"{seconds:0.###} s");

    private static string FormatTime(double unixSeconds) =>
        DateTime.UnixEpoch.AddTicks((long)Math.Round(unixSeconds * TimeSpan.TicksPerSecond))
            .ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private const string Style = """
        :root { --fg: #1d2733; --muted: #5d6b7a; --line: #dde3ea; --bg: #f5f7fa; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
        main { display: flex; flex-direction: column; gap: 16px; padding: 20px 28px; max-width: 1800px; margin: 0 auto; }
        #overview { order: -1; display: flex; flex-direction: column; gap: 16px; }
        h1 { font-size: 22px; margin: 0; } h2 { font-size: 18px; margin: 0 0 8px; } h3 { font-size: 15px; margin: 0 0 8px; }
        .card, #sessions { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; }
        .hists { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
        .note, .none { color: var(--muted); margin: 0 0 8px; font-size: 13px; }
        svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: var(--fg); }
        svg .axis { fill: var(--muted); font-size: 10.5px; } svg .count { fill: var(--muted); }
        svg .grid { stroke: #eef1f4; } svg .axisline { stroke: #9aa5b1; }
        svg .code { stroke: #111; stroke-width: 1.5; } svg .hbar { fill: #3b82c4; }
        svg .marker { stroke: #c0392b; stroke-dasharray: 4 3; } svg .mlabel { fill: #c0392b; font-size: 10px; }
        .legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12.5px; margin-top: 6px; }
        .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; vertical-align: baseline; }
        .controls { display: flex; gap: 10px; align-items: center; margin-bottom: 10px; }
        .controls input { flex: 0 1 360px; padding: 6px 9px; border: 1px solid #c4ccd6; border-radius: 5px; font: inherit; }
        .controls select { padding: 6px; border: 1px solid #c4ccd6; border-radius: 5px; font: inherit; }
        #shown { color: var(--muted); }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; font-size: 12.5px; }
        th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th { position: sticky; top: 0; background: #eef2f6; cursor: pointer; user-select: none; }
        th.asc::after { content: " \25B2"; } th.desc::after { content: " \25BC"; }
        td.diag { white-space: normal; min-width: 34em; max-width: 48em; }
        tbody tr:hover { background: #f7fafc; }
        tr[hidden] { display: none; }
        .hs .pair { display: grid; grid-template-columns: auto auto; gap: 10px; }
        .hs b { font-weight: 600; color: var(--muted); font-size: 11px; display: block; }
        .hs ul { margin: 0; padding: 0; list-style: none; }
        .hs li.missing { background: #fde2e1; color: #a11d1d; border-radius: 3px; padding: 0 4px; font-weight: 600; }
        .hs li.unoffered { background: #fff3cd; border-radius: 3px; padding: 0 4px; }
        @media (max-width: 900px) { .hists { grid-template-columns: 1fr; } }

        """;

    // Sorting and filtering only; the page is complete without it. A filter can come in the address (#filter=text&class=word).
    private const string Script = """
        (function () {
          'use strict';
          var table = document.getElementById('table');
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          var filter = document.getElementById('filter');
          var select = document.getElementById('classification');
          var shown = document.getElementById('shown');
          function apply() {
            var text = filter.value.trim().toLowerCase();
            var word = select.value;
            var count = 0;
            rows.forEach(function (row) {
              var visible = (!word || row.getAttribute('data-class') === word) &&
                (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
              row.hidden = !visible;
              if (visible) { count++; }
            });
            shown.textContent = count + ' of ' + rows.length + ' sessions shown';
          }
          function sortBy(index, th) {
            var descending = th.classList.contains('asc');
            Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.classList.remove('asc', 'desc'); });
            th.classList.add(descending ? 'desc' : 'asc');
            var keyed = rows.map(function (row, order) {
              var t = row.cells[index].textContent;
              return { row: row, text: t, number: t === '' ? NaN : Number(t), order: order };
            });
            keyed.sort(function (a, b) {
              var r;
              if (!isNaN(a.number) && !isNaN(b.number)) { r = a.number - b.number; }
              else { r = a.text < b.text ? -1 : a.text > b.text ? 1 : 0; }
              if (descending) { r = -r; }
              return r !== 0 ? r : a.order - b.order;
            });
            keyed.forEach(function (k) { body.appendChild(k.row); });
          }
          Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
            th.addEventListener('click', function () { sortBy(index, th); });
          });
          filter.addEventListener('input', apply);
          select.addEventListener('change', apply);
          var params = new URLSearchParams(location.hash.slice(1));
          if (params.has('filter')) { filter.value = params.get('filter'); }
          if (params.has('class')) { select.value = params.get('class'); }
          if (params.has('sort')) { var th = table.tHead.rows[0].cells[Number(params.get('sort'))]; if (th) { sortBy(Number(params.get('sort')), th); } }
          apply();
          document.body.setAttribute('data-ready', 'yes');
        })();

        """;
}
