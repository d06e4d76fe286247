package people

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// The feed ("alimentation") of one establishment is one CSV file, UTF-8,
// ';' or ',' separated, one person per line, with these columns (found by
// name, accents and case ignored; the names in parentheses are accepted
// too, as the school-management exports write them):
//
//	Profil             élève | enseignant | parent | personnel | agent   (required)
//	Nom                last name (Nom de famille, Nom d'usage)           (required)
//	Prénom             first name (Prénom 1)                             (required)
//	Date de naissance  JJ/MM/AAAA or AAAA-MM-JJ; required for pupils
//	INE                pupils' national identifier (Identifiant national, INE élève)
//	Classe             pupils: their class ("CM2 A", "6e B"); teachers: the
//	                   classes they teach, separated by | or , (Division)
//	Niveau             the pupil's level when the class name does not start
//	                   with it: PS..CM2, 6e..3e, 2nde, 1re, Tle (MEF)
//	Groupes            groups (language, option...) separated by |
//	Matières           teachers: the subjects they teach, separated by |
//	INE enfant         parents: the INE of their children, separated by |
//	Courriel           e-mail (Email, Mél); becomes the login when free
//	Fonction           staff: direction | administration | vie scolaire
//
// Example:
//
//	Profil;Nom;Prénom;Date de naissance;INE;Classe;INE enfant;Courriel;Matières;Fonction
//	élève;Tanguy;Léa;14/03/2015;1234567890A;CM2 A;;;;
//	parent;Tanguy;Gwenaëlle;;;;1234567890A;g.tanguy@exemple.fr;;
//	enseignant;Rolland;Julien;;;CM2 A;;j.rolland@exemple.fr;Polyvalent;
//	personnel;Lefebvre;Marc;;;;;m.lefebvre@exemple.fr;;direction
//
// The file is the whole establishment for the school year: a person it no
// longer lists loses their membership (and is suspended when they belong to
// no establishment any more, then deleted after the grace period). The
// feed is idempotent: the same file twice changes nothing the second time.
// It is all or nothing like the territory's imports: one rejected line and
// nothing is written, unless SkipInvalid; and when any line is rejected,
// nobody is removed (a person whose line was rejected has not left).
var feedColumns = []csvimport.Column{
	{Name: "Profil", Aliases: []string{"Type", "Catégorie", "Type de personne"}, Required: true},
	{Name: "Nom", Aliases: []string{"Nom de famille", "Nom d'usage", "Nom usage"}, Required: true},
	{Name: "Prénom", Aliases: []string{"Prénom 1", "Premier prénom"}, Required: true},
	{Name: "Date de naissance", Aliases: []string{"Date naissance", "Né le", "Née le"}},
	{Name: "INE", Aliases: []string{"Identifiant national", "INE élève", "ID national"}},
	{Name: "Classe", Aliases: []string{"Division", "Classes", "Divisions"}},
	{Name: "Niveau", Aliases: []string{"MEF", "Niveau de formation"}},
	{Name: "Groupes", Aliases: []string{"Groupe"}},
	{Name: "Matières", Aliases: []string{"Matière", "Disciplines", "Discipline"}},
	{Name: "INE enfant", Aliases: []string{"INE enfants", "INE des enfants"}},
	{Name: "Courriel", Aliases: []string{"Email", "E-mail", "Mél", "Mel", "Adresse électronique"}},
	{Name: "Fonction", Aliases: []string{"Fonctions"}},
}

// FeedOptions tune a feed run.
type FeedOptions struct {
	// SchoolYear is the year the classes belong to (the current one when
	// empty).
	SchoolYear  string
	SkipInvalid bool
	Filename    string
	Progress    func(bytesRead int64)
}

// Statuses of a recorded feed run (as the territory's imports).
const (
	FeedApplied  = "applied"
	FeedRejected = "rejected"
	FeedPartial  = "partial"
)

var errRollback = errors.New("rows rejected: roll back")

