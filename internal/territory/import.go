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

// ---- annuaire ----

// Columns of the directory: names of the "annuaire de l'éducation", with
// the other vintage's names ("adresse et géolocalisation") as aliases.
const (
	annUAI          = "Identifiant_de_l_etablissement"
	annName         = "Nom_etablissement"
	annDenomination = "Dénomination principale"
	annPatronym     = "Patronyme uai"
	annType         = "Type_etablissement"
	annNatureCode   = "code_nature"
	annNatureLabel  = "libelle_nature"
	annSector       = "Statut_public_prive"
	annContract     = "Type_contrat_prive"
	annPriority     = "Appartenance_Education_Prioritaire"
	annStatus       = "etat"
	annAddress1     = "Adresse_1"
	annAddress2     = "Adresse_2"
	annAddress3     = "Adresse_3"
	annLocality     = "Localite d'acheminement"
	annPostal       = "Code postal"
	annCommune      = "Code_commune"
	annCommuneName  = "Nom_commune"
	annDept         = "Code_departement"
	annDeptName     = "Libelle_departement"
	annAcademy      = "Code_academie"
	annAcademyName  = "Libelle_academie"
	annRegion       = "Code_region"
	annRegionName   = "Libelle_region"
	annLat          = "latitude"
	annLon          = "longitude"
	annPhone        = "Telephone"
	annMail         = "Mail"
	annWeb          = "Web"
	annSIRET        = "SIREN_SIRET"
	annCirco        = "nom_circonscription"
	annOpened       = "date_ouverture"
	annPupils       = "Nombre_d_eleves"
	annMulti        = "etablissement_multi_lignes"
)

var annuaireColumns = []csvimport.Column{
	{Name: annUAI, Aliases: []string{"Code établissement", "numero_uai", "code_uai", "uai"}, Required: true},
	{Name: annName, Aliases: []string{"Appellation officielle", "appellation_officielle"}, Required: true},
	{Name: annDenomination, Aliases: []string{"denomination_principale"}},
	{Name: annPatronym, Aliases: []string{"patronyme_uai"}},
	{Name: annType},
	{Name: annNatureCode, Aliases: []string{"Code nature", "nature_uai"}},
	{Name: annNatureLabel, Aliases: []string{"Nature", "nature_uai_libe"}},
	{Name: annSector, Aliases: []string{"Secteur Public/Privé", "secteur_public_prive_libe"}},
	{Name: annContract, Aliases: []string{"secteur_prive_libelle_type_contrat"}},
	{Name: annPriority},
	{Name: annStatus, Aliases: []string{"Etat établissement", "etat_etablissement_libe"}},
	{Name: annAddress1, Aliases: []string{"Adresse", "adresse_uai"}},
	{Name: annAddress2, Aliases: []string{"Lieu dit", "lieu_dit_uai"}},
	{Name: annAddress3},
	{Name: annLocality, Aliases: []string{"localite_acheminement_uai"}},
	{Name: annPostal, Aliases: []string{"code_postal_uai"}},
	{Name: annCommune, Aliases: []string{"Code commune", "code_insee"}, Required: true},
	{Name: annCommuneName, Aliases: []string{"Commune", "libelle_commune"}},
	{Name: annDept, Aliases: []string{"Code département"}},
	{Name: annDeptName, Aliases: []string{"Département"}},
	{Name: annAcademy, Aliases: []string{"Code académie"}},
	{Name: annAcademyName, Aliases: []string{"Académie"}},
	{Name: annRegion, Aliases: []string{"Code région"}},
	{Name: annRegionName, Aliases: []string{"Région"}},
	{Name: annLat},
	{Name: annLon},
	{Name: annPhone},
	{Name: annMail},
	{Name: annWeb},
	{Name: annSIRET},
	{Name: annCirco},
	{Name: annOpened},
	{Name: annPupils},
	{Name: annMulti},
}

// annuaireFields says which columns carry each establishment field. When a
// vintage has none of a field's columns, the stored value is kept rather
// than erased: the geolocation vintage, for one, has no phone and no
// education-priority label.
var annuaireFields = []struct {
	cols []string
	keep func(dst, src *Establishment)
}{
	{[]string{annType, annNatureCode}, func(d, s *Establishment) { d.Type = s.Type }},
	{[]string{annNatureCode}, func(d, s *Establishment) { d.NatureCode = s.NatureCode }},
	{[]string{annNatureLabel}, func(d, s *Establishment) { d.NatureLabel = s.NatureLabel }},
	{[]string{annSector}, func(d, s *Establishment) { d.Sector = s.Sector }},
	{[]string{annContract}, func(d, s *Establishment) { d.PrivateContract = s.PrivateContract }},
	{[]string{annPriority}, func(d, s *Establishment) { d.Priority = s.Priority }},
	{[]string{annStatus}, func(d, s *Establishment) { d.Status = s.Status }},
	{[]string{annAddress1}, func(d, s *Establishment) { d.Address1 = s.Address1 }},
	{[]string{annAddress2}, func(d, s *Establishment) { d.Address2 = s.Address2 }},
	{[]string{annAddress3, annLocality}, func(d, s *Establishment) { d.Address3 = s.Address3 }},
	{[]string{annPostal}, func(d, s *Establishment) { d.PostalCode = s.PostalCode }},
	{[]string{annCommuneName}, func(d, s *Establishment) { d.CommuneName = s.CommuneName }},
	{[]string{annAcademy}, func(d, s *Establishment) { d.AcademyCode = s.AcademyCode }},
	{[]string{annLat, annLon}, func(d, s *Establishment) { d.Latitude, d.Longitude = s.Latitude, s.Longitude }},
	{[]string{annPhone}, func(d, s *Establishment) { d.Phone = s.Phone }},
	{[]string{annMail}, func(d, s *Establishment) { d.Email = s.Email }},
	{[]string{annWeb}, func(d, s *Establishment) { d.Website = s.Website }},
	{[]string{annSIRET}, func(d, s *Establishment) { d.SIRET = s.SIRET }},
	{[]string{annCirco}, func(d, s *Establishment) { d.Circonscription = s.Circonscription }},
	{[]string{annOpened}, func(d, s *Establishment) { d.OpenedOn = s.OpenedOn }},
	{[]string{annPupils}, func(d, s *Establishment) { d.DirectoryPupils = s.DirectoryPupils }},
}

