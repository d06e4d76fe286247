package governance

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"socle/internal/platform/web"
)

// chartPoint is a value of a trend; OK false is a period without data,
// drawn as a gap and a hollow mark, never as 0.
type chartPoint struct {
	Label string
	V     float64
	OK    bool
}

func seriesPoints(v IndicatorView) []chartPoint {
	pts := make([]chartPoint, 0, len(v.Series))
	for _, x := range v.Series {
		pt := chartPoint{Label: x.Period}
		if x.Value != nil {
			pt.V, pt.OK = *x.Value, true
		}
		pts = append(pts, pt)
	}
	return pts
}

// bounds returns the value range of a chart, target included, with a
// zero baseline when every value is positive.
func bounds(pts []chartPoint, target *float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if p.OK {
			lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
		}
	}
	if target != nil {
		lo, hi = math.Min(lo, *target), math.Max(hi, *target)
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		hi = lo + 1
	}
	return lo, hi * 1.1
}

// TrendSVG draws an indicator's trend with its target as an accessible SVG
// (a title and a description giving the figures); pages show the data
// table beside it as well.
func TrendSVG(v IndicatorView) template.HTML {
	const w, h, left, right, top, bottom = 360.0, 150.0, 44.0, 10.0, 12.0, 28.0
	pts := seriesPoints(v)
	lo, hi := bounds(pts, v.Target)
	x := func(i int) float64 {
		if len(pts) <= 1 {
			return left + (w-left-right)/2
		}
		return left + float64(i)*(w-left-right)/float64(len(pts)-1)
	}
	y := func(val float64) float64 { return top + (h-top-bottom)*(1-(val-lo)/(hi-lo)) }
	id := "ind-" + strconv.FormatInt(v.ID, 10)
	var desc []string
	for _, p := range pts {
		if p.OK {
			desc = append(desc, p.Label+" : "+formatValue(p.V)+" "+v.Unit)
		} else {
			desc = append(desc, p.Label+" : pas de données")
		}
	}
	if v.Target != nil {
		desc = append(desc, "cible : "+formatValue(*v.Target)+" "+v.Unit)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="trend" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`, w, h, w, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">Évolution : %s</title><desc id="%s-d">%s</desc>`, id, template.HTMLEscapeString(v.Name), id, template.HTMLEscapeString(strings.Join(desc, " ; ")))
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#666"/>`, left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">%s</text>`, left-4, y(hi)+4, formatValue(hi))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">%s</text>`, left-4, y(lo)+4, formatValue(lo))
	if v.Target != nil {
		ty := y(*v.Target)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#b34700" stroke-dasharray="6 4"/>`, left, ty, w-right, ty)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="#b34700">cible</text>`, w-right, ty-3)
	}
	var path strings.Builder
	pen := false
	for i, p := range pts {
		if !p.OK {
			pen = false
			continue
		}
		if pen {
			fmt.Fprintf(&path, " L%.1f %.1f", x(i), y(p.V))
		} else {
			fmt.Fprintf(&path, " M%.1f %.1f", x(i), y(p.V))
			pen = true
		}
	}
	if path.Len() > 0 {
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="#1f4e8c" stroke-width="2"/>`, strings.TrimSpace(path.String()))
	}
	for i, p := range pts {
		if p.OK {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#1f4e8c"/>`, x(i), y(p.V))
		} else {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#fff" stroke="#666"/><text x="%.1f" y="%.1f" font-size="8" text-anchor="middle">n.d.</text>`, x(i), h-bottom, x(i), h-bottom-6)
		}
	}
	if n := len(pts); n > 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10">%s</text>`, x(0), h-10, template.HTMLEscapeString(pts[0].Label))
		if n > 1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">%s</text>`, x(n-1), h-10, template.HTMLEscapeString(pts[n-1].Label))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

// formatValue writes a number the French way, with at most two decimals.
func formatValue(f float64) string {
	s := strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
	whole, dec, hasDec := strings.Cut(s, ".")
	if n, err := strconv.Atoi(whole); err == nil {
		whole = web.FormatNumber(n)
	}
	if hasDec {
		return whole + "," + dec
	}
	return whole
}

// Text is the value with its unit, or "pas de données" and why.
func (v IndicatorValue) Text(unit string) string {
	if v.Value == nil {
		return "Pas de données : " + v.NoDataReason
	}
	return strings.TrimSpace(formatValue(*v.Value) + " " + unit)
}

// LatestText is the latest value in words.
func (v IndicatorView) LatestText() string {
	if v.Latest == nil {
		return "jamais mesuré"
	}
	return v.Latest.Text(v.Unit) + " (" + v.Latest.Period + ")"
}

// TargetText is the target in words.
func (v IndicatorView) TargetText() string {
	if v.Target == nil {
		return "sans cible"
	}
	return strings.TrimSpace(formatValue(*v.Target) + " " + v.Unit)
}

// SeriesText is a value of the series with the indicator's unit.
func (v IndicatorView) SeriesText(x IndicatorValue) string { return x.Text(v.Unit) }

// Cost is the project's estimated cost in euros.
func (p Project) Cost() string { return euros(p.CostCents) }

func euros(cents int64) string { return web.FormatEuros(cents, cents%100 != 0) }

// SLAText is the share of tickets solved in time, or "pas de données".
func (q QualityRow) SLAText() string { return pctOrNone(q.SLA, " %") }

// SatisfactionText is the mean score out of 5 or "pas de données".
func (q QualityRow) SatisfactionText() string { return pctOrNone(q.Satisfaction, " / 5") }

// PercentText is the share of measured indicators meeting their target.
func (p RoadmapProgress) PercentText() string {
	return pctOrNone(p.Percent, " % des indicateurs mesurés")
}