// Feed imports an establishment's feed file (people.manage on the
// establishment). Rejected lines are in the report, not an error; a file
// that is not a feed is an error with its report. Every run is recorded.
func (s *Service) Feed(ctx context.Context, p *auth.Principal, uai string, r io.Reader, opts FeedOptions) (*csvimport.Report, error) {
	e, err := s.establishmentFor(ctx, p, uai, auth.PermPeopleManage)
	if err != nil {
		return nil, err
	}
	if opts.SchoolYear == "" {
		opts.SchoolYear = SchoolYearOf(s.now())
	}
	if !ValidSchoolYear(opts.SchoolYear) {
		return nil, problem.Invalid("invalid_year", "Année scolaire invalide (attendu : 2025-2026).").Field("year", "Année invalide.")
	}
	started := time.Now().UTC()
	rep := csvimport.NewReport("feed", opts.Filename)
	err = s.runFeed(ctx, e, r, opts, rep)
	status := FeedApplied
	switch {
	case err != nil:
		status = FeedRejected
		if pe, ok := problem.As(err); ok {
			rep.Error = pe.Message
		} else {
			rep.Error = "L'alimentation a échoué ; rien n'a été écrit."
		}
	case rep.RejectedCount() > 0 && opts.SkipInvalid:
		status = FeedPartial
	case rep.RejectedCount() > 0:
		status = FeedRejected
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if id, rerr := s.store.insertFeedRun(rctx, e.ID, p.User.ID, opts.Filename, started, time.Now().UTC(), status, rep); rerr != nil {
		s.log.Error("record feed run", "establishment", e.UAI, "err", rerr)
	} else {
		rep.RunID = id
	}
	s.log.Info("feed finished", "establishment", e.UAI, "status", status, "read", rep.Read, "created", rep.Created,
		"updated", rep.Updated, "unchanged", rep.Unchanged, "removed", rep.Deleted, "rejected", rep.RejectedCount(),
		"duration", time.Since(started))
	if err != nil {
		if _, ok := problem.As(err); ok {
			return rep, err
		}
		return rep, fmt.Errorf("feed %s: %w", e.UAI, err)
	}
	// Deletions go through the Deleter, which opens its own transactions:
	// after the feed's has committed.
	if _, err := s.PurgeSuspended(ctx); err != nil {
		s.log.Error("purge suspended people", "err", err)
	}
	return rep, nil
}

type feedMember struct {
	profile  Profile
	function Function
	source   string
}

type gmKey struct{ group, user int64 }

type gmState struct {
	role, subject, source string
	ended                 bool
}

// feedRun is one run's state: what the establishment holds, loaded once,
// and what the file has said so far.
type feedRun struct {
	s      *Service
	w      *writer
	year   string
	rep    *csvimport.Report
	people map[int64]Person
	member map[int64]feedMember
	byINE  map[string]int64
	byKey  map[string]int64
	byMail map[string]int64
	groups map[string]int64 // kind|CODE → id
	// leveled are the classes whose level is known.
	leveled map[int64]bool
	gm      map[gmKey]gmState
	seen    map[int64]bool
	seenGM  map[gmKey]bool
	ines    map[string]int // INE → line, within the file
	rd      *csvimport.Reader
	// lines are the checked lines, read whole before anything is written
	// so that lookups and writes go by batches; parents come after the
	// others, once every child the file brings has an account.
	lines, parents []*feedLine
	// logins counts the generated logins used per name in this run.
	logins map[string]int
	// accounts are existing accounts found by e-mail; candidates the
	// pupils of other establishments with a line's name and birth date.
	accounts   map[string]int64
	candidates map[string][]Person
}

func (s *Service) runFeed(ctx context.Context, e establishment, r io.Reader, opts FeedOptions, rep *csvimport.Report) error {
	rd, err := csvimport.NewReader(r, csvimport.Options{Progress: opts.Progress})
	if err != nil {
		return err
	}
	if err := rd.Bind(feedColumns); err != nil {
		var missing *csvimport.MissingColumnsError
		if errors.As(err, &missing) {
			return problem.Invalid("not_a_feed", "Ce fichier n'est pas un fichier d'alimentation : colonnes obligatoires absentes ("+
				strings.Join(missing.Missing, ", ")+"). Colonnes attendues : Profil, Nom, Prénom, Date de naissance, INE, Classe, INE enfant, Courriel.")
		}
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		q := newPreparedQuerier(tx)
		defer q.Close()
		f := &feedRun{s: s, w: s.newWriter(q, e.ID), year: opts.SchoolYear, rep: rep, rd: rd}
		if err := f.load(ctx); err != nil {
			return fmt.Errorf("load establishment: %w", err)
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
			f.collect(row)
		}
		if err := f.apply(ctx); err != nil {
			return err
		}
		if err := f.finish(ctx); err != nil {
			return err
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

func (f *feedRun) load(ctx context.Context) error {
	q, est := f.w.q, f.w.est
	f.people, f.member = map[int64]Person{}, map[int64]feedMember{}
	f.byINE, f.byKey, f.byMail = map[string]int64{}, map[string]int64{}, map[string]int64{}
	f.groups, f.gm = map[string]int64{}, map[gmKey]gmState{}
	f.seen, f.seenGM, f.ines = map[int64]bool{}, map[gmKey]bool{}, map[string]int{}
	rows, err := q.QueryContext(ctx, `SELECT user_id, profile, function, source FROM establishment_members WHERE establishment_id = ?`, est)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var m feedMember
		var prof, fn string
		if err := rows.Scan(&id, &prof, &fn, &m.source); err != nil {
			rows.Close()
			return err
		}
		m.profile, m.function = Profile(prof), Function(fn)
		f.member[id] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ps, err := f.s.store.people(ctx, q, `p.user_id IN (SELECT user_id FROM establishment_members WHERE establishment_id = ?)`, est)
	if err != nil {
		return err
	}
	for _, p := range ps {
		f.remember(p)
	}
	f.leveled = map[int64]bool{}
	rows, err = q.QueryContext(ctx, `SELECT id, kind, code, level FROM groups WHERE establishment_id = ? AND school_year = ?`, est, f.year)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var kind, code, level string
		if err := rows.Scan(&id, &kind, &code, &level); err != nil {
			rows.Close()
			return err
		}
		f.groups[kind+"|"+code] = id
		f.leveled[id] = level != ""
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.QueryContext(ctx, `SELECT gm.group_id, gm.user_id, gm.role, gm.subject, gm.source, gm.ended_at IS NOT NULL
		FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE g.establishment_id = ? AND g.school_year = ?`, est, f.year)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k gmKey
		var st gmState
		if err := rows.Scan(&k.group, &k.user, &st.role, &st.subject, &st.source, &st.ended); err != nil {
			return err
		}
		f.gm[k] = st
	}
	return rows.Err()
}

// remember indexes a person of the establishment. A name shared by two
// people is ambiguous (-1) and matches neither.
func (f *feedRun) remember(p Person) {
	f.people[p.UserID] = p
	if p.INE != "" {
		f.byINE[p.INE] = p.UserID
	}
	k := NameKey(p.LastName, p.FirstName, p.BirthDate)
	if old, ok := f.byKey[k]; ok && old != p.UserID {
		f.byKey[k] = -1
	} else {
		f.byKey[k] = p.UserID
	}
	if !strings.HasSuffix(p.Email, "@"+f.s.opts.LoginDomain) {
		f.byMail[p.Email] = p.UserID
	}
}

// feedRow is a line read and checked.
type feedRow struct {
	profile  Profile
	function Function
	person   Person
	email    string
	class    string
	level    string
	classes  []string
	groups   []string
	subjects string
	children []string
}

func parseProfile(v string) (Profile, Function, bool) {
	switch enumKey(v) {
	case "eleve", "eleves", "pupil", "ele", "apprenant":
		return ProfilePupil, "", true
	case "enseignant", "enseignante", "professeur", "prof", "teacher", "ens":
		return ProfileTeacher, "", true
	case "parent", "parents", "responsable", "responsable legal", "representant legal", "pere", "mere", "tuteur":
		return ProfileParent, "", true
	case "personnel", "personnels", "staff", "per":
		return ProfileStaff, "", true
	case "direction", "directeur", "directrice", "principal", "principale", "proviseur", "proviseure", "chef d etablissement":
		return ProfileStaff, FunctionHead, true
	case "agent", "agent de collectivite", "atsem", "agent territorial":
		return ProfileAgent, "", true
	}
	return "", "", false
}

func parseFunction(v string) (Function, bool) {
	switch enumKey(v) {
	case "":
		return "", true
	case "direction", "directeur", "directrice", "principal", "principale", "principal adjoint", "proviseur", "proviseure",
		"proviseur adjoint", "chef d etablissement", "head":
		return FunctionHead, true
	case "administration", "secretariat", "secretaire", "gestion", "gestionnaire", "intendance":
		return FunctionAdministration, true
	case "vie scolaire", "cpe", "aed", "surveillant", "assistant d education", "vie-scolaire":
		return FunctionVieScolaire, true
	}
	return "", false
}

// enumKey folds a coded value: lower case, no accents, words separated by
// one space.
func enumKey(v string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(fold(v)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// normalizeINE checks an INE: 11 letters or digits (10 digits and a
// letter for the RNIE, other forms for older identifiers), upper-cased.
func normalizeINE(v string) (string, bool) {
	v = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v), " ", ""))
	if len(v) != 11 {
		return v, false
	}
	digits := 0
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'A' && c <= 'Z':
		default:
			return v, false
		}
	}
	return v, digits >= 8
}