type orgKey struct {
	kind Kind
	code string
}

// seenEstablishment is what an annuaire run remembers of each UAI, to
// merge the later lines of an establishment published on several lines.
type seenEstablishment struct {
	orgID   int64
	line    int
	outcome Outcome
}

// pendingSites are the extra lines of a multi-line establishment.
type pendingSites struct {
	sites []Site
	lines int
}

type annuaireImport struct {
	store *Store
	rd    *csvimport.Reader
	w     *directoryWriter
	// zones is the holiday zone of each académie in the calendar already
	// imported (by academyKey), so that the order of imports does not
	// matter.
	zones map[string]string
	// keep lists the fields this vintage lacks (see annuaireFields).
	keep []func(dst, src *Establishment)
	// orgs holds the organizations already ensured in this run: the first
	// row naming one sets its name and parent, later rows reuse it.
	orgs      map[orgKey]int64
	resp      map[respKey]respState
	withSites map[int64]bool
	seen      map[string]*seenEstablishment
	sites     map[string]*pendingSites
	changed   bool
}

func newAnnuaireImport(store *Store, rd *csvimport.Reader) (*annuaireImport, error) {
	if err := bindColumns(rd, annuaireColumns, "un annuaire de l'éducation"); err != nil {
		return nil, err
	}
	a := &annuaireImport{store: store, rd: rd, orgs: map[orgKey]int64{}, seen: map[string]*seenEstablishment{}, sites: map[string]*pendingSites{}}
	for _, f := range annuaireFields {
		present := false
		for _, c := range f.cols {
			present = present || rd.Has(c)
		}
		if !present {
			a.keep = append(a.keep, f.keep)
		}
	}
	return a, nil
}

func (a *annuaireImport) begin(ctx context.Context, q db.Querier) error {
	var err error
	if a.w, err = a.store.newDirectoryWriter(ctx, q, newSearchFolder()); err != nil {
		return err
	}
	if a.resp, err = a.store.responsibilities(ctx, q); err != nil {
		return err
	}
	if a.zones, err = a.store.academyZones(ctx, q); err != nil {
		return err
	}
	a.withSites, err = a.store.orgsWithSites(ctx, q)
	return err
}

// ensure returns the id of the organization (kind, code), creating it or
// updating its name and parent on its first use in the run; later rows
// use the cache. An empty name keeps the stored one, or gives the
// fallback to a new organization.
func (a *annuaireImport) ensure(ctx context.Context, kind Kind, code, name, fallback string, parentID int64) (*orgState, error) {
	if code == "" {
		return nil, nil
	}
	k := orgKey{kind, code}
	if _, ok := a.orgs[k]; ok {
		return a.w.orgs[k], nil
	}
	st, outcome, err := a.w.ensureOrg(ctx, kind, code, name, fallback, parentID)
	if err != nil {
		return nil, err
	}
	if outcome != Unchanged {
		a.changed = true
	}
	a.orgs[orgKey{kind, strings.Clone(code)}] = st.id // not the line's memory
	return st, nil
}

// ensureAcademy is ensure for an académie named after the directory's
// label ("Rennes"), which also receives its holiday zone from a calendar
// imported before the directory.
func (a *annuaireImport) ensureAcademy(ctx context.Context, q db.Querier, code, label string) (int64, error) {
	if id, done := a.orgs[orgKey{KindAcademy, code}]; done || code == "" {
		return id, nil
	}
	st, err := a.ensure(ctx, KindAcademy, code, academyName(label), "Académie "+code, 0)
	if err != nil {
		return 0, err
	}
	if z := a.zones[academyKey(st.name)]; z != "" && z != st.holidayZone {
		if err := a.store.SetHolidayZone(ctx, q, st.id, z); err != nil {
			return 0, fmt.Errorf("holiday zone of academy %s: %w", code, err)
		}
		st.holidayZone = z
	}
	return st.id, nil
}

// orgID is the id of an ensured organization, 0 for none.
func (st *orgState) orgID() int64 {
	if st == nil {
		return 0
	}
	return st.id
}

// academyName turns the directory's "Rennes" into "Académie de Rennes".
func academyName(label string) string {
	if label == "" || strings.HasPrefix(SearchKey(label), "academie") {
		return label
	}
	if k := SearchKey(label); k != "" && strings.ContainsRune("aeiouy", rune(k[0])) {
		return "Académie d'" + label
	}
	return "Académie de " + label
}

// dsdenName names the State's departmental services; the preposition of
// a département's name is irregular (du Nord, de la Manche, d'Ille-et-
// Vilaine), so the name follows a dash instead.
func dsdenName(departement string) string {
	if departement == "" {
		return ""
	}
	return "Services départementaux de l'Éducation nationale — " + departement
}

