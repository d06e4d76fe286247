package fleet

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// forecastChart draws the renewal forecast as inline SVG: one bar per year
// (devices to renew), the count and cost written above it. It is readable
// without JavaScript and by screen readers (role="img", <title>, <desc>
// giving every figure); the page shows the same figures in a table.
func forecastChart(res ForecastResult) template.HTML {
	if len(res.Years) == 0 {
		return ""
	}
	maxN := 1
	for _, n := range res.TotalDevices {
		maxN = max(maxN, n)
	}
	const left, top, barW, gap, plotH, bottom = 20.0, 40.0, 90.0, 40.0, 220.0, 30.0
	width := left*2 + float64(len(res.Years))*(barW+gap)
	height := top + plotH + bottom
	esc := template.HTMLEscapeString
	var desc []string
	for i, y := range res.Years {
		desc = append(desc, fmt.Sprintf("%d : %d équipements, %s", y, res.TotalDevices[i], Euros(res.TotalCostCents[i])))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-labelledby="forecast-t forecast-d" viewBox="0 0 %.0f %.0f" width="100%%" style="max-width:%.0fpx" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">`,
		width, height, width)
	fmt.Fprintf(&b, `<title id="forecast-t">Équipements à renouveler par année</title><desc id="forecast-d">%s.</desc>`, esc(strings.Join(desc, " ; ")))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="currentColor" stroke-width="1"/>`, left, top+plotH, width-left, top+plotH)
	for i, y := range res.Years {
		x := left + gap/2 + float64(i)*(barW+gap)
		h := float64(res.TotalDevices[i]) / float64(maxN) * plotH
		fmt.Fprintf(&b, `<rect class="bar a" x="%.1f" y="%.1f" width="%.0f" height="%.1f" fill="#3558a2"/>`, x, top+plotH-h, barW, h)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="13" text-anchor="middle" font-weight="bold">%s</text>`, x+barW/2, top+plotH-h-20, esc(strconv.Itoa(res.TotalDevices[i])))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>`, x+barW/2, top+plotH-h-6, esc(Euros(res.TotalCostCents[i])))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="13" text-anchor="middle">%d</text>`, x+barW/2, top+plotH+20, y)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

// forecastTable is the forecast as rows of cells: a header, one row per
// establishment (devices then cost per year) and the total, shared by the
// CSV and XLSX exports so they never disagree.
func forecastTable(res ForecastResult) (header []string, rows [][]any) {
	header = []string{"uai", "etablissement"}
	for _, y := range res.Years {
		header = append(header, fmt.Sprintf("equipements_%d", y))
	}
	for _, y := range res.Years {
		header = append(header, fmt.Sprintf("cout_%d_euros", y))
	}
	header = append(header, "sans_date_achat")
	line := func(uai, name string, devices []int, cost []int64, undated int) []any {
		row := []any{uai, name}
		for _, n := range devices {
			row = append(row, n)
		}
		for _, c := range cost {
			row = append(row, float64(c)/100)
		}
		return append(row, undated)
	}
	undated := 0
	for _, r := range res.Rows {
		rows = append(rows, line(r.UAI, r.Name, r.Devices, r.CostCents, r.Undated))
		undated += r.Undated
	}
	rows = append(rows, line("", "Total", res.TotalDevices, res.TotalCostCents, undated))
	return header, rows
}

// writeForecastCSV writes the forecast as CSV (';', UTF-8 with a BOM for
// spreadsheets, decimal comma for euros).
func writeForecastCSV(w io.Writer, res ForecastResult) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	header, rows := forecastTable(res)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range rows {
		rec := make([]string, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case float64:
				rec[i] = strings.Replace(strconv.FormatFloat(x, 'f', 2, 64), ".", ",", 1)
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeForecastXLSX writes the forecast as a spreadsheet with numeric
// cells (counts, euros with a currency format), ready for the deployment
// plan's budget.
func writeForecastXLSX(w io.Writer, res ForecastResult) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Renouvellement"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	header, rows := forecastTable(res)
	euro, err := f.NewStyle(&excelize.Style{CustomNumFmt: strPtr(`#,##0.00 "€"`)})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	for r, row := range rows {
		cells := make([]any, len(row))
		for i, v := range row {
			if x, ok := v.(float64); ok {
				cells[i] = excelize.Cell{StyleID: euro, Value: x}
			} else {
				cells[i] = v
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

func strPtr(s string) *string { return &s }
