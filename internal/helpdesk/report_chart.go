package helpdesk

import (
	"fmt"
	"html/template"
	"strings"
)

// Charts are drawn on the server as inline SVG: no JavaScript, readable by
// a screen reader through role="img", <title> and <desc>, and the page
// always gives the same figures in a table beside them.

// chartSeries is one set of bars.
type chartSeries struct {
	Name  string
	Class string // colour, from the stylesheet: a, b
	Fill  string // fallback colour when the stylesheet has none
}

// chartBar is one category: a label and one value per series.
type chartBar struct {
	Label  string
	Values []float64
	// Texts are the values as printed beside the bars.
	Texts []string
}

// hbarChart draws horizontal grouped bars, one group per category, scaled
// to max (the largest value when max is 0).
func hbarChart(id, title, desc string, series []chartSeries, bars []chartBar, maxValue float64) template.HTML {
	if maxValue <= 0 {
		for _, b := range bars {
			for _, v := range b.Values {
				maxValue = max(maxValue, v)
			}
		}
	}
	if maxValue <= 0 {
		maxValue = 1
	}
	const labelW, barMax, textW, barH, gap = 220.0, 360.0, 90.0, 14.0, 10.0
	groupH := float64(len(series))*barH + gap
	legendH := 24.0
	height := legendH + float64(len(bars))*groupH + 10
	width := labelW + barMax + textW
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-labelledby="%[1]s-t %[1]s-d" viewBox="0 0 %.0f %.0f" width="100%%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">`,
		esc(id), width, height)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
	x := labelW
	for _, s := range series {
		fmt.Fprintf(&b, `<rect class="bar %s" x="%.0f" y="4" width="12" height="12" fill="%s"/><text x="%.0f" y="15" font-size="12">%s</text>`,
			esc(s.Class), x, esc(s.Fill), x+16, esc(s.Name))
		x += 20 + float64(len([]rune(s.Name)))*7
	}
	y := legendH
	for _, bar := range bars {
		label := []rune(bar.Label)
		if len(label) > 32 {
			label = append(label[:31], '…')
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="12" text-anchor="end">%s</text>`, labelW-6, y+barH*float64(len(series))/2+4, esc(string(label)))
		for i, s := range series {
			v := 0.0
			if i < len(bar.Values) {
				v = bar.Values[i]
			}
			w := max(v/maxValue*barMax, 0)
			fmt.Fprintf(&b, `<rect class="bar %s" x="%.0f" y="%.1f" width="%.1f" height="%.0f" fill="%s"/>`, esc(s.Class), labelW, y, w, barH-2, esc(s.Fill))
			if i < len(bar.Texts) {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11">%s</text>`, labelW+w+4, y+barH-4, esc(bar.Texts[i]))
			}
			y += barH
		}
		y += gap
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}