// typeFromDirectory reads Type_etablissement.
func typeFromDirectory(v string) Type {
	k := enumKey(v)
	switch {
	case k == "":
		return TypeUnknown
	case strings.HasPrefix(k, "ecole"):
		return TypeEcole
	case strings.HasPrefix(k, "college"):
		return TypeCollege
	case strings.HasPrefix(k, "lycee"):
		return TypeLycee
	case strings.HasPrefix(k, "erea"):
		return TypeEREA
	}
	return TypeOther
}

// typeFromNature reads the nature code of the UAI directory, for vintages
// without Type_etablissement: 1xx are écoles; 340 collège, 350 and 352
// collèges with special status; 300-307 lycées (général, technologique,
// polyvalent, agricole), 320 lycée professionnel, 334/335 sections of
// lycées; 370 EREA; the rest (medical, services, higher education) other.
func typeFromNature(code string) Type {
	code = strings.TrimSpace(code)
	if code == "" {
		return TypeUnknown
	}
	n, err := strconv.Atoi(code)
	switch {
	case err != nil:
		return TypeOther
	case n >= 100 && n < 200:
		return TypeEcole
	case n == 340 || n == 350 || n == 352:
		return TypeCollege
	case n >= 300 && n <= 307, n == 320, n == 334, n == 335:
		return TypeLycee
	case n == 370:
		return TypeEREA
	}
	return TypeOther
}

func parsePriority(v string) (Priority, bool) {
	k := strings.ToUpper(strings.Join(strings.Fields(v), ""))
	switch {
	case k == "" || k == "0" || k == "NON" || strings.HasPrefix(k, "HORS"):
		return PriorityNone, true
	case strings.HasPrefix(k, "REP+"):
		return PriorityREPPlus, true
	case strings.HasPrefix(k, "REP"):
		return PriorityREP, true
	}
	return PriorityNone, false
}

func parseStatus(v string) (Status, bool) {
	switch enumKey(v) {
	case "", "ouvert", "a ouvrir":
		return StatusOpen, true
	case "a fermer":
		return StatusClosing, true
	case "ferme":
		return StatusClosed, true
	}
	return "", false
}

