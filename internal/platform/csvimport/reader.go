// Package csvimport reads the CSV files of public open data as they are
// published: UTF-8 with or without a byte-order mark, ';' or ',' as
// separator, CRLF or LF, empty fields, and column names that change between
// vintages of the same data set. It streams rows (memory stays bounded
// whatever the file size), finds columns by tolerant names, reports the
// physical line of each row, and holds the import Report. It knows nothing
// of what the rows mean.
package csvimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"socle/internal/platform/problem"
)

// ErrNotText is the cause of the error returned for binary or non-UTF-8
// input; test it with errors.Is.
var ErrNotText = errors.New("input is not UTF-8 text")

// bufferSize is the read-ahead: large enough to hold any real header line
// for separator detection, small enough not to matter for memory.
const bufferSize = 64 << 10

// Column is a column an importer looks for. Name is how the importer
// refers to it (Row.Get) and is itself an accepted header; Aliases are the
// names other vintages give it. Matching ignores case, accents, spaces,
// underscores, hyphens, apostrophes, slashes, dots and any text in
// parentheses (see Normalize).
type Column struct {
	Name     string
	Aliases  []string
	Required bool
}

// Options tunes a Reader.
type Options struct {
	// Progress, when set, is called with the number of bytes consumed so
	// far, after each read from the input (every few dozen kilobytes).
	Progress func(bytesRead int64)
}

// MissingColumnsError says that required columns are absent from the
// header: the file is most likely another data set.
type MissingColumnsError struct {
	Missing []string
}

func (e *MissingColumnsError) Error() string {
	return "colonnes obligatoires absentes : " + strings.Join(e.Missing, ", ")
}

// RowError is a row that cannot be read as a row of the file (wrong field
// count, broken quoting). Reading may go on with the next row.
type RowError struct {
	Line   int
	Column string
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("ligne %d : %s", e.Line, e.Reason) }

// Reader streams the rows of one CSV file.
type Reader struct {
	src    *textChecker
	csv    *csv.Reader
	sep    rune
	header []string
	byNorm map[string]int    // normalized header → first index
	idx    map[string]int    // bound column name → index
	names  map[string]string // bound column name → header as written in the file
	row    Row
}

// NewReader reads the header of a CSV file. It fails with a *problem.Error
// when the input is empty or is not UTF-8 text (binary data, another
// encoding), the cause then being ErrNotText.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	src := &textChecker{r: r, progress: opts.Progress}
	br := bufio.NewReaderSize(src, bufferSize)
	head, err := br.Peek(bufferSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, readError(err)
	}
	if bytes.HasPrefix(head, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
		head = head[len(utf8BOM):]
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, problem.Invalid("empty_file", "Le fichier est vide : il n'a même pas de ligne d'en-tête.")
	}
	sep := detectSeparator(head)
	c := csv.NewReader(br) // reuses br: it is already large enough
	c.Comma = sep
	c.FieldsPerRecord = -1 // the field count is checked here, with a French message
	c.LazyQuotes = true    // a stray quote inside a name must not break the row
	c.ReuseRecord = true
	header, err := c.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, problem.Invalid("empty_file", "Le fichier est vide : il n'a même pas de ligne d'en-tête.")
		}
		return nil, readError(err)
	}
	rd := &Reader{src: src, csv: c, sep: sep, header: append([]string(nil), header...), byNorm: map[string]int{}}
	for i, h := range rd.header {
		rd.header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if k := Normalize(rd.header[i]); k != "" {
			if _, dup := rd.byNorm[k]; !dup {
				rd.byNorm[k] = i
			}
		}
	}
	rd.row.r = rd
	return rd, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ReadError is a failure of the input itself (a connection cut, an upload
// past its size limit): the file could not be read to its end.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return "read CSV: " + e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// readError turns a failure of the input into the error for the caller.
func readError(err error) error {
	var pe *problem.Error
	if errors.As(err, &pe) {
		return err
	}
	return &ReadError{Err: err}
}

// detectSeparator picks ';' or ',' by counting them, outside quotes, in the
// header line; ';' wins ties since French open data uses it.
func detectSeparator(head []byte) rune {
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	semi, comma, quoted := 0, 0, false
	for _, c := range head {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ';':
			semi++
		case c == ',':
			comma++
		}
	}
	if comma > semi {
		return ','
	}
	return ';'
}

