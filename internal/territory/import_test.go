package territory

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/opendata"
	"socle/internal/platform/problem"
)

const (
	fileAnnuaire   = "fr-en-annuaire-education-35.csv"
	fileGeo        = "fr-en-adresse-et-geolocalisation-etablissements-premier-et-second-degre-35.csv"
	fileEcoles     = "fr-en-ecoles-effectifs-nb_classes-35.csv"
	fileColleges   = "fr-en-college-effectifs-niveau-sexe-lv-35.csv"
	fileSecond     = "fr-en-effectifs-second-degre-35.csv"
	fileCalendrier = "fr-en-calendrier-scolaire.csv"
	fileCarte      = "fr-en-carte-scolaire-colleges-publics-35.csv"
)

func newImportService(tb testing.TB) (*Service, *db.DB) {
	tb.Helper()
	d := dbtest.Open(tb, auth.Migrations(), Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return NewService(d, auth.NewService(d, auth.DefaultSettings(), log), log), d
}

func importPath(t *testing.T, s *Service, kind ImportKind, path string, opts ImportOptions) *csvimport.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts.Filename = filepath.Base(path)
	rep, err := s.Import(context.Background(), auth.System(), kind, f, opts)
	if err != nil {
		t.Fatalf("import %s %s: %v", kind, path, err)
	}
	return rep
}

func importText(s *Service, kind ImportKind, text string, opts ImportOptions) (*csvimport.Report, error) {
	if opts.Filename == "" {
		opts.Filename = "test.csv"
	}
	return s.Import(context.Background(), auth.System(), kind, strings.NewReader(text), opts)
}

func wantCounts(t *testing.T, rep *csvimport.Report, read, created, updated, unchanged, rejected int) {
	t.Helper()
	if rep.Read != read || rep.Created != created || rep.Updated != updated || rep.Unchanged != unchanged || rep.RejectedCount() != rejected {
		t.Fatalf("report read/created/updated/unchanged/rejected = %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d; rejected: %+v",
			rep.Read, rep.Created, rep.Updated, rep.Unchanged, rep.RejectedCount(), read, created, updated, unchanged, rejected, firstN(rep.Rejected, 5))
	}
}

func firstN[T any](s []T, n int) []T { return s[:min(n, len(s))] }