// parseCoordinate reads a decimal degree, with a dot or a French comma.
func parseCoordinate(v string, limit float64) (*float64, bool) {
	if v == "" {
		return nil, true
	}
	f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
	if err != nil || f < -limit || f > limit {
		return nil, false
	}
	return &f, true
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func (a *annuaireImport) row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error {
	uai := NormalizeUAI(row.Get(annUAI))
	if msg := uaiProblem(uai); msg != "" {
		reject(rep, row, annUAI, msg)
		return nil
	}
	commune, ok := communeINSEE(row.Get(annCommune))
	if commune != "" && !ok {
		reject(rep, row, annCommune, fmt.Sprintf("code commune INSEE invalide : « %s »", row.Get(annCommune)))
		return nil
	}
	name := row.Get(annName)
	if name == "" {
		name = joinNonEmpty(" ", row.Get(annDenomination), row.Get(annPatronym))
	}
	if name == "" {
		reject(rep, row, annName, "nom de l'établissement manquant")
		return nil
	}
	if first, dup := a.seen[uai]; dup {
		// A later line of an establishment published on several lines is
		// one of its sites.
		if a.rd.Has(annMulti) && row.Get(annMulti) == "0" {
			reject(rep, row, annUAI, fmt.Sprintf("UAI %s déjà présent ligne %d, sans l'indication « établissement sur plusieurs lignes »", uai, first.line))
			return nil
		}
		p := a.sites[uai]
		if p == nil {
			p = &pendingSites{}
			a.sites[strings.Clone(uai)] = p
		}
		p.lines++
		st := Site{Name: strings.Clone(name), Address: joinNonEmpty(", ", row.Get(annAddress1), row.Get(annAddress2)),
			PostalCode: strings.Clone(row.Get(annPostal)), CommuneCode: strings.Clone(commune), CommuneName: strings.Clone(row.Get(annCommuneName))}
		for _, other := range p.sites {
			if other.Name == st.Name {
				return nil // the table keys sites by name: keep the first
			}
		}
		p.sites = append(p.sites, st)
		return nil
	}

	e := Establishment{UAI: uai, Name: name, CommuneCode: commune, CommuneName: row.Get(annCommuneName),
		NatureCode: row.Get(annNatureCode), NatureLabel: row.Get(annNatureLabel),
		Address1: row.Get(annAddress1), Address2: row.Get(annAddress2), Address3: row.Get(annAddress3), PostalCode: row.Get(annPostal),
		Phone: row.Get(annPhone), Email: row.Get(annMail), Website: row.Get(annWeb), SIRET: row.Get(annSIRET),
		Circonscription: row.Get(annCirco), OpenedOn: row.Get(annOpened), PrivateContract: row.Get(annContract)}
	if a.rd.Has(annType) {
		e.Type = typeFromDirectory(row.Get(annType))
	} else {
		e.Type = typeFromNature(e.NatureCode)
	}
	if !a.rd.Has(annAddress3) && a.rd.Has(annLocality) {
		e.Address3 = joinNonEmpty(" ", e.PostalCode, row.Get(annLocality))
	}
	if enumKey(e.PrivateContract) == "sans objet" {
		e.PrivateContract = ""
	}
	if e.Sector, ok = parseSector(row.Get(annSector)); !ok {
		reject(rep, row, annSector, fmt.Sprintf("statut public ou privé inconnu : « %s »", row.Get(annSector)))
		return nil
	}
	if e.Priority, ok = parsePriority(row.Get(annPriority)); !ok {
		reject(rep, row, annPriority, fmt.Sprintf("éducation prioritaire inconnue : « %s » (REP, REP+ ou vide)", row.Get(annPriority)))
		return nil
	}
	if e.Status, ok = parseStatus(row.Get(annStatus)); !ok {
		reject(rep, row, annStatus, fmt.Sprintf("état inconnu : « %s » (OUVERT, A FERMER…)", row.Get(annStatus)))
		return nil
	}
	if e.DirectoryPupils, ok = parseCount(row.Get(annPupils)); !ok {
		reject(rep, row, annPupils, fmt.Sprintf("nombre d'élèves non numérique : « %s »", row.Get(annPupils)))
		return nil
	}
	if e.Latitude, ok = parseCoordinate(row.Get(annLat), 90); !ok {
		reject(rep, row, annLat, fmt.Sprintf("latitude illisible : « %s »", row.Get(annLat)))
		return nil
	}
	if e.Longitude, ok = parseCoordinate(row.Get(annLon), 180); !ok {
		reject(rep, row, annLon, fmt.Sprintf("longitude illisible : « %s »", row.Get(annLon)))
		return nil
	}
	if e.Latitude == nil || e.Longitude == nil {
		e.Latitude, e.Longitude = nil, nil
	}
	e.DepartementCode = departementCode(row.Get(annDept), commune)
	e.AcademyCode = row.Get(annAcademy)

	// The organizations around the establishment. Collectivités get no
	// parent here: a commune's parent is its EPCI when someone sets one,
	// and the département is no parent of the communes' écoles.
	academyID, err := a.ensureAcademy(ctx, q, e.AcademyCode, row.Get(annAcademyName))
	if err != nil {
		return err
	}
	region, err := a.ensure(ctx, KindRegion, row.Get(annRegion), row.Get(annRegionName), "Région "+row.Get(annRegion), 0)
	if err != nil {
		return err
	}
	deptName := row.Get(annDeptName)
	dept, err := a.ensure(ctx, KindDepartement, e.DepartementCode, deptName, "Département "+e.DepartementCode, 0)
	if err != nil {
		return err
	}
	dsden, err := a.ensure(ctx, KindDSDEN, e.DepartementCode, dsdenName(deptName), dsdenName(e.DepartementCode), academyID)
	if err != nil {
		return err
	}
	communeOrg, err := a.ensure(ctx, KindCommune, commune, e.CommuneName, "Commune "+commune, 0)
	if err != nil {
		return err
	}

	if len(a.keep) > 0 {
		old, found, err := a.store.storedEstablishment(ctx, q, uai)
		if err != nil {
			return err
		}
		if found {
			for _, keep := range a.keep {
				keep(&e, &old)
			}
		}
	}

	// Who maintains it: by rule, the commune for a public école, the
	// département for a public collège, the région for a public lycée or
	// EREA; nobody for a private one. Pedagogy is the académie's.
	var maintainer int64
	if e.Sector == SectorPublic {
		switch MaintainingKind(e.Type) {
		case KindCommune:
			maintainer = communeOrg.orgID()
		case KindDepartement:
			maintainer = dept.orgID()
		case KindRegion:
			maintainer = region.orgID()
		}
		if missing := map[Kind]string{KindCommune: "le code de la commune", KindDepartement: "le code du département",
			KindRegion: "le code de la région"}[MaintainingKind(e.Type)]; maintainer == 0 && missing != "" {
			rep.Note(row.Line, uai, "collectivité de rattachement inconnue : "+missing+" manque")
		}
	}
	resps := []respAssignment{{"maintenance", maintainer}, {"pedagogy", academyID}}
	seen := &seenEstablishment{line: row.Line}
	id, outcome, fresh, err := a.w.upsertEstablishment(ctx, &e, dsden.orgID(), resps, func(id int64) { seen.orgID = id })
	if err != nil {
		return err
	}
	if !fresh {
		seen.orgID = id
		for _, r := range resps {
			changed, err := a.setResponsibility(ctx, q, id, r.domain, r.authority)
			if err != nil {
				return err
			}
			if changed && outcome == Unchanged {
				outcome = Updated
			}
		}
	}
	if outcome != Unchanged {
		a.changed = true
	}
	count(rep, outcome, 1)
	seen.outcome = outcome
	// The key is cloned: a field of the row shares its memory with the
	// whole line, which a map key would keep alive.
	a.seen[strings.Clone(uai)] = seen
	return nil
}

// setResponsibility writes a rule-derived responsibility only when it
// changes what is stored, which the preloaded map tells without a query.
func (a *annuaireImport) setResponsibility(ctx context.Context, q db.Querier, estID int64, domain string, authorityID int64) (bool, error) {
	k := respKey{estID, domain}
	old, exists := a.resp[k]
	switch {
	case exists && old.manual:
		return false, nil // set by a person: imports leave it alone
	case exists && old.authorityID == authorityID:
		return false, nil
	case !exists && authorityID == 0:
		return false, nil
	}
	if err := a.store.SetResponsibility(ctx, q, estID, domain, authorityID); err != nil {
		return false, fmt.Errorf("set %s of %d: %w", domain, estID, err)
	}
	// Only entries already known are kept up to date: an establishment
	// comes once per run, so remembering new ones would only cost memory.
	if exists {
		a.resp[k] = respState{authorityID: authorityID}
	}
	return true, nil
}

func (a *annuaireImport) finish(ctx context.Context, q db.Querier, tx *db.Tx, rep *csvimport.Report) error {
	if err := a.w.flush(ctx); err != nil {
		return err
	}
	for uai, p := range a.sites {
		est := a.seen[uai]
		changed, err := a.store.ReplaceSites(ctx, q, est.orgID, p.sites)
		if err != nil {
			return fmt.Errorf("sites of %s: %w", uai, err)
		}
		switch {
		case est.outcome == Created:
			count(rep, Created, p.lines)
		case changed:
			a.changed = true
			count(rep, Updated, p.lines)
		default:
			count(rep, Unchanged, p.lines)
		}
	}
	// An establishment now published on one line loses the sites it had.
	for uai, est := range a.seen {
		if !a.withSites[est.orgID] || a.sites[uai] != nil {
			continue
		}
		changed, err := a.store.ReplaceSites(ctx, q, est.orgID, nil)
		if err != nil {
			return fmt.Errorf("sites of %s: %w", uai, err)
		}
		if changed {
			a.changed = true
			if est.outcome == Unchanged {
				rep.Unchanged--
				rep.Updated++
			}
		}
	}
	if !a.changed {
		return nil // nothing moved: leave the scope tree as it is
	}
	if err := a.store.SyncScopeTree(ctx, tx); err != nil {
		return fmt.Errorf("sync scope tree: %w", err)
	}
	return nil
}

// ---- effectifs ----

// levelColumn maps a column of pupils per level to its key in
// Enrolment.Levels.
type levelColumn struct{ key, col string }

// effectifsSpec is one of the three enrolment files, told apart by the
// name of their UAI column.
type effectifsSpec struct {
	source                                 string
	uai, year, pupils, classes             string
	name, patronym, commune, sector        string
	rep, repPlus                           string
	levels                                 []levelColumn
	uaiAliases, yearAliases, pupilsAliases []string
}

var effectifsSpecs = []effectifsSpec{
	{
		source: "ecoles", uai: "Numéro de l'école", year: "Rentrée scolaire", pupils: "Nombre total d'élèves", classes: "Nombre total de classes",
		name: "Dénomination principale", patronym: "Patronyme", commune: "Commune", sector: "Secteur", rep: "REP", repPlus: "REP +",
		levels: []levelColumn{
			{"pre_elementaire", "Nombre d'élèves en pré-élémentaire hors ULIS"},
			{"CP", "Nombre d'élèves en CP hors ULIS"}, {"CE1", "Nombre d'élèves en CE1 hors ULIS"}, {"CE2", "Nombre d'élèves en CE2 hors ULIS"},
			{"CM1", "Nombre d'élèves en CM1 hors ULIS"}, {"CM2", "Nombre d'élèves en CM2 hors ULIS"}, {"ULIS", "Nombre d'élèves en ULIS"},
		},
		uaiAliases: []string{"numero_ecole"}, yearAliases: []string{"rentree_scolaire"}, pupilsAliases: []string{"nombre_total_eleves"},
	},
	{
		source: "colleges", uai: "Numéro du collège", year: "Rentrée scolaire", pupils: "Nombre d'élèves total",
		name: "Dénomination principale", patronym: "Patronyme", commune: "Commune", sector: "Secteur", rep: "REP", repPlus: "REP +",
		levels: []levelColumn{
			{"6e", "Nombre total de 6èmes"}, {"5e", "Nombre total de 5èmes"}, {"4e", "Nombre total de 4èmes"}, {"3e", "Nombre total de 3èmes"},
			{"SEGPA", "Nombre d'élèves total Segpa"}, {"ULIS", "Nombre d'élèves total ULIS"},
		},
		uaiAliases: []string{"numero_college"}, yearAliases: []string{"rentree_scolaire"}, pupilsAliases: []string{"nombre_eleves_total"},
	},
	{
		source: "second-degre", uai: "Numero_d_etablissement", year: "Annee_scolaire", pupils: "Nombre_d_eleves",
		name: "nom_etablissement", commune: "localite_acheminement", sector: "Secteur_d_enseignement",
		uaiAliases: []string{"numero_etablissement"}, yearAliases: []string{"Année scolaire"}, pupilsAliases: []string{"nombre_eleves"},
	},
}

func (sp effectifsSpec) columns() []csvimport.Column {
	cols := []csvimport.Column{
		{Name: sp.uai, Aliases: sp.uaiAliases, Required: true},
		{Name: sp.year, Aliases: sp.yearAliases, Required: true},
		{Name: sp.pupils, Aliases: sp.pupilsAliases, Required: true},
	}
	for _, c := range []string{sp.classes, sp.name, sp.patronym, sp.commune, sp.sector, sp.rep, sp.repPlus} {
		if c != "" {
			cols = append(cols, csvimport.Column{Name: c})
		}
	}
	for _, l := range sp.levels {
		cols = append(cols, csvimport.Column{Name: l.col})
	}
	return cols
}

type effectifsImport struct {
	store *Store
	rd    *csvimport.Reader
	spec  effectifsSpec
	known map[string]bool
}

func newEffectifsImport(store *Store, rd *csvimport.Reader) (*effectifsImport, error) {
	for _, sp := range effectifsSpecs {
		found := rd.HasHeader(sp.uai)
		for _, a := range sp.uaiAliases {
			found = found || rd.HasHeader(a)
		}
		if !found {
			continue
		}
		if err := bindColumns(rd, sp.columns(), "un fichier d'effectifs ("+sp.source+")"); err != nil {
			return nil, err
		}
		return &effectifsImport{store: store, rd: rd, spec: sp}, nil
	}
	return nil, problem.Invalid("not_this_dataset", "Ce fichier n'est pas un fichier d'effectifs : aucune des colonnes « Numéro de l'école » "+
		"(effectifs des écoles), « Numéro du collège » (effectifs des collèges) ou « Numero_d_etablissement » (effectifs du second degré) "+
		"n'est dans son en-tête. Vérifiez le fichier ou le jeu de données choisi.")
}

func (e *effectifsImport) begin(ctx context.Context, q db.Querier) error {
	var err error
	e.known, err = e.store.EstablishmentUAIs(ctx, q)
	if err != nil {
		return fmt.Errorf("load directory UAIs: %w", err)
	}
	return nil
}

// schoolYear turns "2022" (the rentrée) or "2022-2023" into "2022-2023".
func schoolYear(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) == 4 && allDigits(v) {
		y, _ := strconv.Atoi(v)
		return fmt.Sprintf("%d-%d", y, y+1), true
	}
	if len(v) == 9 && (v[4] == '-' || v[4] == '/') && allDigits(v[:4]) && allDigits(v[5:]) {
		a, _ := strconv.Atoi(v[:4])
		b, _ := strconv.Atoi(v[5:])
		if b == a+1 {
			return fmt.Sprintf("%d-%d", a, b), true
		}
	}
	return "", false
}