// Separator is the detected field separator.
func (r *Reader) Separator() rune { return r.sep }

// Header is the header row as written in the file (BOM and spaces removed).
func (r *Reader) Header() []string { return r.header }

// HasHeader reports whether the file has a column of that name, compared
// with Normalize.
func (r *Reader) HasHeader(name string) bool {
	_, ok := r.byNorm[Normalize(name)]
	return ok
}

// Bind maps the importer's columns onto the header. It fails with a
// *MissingColumnsError, listing every missing required column by its Name,
// when any is absent.
func (r *Reader) Bind(cols []Column) error {
	r.idx = make(map[string]int, len(cols))
	r.names = make(map[string]string, len(cols))
	var missing []string
	for _, c := range cols {
		i, ok := r.find(c)
		if !ok {
			if c.Required {
				missing = append(missing, c.Name)
			}
			continue
		}
		r.idx[c.Name] = i
		r.names[c.Name] = r.header[i]
	}
	if len(missing) > 0 {
		return &MissingColumnsError{Missing: missing}
	}
	return nil
}

func (r *Reader) find(c Column) (int, bool) {
	if i, ok := r.byNorm[Normalize(c.Name)]; ok {
		return i, true
	}
	for _, a := range c.Aliases {
		if i, ok := r.byNorm[Normalize(a)]; ok {
			return i, true
		}
	}
	return 0, false
}

// Has reports whether a bound column is present in this file.
func (r *Reader) Has(name string) bool {
	_, ok := r.idx[name]
	return ok
}

// HeaderOf returns the header, as written in the file, of a bound column
// (for messages naming the column the user sees), or name itself when the
// column is absent.
func (r *Reader) HeaderOf(name string) string {
	if h, ok := r.names[name]; ok {
		return h
	}
	return name
}

// BytesRead is the number of bytes consumed from the input so far.
func (r *Reader) BytesRead() int64 { return r.src.n }

// Next returns the next row, valid until the following call. At the end it
// returns io.EOF. A row that cannot be read as a row (wrong field count,
// broken quoting) gives a *RowError and reading may go on. Binary or
// non-UTF-8 content met on the way gives a *problem.Error whose cause is
// ErrNotText, and reading must stop.
func (r *Reader) Next() (*Row, error) {
	rec, err := r.csv.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if errors.Is(err, ErrNotText) {
			return nil, readError(err)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &RowError{Line: pe.StartLine, Reason: "guillemets mal placés : la ligne ne peut pas être découpée en colonnes"}
		}
		return nil, readError(err)
	}
	line, _ := r.csv.FieldPos(0)
	// Some exports end every data row, but not the header, with one more
	// separator: an empty last field is not a real column.
	if len(rec) == len(r.header)+1 && strings.TrimSpace(rec[len(rec)-1]) == "" {
		rec = rec[:len(r.header)]
	}
	switch {
	case len(rec) < len(r.header):
		return nil, &RowError{Line: line, Reason: fmt.Sprintf("ligne tronquée : %d colonnes au lieu de %d", len(rec), len(r.header))}
	case len(rec) > len(r.header):
		return nil, &RowError{Line: line, Reason: fmt.Sprintf("ligne trop longue : %d colonnes au lieu de %d", len(rec), len(r.header))}
	}
	r.row.Line = line
	r.row.rec = rec
	return &r.row, nil
}

