package people

import (
	"context"
	"fmt"
	"strings"

	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
)

// The feed reads the whole file, then looks people up and writes them by
// batches of a few hundred rows per statement: on PostgreSQL every
// statement is a round trip, and a feed of 50,000 people line by line
// would spend its time waiting for them.

// batchRows bounds the rows of one multi-row statement (10 columns at
// most: well under the parameter limits of both engines).
const batchRows = 500

// feedLine is a checked line and what the run decided for it.
type feedLine struct {
	line     int
	fr       feedRow
	id       int64
	created  bool
	changed  bool
	skip     bool // rejected or pending: nothing to write
	linkOnly bool // a parent already in the file under another profile
	children []int64
}

func (f *feedRun) collect(row *csvimport.Row) {
	fr, ok := f.parse(row)
	if !ok {
		return
	}
	l := &feedLine{line: row.Line, fr: fr}
	if fr.profile == ProfileParent {
		f.parents = append(f.parents, l)
	} else {
		f.lines = append(f.lines, l)
	}
}

func (f *feedRun) apply(ctx context.Context) error {
	f.logins = map[string]int{}
	for _, phase := range [][]*feedLine{f.lines, f.parents} {
		if err := f.phase(ctx, phase); err != nil {
			return err
		}
	}
	for _, phase := range [][]*feedLine{f.lines, f.parents} {
		for _, l := range phase {
			switch {
			case l.skip:
			case l.created:
				f.rep.Created++
			case l.changed:
				f.rep.Updated++
			default:
				f.rep.Unchanged++
			}
		}
	}
	return nil
}

// phase resolves, creates and attaches one group of lines.
func (f *feedRun) phase(ctx context.Context, lines []*feedLine) error {
	if err := f.lookup(ctx, lines); err != nil {
		return err
	}
	var fresh []*feedLine
	newKeys, newMails := map[string]int{}, map[string]int{}
	for _, l := range lines {
		for _, ine := range l.fr.children {
			child, ok := f.byINE[ine]
			if !ok {
				f.reject(l.line, "INE enfant", fmt.Sprintf("INE d'enfant inconnu : %s n'est ni dans ce fichier ni dans l'établissement", ine))
				l.skip = true
				break
			}
			l.children = append(l.children, child)
		}
		if l.skip {
			continue
		}
		id, pending, err := f.resolve(ctx, l)
		if err != nil {
			return err
		}
		if pending || l.skip {
			l.skip = true
			continue
		}
		if id != 0 {
			// A teacher or staff member who is also a parent at the school
			// keeps their membership; the parent line only brings links.
			if f.seen[id] && l.fr.profile == ProfileParent && f.member[id].profile != ProfileParent {
				l.id, l.linkOnly = id, true
				continue
			}
			if f.seen[id] {
				f.reject(l.line, "", fmt.Sprintf("%s %s figure déjà plus haut dans le fichier", l.fr.person.FirstName, l.fr.person.LastName))
				l.skip = true
				continue
			}
			f.seen[id] = true
			l.id = id
			var rejected bool
			if l.changed, rejected, err = f.update(ctx, l.line, id, l.fr); err != nil {
				return err
			}
			l.skip = rejected
			continue
		}
		// A new person: once per file, by e-mail or by name and birth date.
		key := string(l.fr.profile) + "|" + NameKey(l.fr.person.LastName, l.fr.person.FirstName, l.fr.person.BirthDate)
		if l.fr.email != "" {
			key = l.fr.email
		}
		if first, dup := newKeys[key]; dup {
			f.reject(l.line, "", fmt.Sprintf("%s %s figure déjà ligne %d", l.fr.person.FirstName, l.fr.person.LastName, first))
			l.skip = true
			continue
		}
		newKeys[key] = l.line
		if l.fr.email != "" {
			newMails[l.fr.email] = l.line
		}
		l.created = true
		fresh = append(fresh, l)
	}
	if err := f.createAll(ctx, fresh); err != nil {
		return err
	}
	return f.attachAll(ctx, lines)
}