func (e *effectifsImport) row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error {
	sp := e.spec
	uai := NormalizeUAI(row.Get(sp.uai))
	masked := maskedUAI(uai)
	if msg := uaiProblem(uai); msg != "" && !masked {
		reject(rep, row, sp.uai, msg)
		return nil
	}
	year, ok := schoolYear(row.Get(sp.year))
	if !ok {
		reject(rep, row, sp.year, fmt.Sprintf("année scolaire illisible : « %s » (attendu 2022 ou 2022-2023)", row.Get(sp.year)))
		return nil
	}
	en := Enrolment{UAI: uai, SchoolYear: year, Source: sp.source}
	pupils, ok := parseCount(row.Get(sp.pupils))
	switch {
	case !ok:
		reject(rep, row, sp.pupils, fmt.Sprintf("nombre d'élèves non numérique : « %s »", row.Get(sp.pupils)))
		return nil
	case pupils == nil:
		reject(rep, row, sp.pupils, "nombre d'élèves manquant")
		return nil
	}
	en.Pupils = *pupils
	if sp.classes != "" {
		if en.Classes, ok = parseCount(row.Get(sp.classes)); !ok {
			reject(rep, row, sp.classes, fmt.Sprintf("nombre de classes non numérique : « %s »", row.Get(sp.classes)))
			return nil
		}
	}
	for _, l := range sp.levels {
		n, ok := parseCount(row.Get(l.col))
		if !ok {
			reject(rep, row, l.col, fmt.Sprintf("nombre d'élèves non numérique : « %s »", row.Get(l.col)))
			return nil
		}
		if n != nil {
			if en.Levels == nil {
				en.Levels = map[string]int{}
			}
			en.Levels[l.key] = *n
		}
	}
	// The enrolment keeps its own education-priority flags; the directory
	// stays the reference for the establishment's label.
	for _, f := range []struct {
		col string
		p   Priority
	}{{sp.rep, PriorityREP}, {sp.repPlus, PriorityREPPlus}} {
		if f.col == "" {
			continue
		}
		on, ok := parseFlag(row.Get(f.col))
		if !ok {
			reject(rep, row, f.col, fmt.Sprintf("indicateur non reconnu : « %s » (1 ou 0)", row.Get(f.col)))
			return nil
		}
		if on {
			en.Priority = f.p
		}
	}
	sector, ok := parseSector(row.Get(sp.sector))
	if !ok {
		reject(rep, row, sp.sector, fmt.Sprintf("secteur inconnu : « %s » (public ou privé)", row.Get(sp.sector)))
		return nil
	}
	name := joinNonEmpty(" ", row.Get(sp.name), row.Get(sp.patronym))
	outcome, err := e.store.UpsertEnrolment(ctx, q, en, name, row.Get(sp.commune), string(sector))
	if err != nil {
		return err
	}
	count(rep, outcome, 1)
	switch {
	case masked:
		rep.Note(row.Line, uai, "identifiant masqué par le fichier (la lettre "+uai[7:]+" n'est jamais une lettre clé d'UAI) : "+
			"effectifs conservés sous cet identifiant, sans établissement de l'annuaire")
	case !e.known[uai]:
		// Closed schools stay in the enrolment files: their figures are
		// kept (enrolments are keyed by UAI) and pointed out.
		rep.Note(row.Line, uai, "établissement absent de l'annuaire (fermé ?)")
	}
	return nil
}