// Row is one data row.
type Row struct {
	// Line is the physical line where the row starts (the header is line
	// 1), counting the lines inside quoted multi-line fields.
	Line int
	rec  []string
	r    *Reader
}

// Get returns the trimmed value of a bound column, "" when the column is
// absent from this file.
func (row *Row) Get(name string) string {
	i, ok := row.r.idx[name]
	if !ok {
		return ""
	}
	return strings.TrimSpace(row.rec[i])
}

// Column is the header, as written in the file, of a bound column.
func (row *Row) Column(name string) string { return row.r.HeaderOf(name) }

// Normalize folds a column name for comparison: text in parentheses is
// dropped, accents removed, letters lower-cased, and spaces, underscores,
// hyphens, apostrophes, slashes and dots removed, so that "Code postal",
// "Code_postal" and "code-postal" are one name, as are "REP +" and "REP+".
func Normalize(name string) string {
	// A transformer holds state: use a copy per call, so that Normalize is
	// safe for concurrent use.
	s, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), name)
	if err != nil {
		s = name
	}
	var b strings.Builder
	depth := 0
	for _, c := range s {
		switch {
		case c == '(':
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case c == '\ufeff', unicode.IsSpace(c), c == '_', c == '-', c == '\'', c == '’', c == '/', c == '.':
		default:
			b.WriteRune(unicode.ToLower(c))
		}
	}
	return b.String()
}

// textChecker passes the input through, counting bytes for progress, and
// stops at the first byte that cannot be in a UTF-8 text file: a NUL byte
// or an invalid UTF-8 sequence (a rune split between two reads is checked
// once complete).
type textChecker struct {
	r        io.Reader
	n        int64
	carry    []byte
	progress func(int64)
	err      error
}

func (c *textChecker) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if n > 0 {
		if bad := c.check(p[:n]); bad >= 0 {
			c.err = notText(c.n + int64(bad))
			return 0, c.err
		}
		c.n += int64(n)
		if c.progress != nil {
			c.progress(c.n)
		}
	}
	if errors.Is(err, io.EOF) && len(c.carry) > 0 {
		c.err = notText(c.n - int64(len(c.carry)))
		return 0, c.err
	}
	return n, err
}

func notText(offset int64) error {
	return problem.Invalid("not_text", fmt.Sprintf("Ce fichier n'est pas un fichier CSV en texte UTF-8 : il contient des données binaires "+
		"ou un autre encodage (octet %d). S'il vient d'un tableur, enregistrez-le au format « CSV UTF-8 » et recommencez.", offset+1)).Wrap(ErrNotText)
}

// check returns the offset in b of the first byte that is not valid text,
// or -1, keeping an incomplete rune at the end of b for the next call.
func (c *textChecker) check(b []byte) int {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return i
	}
	start := 0
	if len(c.carry) > 0 {
		var buf [utf8.UTFMax]byte
		k := copy(buf[:], c.carry)
		m := copy(buf[k:], b)
		if !utf8.FullRune(buf[:k+m]) {
			c.carry = append(c.carry, b...)
			return -1
		}
		r, size := utf8.DecodeRune(buf[:k+m])
		if r == utf8.RuneError && size <= 1 {
			return 0
		}
		start = size - k
		c.carry = c.carry[:0]
	}
	body := b[start:]
	end := len(body)
	// Keep back a rune cut by the end of the read.
	for k := 1; k < utf8.UTFMax && k <= len(body); k++ {
		if utf8.RuneStart(body[len(body)-k]) {
			if !utf8.FullRune(body[len(body)-k:]) {
				end = len(body) - k
			}
			break
		}
	}
	if !utf8.Valid(body[:end]) {
		for i := 0; i < end; {
			r, size := utf8.DecodeRune(body[i:end])
			if r == utf8.RuneError && size <= 1 {
				return start + i
			}
			i += size
		}
	}
	c.carry = append(c.carry[:0], body[end:]...)
	return -1
}
