using System.Globalization;
using Gateway.Tracking;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// The dashboard's chart: transactions per hour for the last 24 hours, one stacked bar per hour by outcome, drawn
/// here as inline SVG (presentation attributes only, no style attributes: the page's policy allows no inline style).
/// Each bar segment has a title, so hovering shows its count.
/// </summary>
public static class HourlyChart
{
    public static readonly (string Outcome, string Color)[] Outcomes =
    [
        ("delivered", "#2e9e4f"), ("quarantined", "#7b52c7"), ("rejected", "#d0453a"), ("tempfailed", "#e39b21"),
        ("discarded", "#6b7280"), ("abandoned", "#b8bec9"),
    ];

    private const int Width = 960, Height = 240, Left = 48, Bottom = 28, Top = 10;

    /// <param name="end">The hour after the last bar (the current hour's end).</param>
    public static Html Render(IReadOnlyList<HourCount> counts, DateTimeOffset end, int hours = 24)
    {
        var first = end.AddHours(-hours);
        var byHour = new long[hours, Outcomes.Length];
        foreach (var c in counts)
        {
            var slot = (int)Math.Floor((c.Hour - first).TotalHours);
            var kind = Array.FindIndex(Outcomes, o => o.Outcome == c.Outcome);
            if (slot >= 0 && slot < hours && kind >= 0)
                byHour[slot, kind] += c.Count;
        }
        long max = 1;
        for (var h = 0; h < hours; h++)
        {
            long sum = 0;
            for (var k = 0; k < Outcomes.Length; k++)
                sum += byHour[h, k];
            max = Math.Max(max, sum);
        }
        var plotHeight = Height - Bottom - Top;
        var barWidth = (Width - Left - 10) / (double)hours;
        var parts = new List<Html>
        {
            Html.Of($"<line x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Width - 5}\" y2=\"{Top + plotHeight}\" stroke=\"#8a93a3\"/>"),
            Html.Of($"<text x=\"{Left - 6}\" y=\"{Top + 10}\" text-anchor=\"end\" font-size=\"11\">{max}</text>"),
            Html.Of($"<text x=\"{Left - 6}\" y=\"{Top + plotHeight}\" text-anchor=\"end\" font-size=\"11\">0</text>"),
        };
        for (var h = 0; h < hours; h++)
        {
            var x = Left + h * barWidth;
            var hour = first.AddHours(h);
            double y = Top + plotHeight;
            for (var k = 0; k < Outcomes.Length; k++)
            {
                var n = byHour[h, k];
                if (n == 0)
                    continue;
                var height = n * plotHeight / (double)max;
                y -= height;
                parts.Add(Html.Of($"<rect x=\"{F(x + 1)}\" y=\"{F(y)}\" width=\"{F(barWidth - 2)}\" height=\"{F(height)}\" fill=\"{Outcomes[k].Color}\"><title>{hour:HH}:00 UTC: {n} {Outcomes[k].Outcome}</title></rect>"));
            }
            if (h % 3 == 0)
                parts.Add(Html.Of($"<text x=\"{F(x + barWidth / 2)}\" y=\"{Height - 10}\" text-anchor=\"middle\" font-size=\"11\">{hour:HH}:00</text>"));
        }
        var legend = Html.Join(Outcomes, o => Html.Of($"<tspan fill=\"{o.Color}\">■</tspan> {o.Outcome}  "));
        return Html.Of($"""
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {Width} {Height + 20}" width="100%" role="img" aria-label="Transactions per hour by outcome, last {hours} hours (UTC)">
            {Html.Join(parts)}
            <text x="{Left}" y="{Height + 14}" font-size="12" xml:space="preserve">{legend}</text>
            </svg>
            """);
    }

    private static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
