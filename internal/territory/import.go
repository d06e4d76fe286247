package territory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// ImportKind names a national open-data set that fills the territory.
type ImportKind string

const (
	ImportAnnuaire      ImportKind = "annuaire"
	ImportEffectifs     ImportKind = "effectifs"
	ImportCalendrier    ImportKind = "calendrier"
	ImportCarteScolaire ImportKind = "carte-scolaire"
)

// ImportKinds lists the data sets in the order they are best imported: the
// directory first, since the others refer to its establishments.
func ImportKinds() []ImportKind {
	return []ImportKind{ImportAnnuaire, ImportEffectifs, ImportCalendrier, ImportCarteScolaire}
}

// Valid reports whether k is a known data set.
func (k ImportKind) Valid() bool {
	switch k {
	case ImportAnnuaire, ImportEffectifs, ImportCalendrier, ImportCarteScolaire:
		return true
	}
	return false
}

// Label is the data set's French name.
func (k ImportKind) Label() string {
	switch k {
	case ImportAnnuaire:
		return "Annuaire de l'éducation"
	case ImportEffectifs:
		return "Effectifs d'élèves"
	case ImportCalendrier:
		return "Calendrier scolaire"
	case ImportCarteScolaire:
		return "Carte scolaire des collèges publics"
	}
	return string(k)
}

// ImportOptions tunes an import.
type ImportOptions struct {
	// SkipInvalid writes the valid rows even when others are rejected. By
	// default an import is all or nothing.
	SkipInvalid bool
	// Filename is the name shown in the report and the history.
	Filename string
	// UserID is who ran the import (0: the local operator, or the
	// principal's user).
	UserID int64
	// Progress, when set, receives the number of bytes read so far.
	Progress func(bytesRead int64)
}

// Statuses of a recorded import.
const (
	ImportStatusApplied  = "applied"  // nothing rejected, everything written
	ImportStatusRejected = "rejected" // rolled back, or the file refused as a whole
	ImportStatusPartial  = "partial"  // valid rows written, others rejected (SkipInvalid)
)

// ImportRunRecord is one recorded import, for the history and the report
// page.
type ImportRunRecord struct {
	ID         int64            `json:"id"`
	Kind       ImportKind       `json:"kind"`
	Filename   string           `json:"filename"`
	UserID     int64            `json:"user_id,omitempty"`
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
	Status     string           `json:"status"`
	Report     csvimport.Report `json:"report"`
}

// errRollback ends the import transaction without an error for the
// caller: rows were rejected and the import is all or nothing.
var errRollback = errors.New("rows rejected: roll back")

// Import reads one open-data file and writes it into the territory inside
// one transaction. By default it is all or nothing: when any row is
// rejected, nothing is written and the report lists every rejected row
// (this is not an error: the caller decides what a rejection means). A
// file that is not the data set, or not text at all, is an error; the
// report then comes back too, with its Error and RunID. Every run is
// recorded with its report, rolled back or not.
func (s *Service) Import(ctx context.Context, p *auth.Principal, kind ImportKind, r io.Reader, opts ImportOptions) (*csvimport.Report, error) {
	if !p.Global(auth.PermImport) {
		return nil, problem.Forbidden()
	}
	if !kind.Valid() {
		return nil, problem.Invalid("unknown_dataset",
			fmt.Sprintf("Jeu de données inconnu : « %s » (annuaire, effectifs, calendrier ou carte-scolaire).", kind))
	}
	run := ImportRunRecord{Kind: kind, Filename: opts.Filename, UserID: opts.UserID, StartedAt: time.Now().UTC()}
	if run.UserID == 0 {
		run.UserID = p.User.ID
	}
	rep := csvimport.NewReport(string(kind), opts.Filename)
	err := s.runImport(ctx, kind, r, opts, rep)
	run.FinishedAt = time.Now().UTC()
	switch {
	case err != nil:
		run.Status = ImportStatusRejected
		rep.Error = importFailure(err)
	case rep.RejectedCount() == 0:
		run.Status = ImportStatusApplied
	case opts.SkipInvalid:
		run.Status = ImportStatusPartial
	default:
		run.Status = ImportStatusRejected
	}
	run.Report = *rep
	// The record is written after the transaction so that a rollback does
	// not erase it, and even when the caller has gone away meanwhile.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if id, rerr := s.store.InsertImportRun(rctx, run); rerr != nil {
		s.log.Error("record import run", "kind", kind, "file", opts.Filename, "err", rerr)
	} else {
		rep.RunID = id
	}
	attrs := []any{"kind", kind, "file", opts.Filename, "status", run.Status, "read", rep.Read, "created", rep.Created,
		"updated", rep.Updated, "unchanged", rep.Unchanged, "rejected", rep.RejectedCount(), "notes", len(rep.Notes),
		"duration", run.FinishedAt.Sub(run.StartedAt)}
	var readErr *csvimport.ReadError
	switch {
	case err == nil:
		s.log.Info("import finished", attrs...)
	case isProblem(err):
		s.log.Info("import refused", append(attrs, "reason", err)...)
	case errors.As(err, &readErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("import interrupted", append(attrs, "err", err)...)
	default:
		s.log.Error("import failed", append(attrs, "err", err)...)
	}
	return rep, err
}