// maskedUAI recognizes the identifiers the second-degré enrolment file
// gives some private establishments whose name and address it hides too:
// seven digits and the letter I, O or Q, which the UAI check alphabet
// leaves out so that they are never mistaken for 1 and 0. Such a code is no
// typo of a real UAI (0350708O is a private lycée, 0350708E a public
// collège), so the row is kept under it and pointed out, not rejected.
func maskedUAI(v string) bool {
	return len(v) == 8 && allDigits(v[:7]) && strings.ContainsRune("IOQ", rune(v[7]))
}

func (e *effectifsImport) finish(context.Context, db.Querier, *db.Tx, *csvimport.Report) error {
	return nil
}

// ---- calendrier ----

const (
	calDescription = "Description"
	calPopulation  = "Population"
	calStart       = "Date de début"
	calEnd         = "Date de fin"
	calAcademy     = "Académies"
	calZone        = "Zones"
	calYear        = "annee_scolaire"
)

var calendrierColumns = []csvimport.Column{
	{Name: calDescription, Required: true},
	{Name: calPopulation},
	{Name: calStart, Aliases: []string{"start_date", "date_debut"}, Required: true},
	{Name: calEnd, Aliases: []string{"end_date", "date_fin"}, Required: true},
	{Name: calAcademy, Aliases: []string{"Académie", "location"}, Required: true},
	{Name: calZone, Aliases: []string{"Zone"}, Required: true},
	{Name: calYear, Aliases: []string{"Année scolaire"}},
}