func queryInt(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func noteUAIs(rep *csvimport.Report) []string {
	var out []string
	for _, n := range rep.Notes {
		if !slices.Contains(out, n.UAI) {
			out = append(out, n.UAI)
		}
	}
	return out
}

// TestImportRealFiles imports every real file of Ille-et-Vilaine into one
// database, in the order an operator would, and checks what a person
// would check by hand.
func TestImportRealFiles(t *testing.T) {
	ctx := context.Background()
	s, d := newImportService(t)
	sys := auth.System()
	orgID := func(kind Kind, code string) int64 {
		t.Helper()
		o, err := s.store.OrgByKindCode(ctx, d, kind, code)
		if err != nil {
			t.Fatalf("%s %s: %v", kind, code, err)
		}
		return o.ID
	}

	t.Run("annuaire", func(t *testing.T) {
		path := opendata.Path(t, fileAnnuaire)
		var progress []int64
		rep := importPath(t, s, ImportAnnuaire, path, ImportOptions{Progress: func(n int64) { progress = append(progress, n) }})
		// 993 establishments, and the 3 second lines of multi-line ones.
		wantCounts(t, rep, 996, 996, 0, 0, 0)
		if st, _ := os.Stat(path); len(progress) == 0 || progress[len(progress)-1] != st.Size() {
			t.Errorf("progress %v does not reach the file size", progress)
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM establishments`); n != 993 {
			t.Errorf("%d establishments, want 993", n)
		}
		for _, uai := range []string{"0352072M", "0350852L", "0350778F"} {
			e, _, err := s.Establishment(ctx, sys, uai)
			if err != nil || len(e.Sites) != 1 {
				t.Errorf("multi-line %s: sites %+v, %v", uai, e.Sites, err)
			}
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM establishment_sites`); n != 3 {
			t.Errorf("%d sites, want 3", n)
		}
		// Re-importing the same file changes nothing.
		rep = importPath(t, s, ImportAnnuaire, path, ImportOptions{})
		wantCounts(t, rep, 996, 0, 0, 996, 0)
		if n := queryInt(t, d, `SELECT COUNT(*) FROM establishment_sites`); n != 3 {
			t.Errorf("%d sites after re-import, want 3", n)
		}
	})

	t.Run("the import writes what the store would", func(t *testing.T) {
		opendata.Path(t, fileAnnuaire)
		rows, err := d.QueryContext(ctx, `SELECT e.uai, o.search_text, e.content_hash FROM establishments e JOIN organizations o ON o.id = e.org_id`)
		if err != nil {
			t.Fatal(err)
		}
		type stored struct{ uai, search, hash string }
		var all []stored
		for rows.Next() {
			var st stored
			if err := rows.Scan(&st.uai, &st.search, &st.hash); err != nil {
				t.Fatal(err)
			}
			all = append(all, st)
		}
		rows.Close()
		for _, st := range all {
			e, found, err := s.store.storedEstablishment(ctx, d, st.uai)
			if err != nil || !found {
				t.Fatalf("%s: %v", st.uai, err)
			}
			if h := establishmentHash(&e); h != st.hash {
				t.Fatalf("%s: stored hash %s, the store computes %s from the stored fields", st.uai, st.hash, h)
			}
			if k := SearchKey(e.Name, e.UAI, e.CommuneName, e.PostalCode); k != st.search {
				t.Fatalf("%s: search text %q, SearchKey gives %q", st.uai, st.search, k)
			}
			if _, o, err := s.store.UpsertEstablishment(ctx, d, &e, 0); err != nil || o != Unchanged {
				t.Fatalf("%s: the store would change the imported establishment: %v %v", st.uai, o, err)
			}
		}
	})

	t.Run("establishments checked by hand", func(t *testing.T) {
		opendata.Path(t, fileAnnuaire)
		tests := []struct {
			uai            string
			name           string
			typ            Type
			sector         Sector
			maintainerKind Kind
			maintainerCode string
		}{
			{"0350122T", "Ecole primaire publique les Lucioles", TypeEcole, SectorPublic, KindCommune, "35016"},
			{"0352958A", "Collège Françoise Elie", TypeCollege, SectorPublic, KindDepartement, "035"},
			{"0350053T", "Lycée Bertrand d'Argentré", TypeLycee, SectorPublic, KindRegion, "53"},
			{"0350747X", "Etablissement régional d'enseignement adapté Magda Hollander-Lafon", TypeEREA, SectorPublic, KindRegion, "53"},
			{"0351056H", "Ecole primaire privée le Sacré Coeur", TypeEcole, SectorPrivate, "", ""},
			{"0350741R", "Circonscription d'inspection du 1er degré de Fougères", TypeOther, "", "", ""},
		}
		for _, tt := range tests {
			e, _, err := s.Establishment(ctx, sys, tt.uai)
			if err != nil {
				t.Fatalf("%s: %v", tt.uai, err)
			}
			if e.Name != tt.name || e.Type != tt.typ || e.Sector != tt.sector {
				t.Errorf("%s: %q %q %q, want %q %q %q", tt.uai, e.Name, e.Type, e.Sector, tt.name, tt.typ, tt.sector)
			}
			switch {
			case tt.maintainerKind == "" && e.Responsible != nil:
				t.Errorf("%s is maintained by %+v, want nobody", tt.uai, e.Responsible)
			case tt.maintainerKind != "" && (e.Responsible == nil || e.Responsible.Kind != tt.maintainerKind || e.Responsible.Code != tt.maintainerCode):
				t.Errorf("%s maintained by %+v, want %s %s", tt.uai, e.Responsible, tt.maintainerKind, tt.maintainerCode)
			}
			if e.Academy == nil || e.Academy.Code != "14" || e.Academy.Name != "Académie de Rennes" {
				t.Errorf("%s: pedagogy %+v, want the académie de Rennes", tt.uai, e.Academy)
			}
			if e.DepartementCode != "035" || e.AcademyCode != "14" {
				t.Errorf("%s: département %q académie %q", tt.uai, e.DepartementCode, e.AcademyCode)
			}
		}
		lucioles, _, _ := s.Establishment(ctx, sys, "0350122T")
		if lucioles.CommuneName != "Baulon" || lucioles.Latitude == nil || *lucioles.Latitude < 47.98 || *lucioles.Latitude > 47.99 {
			t.Errorf("Lucioles: commune %q latitude %v", lucioles.CommuneName, lucioles.Latitude)
		}
		// The organizations around them.
		dsden, err := s.store.OrgByKindCode(ctx, d, KindDSDEN, "035")
		if err != nil || dsden.ParentID != orgID(KindAcademy, "14") || !strings.Contains(dsden.Name, "Ille-et-Vilaine") {
			t.Errorf("DSDEN: %+v %v", dsden, err)
		}
		o, err := s.Organization(ctx, sys, lucioles.ID)
		if err != nil || o.ParentID != dsden.ID {
			t.Errorf("establishment parent %d, want the DSDEN %d (%v)", o.ParentID, dsden.ID, err)
		}
	})

	t.Run("what each collectivité maintains", func(t *testing.T) {
		opendata.Path(t, fileAnnuaire)
		tests := []struct {
			kind Kind
			code string
			want int
		}{
			{KindCommune, "35016", 1},  // Baulon: its public école
			{KindCommune, "35238", 77}, // Rennes: its public écoles
			{KindDepartement, "035", 62},
			{KindRegion, "53", 40}, // public lycées and EREA
		}
		for _, tt := range tests {
			id := orgID(tt.kind, tt.code)
			n, err := s.store.CountEstablishmentsMaintained(ctx, id)
			if err != nil || n != tt.want {
				t.Errorf("%s %s maintains %d (%v), want %d", tt.kind, tt.code, n, err, tt.want)
			}
			res, err := s.Search(ctx, sys, Filter{Responsible: id, Limit: 1})
			if err != nil || res.Total != tt.want {
				t.Errorf("search of %s %s: %d (%v), want %d", tt.kind, tt.code, res.Total, err, tt.want)
			}
		}
		// The directory's quirks are kept, not rejected.
		for _, tt := range []struct {
			f    Filter
			want int
		}{
			{Filter{Type: TypeUnknown, TypeSet: true}, 9},
			{Filter{Priority: "REP"}, 50},
			{Filter{Priority: "REP+"}, 6},
			{Filter{Sector: SectorPublic}, 533},
			{Filter{Type: TypeEREA}, 2},
		} {
			res, err := s.Search(ctx, sys, tt.f)
			if err != nil || res.Total != tt.want {
				t.Errorf("search %+v: %d (%v), want %d", tt.f, res.Total, err, tt.want)
			}
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM establishments WHERE sector = ''`); n != 42 {
			t.Errorf("%d establishments without sector, want 42", n)
		}
		if n := queryInt(t, d, `SELECT COUNT(*) FROM establishments WHERE status = 'closing'`); n != 1 {
			t.Errorf("%d closing establishments, want 1", n)
		}
		// A recursive grant on the département reaches its collèges
		// through the scope tree, and no école.
		scope, args := (&auth.Principal{Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: orgID(KindDepartement, "035"), Recursive: true}}}).ScopeSQL(auth.PermOrgRead, "o.id")
		res, err := s.store.Search(ctx, Filter{Limit: 1}, scope, args)
		if err != nil || res.Total != 62 {
			t.Errorf("département agent sees %d establishments (%v), want its 62 collèges", res.Total, err)
		}
	})

	t.Run("effectifs", func(t *testing.T) {
		tests := []struct {
			file         string
			read         int
			absentUAIs   int
			absentRows   int
			source, year string
		}{
			{fileEcoles, 2704, 5, 10, "ecoles", "2022-2023"},
			{fileColleges, 374, 1, 2, "colleges", "2021-2022"},
			// 3 closed establishments on 9 rows, and 8 rows whose
			// identifier is masked (see maskedUAI).
			{fileSecond, 823, 11, 17, "second-degre", "2018-2019"},
		}
		for _, tt := range tests {
			path := opendata.Path(t, tt.file)
			rep := importPath(t, s, ImportEffectifs, path, ImportOptions{})
			wantCounts(t, rep, tt.read, tt.read, 0, 0, 0)
			if len(rep.Notes) != tt.absentRows || len(noteUAIs(rep)) != tt.absentUAIs {
				t.Errorf("%s: %d notes on %d UAIs, want %d on %d: %+v", tt.file, len(rep.Notes), len(noteUAIs(rep)), tt.absentRows, tt.absentUAIs, firstN(rep.Notes, 3))
			}
			for _, n := range rep.Notes {
				if (n.Reason != "établissement absent de l'annuaire (fermé ?)" && !(maskedUAI(n.UAI) && strings.Contains(n.Reason, "masqué"))) || n.Line < 2 {
					t.Errorf("note %+v", n)
				}
			}
			if n := queryInt(t, d, `SELECT COUNT(*) FROM enrolments WHERE source = ?`, tt.source); n != tt.read {
				t.Errorf("%s: %d rows stored, want %d (closed schools included)", tt.source, n, tt.read)
			}
			if n := queryInt(t, d, `SELECT COUNT(*) FROM enrolments WHERE source = ? AND school_year = ?`, tt.source, tt.year); n == 0 {
				t.Errorf("%s: no enrolment for %s", tt.source, tt.year)
			}
			rep = importPath(t, s, ImportEffectifs, path, ImportOptions{})
			wantCounts(t, rep, tt.read, 0, 0, tt.read, 0)
		}
		_, enr, err := s.Establishment(ctx, sys, "0350103X")
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(enr, func(e Enrolment) bool { return e.SchoolYear == "2022-2023" && e.Source == "ecoles" })
		if i < 0 {
			t.Fatalf("no 2022-2023 enrolment for 0350103X: %+v", enr)
		}
		e := enr[i]
		want := map[string]int{"pre_elementaire": 0, "CP": 56, "CE1": 68, "CE2": 52, "CM1": 56, "CM2": 57, "ULIS": 0}
		if e.Pupils != 289 || e.Classes == nil || *e.Classes != 12 || len(e.Levels) != len(want) {
			t.Errorf("0350103X 2022-2023: %+v", e)
		}
		for k, v := range want {
			if e.Levels[k] != v {
				t.Errorf("level %s = %d, want %d", k, e.Levels[k], v)
			}
		}
		// The enrolment files never change the directory's label.
		if n := queryInt(t, d, `SELECT COUNT(*) FROM establishments WHERE priority <> ''`); n != 56 {
			t.Errorf("%d establishments with a priority label after the enrolments, want the directory's 56", n)
		}
	})

	t.Run("calendrier", func(t *testing.T) {
		path := opendata.Path(t, fileCalendrier)
		rep := importPath(t, s, ImportCalendrier, path, ImportOptions{})
		wantCounts(t, rep, 2113, 2113, 0, 0, 0)
		rep = importPath(t, s, ImportCalendrier, path, ImportOptions{})
		wantCounts(t, rep, 2113, 0, 0, 2113, 0)
		rennes, err := s.store.OrgByKindCode(ctx, d, KindAcademy, "14")
		if err != nil || rennes.HolidayZone != "Zone B" {
			t.Errorf("académie de Rennes: zone %q (%v), want Zone B", rennes.HolidayZone, err)
		}
		var start, end string
		err = d.QueryRowContext(ctx, `SELECT starts_at, ends_at FROM school_holidays WHERE academy = 'Rennes' AND description = 'Vacances de la Toussaint'
			AND school_year = '2017-2018' AND population = ''`).Scan(&start, &end)
		if err != nil || start != "2017-10-20T22:00:00Z" || end != "2017-11-05T23:00:00Z" {
			t.Errorf("Toussaint 2017 in Rennes: %s → %s (%v)", start, end, err)
		}
		// "B" as people type it finds the file's "Zone B" periods.
		hs, err := s.store.HolidaysOfZone(ctx, "B", time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), 3)
		if err != nil || !slices.ContainsFunc(hs, func(h Holiday) bool {
			return h.Description == "Vacances de Noël" && h.StartsAt.Year() == 2025 && h.StartsAt.Month() == time.December
		}) {
			t.Errorf("zone B holidays from December 2025: %+v (%v)", hs, err)
		}
	})

	t.Run("carte scolaire", func(t *testing.T) {
		path := opendata.Path(t, fileCarte)
		rep := importPath(t, s, ImportCarteScolaire, path, ImportOptions{})
		wantCounts(t, rep, 5416, 5416, 0, 0, 0)
		rep = importPath(t, s, ImportCarteScolaire, path, ImportOptions{})
		wantCounts(t, rep, 5416, 0, 0, 5416, 0)
		if rep.Deleted != 0 {
			t.Errorf("re-import deleted %d lines", rep.Deleted)
		}
		// Bains-sur-Oust is served, as a whole, by two collèges.
		got, err := s.ExpectedColleges(ctx, "35013")
		if err != nil || len(got) != 2 {
			t.Fatalf("Bains-sur-Oust: %+v %v", got, err)
		}
		for _, sc := range got {
			if !sc.SingleSector || sc.Street != "" || (sc.CollegeUAI != "0350969N" && sc.CollegeUAI != "0351969A") {
				t.Errorf("Bains-sur-Oust sector %+v", sc)
			}
		}
		rennes, err := s.ExpectedColleges(ctx, "35238")
		if err != nil || len(rennes) < 1000 || rennes[0].SingleSector {
			t.Errorf("Rennes: %d lines (%v)", len(rennes), err)
		}
		if got, err := s.ExpectedColleges(ctx, "pas un code"); err != nil || len(got) != 0 {
			t.Errorf("bad commune code: %+v %v", got, err)
		}
	})

	t.Run("geolocation vintage", func(t *testing.T) {
		path := opendata.Path(t, fileGeo)
		before, _, err := s.Establishment(ctx, sys, "0350913C")
		if err != nil || before.Priority != PriorityREP || before.Phone == "" {
			t.Fatalf("0350913C before: %+v %v", before, err)
		}
		rep := importPath(t, s, ImportAnnuaire, path, ImportOptions{})
		if rep.Read != 117 || rep.Created != 1 || rep.RejectedCount() != 0 || rep.Created+rep.Updated+rep.Unchanged != 117 {
			t.Fatalf("geolocation vintage: %+v", rep)
		}
		// What this vintage lacks is kept, what it has is updated.
		after, _, err := s.Establishment(ctx, sys, "0350913C")
		if err != nil || after.Priority != PriorityREP || after.Phone != before.Phone || after.Type != TypeCollege ||
			after.Responsible == nil || after.Responsible.Code != "035" {
			t.Errorf("0350913C after: %+v %v", after, err)
		}
		opening, _, err := s.Establishment(ctx, sys, "0353083L")
		if err != nil || opening.Type != TypeCollege || opening.Status != StatusOpen || opening.Academy == nil {
			t.Errorf("new collège of the vintage: %+v %v", opening, err)
		}
		rep = importPath(t, s, ImportAnnuaire, path, ImportOptions{})
		wantCounts(t, rep, 117, 0, 0, 117, 0)
	})

	t.Run("history", func(t *testing.T) {
		opendata.Path(t, fileAnnuaire)
		runs, err := s.ImportRuns(ctx, sys, 100)
		if err != nil || len(runs) == 0 {
			t.Fatalf("runs: %d %v", len(runs), err)
		}
		for _, r := range runs {
			if r.Status != ImportStatusApplied || r.Report.RejectedCount() != 0 || r.FinishedAt.Before(r.StartedAt) || r.Filename == "" {
				t.Errorf("run %+v", r)
			}
		}
		one, err := s.ImportRun(ctx, sys, runs[0].ID)
		if err != nil || one.Report.Read != runs[0].Report.Read || one.Report.RunID != one.ID {
			t.Errorf("run %d: %+v %v", runs[0].ID, one, err)
		}
	})
}

const smallHeader = "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;Adresse_1;Code postal;" +
	"Code_commune;Nom_commune;Code_departement;Code_academie;Code_region;latitude;longitude\r\n"

func csvText(header string, rows ...string) string {
	return "\ufeff" + header + strings.Join(rows, "\r\n") + "\r\n"
}

const (
	rowLucioles = "0350122T;Ecole primaire publique les Lucioles;Ecole;Public;6 rue PHILIPPE;35580;35016;Baulon;035;14;53;47.98;-1.92"
	rowCardroc  = "0350165P;Ecole élémentaire publique de Cardroc;Ecole;Public;7 rue des Ecoles;35190;35050;Cardroc;035;14;53;48.28;-1.88"
	rowBadUAI   = "0350122A;Ecole à la mauvaise lettre;Ecole;Public;;35580;35016;Baulon;035;14;53;;"
)

// TestImportMalformedFiles checks how each kind of broken file is
// answered: rejected rows with line, column and reason, or one error for
// the whole file.
func TestImportMalformedFiles(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + strings.Repeat("\x00", 200)
	tests := []struct {
		name         string
		kind         ImportKind
		text         string
		skipInvalid  bool
		wantErrCode  string // the whole file refused
		wantErrText  string
		wantRejected []csvimport.Rejection // Reason: a substring
		wantCreated  int
		wantStored   int // establishments after the import
		wantStatus   string
	}{
		{
			name: "bad UAI letter, all or nothing", kind: ImportAnnuaire, text: csvText(smallHeader, rowLucioles, rowBadUAI),
			wantRejected: []csvimport.Rejection{{Line: 3, Column: "Identifiant_de_l_etablissement", Reason: "la lettre clé de 0350122 est T"}},
			wantStatus:   ImportStatusRejected,
		},
		{
			name: "bad UAI letter, skip invalid", kind: ImportAnnuaire, text: csvText(smallHeader, rowLucioles, rowBadUAI), skipInvalid: true,
			wantRejected: []csvimport.Rejection{{Line: 3, Column: "Identifiant_de_l_etablissement", Reason: "UAI invalide"}},
			wantCreated:  1, wantStored: 1, wantStatus: ImportStatusPartial,
		},
		{
			name: "truncated line", kind: ImportAnnuaire, text: csvText(smallHeader, rowLucioles, "0350165P;Ecole de Cardroc;Ecole"),
			wantRejected: []csvimport.Rejection{{Line: 3, Reason: "ligne tronquée : 3 colonnes au lieu de 13"}},
			wantStatus:   ImportStatusRejected,
		},
		{
			name: "bad coordinates and unknown sector", kind: ImportAnnuaire, skipInvalid: true,
			text: csvText(smallHeader, strings.Replace(rowLucioles, "47.98", "nord", 1), strings.Replace(rowCardroc, "Public", "Mixte", 1)),
			wantRejected: []csvimport.Rejection{
				{Line: 2, Column: "latitude", Reason: "latitude illisible : « nord »"},
				{Line: 3, Column: "Statut_public_prive", Reason: "statut public ou privé inconnu : « Mixte »"},
			},
			wantStatus: ImportStatusPartial,
		},
		{
			name: "same UAI twice without the multi-line flag", kind: ImportAnnuaire,
			text:         csvText(strings.Replace(smallHeader, "longitude", "longitude;etablissement_multi_lignes", 1), rowLucioles+";0", rowLucioles+";0"),
			wantRejected: []csvimport.Rejection{{Line: 3, Column: "Identifiant_de_l_etablissement", Reason: "déjà présent ligne 2"}},
			wantStatus:   ImportStatusRejected,
		},
		{
			name: "missing required column", kind: ImportAnnuaire,
			text:        csvText("Nom_etablissement;Type_etablissement;Code_commune\r\n", "Ecole;Ecole;35016"),
			wantErrCode: "not_this_dataset", wantErrText: "Identifiant_de_l_etablissement",
		},
		{
			name: "another data set", kind: ImportAnnuaire,
			text:        csvText("code_insee;libelle_commune;Code_RNE;Secteur_unique\r\n", "35013;Bains-sur-Oust;0350969N;O"),
			wantErrCode: "not_this_dataset", wantErrText: "annuaire",
		},
		{
			name: "enrolments of an unknown kind", kind: ImportEffectifs, text: csvText(smallHeader, rowLucioles),
			wantErrCode: "not_this_dataset", wantErrText: "Numéro de l'école",
		},
		{name: "binary file", kind: ImportAnnuaire, text: png, wantErrCode: "not_text", wantErrText: "UTF-8"},
		{name: "empty file", kind: ImportCalendrier, text: "", wantErrCode: "empty_file"},
		{
			name: "non-numeric pupils", kind: ImportEffectifs,
			text: csvText("Annee_scolaire;Numero_d_etablissement;nom_etablissement;Secteur_d_enseignement;Nombre_d_eleves\r\n",
				"2018-2019;0350002M;COLLEGE PIERRE BROSSOLETTE;Public;768", "2018-2019;0350002M;COLLEGE;Public;beaucoup", "2018/2020;0350002M;X;Public;1"),
			wantRejected: []csvimport.Rejection{
				{Line: 3, Column: "Nombre_d_eleves", Reason: "nombre d'élèves non numérique : « beaucoup »"},
				{Line: 4, Column: "Annee_scolaire", Reason: "année scolaire illisible"},
			},
			wantStatus: ImportStatusRejected,
		},
		{
			name: "bad calendar dates", kind: ImportCalendrier,
			text: csvText("Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire\r\n",
				"Vacances de Noël;-;2025-12-20T00:00:00+01:00;2026-01-05T00:00:00+01:00;Rennes;Zone B;2025-2026",
				"Vacances de Noël;-;20/12/2025;2026-01-05T00:00:00+01:00;Nantes;Zone B;2025-2026",
				"Vacances de Noël;-;2025-12-20T00:00:00+01:00;2025-12-01T00:00:00+01:00;Lille;Zone B;2025-2026"),
			wantRejected: []csvimport.Rejection{
				{Line: 3, Column: "Date de début", Reason: "date de début illisible : « 20/12/2025 »"},
				{Line: 4, Column: "Date de fin", Reason: "la date de fin précède la date de début"},
			},
			wantStatus: ImportStatusRejected,
		},
		{
			name: "bad collège UAI in the carte scolaire", kind: ImportCarteScolaire, skipInvalid: true,
			text: csvText("code_insee;libelle_commune;Type_et_Libelle;No_de_voie_debut;No_de_voie_fin;Parite;Code_RNE;Secteur_unique\r\n",
				"35013;Bains-sur-Oust;;;;;0350969N;O", "35013;Bains-sur-Oust;;;;;0350969A;O", "35238;Rennes;RUE X;1;9999;PI;0351638R;N"),
			wantRejected: []csvimport.Rejection{{Line: 3, Column: "Code_RNE", Reason: "la lettre clé de 0350969 est N"}},
			wantCreated:  2, wantStatus: ImportStatusPartial,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, d := newImportService(t)
			rep, err := importText(s, tt.kind, tt.text, ImportOptions{SkipInvalid: tt.skipInvalid, Filename: "essai.csv"})
			runs, rerr := s.ImportRuns(context.Background(), auth.System(), 10)
			if rerr != nil || len(runs) != 1 {
				t.Fatalf("the run is not recorded: %d %v", len(runs), rerr)
			}
			if tt.wantErrCode != "" {
				p, ok := problem.As(err)
				if !ok || p.Code != tt.wantErrCode || !strings.Contains(p.Message, tt.wantErrText) {
					t.Fatalf("error = %v, want %s mentioning %q", err, tt.wantErrCode, tt.wantErrText)
				}
				if rep == nil || rep.RejectedCount() != 0 || rep.Error != p.Message {
					t.Errorf("report of a refused file: %+v", rep)
				}
				if runs[0].Status != ImportStatusRejected || runs[0].Report.Error == "" {
					t.Errorf("recorded run: %+v", runs[0])
				}
				return
			}
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			if len(rep.Rejected) != len(tt.wantRejected) {
				t.Fatalf("rejected %+v, want %+v", rep.Rejected, tt.wantRejected)
			}
			for i, w := range tt.wantRejected {
				g := rep.Rejected[i]
				if g.Line != w.Line || g.Column != w.Column || !strings.Contains(g.Reason, w.Reason) {
					t.Errorf("rejected[%d] = %+v, want %+v", i, g, w)
				}
			}
			if rep.Created != tt.wantCreated || (!tt.skipInvalid && rep.Updated != 0) {
				t.Errorf("created %d updated %d, want created %d", rep.Created, rep.Updated, tt.wantCreated)
			}
			if tt.kind == ImportAnnuaire {
				if n := queryInt(t, d, `SELECT COUNT(*) FROM establishments`); n != tt.wantStored {
					t.Errorf("%d establishments stored, want %d", n, tt.wantStored)
				}
				if !tt.skipInvalid {
					if n := queryInt(t, d, `SELECT COUNT(*) FROM organizations`); n != 0 {
						t.Errorf("all or nothing left %d organizations", n)
					}
				}
			}
			if runs[0].Status != tt.wantStatus || runs[0].Filename != "essai.csv" || len(runs[0].Report.Rejected) != len(tt.wantRejected) {
				t.Errorf("recorded run: %+v", runs[0])
			}
		})
	}
}

// TestImportNewerFiles: a newer file updates what changed and nothing
// else, on every data set.
func TestImportNewerFiles(t *testing.T) {
	ctx := context.Background()
	s, d := newImportService(t)
	sys := auth.System()
	multiHeader := strings.Replace(smallHeader, "longitude", "longitude;etablissement_multi_lignes", 1)
	site := "0350122T;Ecole les Lucioles, site du bourg;Ecole;Public;1 place de l'Eglise;35580;35016;Baulon;035;14;53;47.98;-1.92;1"

	steps := []struct {
		name                        string
		kind                        ImportKind
		text                        string
		created, updated, unchanged int
		check                       func(t *testing.T)
	}{
		{"first directory", ImportAnnuaire, csvText(multiHeader, rowLucioles+";1", site, rowCardroc+";0"), 3, 0, 0, func(t *testing.T) {
			e, _, _ := s.Establishment(ctx, sys, "0350122T")
			if len(e.Sites) != 1 || e.Sites[0].Address != "1 place de l'Eglise" {
				t.Errorf("sites %+v", e.Sites)
			}
		}},
		{"same directory", ImportAnnuaire, csvText(multiHeader, rowLucioles+";1", site, rowCardroc+";0"), 0, 0, 3, nil},
		{"renamed school", ImportAnnuaire, csvText(multiHeader, rowLucioles+";1", site, strings.Replace(rowCardroc, "de Cardroc", "Jules Verne", 1)+";0"), 0, 1, 2, func(t *testing.T) {
			e, _, _ := s.Establishment(ctx, sys, "0350165P")
			if e.Name != "Ecole élémentaire publique Jules Verne" {
				t.Errorf("name %q", e.Name)
			}
		}},
		{"site closed, school renamed back", ImportAnnuaire, csvText(multiHeader, rowLucioles+";0", rowCardroc+";0"), 0, 2, 0, func(t *testing.T) {
			e, _, _ := s.Establishment(ctx, sys, "0350122T")
			if len(e.Sites) != 0 {
				t.Errorf("sites %+v, want none", e.Sites)
			}
		}},
		{"private school", ImportAnnuaire, csvText(smallHeader, rowLucioles, strings.Replace(rowCardroc, "Public", "Privé", 1)), 0, 1, 1, func(t *testing.T) {
			e, _, _ := s.Establishment(ctx, sys, "0350165P")
			if e.Sector != SectorPrivate || e.Responsible != nil {
				t.Errorf("private school: %q maintained by %+v", e.Sector, e.Responsible)
			}
			if n, _ := s.store.CountEstablishmentsMaintained(ctx, e.Academy.ID); n != 0 {
				t.Errorf("the académie maintains %d", n)
			}
		}},
		{"enrolments", ImportEffectifs, csvText("Annee_scolaire;Numero_d_etablissement;Nombre_d_eleves\r\n", "2018-2019;0350122T;100", "2019-2020;0350122T;110"), 2, 0, 0, nil},
		{"newer enrolments", ImportEffectifs, csvText("Annee_scolaire;Numero_d_etablissement;Nombre_d_eleves\r\n", "2018-2019;0350122T;100", "2019-2020;0350122T;111"), 0, 1, 1, func(t *testing.T) {
			_, enr, _ := s.Establishment(ctx, sys, "0350122T")
			if len(enr) != 2 || enr[0].SchoolYear != "2019-2020" || enr[0].Pupils != 111 {
				t.Errorf("enrolments %+v", enr)
			}
		}},
		{"calendar", ImportCalendrier, csvText("Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire\r\n",
			"Vacances de Noël;-;2025-12-20T00:00:00+01:00;2026-01-05T00:00:00+01:00;Rennes;Zone B;2025-2026",
			"Vacances de Noël;-;2025-12-20T00:00:00+01:00;2026-01-05T00:00:00+01:00;Rennes;Zone B;2025-2026"), 1, 0, 1, func(t *testing.T) {
			// The directory gave the académie's code only: it cannot be
			// matched with the calendar's "Rennes" yet.
			o, _ := s.store.OrgByKindCode(ctx, d, KindAcademy, "14")
			if o.Name != "Académie 14" || o.HolidayZone != "" {
				t.Errorf("académie %q zone %q", o.Name, o.HolidayZone)
			}
		}},
		{"calendar corrected", ImportCalendrier, csvText("Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire\r\n",
			"Vacances de Noël;-;2025-12-20T00:00:00+01:00;2026-01-04T00:00:00+01:00;Rennes;Zone B;2025-2026"), 0, 1, 0, nil},
		{"carte scolaire", ImportCarteScolaire, csvText("code_insee;libelle_commune;Type_et_Libelle;No_de_voie_debut;Indice_de_repetition_debut;No_de_voie_fin;Parite;Code_RNE;Secteur_unique\r\n",
			"35238;Rennes;RUE X;1;;9999;PI;0351638R;N", "35238;Rennes;RUE Y;2;A;18;P;0351638R;N"), 2, 0, 0, nil},
		{"street moved to another collège", ImportCarteScolaire, csvText("code_insee;libelle_commune;Type_et_Libelle;No_de_voie_debut;Indice_de_repetition_debut;No_de_voie_fin;Parite;Code_RNE;Secteur_unique\r\n",
			"35238;Rennes;RUE X;1;;9999;PI;0351638R;N", "35238;Rennes;RUE Y;2;A;18;P;0350895H;N"), 1, 0, 1, func(t *testing.T) {
			got, _ := s.ExpectedColleges(ctx, "35238")
			if len(got) != 2 || got[1].Street != "RUE Y" || got[1].CollegeUAI != "0350895H" || got[1].NumberFrom != "2A" {
				t.Errorf("sectors %+v", got)
			}
		}},
		{"directory naming the académie", ImportAnnuaire, csvText(strings.Replace(smallHeader, "Code_region", "Code_region;Libelle_academie", 1),
			strings.Replace(rowLucioles, ";53;", ";53;Rennes;", 1), strings.Replace(strings.Replace(rowCardroc, ";53;", ";53;Rennes;", 1), "Public", "Privé", 1)), 0, 0, 2, func(t *testing.T) {
			o, _ := s.store.OrgByKindCode(ctx, d, KindAcademy, "14")
			if o.Name != "Académie de Rennes" || o.HolidayZone != "Zone B" {
				t.Errorf("académie %q zone %q", o.Name, o.HolidayZone)
			}
		}},
		{"directory without the académie's name", ImportAnnuaire, csvText(smallHeader, rowLucioles, strings.Replace(rowCardroc, "Public", "Privé", 1)), 0, 0, 2, func(t *testing.T) {
			o, _ := s.store.OrgByKindCode(ctx, d, KindAcademy, "14")
			if o.Name != "Académie de Rennes" {
				t.Errorf("académie renamed %q", o.Name)
			}
		}},
	}
	for _, st := range steps {
		rep, err := importText(s, st.kind, st.text, ImportOptions{})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if rep.Created != st.created || rep.Updated != st.updated || rep.Unchanged != st.unchanged || rep.RejectedCount() != 0 {
			t.Fatalf("%s: created/updated/unchanged %d/%d/%d, want %d/%d/%d; %+v", st.name, rep.Created, rep.Updated, rep.Unchanged,
				st.created, st.updated, st.unchanged, rep.Rejected)
		}
		if st.check != nil {
			t.Run(st.name, st.check)
		}
	}
	if n := queryInt(t, d, `SELECT COUNT(*) FROM school_sectors`); n != 2 {
		t.Errorf("%d sectors left, want 2 (the moved street's old line deleted)", n)
	}
}

// TestImportPermissionsAndHistory: only a platform-wide import right runs
// imports or reads their history.
func TestImportPermissionsAndHistory(t *testing.T) {
	ctx := context.Background()
	s, _ := newImportService(t)
	agent := &auth.Principal{User: auth.User{ID: 7}, Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent}}}
	localAdmin := &auth.Principal{User: auth.User{ID: 8}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin, OrgID: 42}}}
	for _, p := range []*auth.Principal{nil, agent, localAdmin} {
		_, err := s.Import(ctx, p, ImportAnnuaire, strings.NewReader(csvText(smallHeader, rowLucioles)), ImportOptions{})
		if pe, ok := problem.As(err); !ok || pe.Code != "forbidden" {
			t.Errorf("import by %+v: %v", p, err)
		}
		if _, err := s.ImportRuns(ctx, p, 10); err == nil {
			t.Errorf("history read by %+v", p)
		}
	}
	if _, err := s.Import(ctx, auth.System(), "inconnu", strings.NewReader(""), ImportOptions{}); err == nil {
		t.Error("unknown data set accepted")
	}
	admin := &auth.Principal{User: auth.User{ID: 9}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}}
	rep, err := s.Import(ctx, admin, ImportAnnuaire, strings.NewReader(csvText(smallHeader, rowLucioles)), ImportOptions{Filename: "a.csv"})
	if err != nil || rep.RunID == 0 {
		t.Fatalf("import by the administrator: %+v %v", rep, err)
	}
	run, err := s.ImportRun(ctx, admin, rep.RunID)
	if err != nil || run.UserID != 9 || run.Kind != ImportAnnuaire || run.Status != ImportStatusApplied || run.Report.Created != 1 {
		t.Errorf("run %+v %v", run, err)
	}
	if _, err := s.ImportRun(ctx, admin, rep.RunID+100); err == nil {
		t.Error("unknown run found")
	} else if pe, ok := problem.As(err); !ok || pe.Code != "not_found" {
		t.Errorf("unknown run: %v", err)
	}
	if _, err := s.ImportRun(ctx, agent, rep.RunID); err == nil {
		t.Error("run read by an agent")
	}
}

// TestImportNotes: a public école without its commune is imported, and
// the missing maintainer pointed out.
func TestImportNotes(t *testing.T) {
	s, _ := newImportService(t)
	rep, err := importText(s, ImportAnnuaire, csvText(smallHeader, strings.Replace(rowLucioles, ";35016;Baulon;", ";;;", 1)), ImportOptions{})
	if err != nil || rep.Created != 1 || len(rep.Notes) != 1 || rep.Notes[0].Line != 2 || rep.Notes[0].UAI != "0350122T" ||
		!strings.Contains(rep.Notes[0].Reason, "le code de la commune manque") {
		t.Fatalf("report %+v %v", rep, err)
	}
	e, _, err := s.Establishment(context.Background(), auth.System(), "0350122T")
	if err != nil || e.Responsible != nil || e.Academy == nil {
		t.Errorf("establishment without commune: %+v %v", e, err)
	}
}

// failingReader gives some bytes, then fails, as an upload cut short.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestImportInterrupted: an input that fails half-way, or a caller that
// goes away, leaves nothing written and a recorded run saying so.
func TestImportInterrupted(t *testing.T) {
	s, d := newImportService(t)
	cut := errors.New("connection reset")
	text := csvText(smallHeader, rowLucioles) + strings.Repeat(rowCardroc+"\r\n", 3000)
	rep, err := s.Import(context.Background(), auth.System(), ImportAnnuaire, &failingReader{data: text, err: cut}, ImportOptions{Filename: "coupé.csv"})
	if !errors.Is(err, cut) || rep == nil || !strings.Contains(rep.Error, "lu jusqu'au bout") {
		t.Fatalf("cut input: %v %+v", err, rep)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err = s.Import(ctx, auth.System(), ImportAnnuaire, strings.NewReader(text), ImportOptions{Progress: func(int64) { cancel() }})
	if !errors.Is(err, context.Canceled) || rep == nil || !strings.Contains(rep.Error, "interrompu") {
		t.Fatalf("cancelled import: %v %+v", err, rep)
	}
	if n := queryInt(t, d, `SELECT COUNT(*) FROM organizations`); n != 0 {
		t.Errorf("%d organizations written by failed imports", n)
	}
	runs, err := s.ImportRuns(context.Background(), auth.System(), 10)
	if err != nil || len(runs) != 2 || runs[0].Status != ImportStatusRejected || runs[1].Status != ImportStatusRejected {
		t.Errorf("runs %+v %v", runs, err)
	}
}

func TestASCIISearchKeyIsSearchKey(t *testing.T) {
	cases := [][]string{
		{"Ecole primaire publique les Lucioles", "0350122T", "Baulon", "35580"},
		{"  --Lycée-- ", "x"}, {"", ""}, {"A.B_C/d'e", "  "}, {"REP+", "35 000"}, {"ÉCOLE", "Ωmega"},
	}
	for i := 0; i < 500; i++ {
		var b strings.Builder
		for j := 0; j < 1+i%23; j++ {
			b.WriteByte(" aZ9-_'./(+"[(i*7+j*13)%11])
		}
		cases = append(cases, []string{b.String(), strings.ToUpper(b.String())})
	}
	for _, c := range cases {
		got, ok := asciiSearchKey(c)
		if !ok {
			continue // not ASCII: the writer uses the transformer
		}
		if want := SearchKey(c...); got != want {
			t.Errorf("asciiSearchKey(%q) = %q, SearchKey = %q", c, got, want)
		}
	}
	if _, ok := asciiSearchKey([]string{"Lycée"}); ok {
		t.Error("non-ASCII text taken by the ASCII path")
	}
}

func TestImportHelpers(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Rennes", "Académie de Rennes"}, {"Aix-Marseille", "Académie d'Aix-Marseille"},
		{"Orléans-Tours", "Académie d'Orléans-Tours"}, {"Académie de Lyon", "Académie de Lyon"}, {"", ""},
	} {
		if got := academyName(tt.in); got != tt.want {
			t.Errorf("academyName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, pair := range [][2]string{{"Académie de Rennes", "Rennes"}, {"Académie de La Réunion", "Réunion"}, {"Académie d'Aix-Marseille", "Aix-Marseille"}} {
		if academyKey(pair[0]) != academyKey(pair[1]) {
			t.Errorf("academyKey(%q) = %q, academyKey(%q) = %q", pair[0], academyKey(pair[0]), pair[1], academyKey(pair[1]))
		}
	}
	for _, tt := range []struct {
		code string
		want Type
	}{{"101", TypeEcole}, {"151", TypeEcole}, {"340", TypeCollege}, {"352", TypeCollege}, {"300", TypeLycee}, {"306", TypeLycee},
		{"320", TypeLycee}, {"335", TypeLycee}, {"370", TypeEREA}, {"380", TypeOther}, {"806", TypeOther}, {"", TypeUnknown}} {
		if got := typeFromNature(tt.code); got != tt.want {
			t.Errorf("typeFromNature(%s) = %q, want %q", tt.code, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{{"2022", "2022-2023"}, {"2018-2019", "2018-2019"}, {"2018/2019", "2018-2019"}, {"2018-2020", ""}, {"22", ""}} {
		if got, _ := schoolYear(tt.in); got != tt.want {
			t.Errorf("schoolYear(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ code, commune, want string }{{"035", "", "035"}, {"35", "", "035"}, {"", "35016", "035"}, {"", "97105", "971"}, {"2A", "", "02A"}} {
		if got := departementCode(tt.code, tt.commune); got != tt.want {
			t.Errorf("departementCode(%q, %q) = %q, want %q", tt.code, tt.commune, got, tt.want)
		}
	}
	if _, ok := communeINSEE("2A004"); !ok {
		t.Error("Corsican INSEE code refused")
	}
	if c, ok := communeINSEE("1001"); !ok || c != "01001" {
		t.Errorf("4-digit INSEE code: %q %v", c, ok)
	}
}
