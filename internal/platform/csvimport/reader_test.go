package csvimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"socle/internal/platform/problem"
)

var testCols = []Column{
	{Name: "uai", Aliases: []string{"Identifiant_de_l_etablissement", "Code établissement"}, Required: true},
	{Name: "postal_code", Aliases: []string{"Code_postal"}},
	{Name: "name", Aliases: []string{"Nom_etablissement"}, Required: true},
	{Name: "rep_plus", Aliases: []string{"REP+"}},
}

type readResult struct {
	rows     []map[string]string
	lines    []int
	rowErrs  []*RowError
	fatal    error
	progress []int64
}

func readAll(t *testing.T, r io.Reader) readResult {
	t.Helper()
	var res readResult
	rd, err := NewReader(r, Options{Progress: func(n int64) { res.progress = append(res.progress, n) }})
	if err != nil {
		res.fatal = err
		return res
	}
	if err := rd.Bind(testCols); err != nil {
		res.fatal = err
		return res
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return res
		}
		var re *RowError
		if errors.As(err, &re) {
			res.rowErrs = append(res.rowErrs, re)
			continue
		}
		if err != nil {
			res.fatal = err
			return res
		}
		m := map[string]string{}
		for _, c := range testCols {
			if rd.Has(c.Name) {
				m[c.Name] = row.Get(c.Name)
			}
		}
		res.rows = append(res.rows, m)
		res.lines = append(res.lines, row.Line)
	}
}

