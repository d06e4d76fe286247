package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"socle/internal/catalog"
	"socle/internal/helpdesk"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/territory"
)

// staffSpec is a member of a support team. The staff are not demo logins
// listed on the login page (the demo's accounts are one per role); they
// hold the tickets of the history.
type staffSpec struct {
	email, name string
	teams       []string
	grants      []orgKey
}

func staffSpecs() []staffSpec {
	dep := orgKey{territory.KindDepartement, departementCode}
	epci := orgKey{territory.KindEPCI, epciCode}
	return []staffSpec{
		{"morgane.leroux@demo.socle.fr", "Morgane Le Roux — hotline du centre de services", []string{teamHotline}, []orgKey{epci, dep}},
		{"thomas.caradec@demo.socle.fr", "Thomas Caradec — hotline du centre de services", []string{teamHotline}, []orgKey{epci, dep}},
		{"erwan.lefloch@demo.socle.fr", "Erwan Le Floch — technicien de proximité de la Métropole", []string{teamEPCIProximity}, []orgKey{epci}},
		{"nadia.haddad@demo.socle.fr", "Nadia Haddad — technicienne de proximité de la Métropole", []string{teamEPCIProximity}, []orgKey{epci}},
		{"pauline.hamon@demo.socle.fr", "Pauline Hamon — technicienne du Département", []string{teamDepProximity}, []orgKey{dep}},
		{"loic.briand@demo.socle.fr", "Loïc Briand — Armor Numérique Services (prestataire)", []string{teamEPCIContractor}, []orgKey{epci}},
		{"sebastien.kerjean@demo.socle.fr", "Sébastien Kerjean — Kreiz Informatique (prestataire)", []string{teamDepContractor}, []orgKey{dep}},
	}
}

// members maps a team to its technicians (user ids), filled by createStaff.
func (w *seeder) members(team string) []int64 { return w.cat.members[team] }