// lookup loads, in a few queries, the people of other establishments the
// lines may name: by INE, by e-mail, and pupils by name and birth date.
func (f *feedRun) lookup(ctx context.Context, lines []*feedLine) error {
	var ines, mails []any
	for _, l := range lines {
		if ine := l.fr.person.INE; ine != "" {
			if _, ok := f.byINE[ine]; !ok {
				ines = append(ines, ine)
			}
		}
		if m := l.fr.email; m != "" {
			if _, ok := f.byMail[m]; !ok {
				mails = append(mails, m)
			}
		}
	}
	if err := f.loadPeople(ctx, `p.ine IN`, ines); err != nil {
		return err
	}
	// Accounts without a directory profile yet (made by hand) are found by
	// e-mail too: they get one when the line is written.
	f.accounts = map[string]int64{}
	for start := 0; start < len(mails); start += batchRows {
		chunk := mails[start:min(start+batchRows, len(mails))]
		rows, err := f.w.q.QueryContext(ctx, `SELECT id, email FROM users WHERE email IN (`+db.Placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return err
			}
			f.accounts[email] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if err := f.loadPeople(ctx, `u.email IN`, mails); err != nil {
		return err
	}
	// Pupils not found by INE: same name and birth date elsewhere?
	var keys []any
	for _, l := range lines {
		p := l.fr.person
		if l.fr.profile != ProfilePupil {
			continue
		}
		if _, ok := f.byINE[p.INE]; ok && p.INE != "" {
			continue
		}
		keys = append(keys, NameKey(p.LastName, p.FirstName, p.BirthDate))
	}
	f.candidates = map[string][]Person{}
	for start := 0; start < len(keys); start += batchRows {
		chunk := keys[start:min(start+batchRows, len(keys))]
		ps, err := f.s.store.people(ctx, f.w.q, `p.profile = 'pupil' AND p.name_key IN (`+db.Placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if _, member := f.member[p.UserID]; member {
				continue
			}
			k := NameKey(p.LastName, p.FirstName, p.BirthDate)
			f.candidates[k] = append(f.candidates[k], p)
		}
	}
	return nil
}

func (f *feedRun) loadPeople(ctx context.Context, cond string, values []any) error {
	for start := 0; start < len(values); start += batchRows {
		chunk := values[start:min(start+batchRows, len(values))]
		ps, err := f.s.store.people(ctx, f.w.q, cond+` (`+db.Placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return err
		}
		for _, p := range ps {
			f.remember(p)
		}
	}
	return nil
}

// resolve finds who a line is: by INE, then by e-mail, then by name (and
// birth date) among the establishment's people. A pupil who matches by
// name and birth date a pupil of another establishment, without an INE to
// be sure, is held for an administrator's confirmation (pending).
func (f *feedRun) resolve(ctx context.Context, l *feedLine) (int64, bool, error) {
	fr := l.fr
	if fr.person.INE != "" {
		if id, ok := f.byINE[fr.person.INE]; ok {
			return id, false, nil
		}
	}
	if fr.email != "" {
		if id, ok := f.byMail[fr.email]; ok {
			return id, false, nil
		}
		if id, ok := f.accounts[fr.email]; ok {
			// An account without profile: it gets this one.
			if err := f.w.ensureProfile(ctx, id, fr.person); err != nil {
				return 0, false, err
			}
			p := fr.person
			p.UserID, p.Email, p.DisplayName = id, fr.email, fr.person.FirstName+" "+fr.person.LastName
			f.remember(p)
			return id, false, nil
		}
	}
	key := NameKey(fr.person.LastName, fr.person.FirstName, fr.person.BirthDate)
	if id := f.byKey[key]; id > 0 {
		p := f.people[id]
		if m, ok := f.member[id]; ok && m.profile == fr.profile && (fr.person.INE == "" || p.INE == "" || p.INE == fr.person.INE) {
			return id, false, nil
		}
	}
	if fr.profile != ProfilePupil {
		return 0, false, nil
	}
	var cand *Person
	for _, c := range f.candidates[key] {
		if c.INE == "" || c.INE == fr.person.INE {
			c := c
			cand = &c
			break
		}
	}
	if cand == nil {
		return 0, false, nil
	}
	// A pending match already rejected by an administrator means: another
	// child of the same name; the line then creates a new account.
	var rejected int
	if err := f.w.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM pending_matches WHERE establishment_id = ? AND candidate_id = ? AND school_year = ? AND status = 'rejected'`,
		f.w.est, cand.UserID, f.year).Scan(&rejected); err != nil {
		return 0, false, err
	}
	if rejected > 0 {
		return 0, false, nil
	}
	_, err := f.w.q.ExecContext(ctx, `INSERT INTO pending_matches (establishment_id, candidate_id, school_year, last_name, first_name, birth_date, ine,
		class_code, level, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, f.w.est, cand.UserID, f.year,
		fr.person.LastName, fr.person.FirstName, fr.person.BirthDate, fr.person.INE, fr.class, fr.level, f.w.now)
	if err != nil {
		return 0, false, err
	}
	f.rep.Note(l.line, "", fmt.Sprintf("%s %s (né(e) le %s) ressemble à un élève déjà connu dans un autre établissement : en attente de confirmation",
		fr.person.FirstName, fr.person.LastName, fr.person.BirthDate))
	f.rep.Unchanged++
	return 0, true, nil
}

// update brings a known person's record in line with the line.
func (f *feedRun) update(ctx context.Context, line int, id int64, fr feedRow) (changed, rejected bool, err error) {
	p := f.people[id]
	next := p
	next.LastName, next.FirstName = fr.person.LastName, fr.person.FirstName
	if fr.person.BirthDate != "" {
		next.BirthDate = fr.person.BirthDate
	}
	if fr.person.INE != "" {
		if p.INE != "" && p.INE != fr.person.INE {
			f.reject(line, "INE", fmt.Sprintf("cette personne porte déjà l'INE %s", p.INE))
			return false, true, nil
		}
		next.INE = fr.person.INE
	}
	if p.Profile == fr.profile {
		next.Function = fr.function
	}
	if next.LastName == p.LastName && next.FirstName == p.FirstName && next.BirthDate == p.BirthDate && next.INE == p.INE && next.Function == p.Function {
		return false, false, nil
	}
	if err := f.s.store.updatePerson(ctx, f.w.q, next, f.w.now); err != nil {
		return false, false, err
	}
	f.remember(next)
	return true, false, nil
}

// createAll creates the accounts and profiles of new people, by batches.
// A login already taken (by someone outside the file) is retried with the
// next number.
func (f *feedRun) createAll(ctx context.Context, lines []*feedLine) error {
	login := func(l *feedLine, useMail bool) string {
		if useMail && l.fr.email != "" {
			return l.fr.email
		}
		base := loginPart(l.fr.person.FirstName) + "." + loginPart(l.fr.person.LastName)
		f.logins[base]++
		n := f.logins[base]
		if n == 1 {
			return base + "@" + f.s.opts.LoginDomain
		}
		return fmt.Sprintf("%s%d@%s", base, n, f.s.opts.LoginDomain)
	}
	want := make(map[string]*feedLine, len(lines))
	for _, l := range lines {
		want[login(l, true)] = l
	}
	for round := 0; len(want) > 0; round++ {
		if round > 100 {
			return fmt.Errorf("no free login after %d rounds", round)
		}
		logins := make([]string, 0, len(want))
		for k := range want {
			logins = append(logins, k)
		}
		for start := 0; start < len(logins); start += batchRows {
			chunk := logins[start:min(start+batchRows, len(logins))]
			args := make([]any, 0, 3*len(chunk))
			for _, k := range chunk {
				l := want[k]
				args = append(args, k, l.fr.person.FirstName+" "+l.fr.person.LastName, f.w.now)
			}
			rows, err := f.w.q.QueryContext(ctx, `INSERT INTO users (email, display_name, password_hash, created_at) VALUES `+
				values(len(chunk), "(?, ?, '', ?)")+` ON CONFLICT (email) DO NOTHING RETURNING id, email`, args...)
			if err != nil {
				return fmt.Errorf("insert accounts: %w", err)
			}
			for rows.Next() {
				var id int64
				var email string
				if err := rows.Scan(&id, &email); err != nil {
					rows.Close()
					return err
				}
				if l := want[email]; l != nil {
					l.id = id
					l.fr.person.UserID, l.fr.person.Email = id, email
					delete(want, email)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		// Taken: the next login of the same name.
		retry := make(map[string]*feedLine, len(want))
		for _, l := range want {
			retry[login(l, false)] = l
		}
		want = retry
	}
	for start := 0; start < len(lines); start += batchRows {
		chunk := lines[start:min(start+batchRows, len(lines))]
		args := make([]any, 0, 10*len(chunk))
		for _, l := range chunk {
			p := l.fr.person
			args = append(args, l.id, string(p.Profile), string(p.Function), nullString(p.INE), p.LastName, p.FirstName, p.BirthDate,
				NameKey(p.LastName, p.FirstName, p.BirthDate), f.w.now, f.w.now)
		}
		if _, err := f.w.q.ExecContext(ctx, `INSERT INTO people (user_id, profile, function, ine, last_name, first_name, birth_date, name_key,
			created_at, updated_at) VALUES `+values(len(chunk), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), args...); err != nil {
			return fmt.Errorf("insert people: %w", err)
		}
	}
	for _, l := range lines {
		p := l.fr.person
		p.DisplayName = p.FirstName + " " + p.LastName
		f.remember(p)
		f.seen[l.id] = true
	}
	return nil
}

// values repeats a row of placeholders n times.
func values(n int, row string) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

type linkKey struct{ parent, child int64 }

// attachAll writes the memberships of the lines: in the establishment
// (with the grant of the role), in classes and groups, and parent links.
func (f *feedRun) attachAll(ctx context.Context, lines []*feedLine) error {
	q := f.w.q
	var joins []*feedLine
	for _, l := range lines {
		if l.skip || l.linkOnly {
			continue
		}
		m, isMember := f.member[l.id]
		if isMember && m.profile == l.fr.profile && m.function == l.fr.function {
			continue
		}
		if isMember {
			if old := RoleOf(m.profile, m.function); old != "" && old != RoleOf(l.fr.profile, l.fr.function) {
				if err := f.w.s.store.accounts.RemoveGrant(ctx, q, l.id, f.w.est, old); err != nil {
					return err
				}
			}
		}
		f.member[l.id] = feedMember{profile: l.fr.profile, function: l.fr.function, source: "feed"}
		l.changed = true
		joins = append(joins, l)
	}
	for start := 0; start < len(joins); start += batchRows {
		chunk := joins[start:min(start+batchRows, len(joins))]
		margs := make([]any, 0, 6*len(chunk))
		var gargs []any
		ng := 0
		for _, l := range chunk {
			margs = append(margs, f.w.est, l.id, string(l.fr.profile), string(l.fr.function), "feed", f.w.now)
			if role := RoleOf(l.fr.profile, l.fr.function); role != "" {
				gargs = append(gargs, l.id, string(role), f.w.est, false, f.w.now)
				ng++
			}
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO establishment_members (establishment_id, user_id, profile, function, source, created_at)
			VALUES `+values(len(chunk), "(?, ?, ?, ?, ?, ?)")+` ON CONFLICT (establishment_id, user_id) DO UPDATE
			SET profile = excluded.profile, function = excluded.function`, margs...); err != nil {
			return fmt.Errorf("insert memberships: %w", err)
		}
		if ng > 0 {
			if _, err := q.ExecContext(ctx, `INSERT INTO grants (user_id, role, org_id, recursive, created_at) VALUES `+
				values(ng, "(?, ?, ?, ?, ?)")+` ON CONFLICT DO NOTHING`, gargs...); err != nil {
				return fmt.Errorf("insert grants: %w", err)
			}
		}
	}
	// A suspended person the file brings back is reactivated.
	for _, l := range lines {
		if l.skip || l.created || l.linkOnly {
			continue
		}
		if p, ok := f.people[l.id]; ok && p.SuspendedAt == nil && !p.Disabled {
			continue
		}
		back, err := f.s.store.reactivate(ctx, q, l.id)
		if err != nil {
			return err
		}
		l.changed = l.changed || back
	}
	// Classes and groups.
	type gmRow struct {
		k             gmKey
		role, subject string
		l             *feedLine
	}
	var gms []gmRow
	for _, l := range lines {
		if l.skip {
			continue
		}
		add := func(kind, name, level, role, subject string) error {
			g, err := f.group(ctx, kind, name, level)
			if err != nil {
				return err
			}
			k := gmKey{g, l.id}
			f.seenGM[k] = true
			if st, ok := f.gm[k]; ok && !st.ended && st.role == role && st.subject == subject {
				return nil
			}
			f.gm[k] = gmState{role: role, subject: subject, source: "feed"}
			gms = append(gms, gmRow{k, role, subject, l})
			return nil
		}
		fr := l.fr
		role := RoleMember
		if fr.profile != ProfilePupil {
			role = RoleTeacher
		}
		if fr.class != "" {
			if err := add(KindClass, fr.class, fr.level, RoleMember, ""); err != nil {
				return err
			}
		}
		for _, c := range fr.classes {
			lvl, _ := ParseLevel(c)
			if err := add(KindClass, c, lvl, RoleTeacher, fr.subjects); err != nil {
				return err
			}
		}
		for _, g := range fr.groups {
			if err := add(KindGroup, g, "", role, fr.subjects); err != nil {
				return err
			}
		}
	}
	for start := 0; start < len(gms); start += batchRows {
		chunk := gms[start:min(start+batchRows, len(gms))]
		args := make([]any, 0, 5*len(chunk))
		for _, r := range chunk {
			args = append(args, r.k.group, r.k.user, r.role, r.subject, "feed")
			r.l.changed = true
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, role, subject, source) VALUES `+
			values(len(chunk), "(?, ?, ?, ?, ?)")+` ON CONFLICT (group_id, user_id) DO UPDATE
			SET role = excluded.role, subject = excluded.subject, ended_at = NULL`, args...); err != nil {
			return fmt.Errorf("insert group members: %w", err)
		}
	}
	// Parent links: only the new ones come back, and mark their line.
	byLink := map[linkKey]*feedLine{}
	var links []linkKey
	for _, l := range lines {
		if l.skip {
			continue
		}
		for _, c := range l.children {
			k := linkKey{l.id, c}
			if _, dup := byLink[k]; !dup {
				byLink[k] = l
				links = append(links, k)
			}
		}
	}
	for start := 0; start < len(links); start += batchRows {
		chunk := links[start:min(start+batchRows, len(links))]
		args := make([]any, 0, 3*len(chunk))
		for _, k := range chunk {
			args = append(args, k.parent, k.child, f.w.now)
		}
		rows, err := q.QueryContext(ctx, `INSERT INTO parent_links (parent_id, child_id, created_at) VALUES `+values(len(chunk), "(?, ?, ?)")+
			` ON CONFLICT DO NOTHING RETURNING parent_id, child_id`, args...)
		if err != nil {
			return fmt.Errorf("insert parent links: %w", err)
		}
		for rows.Next() {
			var k linkKey
			if err := rows.Scan(&k.parent, &k.child); err != nil {
				rows.Close()
				return err
			}
			if l := byLink[k]; l != nil {
				l.changed = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