// parseDate reads JJ/MM/AAAA or AAAA-MM-JJ; a birth date is in the past and
// after 1900. It returns the ISO date, or a French reason.
func parseDate(v string, now time.Time) (string, string) {
	v = strings.TrimSpace(v)
	var t time.Time
	var err error
	if strings.Contains(v, "/") {
		t, err = time.Parse("02/01/2006", v)
		if err != nil {
			t, err = time.Parse("2/1/2006", v)
		}
	} else {
		t, err = time.Parse("2006-01-02", v)
	}
	if err != nil {
		return "", fmt.Sprintf("date de naissance illisible : « %s » (JJ/MM/AAAA attendu)", v)
	}
	if t.Year() < 1900 || t.After(now) {
		return "", fmt.Sprintf("date de naissance invalide : « %s »", v)
	}
	return t.Format("2006-01-02"), ""
}

func (f *feedRun) reject(line int, col, reason string) {
	header := ""
	if col != "" {
		header = f.rd.HeaderOf(col)
	}
	f.rep.Reject(line, header, reason)
}

func (f *feedRun) parse(row *csvimport.Row) (feedRow, bool) {
	var fr feedRow
	var ok bool
	fr.profile, fr.function, ok = parseProfile(row.Get("Profil"))
	if !ok {
		f.reject(row.Line, "Profil", fmt.Sprintf("profil inconnu : « %s » (élève, enseignant, parent, personnel ou agent)", row.Get("Profil")))
		return fr, false
	}
	if v := row.Get("Fonction"); v != "" {
		fn, ok := parseFunction(v)
		if !ok || fr.profile != ProfileStaff {
			f.reject(row.Line, "Fonction", fmt.Sprintf("fonction inconnue ou réservée aux personnels : « %s » (direction, administration, vie scolaire)", v))
			return fr, false
		}
		fr.function = fn
	}
	fr.person = Person{Profile: fr.profile, Function: fr.function, LastName: row.Get("Nom"), FirstName: row.Get("Prénom")}
	if fr.person.LastName == "" {
		f.reject(row.Line, "Nom", "nom manquant")
		return fr, false
	}
	if fr.person.FirstName == "" {
		f.reject(row.Line, "Prénom", "prénom manquant")
		return fr, false
	}
	if v := row.Get("Date de naissance"); v != "" {
		d, msg := parseDate(v, f.w.now)
		if msg != "" {
			f.reject(row.Line, "Date de naissance", msg)
			return fr, false
		}
		fr.person.BirthDate = d
	} else if fr.profile == ProfilePupil {
		f.reject(row.Line, "Date de naissance", "date de naissance manquante (obligatoire pour un élève)")
		return fr, false
	}
	if v := row.Get("INE"); v != "" {
		if fr.profile != ProfilePupil {
			f.reject(row.Line, "INE", "seul un élève porte un INE (pour un parent, utilisez la colonne INE enfant)")
			return fr, false
		}
		ine, ok := normalizeINE(v)
		if !ok {
			f.reject(row.Line, "INE", fmt.Sprintf("INE invalide : « %s » (11 caractères)", v))
			return fr, false
		}
		if line, dup := f.ines[ine]; dup {
			f.reject(row.Line, "INE", fmt.Sprintf("INE %s déjà donné ligne %d", ine, line))
			return fr, false
		}
		f.ines[ine] = row.Line
		fr.person.INE = ine
	}
	if v := row.Get("Courriel"); v != "" {
		e, err := auth.NormalizeEmail(v)
		if err != nil {
			f.reject(row.Line, "Courriel", fmt.Sprintf("adresse électronique invalide : « %s »", v))
			return fr, false
		}
		fr.email = e
	}
	fr.groups = splitList(row.Get("Groupes"))
	switch fr.profile {
	case ProfilePupil:
		fr.class = row.Get("Classe")
		if fr.class != "" {
			lvl, ok := ParseLevel(row.Get("Niveau"))
			if !ok {
				lvl, ok = ParseLevel(fr.class)
			}
			if !ok {
				f.reject(row.Line, "Niveau", fmt.Sprintf("niveau introuvable pour la classe « %s » : indiquez la colonne Niveau (PS à CM2, 6e à 3e, 2nde à Tle)", fr.class))
				return fr, false
			}
			fr.level = lvl
		}
	case ProfileTeacher, ProfileStaff:
		fr.classes = splitList(row.Get("Classe"))
		fr.subjects = strings.Join(splitList(strings.ReplaceAll(row.Get("Matières"), "|", ",")), ", ")
	case ProfileParent:
		for _, c := range splitList(row.Get("INE enfant")) {
			ine, ok := normalizeINE(c)
			if !ok {
				f.reject(row.Line, "INE enfant", fmt.Sprintf("INE d'enfant invalide : « %s »", c))
				return fr, false
			}
			fr.children = append(fr.children, ine)
		}
		if len(fr.children) == 0 {
			f.reject(row.Line, "INE enfant", "parent sans INE d'enfant : impossible de le rattacher à un élève")
			return fr, false
		}
	}
	return fr, true
}