func isProblem(err error) bool {
	_, ok := problem.As(err)
	return ok
}

// importFailure is the French message of an import that failed as a
// whole, for its report.
func importFailure(err error) string {
	var readErr *csvimport.ReadError
	if pe, ok := problem.As(err); ok {
		return pe.Message
	}
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return "L'import a été interrompu avant la fin ; rien n'a été écrit."
	case errors.As(err, &readErr):
		return "Le fichier n'a pas pu être lu jusqu'au bout ; rien n'a été écrit."
	}
	return "L'import a échoué sur une erreur interne ; rien n'a été écrit."
}

// importer is one data set's reading of rows. row records a rejected row
// in the report and returns nil; an error it returns ends the import.
type importer interface {
	begin(ctx context.Context, q db.Querier) error
	row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error
	finish(ctx context.Context, q db.Querier, tx *db.Tx, rep *csvimport.Report) error
}

func (s *Service) runImport(ctx context.Context, kind ImportKind, r io.Reader, opts ImportOptions, rep *csvimport.Report) error {
	rd, err := csvimport.NewReader(r, csvimport.Options{Progress: opts.Progress})
	if err != nil {
		return err
	}
	var imp importer
	switch kind {
	case ImportAnnuaire:
		imp, err = newAnnuaireImport(s.store, rd)
	case ImportEffectifs:
		imp, err = newEffectifsImport(s.store, rd)
	case ImportCalendrier:
		imp, err = newCalendrierImport(s.store, rd)
	case ImportCarteScolaire:
		imp, err = newCarteImport(s.store, rd)
	}
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		q := newPreparedQuerier(tx)
		defer q.Close()
		if err := imp.begin(ctx, q); err != nil {
			return fmt.Errorf("import %s: %w", kind, err)
		}
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var rowErr *csvimport.RowError
			if errors.As(err, &rowErr) {
				rep.Read++
				rep.Reject(rowErr.Line, rowErr.Column, rowErr.Reason)
				continue
			}
			if err != nil {
				return err
			}
			rep.Read++
			if err := imp.row(ctx, q, row, rep); err != nil {
				return fmt.Errorf("import %s line %d: %w", kind, row.Line, err)
			}
		}
		if err := imp.finish(ctx, q, tx, rep); err != nil {
			return fmt.Errorf("import %s: %w", kind, err)
		}
		if rep.RejectedCount() > 0 && !opts.SkipInvalid {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		rep.DiscardWrites()
		return nil
	}
	return err
}

// ImportRun returns one recorded import with its report.
func (s *Service) ImportRun(ctx context.Context, p *auth.Principal, id int64) (ImportRunRecord, error) {
	if !p.Global(auth.PermImport) {
		return ImportRunRecord{}, problem.Forbidden()
	}
	r, err := s.store.ImportRun(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, problem.NotFound("Import")
	}
	r.Report.RunID = r.ID
	return r, err
}

// ImportRuns lists the latest recorded imports, newest first.
func (s *Service) ImportRuns(ctx context.Context, p *auth.Principal, limit int) ([]ImportRunRecord, error) {
	if !p.Global(auth.PermImport) {
		return nil, problem.Forbidden()
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = 50
	}
	runs, err := s.store.ImportRuns(ctx, limit)
	for i := range runs {
		runs[i].Report.RunID = runs[i].ID
	}
	return runs, err
}

// ExpectedColleges lists the lines of the carte scolaire of a commune (by
// INSEE code): which public collège(s) serve it, for the whole commune or
// street by street. The carte scolaire is public data.
func (s *Service) ExpectedColleges(ctx context.Context, communeCode string) ([]SchoolSector, error) {
	code, ok := communeINSEE(communeCode)
	if !ok {
		return []SchoolSector{}, nil
	}
	return s.store.SchoolSectors(ctx, code)
}

// ---- shared helpers of the importers ----

// bindColumns maps the data set's columns onto the file's header; a file
// missing a required column is another data set, and gets one error
// naming what was expected rather than one error per row.
func bindColumns(rd *csvimport.Reader, cols []csvimport.Column, dataset string) error {
	err := rd.Bind(cols)
	var missing *csvimport.MissingColumnsError
	if errors.As(err, &missing) {
		return notThisDataset(dataset, missing.Missing, cols)
	}
	return err
}