// holidayKey is the natural key of a holiday period.
type holidayKey struct {
	description, population, academy, zone string
	start                                  int64
}

type holidaySeen struct {
	line       int
	end        int64
	schoolYear string
}

// academyZone is the zone an académie has in the latest year of the file.
type academyZone struct{ schoolYear, zone string }

type calendrierImport struct {
	store *Store
	seen  map[holidayKey]holidaySeen
	zones map[string]academyZone
}

func newCalendrierImport(store *Store, rd *csvimport.Reader) (*calendrierImport, error) {
	if err := bindColumns(rd, calendrierColumns, "un calendrier scolaire"); err != nil {
		return nil, err
	}
	return &calendrierImport{store: store, seen: map[holidayKey]holidaySeen{}, zones: map[string]academyZone{}}, nil
}

func (c *calendrierImport) begin(context.Context, db.Querier) error { return nil }

// academyKey folds an académie's name for matching the calendar's
// "Rennes" with the organization "Académie de Rennes", and "Réunion" with
// "Académie de La Réunion".
func academyKey(name string) string {
	k := SearchKey(name)
	k = strings.TrimPrefix(k, "academie ")
	for _, p := range []string{"de la ", "de l ", "d ", "de ", "la ", "l "} {
		if rest, ok := strings.CutPrefix(k, p); ok {
			k = rest
			break
		}
	}
	return k
}

func (c *calendrierImport) row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error {
	h := Holiday{Description: row.Get(calDescription), Population: row.Get(calPopulation), Academy: row.Get(calAcademy),
		Zone: NormalizeZone(row.Get(calZone)), SchoolYear: row.Get(calYear)}
	if h.Population == "-" {
		h.Population = ""
	}
	switch {
	case h.Description == "":
		reject(rep, row, calDescription, "description de la période manquante")
		return nil
	case h.Academy == "":
		reject(rep, row, calAcademy, "académie manquante")
		return nil
	case h.Zone == "":
		reject(rep, row, calZone, "zone manquante")
		return nil
	}
	var err error
	if h.StartsAt, err = time.Parse(time.RFC3339, row.Get(calStart)); err != nil {
		reject(rep, row, calStart, fmt.Sprintf("date de début illisible : « %s » (attendu par exemple 2025-12-20T00:00:00+01:00)", row.Get(calStart)))
		return nil
	}
	if h.EndsAt, err = time.Parse(time.RFC3339, row.Get(calEnd)); err != nil {
		reject(rep, row, calEnd, fmt.Sprintf("date de fin illisible : « %s » (attendu par exemple 2026-01-05T00:00:00+01:00)", row.Get(calEnd)))
		return nil
	}
	if h.EndsAt.Before(h.StartsAt) {
		reject(rep, row, calEnd, "la date de fin précède la date de début")
		return nil
	}
	k := holidayKey{h.Description, h.Population, h.Academy, h.Zone, h.StartsAt.Unix()}
	if prev, dup := c.seen[k]; dup {
		if prev.end == h.EndsAt.Unix() && prev.schoolYear == h.SchoolYear {
			count(rep, Unchanged, 1) // the same period twice: nothing more to write
			return nil
		}
		reject(rep, row, calEnd, fmt.Sprintf("période déjà donnée ligne %d avec une autre fin ou une autre année scolaire", prev.line))
		return nil
	}
	k.description, k.population, k.academy, k.zone = strings.Clone(k.description), strings.Clone(k.population), strings.Clone(k.academy), strings.Clone(k.zone)
	c.seen[k] = holidaySeen{line: row.Line, end: h.EndsAt.Unix(), schoolYear: strings.Clone(h.SchoolYear)}
	outcome, err := c.store.upsertHoliday(ctx, q, h)
	if err != nil {
		return err
	}
	count(rep, outcome, 1)
	ak := academyKey(h.Academy)
	if cur, ok := c.zones[ak]; !ok || h.SchoolYear >= cur.schoolYear {
		c.zones[ak] = academyZone{schoolYear: strings.Clone(h.SchoolYear), zone: strings.Clone(h.Zone)}
	}
	return nil
}