// group returns the id of a class or group of the year, creating it.
func (f *feedRun) group(ctx context.Context, kind, name, level string) (int64, error) {
	k := kind + "|" + strings.ToUpper(name)
	if id, ok := f.groups[k]; ok {
		// A class first named by a teacher's line may learn its level
		// from a pupil's.
		if kind == KindClass && level != "" && !f.leveled[id] {
			if _, err := f.w.q.ExecContext(ctx, `UPDATE groups SET level = ? WHERE id = ? AND level = ''`, level, id); err != nil {
				return 0, err
			}
			f.leveled[id] = true
		}
		return id, nil
	}
	var id int64
	var err error
	if kind == KindClass {
		id, err = f.w.class(ctx, f.year, name, level)
	} else {
		id, _, err = f.s.store.ensureGroup(ctx, f.w.q, Group{EstablishmentID: f.w.est, SchoolYear: f.year, Kind: KindGroup, Type: TypeSubject, Name: name}, "feed", f.w.now)
	}
	if err != nil {
		return 0, err
	}
	f.groups[k] = id
	f.leveled[id] = level != ""
	return id, nil
}

// finish ends what the file no longer lists: memberships of classes and groups of the year, and the
// establishment memberships of the people who left.
func (f *feedRun) finish(ctx context.Context) error {
	q := f.w.q
	if f.rep.RejectedCount() > 0 {
		f.rep.Note(0, "", "Des lignes ont été rejetées : personne n'a été retiré de l'établissement par cette alimentation.")
		return nil
	}
	ended := 0
	for k, st := range f.gm {
		if st.ended || st.source != "feed" || f.seenGM[k] {
			continue
		}
		if _, err := q.ExecContext(ctx, `UPDATE group_members SET ended_at = ? WHERE group_id = ? AND user_id = ?`, f.w.now, k.group, k.user); err != nil {
			return err
		}
		ended++
	}
	f.rep.Updated += ended
	var gone []int64
	for id, m := range f.member {
		if m.source == "feed" && !f.seen[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		m := f.member[id]
		if err := f.s.store.removeMembership(ctx, q, f.w.est, id, string(RoleOf(m.profile, m.function)), f.w.now); err != nil {
			return err
		}
		suspended, err := f.s.store.suspendIfOrphan(ctx, q, id, f.w.now)
		if err != nil {
			return err
		}
		f.rep.Deleted++
		p := f.people[id]
		what := "ne figure plus dans l'alimentation : retiré(e) de l'établissement"
		if suspended {
			what += ", compte suspendu (supprimé après le délai de grâce s'il ne réapparaît pas)"
		}
		f.rep.Note(0, "", fmt.Sprintf("%s %s %s", p.FirstName, p.LastName, what))
	}
	return nil
}
