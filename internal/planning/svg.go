package planning

import (
	"fmt"
	"html/template"
	"math"
	"socle/internal/platform/web"
	"sort"
	"strings"
	"time"
)

// The pictures are SVG written by Socle: no tile server, no script. Each
// carries a title and a description, and every page that shows one also
// gives its data as a table (the text alternative). Colours are doubled by
// shapes or dash patterns, so nothing is told by colour alone.

func esc(s string) string { return template.HTMLEscapeString(s) }

// MapClass is a class of the map legend.
type MapClass struct {
	Label  string
	Colour string
	Shape  string // circle, square, triangle, diamond
	Count  int
}

// MapPoint is an establishment on the map.
type MapPoint struct {
	UAI, Name string
	Lat, Lon  float64
	Class     int
	Value     string
}

var mapClasses = []MapClass{
	{Label: "", Colour: "#1a7f37", Shape: "circle"},
	{Label: "", Colour: "#9a6700", Shape: "square"},
	{Label: "", Colour: "#bc4c00", Shape: "triangle"},
	{Label: "", Colour: "#a40e26", Shape: "diamond"},
}

func shape(kind string, x, y, r float64, fill string) string {
	switch kind {
	case "square":
		return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="#fff" stroke-width="0.6"/>`, x-r, y-r, 2*r, 2*r, fill)
	case "triangle":
		return fmt.Sprintf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s" stroke="#fff" stroke-width="0.6"/>`, x, y-r*1.2, x-r*1.1, y+r*0.9, x+r*1.1, y+r*0.9, fill)
	case "diamond":
		return fmt.Sprintf(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s" stroke="#fff" stroke-width="0.6"/>`, x, y-r*1.3, x+r*1.3, y, x, y+r*1.3, x-r*1.3, y, fill)
	}
	return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" stroke="#fff" stroke-width="0.6"/>`, x, y, r, fill)
}

// MapSVG draws the establishments by their coordinates, in four classes.
// Those without coordinates are counted in the caption, not drawn.
func MapSVG(title string, labels [4]string, points []MapPoint) (template.HTML, []MapClass, int) {
	classes := make([]MapClass, len(mapClasses))
	copy(classes, mapClasses)
	for i := range classes {
		classes[i].Label = labels[i]
	}
	if len(points) == 0 {
		return "", classes, 0
	}
	minLat, maxLat, minLon, maxLon := 90.0, -90.0, 180.0, -180.0
	for _, p := range points {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		minLon, maxLon = math.Min(minLon, p.Lon), math.Max(maxLon, p.Lon)
	}
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	wDeg, hDeg := math.Max((maxLon-minLon)*k, 1e-3), math.Max(maxLat-minLat, 1e-3)
	const W = 720.0
	H := math.Min(math.Max(W*hDeg/wDeg, 240), 900)
	scale := math.Min((W-40)/wDeg, (H-40)/hDeg)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-labelledby="carte-titre carte-desc" class="planning-map">`, W, H)
	fmt.Fprintf(&b, `<title id="carte-titre">%s</title><desc id="carte-desc">%d établissements placés selon leurs coordonnées ; la liste complète suit la carte.</desc>`, esc(title), len(points))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#f6f8fa"/>`, W, H)
	// Draw the most urgent last, so they stay visible on top.
	sorted := append([]MapPoint(nil), points...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Class < sorted[j].Class })
	for _, p := range sorted {
		x := 20 + (p.Lon-minLon)*k*scale
		y := 20 + (maxLat-p.Lat)*scale
		c := classes[p.Class]
		fmt.Fprintf(&b, `<g><title>%s (%s) — %s : %s</title>%s</g>`, esc(p.Name), esc(p.UAI), esc(c.Label), esc(p.Value), shape(c.Shape, x, y, 4.5, c.Colour))
		classes[p.Class].Count++
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), classes, len(points)
}

// LegendSymbol draws one legend entry's symbol.
func LegendSymbol(c MapClass) template.HTML {
	return template.HTML(`<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">` + shape(c.Shape, 8, 8, 5, c.Colour) + `</svg>`)
}

var kindColours = map[OperationKind]string{
	OpWorks: "#6e7781", OpProcurement: "#0969da", OpDeployment: "#1a7f37", OpGoLive: "#8250df", OpAcceptance: "#bc4c00",
}

