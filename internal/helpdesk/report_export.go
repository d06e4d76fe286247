package helpdesk

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// reportHeader is the first line of the exports. Times are in hours with
// two decimals: spreadsheets sum and chart hours, not "3 h 20".
var reportHeader = []string{
	"Regroupement", "Ouverts", "Résolus", "Stock en fin de période",
	"Prise en charge dans le délai (%)", "Résolution dans le délai (%)",
	"Résolution moyenne (heures ouvrées)", "Résolution 90e centile (heures ouvrées)",
	"Résolution moyenne (heures calendaires)", "Résolution 90e centile (heures calendaires)",
	"Satisfaction moyenne (sur 5)", "Réponses à l'enquête", "Principaux types de demande",
}

func hours(s Seconds) float64 {
	return math.Round(time.Duration(s).Hours()*100) / 100
}

func topTypesText(tt []TypeCount) string {
	parts := make([]string, 0, len(tt))
	for _, t := range tt {
		name := t.Name
		if name == "" {
			name = "type n° " + strconv.FormatInt(t.RequestTypeID, 10)
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", name, t.Tickets))
	}
	return strings.Join(parts, ", ")
}

// reportValues is a row as typed cells: int, float64, or nil for "no
// measure" (an empty cell, never a misleading 0).
func reportValues(r ReportRow) []any {
	opt := func(v *float64) any {
		if v == nil {
			return nil
		}
		return *v
	}
	solvedTime := func(s Seconds) any {
		if r.Solved == 0 {
			return nil
		}
		return hours(s)
	}
	return []any{r.Label, r.Opened, r.Solved, r.Backlog, opt(r.TTOCompliance), opt(r.TTRCompliance),
		solvedTime(r.MeanOpen), solvedTime(r.P90Open), solvedTime(r.MeanWall), solvedTime(r.P90Wall),
		opt(r.Satisfaction), r.SurveyAnswers, topTypesText(r.TopTypes)}
}

// frNumber writes a number the French way (decimal comma), as a French
// spreadsheet reads it from a ";"-separated file.
func frNumber(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int:
		return strconv.Itoa(x)
	case float64:
		return strings.Replace(strconv.FormatFloat(x, 'f', -1, 64), ".", ",", 1)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// WriteReportCSV writes a report as French spreadsheets expect: UTF-8 with
// a byte order mark (else Excel reads it as Windows-1252), ";" between
// fields, decimal commas.
func WriteReportCSV(w io.Writer, rep GroupReport) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	_ = cw.Write(reportHeader)
	for _, r := range append(append([]ReportRow(nil), rep.Rows...), rep.Total) {
		vals := reportValues(r)
		rec := make([]string, len(vals))
		for i, v := range vals {
			rec[i] = frNumber(v)
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WriteReportXLSX writes a report as a workbook of one sheet, numbers as
// numbers.
func WriteReportXLSX(w io.Writer, rep GroupReport) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Rapport"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	title := fmt.Sprintf("Qualité de service, de %s à %s", rep.From, rep.To)
	if err := f.SetCellValue(sheet, "A1", title); err != nil {
		return err
	}
	put := func(row int, vals []any) error {
		for i, v := range vals {
			cell, err := excelize.CoordinatesToCellName(i+1, row)
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				return err
			}
		}
		return nil
	}
	head := make([]any, len(reportHeader))
	for i, h := range reportHeader {
		head[i] = h
	}
	if err := put(3, head); err != nil {
		return err
	}
	n := 4
	for _, r := range append(append([]ReportRow(nil), rep.Rows...), rep.Total) {
		if err := put(n, reportValues(r)); err != nil {
			return err
		}
		n++
	}
	if bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err == nil {
		last, _ := excelize.CoordinatesToCellName(len(reportHeader), 3)
		_ = f.SetCellStyle(sheet, "A3", last, bold)
		_ = f.SetCellStyle(sheet, "A1", "A1", bold)
	}
	_ = f.SetColWidth(sheet, "A", "A", 40)
	_ = f.SetColWidth(sheet, "B", "L", 18)
	_ = f.SetColWidth(sheet, "M", "M", 50)
	_ = f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
