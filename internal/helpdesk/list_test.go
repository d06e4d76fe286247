package helpdesk

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"socle/internal/platform/auth"
)

// TestListScopeOrderAndPages checks the ticket list against a brute-force
// answer: the tickets of the caller's scope plus the caller's own, once
// each, newest first with the id as tie-break, on shallow pages (taken
// establishment by establishment) and deep ones (the whole scope sorted),
// with and without filters, for a scoped agent, a head of one school, a
// teacher who sees only their own tickets and a platform administrator.
func TestListScopeOrderAndPages(t *testing.T) {
	f := newFixture(t)
	var outside int64
	now := time.Now().UTC()
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES ('establishment', ?, 'Ailleurs', ?, ?) RETURNING id`,
		uaiOf(10290001), now, now).Scan(&outside); err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, est, requester int64
		status             Status
		priority           int
		created            time.Time
	}
	var all []row
	statuses := []Status{StatusNew, StatusClosed, StatusClosed, StatusAssigned, StatusClosed}
	base := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	ests := []int64{f.estA, f.estB, outside}
	for i := range 560 {
		r := row{est: ests[i%3], status: statuses[i%len(statuses)], priority: 1 + i%5,
			// Pairs share an instant: the id breaks the tie.
			created: base.Add(time.Duration(i/2) * time.Hour)}
		switch i % 7 {
		case 0:
			r.requester = f.teacher.id
		case 3:
			r.requester = f.headB.id
		}
		var req any
		if r.requester != 0 {
			req = r.requester
		}
		if err := f.db.QueryRowContext(f.ctx, `INSERT INTO tickets (reference, kind, title, establishment_id, requester_id, priority, status,
			created_at, updated_at) VALUES (?, 'incident', 'Essai', ?, ?, ?, ?, ?, ?) RETURNING id`,
			fmt.Sprintf("T-%04d", i), r.est, req, r.priority, string(r.status), r.created, r.created).Scan(&r.id); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	in := func(ids ...int64) func(r row, user int64) bool {
		return func(r row, user int64) bool { return slices.Contains(ids, r.est) || r.requester == user }
	}
	who := []struct {
		name    string
		acc     account
		visible func(r row, user int64) bool
	}{
		{"technicien de la commune", f.tech, in(f.estA, f.estB)},
		{"directeur de l'école B", f.headB, in(f.estB)},
		{"enseignant", f.teacher, in()},
		{"administrateur", f.admin, func(row, int64) bool { return true }},
	}
	filters := []Filter{
		{Limit: 50},
		{Status: StatusClosed, Limit: 50},
		{Status: StatusClosed, Limit: 50, Offset: 50},
		{Limit: 30, Offset: 250}, // deeper than listTopPerEstablishment
		{Status: StatusClosed, Limit: 40, Offset: 180},
		{Priority: 2, Limit: 20},
		{Sort: "priority", Limit: 25, Offset: 10},
		{Sort: "-created", Status: StatusNew, Limit: 10},
	}
	for _, w := range who {
		p := f.principal(w.acc)
		for _, flt := range filters {
			var want []row
			for _, r := range all {
				if w.visible(r, w.acc.id) && (flt.Status == "" || r.status == flt.Status) && (flt.Priority == 0 || r.priority == flt.Priority) {
					want = append(want, r)
				}
			}
			slices.SortFunc(want, func(a, b row) int {
				switch flt.Sort {
				case "priority":
					if a.priority != b.priority {
						return a.priority - b.priority
					}
					if c := a.created.Compare(b.created); c != 0 {
						return c
					}
					return int(a.id - b.id)
				case "-created":
					if c := a.created.Compare(b.created); c != 0 {
						return c
					}
					return int(a.id - b.id)
				}
				if c := b.created.Compare(a.created); c != 0 {
					return c
				}
				return int(b.id - a.id)
			})
			total := len(want)
			want = want[min(flt.Offset, len(want)):min(flt.Offset+flt.Limit, len(want))]
			res, err := f.svc.List(f.ctx, p, flt)
			if err != nil {
				t.Fatalf("%s %+v: %v", w.name, flt, err)
			}
			if res.Total != total || res.TotalCapped {
				t.Errorf("%s %+v: total %d (capped %v), want %d", w.name, flt, res.Total, res.TotalCapped, total)
			}
			var got, exp []int64
			for _, it := range res.Items {
				got = append(got, it.ID)
			}
			for _, r := range want {
				exp = append(exp, r.id)
			}
			if !slices.Equal(got, exp) {
				t.Errorf("%s %+v: ids\n got %v\nwant %v", w.name, flt, got, exp)
			}
		}
	}
	if total := len(all); total != 560 {
		t.Fatalf("fixture wrote %d tickets", total)
	}
	// Nobody: no grant, no own ticket.
	res, err := f.svc.List(f.ctx, &auth.Principal{User: auth.User{ID: 1 << 40, Email: "x@y.test"}}, Filter{Limit: 50})
	if err != nil || res.Total != 0 || len(res.Items) != 0 {
		t.Fatalf("stranger: %+v, %v", res, err)
	}
}