// finish gives the académies of the territory their holiday zone.
func (c *calendrierImport) finish(ctx context.Context, q db.Querier, _ *db.Tx, _ *csvimport.Report) error {
	academies, err := c.store.orgsOfKind(ctx, q, KindAcademy)
	if err != nil {
		return err
	}
	for _, o := range academies {
		z, ok := c.zones[academyKey(o.Name)]
		if !ok || z.zone == o.HolidayZone {
			continue
		}
		if err := c.store.SetHolidayZone(ctx, q, o.ID, z.zone); err != nil {
			return fmt.Errorf("holiday zone of %s: %w", o.Name, err)
		}
	}
	return nil
}

// ---- carte scolaire ----

const (
	carteCommune     = "code_insee"
	carteCommuneName = "libelle_commune"
	cartePostal      = "code_postal"
	carteLocality    = "lieu_dit"
	carteStreet      = "Type_et_Libelle"
	carteFrom        = "No_de_voie_debut"
	carteFromIndex   = "Indice_de_repetition_debut"
	carteTo          = "No_de_voie_fin"
	carteToIndex     = "Indice_de_repetition_fin"
	carteParity      = "Parite"
	carteCollege     = "Code_RNE"
	carteSingle      = "Secteur_unique"
)

var carteColumns = []csvimport.Column{
	{Name: carteCommune, Aliases: []string{"Code INSEE", "code_commune"}, Required: true},
	{Name: carteCommuneName, Aliases: []string{"Commune", "nom_commune"}},
	{Name: cartePostal},
	{Name: carteLocality},
	{Name: carteStreet, Aliases: []string{"voie"}},
	{Name: carteFrom},
	{Name: carteFromIndex},
	{Name: carteTo},
	{Name: carteToIndex},
	{Name: carteParity},
	{Name: carteCollege, Aliases: []string{"Code UAI", "code_uai", "uai"}, Required: true},
	{Name: carteSingle},
}

// carteImport writes the carte scolaire. A line is keyed by its area and
// its collège together: the real file gives several collèges for the same
// street (or commune) 477 times, parents then choosing among them, so the
// collège cannot be the value of an area-only key without losing data.
type carteImport struct {
	store    *Store
	keys     map[string]bool
	communes map[string]bool
}

func newCarteImport(store *Store, rd *csvimport.Reader) (*carteImport, error) {
	if err := bindColumns(rd, carteColumns, "une carte scolaire des collèges"); err != nil {
		return nil, err
	}
	return &carteImport{store: store, keys: map[string]bool{}, communes: map[string]bool{}}, nil
}

func (c *carteImport) begin(context.Context, db.Querier) error { return nil }

func (c *carteImport) row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error {
	college := NormalizeUAI(row.Get(carteCollege))
	if msg := uaiProblem(college); msg != "" {
		reject(rep, row, carteCollege, msg)
		return nil
	}
	commune, ok := communeINSEE(row.Get(carteCommune))
	if !ok {
		reject(rep, row, carteCommune, fmt.Sprintf("code commune INSEE invalide : « %s »", row.Get(carteCommune)))
		return nil
	}
	for _, col := range []string{carteFrom, carteTo} {
		if v := row.Get(col); v != "" && !allDigits(v) {
			reject(rep, row, col, fmt.Sprintf("numéro de voie non numérique : « %s »", v))
			return nil
		}
	}
	parity := strings.ToUpper(row.Get(carteParity))
	switch parity {
	case "", "P", "I", "PI":
	default:
		reject(rep, row, carteParity, fmt.Sprintf("parité inconnue : « %s » (P, I ou PI)", row.Get(carteParity)))
		return nil
	}
	sc := SchoolSector{CommuneCode: commune, CommuneName: row.Get(carteCommuneName), Locality: row.Get(carteLocality),
		Street: row.Get(carteStreet), NumberFrom: row.Get(carteFrom) + strings.ToUpper(row.Get(carteFromIndex)),
		NumberTo: row.Get(carteTo) + strings.ToUpper(row.Get(carteToIndex)), Parity: parity, CollegeUAI: college}
	switch strings.ToUpper(row.Get(carteSingle)) {
	case "O", "OUI", "1":
		sc.SingleSector = true
	case "N", "NON", "0":
	case "":
		sc.SingleSector = sc.Street == "" && sc.Locality == ""
	default:
		reject(rep, row, carteSingle, fmt.Sprintf("secteur unique : « %s » au lieu de O ou N", row.Get(carteSingle)))
		return nil
	}
	key := contentHash([]byte(strings.Join([]string{commune, sc.Locality, sc.Street, row.Get(carteFrom), row.Get(carteFromIndex),
		row.Get(carteTo), row.Get(carteToIndex), parity, college}, "\x1f")))
	if !c.communes[commune] {
		c.communes[strings.Clone(commune)] = true
	}
	if c.keys[key] {
		count(rep, Unchanged, 1) // the same line twice
		return nil
	}
	c.keys[key] = true
	outcome, err := c.store.upsertSector(ctx, q, key, sc, row.Get(cartePostal))
	if err != nil {
		return err
	}
	count(rep, outcome, 1)
	return nil
}

// finish removes, in the communes the file covers, the lines a newer
// carte scolaire no longer has (a street moved to another collège). It
// does so only for a complete file: with rejected rows, a missing line may
// just be a rejected one.
func (c *carteImport) finish(ctx context.Context, q db.Querier, _ *db.Tx, rep *csvimport.Report) error {
	if rep.RejectedCount() > 0 {
		return nil
	}
	for commune := range c.communes {
		n, err := c.store.deleteStaleSectors(ctx, q, commune, c.keys)
		if err != nil {
			return err
		}
		rep.Deleted += n
	}
	return nil
}