func notThisDataset(dataset string, missing []string, cols []csvimport.Column) error {
	var want []string
	for _, c := range cols {
		if !slices.Contains(missing, c.Name) {
			continue
		}
		w := "« " + c.Name + " »"
		if len(c.Aliases) > 0 {
			w += " (ou « " + strings.Join(c.Aliases, " », « ") + " »)"
		}
		want = append(want, w)
	}
	what := "la colonne obligatoire "
	if len(want) > 1 {
		what = "les colonnes obligatoires "
	}
	return problem.Invalid("not_this_dataset", fmt.Sprintf("Ce fichier n'est pas %s : son en-tête n'a pas %s%s. Vérifiez le fichier ou le jeu de données choisi.",
		dataset, what, strings.Join(want, ", ")))
}

// reject records a rejected row, naming the column as the file writes it.
func reject(rep *csvimport.Report, row *csvimport.Row, col, reason string) {
	header := ""
	if col != "" {
		header = row.Column(col)
	}
	rep.Reject(row.Line, header, reason)
}

// count adds a row's outcome to the report.
func count(rep *csvimport.Report, o Outcome, n int) {
	switch o {
	case Created:
		rep.Created += n
	case Updated:
		rep.Updated += n
	default:
		rep.Unchanged += n
	}
}

// uaiProblem says, in French, what is wrong with a UAI ("" when valid).
func uaiProblem(v string) string {
	if v == "" {
		return "UAI manquant"
	}
	if ValidUAI(v) {
		return ""
	}
	if len(v) == 8 && allDigits(v[:7]) {
		n, _ := strconv.Atoi(v[:7])
		return fmt.Sprintf("UAI invalide : « %s », la lettre clé de %s est %c", v, v[:7], UAICheckLetter(n))
	}
	return fmt.Sprintf("UAI invalide : « %s » (7 chiffres suivis d'une lettre clé attendus)", v)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// communeINSEE checks an INSEE commune code: five characters, digits
// except Corsica's 2A/2B. A spreadsheet that dropped the leading zero
// ("1001" for 01001) is forgiven.
func communeINSEE(v string) (string, bool) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if len(v) == 4 && allDigits(v) {
		v = "0" + v
	}
	if len(v) != 5 {
		return v, false
	}
	if !allDigits(v[:1]) || !(allDigits(v[1:2]) || v[1] == 'A' || v[1] == 'B') || !allDigits(v[2:]) {
		return v, false
	}
	return v, true
}

// departementCode is the 3-character code of the directory ("035", "02A",
// "971"), padded when a file gives "35", or derived from the commune.
func departementCode(code, commune string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" && len(commune) == 5 {
		if strings.HasPrefix(commune, "97") || strings.HasPrefix(commune, "98") {
			code = commune[:3]
		} else {
			code = commune[:2]
		}
	}
	if code == "" {
		return ""
	}
	for len(code) < 3 {
		code = "0" + code
	}
	return code
}

// parseCount reads a count: empty gives nil; "1 234" is read as 1234.
func parseCount(v string) (*int, bool) {
	if !allDigits(v) {
		v = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\u00a0' || r == '\u202f' {
				return -1
			}
			return r
		}, v)
	}
	if v == "" {
		return nil, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return nil, false
	}
	return &n, true
}

// parseSector reads public/private as the files write it (Public, PUBLIC,
// Privé, PRIVE, PU, PR).
func parseSector(v string) (Sector, bool) {
	switch enumKey(v) {
	case "":
		return "", true
	case "public", "pu":
		return SectorPublic, true
	case "prive", "pr":
		return SectorPrivate, true
	}
	return "", false
}

// parseFlag reads the 1/0 columns of the enrolment files.
func parseFlag(v string) (bool, bool) {
	switch enumKey(v) {
	case "1", "oui", "o", "x", "true":
		return true, true
	case "", "0", "non", "n", "false":
		return false, true
	}
	return false, false
}

// enumKey folds the short coded values of the files (Privé, A FERMER,
// Collège) for comparison: lower case, French accents removed, anything
// but letters and digits made one space. It is SearchKey for these values,
// without its cost: SearchKey builds a Unicode transformer per call, and
// an import compares several values per row.
func enumKey(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	space := false
	for _, r := range v {
		switch r {
		case 'à', 'â', 'ä', 'À', 'Â', 'Ä':
			r = 'a'
		case 'é', 'è', 'ê', 'ë', 'É', 'È', 'Ê', 'Ë':
			r = 'e'
		case 'î', 'ï', 'Î', 'Ï':
			r = 'i'
		case 'ô', 'ö', 'Ô', 'Ö':
			r = 'o'
		case 'ù', 'û', 'ü', 'Ù', 'Û', 'Ü':
			r = 'u'
		case 'ç', 'Ç':
			r = 'c'
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		} else {
			space = true
		}
	}
	return b.String()
}