func TestReaderFormats(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantRows  []map[string]string
		wantLines []int
		wantErrs  []string // "line:reason prefix"
	}{
		{
			name:      "BOM, semicolon, CRLF, header variants",
			input:     "\ufeffCode établissement;Nom_etablissement;Code postal;REP +\r\n0350122T;Les Lucioles;35580;1\r\n0350165P; Cardroc ;;0\r\n",
			wantRows:  []map[string]string{{"uai": "0350122T", "name": "Les Lucioles", "postal_code": "35580", "rep_plus": "1"}, {"uai": "0350165P", "name": "Cardroc", "postal_code": "", "rep_plus": "0"}},
			wantLines: []int{2, 3},
		},
		{
			name:      "comma, LF, no BOM, missing optional columns",
			input:     "uai,NOM-ETABLISSEMENT\n0350122T,\"Ecole, dite \"\"Lucioles\"\"\"\n",
			wantRows:  []map[string]string{{"uai": "0350122T", "name": `Ecole, dite "Lucioles"`}},
			wantLines: []int{2},
		},
		{
			name:      "quoted multi-line field keeps physical line numbers",
			input:     "uai;Nom_etablissement\r\n0350122T;\"Ecole\r\nsur deux lignes\"\r\n0350165P;Cardroc\r\n",
			wantRows:  []map[string]string{{"uai": "0350122T", "name": "Ecole\nsur deux lignes"}, {"uai": "0350165P", "name": "Cardroc"}},
			wantLines: []int{2, 4},
		},
		{
			name:      "truncated and too long lines are rejected, reading goes on",
			input:     "uai;Nom_etablissement;Code_postal\r\n0350122T;Lucioles\r\n0350165P;Cardroc;35190;x\r\n\r\n0350166R;Ok;35000\r\n",
			wantRows:  []map[string]string{{"uai": "0350166R", "name": "Ok", "postal_code": "35000"}},
			wantLines: []int{5},
			wantErrs:  []string{"2:ligne tronquée : 2 colonnes au lieu de 3", "3:ligne trop longue : 4 colonnes au lieu de 3"},
		},
		{
			name:      "a stray quote inside a field is kept",
			input:     "uai;Nom_etablissement\n0350122T;Ecole \"Les Lucioles\" de Baulon\n0350165P;Cardroc\n",
			wantRows:  []map[string]string{{"uai": "0350122T", "name": `Ecole "Les Lucioles" de Baulon`}, {"uai": "0350165P", "name": "Cardroc"}},
			wantLines: []int{2, 3},
		},
		{
			name:      "a trailing separator on data rows only is tolerated",
			input:     "uai;Nom_etablissement\n0350122T;Lucioles;\n",
			wantRows:  []map[string]string{{"uai": "0350122T", "name": "Lucioles"}},
			wantLines: []int{2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time too, so that runes and the BOM are split
			// between reads.
			for _, src := range []io.Reader{strings.NewReader(tt.input), iotest.OneByteReader(strings.NewReader(tt.input))} {
				res := readAll(t, src)
				if res.fatal != nil {
					t.Fatalf("fatal: %v", res.fatal)
				}
				if len(res.rows) != len(tt.wantRows) {
					t.Fatalf("rows = %v, want %v", res.rows, tt.wantRows)
				}
				for i, want := range tt.wantRows {
					for k, v := range want {
						if res.rows[i][k] != v {
							t.Errorf("row %d %s = %q, want %q", i, k, res.rows[i][k], v)
						}
					}
					if res.lines[i] != tt.wantLines[i] {
						t.Errorf("row %d line = %d, want %d", i, res.lines[i], tt.wantLines[i])
					}
				}
				var got []string
				for _, e := range res.rowErrs {
					got = append(got, itoa(e.Line)+":"+e.Reason)
				}
				if strings.Join(got, "|") != strings.Join(tt.wantErrs, "|") {
					t.Errorf("row errors = %q, want %q", got, tt.wantErrs)
				}
				if n := len(res.progress); n == 0 || res.progress[n-1] != int64(len(tt.input)) {
					t.Errorf("progress = %v, want to end at %d", res.progress, len(tt.input))
				}
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestReaderRejectsWholeFiles(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	late := []byte("uai;Nom_etablissement\n" + strings.Repeat("0350122T;Lucioles\n", 10000))
	late = append(late, 0, 0, 0, 1, 2)
	tests := []struct {
		name  string
		input []byte
		code  string
	}{
		{"PNG image", png, "not_text"},
		{"NUL bytes", []byte("uai;Nom_etablissement\n\x00\x00\x00"), "not_text"},
		{"Latin-1 text", []byte("uai;Nom_etablissement\n0350122T;Ecole \xe9l\xe9mentaire\n"), "not_text"},
		{"rune cut at end of file", []byte("uai;Nom_etablissement\n0350122T;Ecole \xc3"), "not_text"},
		{"binary after 200 KB of good rows", late, "not_text"},
		{"empty", nil, "empty_file"},
		{"only a BOM and blank lines", []byte("\ufeff\r\n\r\n"), "empty_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, bytes.NewReader(tt.input))
			p, ok := problem.As(res.fatal)
			if !ok || p.Code != tt.code {
				t.Fatalf("error = %v, want problem %s", res.fatal, tt.code)
			}
			if tt.code == "not_text" {
				if !errors.Is(res.fatal, ErrNotText) || !strings.Contains(p.Message, "UTF-8") {
					t.Errorf("not-text error: %v", res.fatal)
				}
				if len(res.rowErrs) != 0 {
					t.Errorf("binary input also gave row errors: %v", res.rowErrs)
				}
			}
		})
	}
}

func TestReaderMissingColumns(t *testing.T) {
	res := readAll(t, strings.NewReader("Description;Population\nx;y\n"))
	var me *MissingColumnsError
	if !errors.As(res.fatal, &me) || strings.Join(me.Missing, ",") != "uai,name" {
		t.Fatalf("error = %v, want uai and name missing", res.fatal)
	}
}

func TestNormalize(t *testing.T) {
	same := [][]string{
		{"Code postal", "Code_postal", "code-postal", "CODE POSTAL"},
		{"Secteur Public/Privé", "secteur_public_prive"},
		{"Numéro de l'école", "Numero_de_l_ecole", "numéro de l’école"},
		{"REP +", "REP+"},
		{"Nombre d'élèves total (nombre d'élèves dans les formations du 1er cycle)", "Nombre_d_eleves_total"},
		{"\ufeffDescription", "description"},
	}
	for _, group := range same {
		for _, n := range group[1:] {
			if Normalize(n) != Normalize(group[0]) {
				t.Errorf("Normalize(%q) = %q, Normalize(%q) = %q", n, Normalize(n), group[0], Normalize(group[0]))
			}
		}
	}
	if Normalize("REP") == Normalize("REP +") {
		t.Error("REP and REP + must stay apart")
	}
}

func TestReportJSON(t *testing.T) {
	r := NewReport("annuaire", "a.csv")
	b, _ := json.Marshal(r)
	for _, want := range []string{`"kind":"annuaire"`, `"read":0`, `"rejected":[]`, `"notes":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	for i := 0; i < MaxListed+5; i++ {
		r.Reject(i+2, "uai", "lettre clé")
	}
	r.Note(3, "0350122T", "établissement absent de l'annuaire (fermé ?)")
	if len(r.Rejected) != MaxListed || r.RejectedCount() != MaxListed+5 {
		t.Errorf("rejected listed %d, counted %d", len(r.Rejected), r.RejectedCount())
	}
	b, _ = json.Marshal(r)
	for _, want := range []string{`"line":2,"column":"uai","reason":"lettre clé"`, `"rejected_omitted":5`, `"uai":"0350122T"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report JSON lacks %s", want)
		}
	}
	r.Created, r.Updated, r.Deleted = 3, 2, 1
	r.DiscardWrites()
	if r.Created+r.Updated+r.Deleted != 0 {
		t.Error("DiscardWrites kept counts")
	}
}

func BenchmarkReader(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("\ufeffIdentifiant_de_l_etablissement;Nom_etablissement;Code postal;REP+\r\n")
	for i := 0; i < 100000; i++ {
		buf.WriteString("0350122T;Ecole primaire publique les Lucioles;35580;0\r\n")
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(buf.Bytes()), Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := rd.Bind(testCols); err != nil {
			b.Fatal(err)
		}
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			_ = row.Get("uai")
		}
	}
}