// GanttSVG draws the operations of a plan on a time line, one row each,
// with the month grid; the bar is labelled with the kind, so the colour
// only repeats it.
func GanttSVG(pl Plan) template.HTML {
	if len(pl.Operations) == 0 {
		return ""
	}
	first, last := "9999-12-31", "0000-01-01"
	for _, o := range pl.Operations {
		first, last = min(first, o.StartsOn), max(last, o.EndsOn)
	}
	start, _ := time.Parse(dateLayout, first)
	end, _ := time.Parse(dateLayout, last)
	start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	end = time.Date(end.Year(), end.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	days := end.Sub(start).Hours() / 24
	const label, W, row = 300.0, 1000.0, 26.0
	H := 40 + row*float64(len(pl.Operations))
	px := func(d string, endOfDay bool) float64 {
		t, _ := time.Parse(dateLayout, d)
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return label + (W-label-150)*t.Sub(start).Hours()/24/days
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-labelledby="gantt-titre" class="planning-gantt">`, W, H)
	fmt.Fprintf(&b, `<title id="gantt-titre">Calendrier des opérations du plan « %s », du %s au %s</title>`, esc(pl.Name), frDate(first), frDate(last))
	months := []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}
	step := 1
	if days > 730 {
		step = 3
	}
	for m := start; m.Before(end); m = m.AddDate(0, step, 0) {
		x := px(m.Format(dateLayout), false)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="24" x2="%.1f" y2="%.0f" stroke="#d0d7de"/>`, x, x, H)
		fmt.Fprintf(&b, `<text x="%.1f" y="16" font-size="10" fill="#57606a">%s %d</text>`, x+2, months[m.Month()-1], m.Year()%100)
	}
	for i, o := range pl.Operations {
		y := 30 + row*float64(i)
		fmt.Fprintf(&b, `<text x="4" y="%.1f" font-size="11" fill="#1f2328">%s</text>`, y+14, esc(truncate(o.Title, 44)))
		x1, x2 := px(o.StartsOn, false), px(o.EndsOn, true)
		opacity := "1"
		if o.Status == OpDone {
			opacity = "0.55"
		}
		fmt.Fprintf(&b, `<g><title>%s — %s, du %s au %s, %s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="%s" fill-opacity="%s"/>`,
			esc(o.Title), o.Kind.Label(), frDate(o.StartsOn), frDate(o.EndsOn), o.Status.Label(), x1, y+3, math.Max(x2-x1, 3), row-8, kindColours[o.Kind], opacity)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#1f2328">%s · %s</text></g>`, x2+4, y+14, o.Kind.Label(), o.Status.Label())
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

var seriesStyles = []struct{ colour, dash, marker string }{
	{"#0969da", "", "circle"}, {"#bc4c00", "6 4", "square"}, {"#1a7f37", "2 3", "triangle"}, {"#8250df", "10 3 2 3", "diamond"},
}

// SeriesStyle is how a scenario is drawn, for the legend.
func SeriesStyle(i int) template.HTML {
	s := seriesStyles[i%len(seriesStyles)]
	return template.HTML(fmt.Sprintf(`<svg width="40" height="14" viewBox="0 0 40 14" aria-hidden="true" focusable="false"><line x1="2" y1="7" x2="38" y2="7" stroke="%s" stroke-width="2.5" stroke-dasharray="%s"/>%s</svg>`,
		s.colour, s.dash, shape(s.marker, 20, 7, 4, s.colour)))
}

// GapChartSVG draws the remaining gap (euros) year after year for each
// scenario.
func GapChartSVG(c ScenarioComparison) template.HTML {
	if len(c.Results) == 0 || len(c.Years) == 0 {
		return ""
	}
	maxV := float64(c.StartGapCost)
	for _, r := range c.Results {
		for _, y := range r.Years {
			maxV = math.Max(maxV, float64(y.RemainingGapCents))
		}
	}
	if maxV <= 0 {
		maxV = 1
	}
	const W, H, left, bottom, top = 720.0, 320.0, 90.0, 40.0, 20.0
	n := len(c.Years)
	x := func(i int) float64 { return left + (W-left-20)*float64(i+1)/float64(n) }
	y := func(v float64) float64 { return top + (H-top-bottom)*(1-v/maxV) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-labelledby="courbe-titre courbe-desc" class="planning-chart">`, W, H)
	b.WriteString(`<title id="courbe-titre">Écart restant à combler, en euros, fin d'année, par scénario</title>`)
	b.WriteString(`<desc id="courbe-desc">Les mêmes chiffres figurent dans le tableau qui suit le graphique.</desc>`)
	for i := 0; i <= 4; i++ {
		v := maxV * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#d0d7de"/><text x="%.0f" y="%.1f" font-size="10" text-anchor="end" fill="#57606a">%s</text>`,
			left, y(v), W-20, y(v), left-6, y(v)+3, esc(Euros(int64(v))))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="10" text-anchor="middle" fill="#57606a">Départ</text>`, left, H-bottom+16)
	for i, yr := range c.Years {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="10" text-anchor="middle" fill="#57606a">%d</text>`, x(i), H-bottom+16, yr)
	}
	for si, r := range c.Results {
		st := seriesStyles[si%len(seriesStyles)]
		pts := []string{fmt.Sprintf("%.1f,%.1f", left, y(float64(c.StartGapCost)))}
		for i, yv := range r.Years {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(float64(yv.RemainingGapCents))))
		}
		fmt.Fprintf(&b, `<g><title>%s</title><polyline points="%s" fill="none" stroke="%s" stroke-width="2.5" stroke-dasharray="%s"/>`, esc(r.Scenario.Name), strings.Join(pts, " "), st.colour, st.dash)
		for i, yv := range r.Years {
			b.WriteString(shape(st.marker, x(i), y(float64(yv.RemainingGapCents)), 4, st.colour))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Euros formats cents as a French amount without cents: 1 234 €.
func Euros(cents int64) string { return web.FormatEuros(cents, false) }