// createStaff creates the technicians of the teams and writes the team
// memberships, the demo technician's included.
func createStaff(ctx context.Context, w *seeder) error {
	if w.cat == nil || w.helpdesk == nil {
		return nil
	}
	w.cat.members = map[string][]int64{}
	// The password hashing is most of an account's cost: the staff are
	// created side by side, and their ids read back in the list's order so
	// that the history draws the same technicians whatever finished first.
	specs := staffSpecs()
	ids := make([]int64, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		var grants []auth.Grant
		for _, k := range s.grants {
			id, err := w.orgID(k)
			if err != nil {
				return err
			}
			grants = append(grants, auth.Grant{Role: auth.RoleTechnician, OrgID: id, Recursive: true})
		}
		wg.Go(func() {
			ids[i], errs[i] = w.auth.CreateUser(ctx, auth.NewUser{Email: s.email, DisplayName: s.name, Password: Password, Grants: grants})
		})
	}
	wg.Wait()
	for i, s := range specs {
		if errs[i] != nil {
			return fmt.Errorf("create staff %s: %w", s.email, errs[i])
		}
		w.users[s.email] = ids[i]
		for _, t := range s.teams {
			w.cat.members[t] = append(w.cat.members[t], ids[i])
		}
	}
	if id, ok := w.users["technicien@demo.socle.fr"]; ok {
		w.cat.members[teamDepProximity] = append([]int64{id}, w.cat.members[teamDepProximity]...)
	}
	return w.db.InTx(ctx, func(tx *db.Tx) error {
		for name, ids := range w.cat.members {
			for _, u := range ids {
				if _, err := tx.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id) VALUES (?, ?)`, w.cat.teams[name], u); err != nil {
					return fmt.Errorf("team member of %s: %w", name, err)
				}
			}
		}
		return nil
	})
}

// ---- ticket history ----

// historyTarget is about how many tickets the year of history holds.
const historyTarget = 3200

type genEvent struct {
	at     time.Time
	actor  int64
	typ    string
	from   string
	to     string
	detail string
}

type genTicket struct {
	ref                       string
	kind                      string
	title, desc               string
	requesterID               int64
	requesterEmail            string
	est                       int64
	authority                 int64
	commune                   string
	serviceID, requestTypeID  int64
	urgency, impact, priority int
	status                    helpdesk.Status
	reason                    string
	level                     string
	team, tech                int64
	asID, calendarID          int64
	survey                    bool
	created, updated          time.Time
	solved, closed            time.Time
	events                    []genEvent
	sla                       helpdesk.SLA
	checkAt                   time.Time
	surveySent, surveyAnswer  time.Time
	score                     int
	comment                   string
}

// tickets counts the tickets the history step wrote (for the log).
func (w *seeder) tickets() int {
	if w.cat == nil {
		return 0
	}
	return w.cat.tickets
}

type historySchool struct {
	s      *school
	id     int64
	auth   int64
	weight float64
	covers map[string]cover
	prov   *provider
}

// writeTickets generates the year before now of tickets and writes them
// in one transaction, with their events and surveys, as the helpdesk would
// have recorded them; the clocks are computed by helpdesk.ComputeSLA on
// the calendars the catalogue compiles.
func writeTickets(ctx context.Context, w *seeder) error {
	if w.cat == nil || w.helpdesk == nil {
		return nil
	}
	r := newRand("tickets")
	cals := map[int64]*catalog.Calendar{}
	for _, p := range []*provider{w.cat.dep, w.cat.epci} {
		for _, id := range p.calendars {
			c, err := w.catalog.Calendar(ctx, id)
			if err != nil {
				return err
			}
			cals[id] = c
		}
	}
	depID, _ := w.orgID(orgKey{territory.KindDepartement, departementCode})
	var schools []historySchool
	total := 0.0
	for _, s := range w.plan.schools {
		id := w.orgs[orgKey{territory.KindEstablishment, s.UAI}]
		cv := w.cat.covers[id]
		if len(cv) == 0 {
			continue
		}
		h := historySchool{s: s, id: id, covers: cv, prov: w.cat.epci, auth: w.orgs[orgKey{territory.KindCommune, s.CommuneCode}]}
		if s.kind == kindCollege {
			h.prov, h.auth = w.cat.dep, depID
		}
		pupils := 100
		if n := len(s.enrolments); n > 0 {
			pupils = s.enrolments[n-1].Pupils
		}
		h.weight = math.Pow(float64(max(pupils, 30)), 0.85)
		total += h.weight
		schools = append(schools, h)
	}
	cum := make([]float64, len(schools))
	acc := 0.0
	for i, h := range schools {
		acc += h.weight
		cum[i] = acc / total
	}
	paris := cals[w.cat.epci.calendars["assist"]].Location()
	hotlineCal := cals[w.cat.epci.calendars["assist"]]
	now := w.now.UTC()
	todayP := now.In(paris)
	end := time.Date(todayP.Year(), todayP.Month(), todayP.Day(), 0, 0, 0, 0, paris)
	start := end.AddDate(-1, 0, 0)

	// Seasonality: a day's weight.
	type day struct {
		at time.Time
		f  float64
	}
	var days []day
	sum := 0.0
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		f := 1.0
		wd := d.Weekday()
		if wd == time.Saturday || wd == time.Sunday {
			f = 0.04
		}
		for _, h := range zoneBHolidays {
			from, _ := time.ParseInLocation(time.DateOnly, h.from, paris)
			to, _ := time.ParseInLocation(time.DateOnly, h.to, paris)
			switch {
			case !d.Before(from) && d.Before(to):
				if h.description == "Vacances d'Été" {
					f *= 0.12
				} else {
					f *= 0.3
				}
			case !d.Before(to) && d.Before(to.AddDate(0, 0, 7)):
				// The week after holidays: what broke meanwhile.
				f *= 1.6
				if h.description == "Vacances d'Été" {
					f *= 1.8 // the rentrée
				}
			case !d.Before(to.AddDate(0, 0, 7)) && d.Before(to.AddDate(0, 0, 30)) && h.description == "Vacances d'Été":
				f *= 1.7
			}
		}
		days = append(days, day{d, f})
		sum += f
	}
	perUnit := historyTarget / sum

	demoEcole, demoCollege := w.plan.demoEcole().UAI, w.plan.demoCollege().UAI
	seq := map[int]int{}
	var list []*genTicket
	for _, d := range days {
		x := perUnit * d.f
		n := int(x)
		if r.Float64() < x-float64(n) {
			n++
		}
		for range n {
			// Opening hours, mostly; a few mails in the evening.
			minute := 7*60 + 45 + r.IntN(10*60)
			if r.IntN(20) == 0 {
				minute = 18*60 + r.IntN(4*60)
			}
			created := d.at.Add(time.Duration(minute)*time.Minute + time.Duration(r.IntN(60))*time.Second)
			if !created.Before(now) {
				continue
			}
			i := sort.SearchFloat64s(cum, r.Float64())
			h := schools[min(i, len(schools)-1)]
			t := w.genTicket(r, h, created, cals, hotlineCal, demoEcole, demoCollege)
			list = append(list, t)
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].created.Before(list[j].created) })
	for _, t := range list {
		y := t.created.In(paris).Year()
		seq[y]++
		t.ref = fmt.Sprintf("T-%d-%06d", y, seq[y])
		t.cut(now)
		if err := t.computeClocks(cals); err != nil {
			return fmt.Errorf("clocks of %s: %w", t.ref, err)
		}
	}
	w.cat.tickets = len(list)
	return w.db.InTx(ctx, func(tx *db.Tx) error { return insertTickets(ctx, tx, list, seq) })
}

var titleDetails = []string{"salle 12", "salle informatique", "bureau de la direction", "CDI", "salle des maîtres", "classe de CM1",
	"salle 104", "salle de sciences", "vie scolaire", "secrétariat", "classe de CP", "salle polyvalente", "laboratoire de langues"}

// genTicket draws one ticket and its whole life, which cut then trims at
// now.
func (w *seeder) genTicket(r *rand.Rand, h historySchool, created time.Time, cals map[int64]*catalog.Calendar, hotlineCal *catalog.Calendar, demoEcole, demoCollege string) *genTicket {
	t := &genTicket{est: h.id, authority: h.auth, commune: h.s.CommuneCode, created: created, level: helpdesk.LevelN1}
	// Service: by weight; a few tickets name none ("autre demande").
	x := r.Float64()
	var svc *demoService
	for i := range demoServices {
		s := &demoServices[i]
		if s.weight == 0 {
			continue
		}
		if _, ok := h.covers[s.code]; !ok {
			continue
		}
		if x < s.weight {
			svc = s
			break
		}
		x -= s.weight
	}
	var cv cover
	var cal *catalog.Calendar
	var tto, ttr catalog.Delay
	if svc != nil {
		cv = h.covers[svc.code]
		cal = cals[cv.calendarID]
		o := h.prov.services[svc.code]
		t.serviceID = o.ID
		var typ catalog.RequestType
		if r.IntN(100) < 65 {
			typ = pickType(r, o.RequestTypes, catalog.KindIncident)
		} else {
			typ = pickType(r, o.RequestTypes, catalog.KindRequest)
		}
		t.requestTypeID, t.kind = typ.ID, typ.Kind
		t.title = typ.Name + " — " + pick(r, titleDetails)
		t.desc = "Signalé par l'établissement : " + strings.ToLower(typ.Name[:1]) + typ.Name[1:] + " (" + pick(r, titleDetails) + ")."
		t.asID, t.survey, t.calendarID = cv.agreementServiceID, cv.survey, cv.calendarID
	} else {
		t.kind = string(helpdesk.KindIncident)
		t.title = "Autre demande — " + pick(r, titleDetails)
		t.desc = "Demande sans service précisé, à qualifier par la hotline."
		cal = hotlineCal
	}
	t.urgency = []int{1, 2, 2, 3, 3, 3, 3, 3, 4, 4}[r.IntN(10)]
	t.impact = []int{2, 3, 3, 3, 4, 4, 4, 5}[r.IntN(8)]
	t.priority = helpdesk.DefaultMatrix().Priority(t.urgency, t.impact)
	if svc != nil {
		l := demoLevels[t.kind][t.priority-1]
		tto, _ = catalog.ParseDelay(l[0])
		ttr, _ = catalog.ParseDelay(l[1])
	}
	source := "mail"
	t.requesterEmail = h.s.Email
	switch {
	case h.s.UAI == demoEcole && r.IntN(3) > 0:
		t.requesterID, source = w.users["direction.ecole@demo.socle.fr"], "web"
		t.requesterEmail = "direction.ecole@demo.socle.fr"
	case h.s.UAI == demoCollege && r.IntN(3) > 0:
		t.requesterID, source = w.users["principal.college@demo.socle.fr"], "web"
		t.requesterEmail = "principal.college@demo.socle.fr"
	}
	levelRef, levelDetail := "", "null"
	if svc != nil {
		levelRef = cv.reference
		b, _ := json.Marshal(helpdesk.Targets{TTO: tto, TTR: ttr})
		levelDetail = string(b)
	}
	teams := map[string]int64{helpdesk.LevelN1: h.prov.n1, helpdesk.LevelN2: h.prov.n2, helpdesk.LevelN3: h.prov.n3}
	names := map[string]string{helpdesk.LevelN1: teamHotline, helpdesk.LevelN2: teamEPCIProximity, helpdesk.LevelN3: teamEPCIContractor}
	if h.prov == w.cat.dep {
		names[helpdesk.LevelN2], names[helpdesk.LevelN3] = teamDepProximity, teamDepContractor
	}
	holder := func(at time.Time, typ string, actor int64, from, level string, tech int64, note string) {
		b, _ := json.Marshal(struct {
			Level        string `json:"level"`
			TeamID       int64  `json:"team_id,omitempty"`
			TechnicianID int64  `json:"technician_id,omitempty"`
			Note         string `json:"note,omitempty"`
		}{level, teams[level], tech, note})
		t.events = append(t.events, genEvent{at: at, actor: actor, typ: typ, from: from, to: level, detail: string(b)})
	}
	status := func(at time.Time, actor int64, from, to, detail string) {
		t.events = append(t.events, genEvent{at: at, actor: actor, typ: "status", from: from, to: to, detail: detail})
	}
	tech := func(level string) int64 { return pick(r, w.members(names[level])) }

	// Creation, as helpdesk.Service.create records it.
	status(created, t.requesterID, "", "new", source)
	holder(created, "assign", 0, "", helpdesk.LevelN1, 0, "rule")
	t.events = append(t.events, genEvent{at: created, typ: "level", to: levelRef, detail: levelDetail})

	// Budgets in open time of the service's calendar; without a
	// convention, a working day.
	budget := func(d catalog.Delay, fallback time.Duration) time.Duration {
		if d.IsZero() {
			return fallback
		}
		b, err := cal.Budget(created, d)
		if err != nil || b <= 0 {
			return fallback
		}
		return b
	}
	ttoB, ttrB := budget(tto, 4*time.Hour), budget(ttr, 16*time.Hour)
	// Instants are whole seconds, as PostgreSQL keeps microseconds only:
	// clocks recomputed from the stored events must give the stored dues.
	after := func(from time.Time, open time.Duration) time.Time {
		at, _, err := cal.Deadline(from, max(open, time.Minute).Truncate(time.Second))
		if err != nil {
			return from.Add(open).Truncate(time.Second)
		}
		return at.Truncate(time.Second)
	}
	// Owned within the target mostly; one in twelve late.
	frac := 0.05 + 0.8*r.Float64()*r.Float64()
	if r.IntN(12) == 0 {
		frac = 1.05 + 1.5*r.Float64()
	}
	own := after(created, time.Duration(frac*float64(ttoB)))
	n1 := tech(helpdesk.LevelN1)
	holder(own, "assign", n1, helpdesk.LevelN1, helpdesk.LevelN1, n1, "")
	status(own, n1, "new", "assigned", "")
	cur, curTech := helpdesk.LevelN1, n1

	// Solved after a share of the resolution budget; one in ten late.
	rfrac := 0.1 + 0.75*r.Float64()
	if r.IntN(10) == 0 {
		rfrac = 1.05 + 1.2*r.Float64()
	}
	consumed, _ := cal.OpenDuration(created, own)
	left := max(time.Duration(rfrac*float64(ttrB))-consumed, 10*time.Minute)
	at := own
	// Escalation: on-site services go to proximity technicians, a few to
	// the contractor.
	final := helpdesk.LevelN1
	switch p := r.IntN(100); {
	case svc != nil && svc.onSite && p < 70, p < 20:
		final = helpdesk.LevelN2
		if p < 8 {
			final = helpdesk.LevelN3
		}
	}
	steps := levelNum(final) - 1
	pauseAt := -1
	if r.IntN(100) < 18 {
		steps++ // a pause
		pauseAt = r.IntN(steps)
	}
	chunk := left / time.Duration(steps+1)
	for i := range steps {
		at = after(at, chunk)
		if i == pauseAt {
			reason := []string{helpdesk.ReasonRequester, helpdesk.ReasonRequester, helpdesk.ReasonThirdParty, helpdesk.ReasonOther}[r.IntN(4)]
			if cur == helpdesk.LevelN3 {
				reason = helpdesk.ReasonThirdParty
			}
			status(at, curTech, "assigned", "pending", reason)
			at = at.Add(time.Duration(4+r.IntN(6*24)) * time.Hour)
			actor := curTech
			if reason == helpdesk.ReasonRequester && t.requesterID != 0 {
				actor = t.requesterID
			}
			status(at, actor, "pending", "assigned", "")
			continue
		}
		next := nextLevelOf(cur)
		holder(at, "escalate", curTech, cur, next, 0, pick(r, escalationReasons[next]))
		cur = next
		at = at.Add(time.Duration(10+r.IntN(180)) * time.Minute)
		curTech = tech(cur)
		holder(at, "assign", curTech, cur, cur, curTech, "")
	}
	solved := after(at, chunk)
	status(solved, curTech, "assigned", "solved", "")
	// Closed by the requester or automatically after a week.
	closed := solved.Add(time.Duration(2+r.IntN(7*24)) * time.Hour)
	closer := int64(0)
	if t.requesterID != 0 && r.IntN(2) == 0 {
		closer = t.requesterID
	}
	status(closed, closer, "solved", "closed", "")
	if t.survey {
		t.surveySent = closed
		if r.IntN(100) < 38 {
			t.surveyAnswer = closed.Add(time.Duration(30+r.IntN(3*24*60)) * time.Minute)
			t.score = []int{5, 5, 5, 4, 4, 4, 4, 3, 3, 2, 1}[r.IntN(11)]
			if rfrac > 1 {
				t.score = max(1, t.score-2)
			}
			if r.IntN(4) == 0 {
				t.comment = pick(r, surveyComments[t.score-1])
			}
		}
	}
	return t
}

var escalationReasons = map[string][]string{
	helpdesk.LevelN2: {"Intervention sur place nécessaire", "Matériel à remplacer", "Diagnostic à distance impossible"},
	helpdesk.LevelN3: {"Panne sous garantie : renvoi au prestataire", "Équipement de cœur de réseau", "Pièce à commander chez le prestataire"},
}

var surveyComments = [5][]string{
	{"Trois semaines sans vidéoprojecteur, c'est trop long.", "Personne ne nous a tenus informés."},
	{"Réparé, mais après plusieurs relances."},
	{"Correct.", "Délai un peu long pendant la période de rentrée."},
	{"Merci pour l'intervention rapide.", "Technicien aimable et efficace."},
	{"Parfait, merci !", "Très réactif, problème réglé dans la journée.", "Merci à la hotline pour sa patience."},
}

func levelNum(l string) int {
	switch l {
	case helpdesk.LevelN2:
		return 2
	case helpdesk.LevelN3:
		return 3
	}
	return 1
}

func nextLevelOf(l string) string {
	if l == helpdesk.LevelN1 {
		return helpdesk.LevelN2
	}
	return helpdesk.LevelN3
}

func pickType(r *rand.Rand, types []catalog.RequestType, kind string) catalog.RequestType {
	var of []catalog.RequestType
	for _, t := range types {
		if t.Kind == kind {
			of = append(of, t)
		}
	}
	if len(of) == 0 {
		return pick(r, types)
	}
	return pick(r, of)
}

// cut keeps what happened before now and sets the ticket's fields from it.
func (t *genTicket) cut(now time.Time) {
	kept := t.events[:0]
	for _, e := range t.events {
		if e.at.After(now) {
			break
		}
		kept = append(kept, e)
	}
	t.events = kept
	t.status = helpdesk.StatusNew
	for _, e := range t.events {
		t.updated = e.at
		switch e.typ {
		case "status":
			t.status, t.reason = helpdesk.Status(e.to), ""
			if t.status == helpdesk.StatusPending {
				t.reason = e.detail
			}
			switch t.status {
			case helpdesk.StatusSolved:
				t.solved = e.at
			case helpdesk.StatusClosed:
				t.closed = e.at
			}
		case "assign", "escalate":
			var hd struct {
				Level        string `json:"level"`
				TeamID       int64  `json:"team_id"`
				TechnicianID int64  `json:"technician_id"`
			}
			_ = json.Unmarshal([]byte(e.detail), &hd)
			t.level, t.team, t.tech = hd.Level, hd.TeamID, hd.TechnicianID
		}
	}
	if t.closed.IsZero() || t.surveySent.After(now) {
		t.surveySent, t.surveyAnswer = time.Time{}, time.Time{}
	}
	if t.surveyAnswer.IsZero() || t.surveyAnswer.After(now) {
		t.surveyAnswer, t.comment = time.Time{}, ""
	}
}

// Timeline is the ticket's events as helpdesk.ComputeSLA reads them (the
// helpdesk's own timeline function, restated on the generated events).
func (t *genTicket) Timeline() helpdesk.Timeline {
	tl := helpdesk.Timeline{Created: t.created}
	for _, e := range t.events {
		switch e.typ {
		case "status":
			if e.to != string(helpdesk.EventNew) {
				tl.Events = append(tl.Events, helpdesk.StatusEvent{At: e.at, Kind: helpdesk.EventKind(e.to)})
			}
		case "level":
			if e.detail != "null" {
				var tg helpdesk.Targets
				if json.Unmarshal([]byte(e.detail), &tg) == nil {
					tl.Targets = &tg
				}
			}
		}
	}
	return tl
}

// computeClocks computes the clocks as the helpdesk's last refresh did, at
// the ticket's last change, and the next clock check of a running one.
func (t *genTicket) computeClocks(cals map[int64]*catalog.Calendar) error {
	tl := t.Timeline()
	if tl.Targets == nil {
		t.sla = helpdesk.SLA{TTO: helpdesk.Clock{State: helpdesk.ClockNone}, TTR: helpdesk.Clock{State: helpdesk.ClockNone}}
		return nil
	}
	cal := cals[t.calendarID]
	sla, err := helpdesk.ComputeSLA(cal, tl, t.updated)
	if err != nil {
		return err
	}
	t.sla = sla
	for _, c := range []helpdesk.Clock{sla.TTO, sla.TTR} {
		var at time.Time
		switch c.State {
		case helpdesk.ClockRunning:
			left := c.Budget.Duration()*75/100 - c.Consumed.Duration()
			at = t.updated
			if left > 0 {
				if at, _, err = cal.Deadline(t.updated, left); err != nil {
					at = c.Due
				}
			}
		case helpdesk.ClockWarning, helpdesk.ClockBreached:
			at = t.updated
		default:
			continue
		}
		if t.checkAt.IsZero() || at.Before(t.checkAt) {
			t.checkAt = at
		}
	}
	return nil
}

func nullInt(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullAt(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// insertTickets writes the tickets in batches of multi-row inserts: one
// statement per few hundred rows keeps the seed fast on both engines.
func insertTickets(ctx context.Context, tx *db.Tx, list []*genTicket, seq map[int]int) error {
	const cols = `reference, kind, title, description, requester_id, requester_email, establishment_id, authority_id, commune_code,
		service_id, request_type_id, urgency, impact, priority, status, pending_reason, level, team_id, technician_id,
		agreement_service_id, tto_due, ttr_due, owned_at, solved_at, closed_at, tto_met, ttr_met, resolve_open_seconds,
		sla_check_at, survey_enabled, created_at, updated_at`
	const n = 32
	ids := map[string]int64{}
	for lo := 0; lo < len(list); lo += 300 {
		batch := list[lo:min(lo+300, len(list))]
		args := make([]any, 0, n*len(batch))
		rows := make([]string, 0, len(batch))
		row := "(" + db.Placeholders(n) + ")"
		for _, t := range batch {
			var ttoDue, ttrDue, owned time.Time
			var ttoMet, ttrMet, resolve any
			if c := t.sla.TTO; c.State != helpdesk.ClockNone {
				ttoDue, owned = c.Due, c.StoppedAt
				if !c.StoppedAt.IsZero() {
					ttoMet = c.State == helpdesk.ClockMet
				}
			}
			if c := t.sla.TTR; c.State != helpdesk.ClockNone {
				ttrDue = c.Due
				if !c.StoppedAt.IsZero() {
					ttrMet = c.State == helpdesk.ClockMet
					resolve = int64(c.Consumed.Duration() / time.Second)
				}
			}
			rows = append(rows, row)
			args = append(args, t.ref, t.kind, t.title, t.desc, nullInt(t.requesterID), t.requesterEmail, t.est, nullInt(t.authority), t.commune,
				nullInt(t.serviceID), nullInt(t.requestTypeID), t.urgency, t.impact, t.priority, string(t.status), t.reason, t.level,
				nullInt(t.team), nullInt(t.tech), nullInt(t.asID), nullAt(ttoDue), nullAt(ttrDue), nullAt(owned), nullAt(t.solved),
				nullAt(t.closed), ttoMet, ttrMet, resolve, nullAt(t.checkAt), t.survey, t.created.UTC(), t.updated.UTC())
		}
		res, err := tx.QueryContext(ctx, `INSERT INTO tickets (`+cols+`) VALUES `+strings.Join(rows, ", ")+` RETURNING id, reference`, args...)
		if err != nil {
			return fmt.Errorf("insert tickets: %w", err)
		}
		for res.Next() {
			var id int64
			var ref string
			if err := res.Scan(&id, &ref); err != nil {
				res.Close()
				return err
			}
			ids[ref] = id
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
	}
	// Events and surveys, batched likewise.
	var evArgs []any
	var evRows []string
	flush := func() error {
		if len(evRows) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ticket_events (ticket_id, at, actor_id, type, from_value, to_value, detail) VALUES `+
			strings.Join(evRows, ", "), evArgs...)
		evArgs, evRows = evArgs[:0], evRows[:0]
		if err != nil {
			return fmt.Errorf("insert ticket events: %w", err)
		}
		return nil
	}
	var svArgs []any
	var svRows []string
	for _, t := range list {
		id := ids[t.ref]
		for _, e := range t.events {
			evRows = append(evRows, "(?, ?, ?, ?, ?, ?, ?)")
			evArgs = append(evArgs, id, e.at.UTC(), nullInt(e.actor), e.typ, e.from, e.to, e.detail)
			if len(evRows) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if !t.surveySent.IsZero() {
			var score any
			if !t.surveyAnswer.IsZero() {
				score = t.score
			}
			svRows = append(svRows, "(?, ?, ?, ?, ?, ?)")
			// The token was mailed and is not kept: a hash of nothing
			// anyone holds.
			svArgs = append(svArgs, id, fmt.Sprintf("demo-%s", t.ref), t.surveySent.UTC(), nullAt(t.surveyAnswer), score, t.comment)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for lo := 0; lo < len(svRows); lo += 1000 {
		hi := min(lo+1000, len(svRows))
		_, err := tx.ExecContext(ctx, `INSERT INTO satisfaction_surveys (ticket_id, token_hash, sent_at, answered_at, score, comment) VALUES `+
			strings.Join(svRows[lo:hi], ", "), svArgs[lo*6:hi*6]...)
		if err != nil {
			return fmt.Errorf("insert surveys: %w", err)
		}
	}
	for y, last := range seq {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_sequences (year, last_number) VALUES (?, ?)`, y, last); err != nil {
			return fmt.Errorf("ticket sequence %d: %w", y, err)
		}
	}
	return nil
}
