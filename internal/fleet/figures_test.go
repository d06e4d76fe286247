package fleet

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"socle/internal/platform/auth"
)

// figuresKey is one establishment and purchase year (-1: undated).
type figuresKey struct {
	uai  string
	year int
}

// rowByRow computes the figures the way Ratios and Forecast did before the
// database grouped them: every asset read, its date parsed, its state,
// use and age checked in Go.
func rowByRow(t *testing.T, f *fx, p *auth.Principal, now time.Time) map[figuresKey]YearFigures {
	t.Helper()
	assets, err := f.svc.plannedAssets(f.ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[figuresKey]YearFigures{}
	for _, a := range assets {
		k := figuresKey{a.uai, -1}
		bought, err := time.Parse(dateLayout, a.purchased)
		if err == nil {
			k.year = bought.Year()
		}
		r := out[k]
		r.EstablishmentID, r.UAI, r.Name, r.Dated = a.orgID, a.uai, a.name, err == nil
		if r.Dated {
			r.Year = bought.Year()
		}
		r.Assets++
		if a.state.Active() {
			r.Devices++
			if (a.typ == TypeWorkstation || a.typ == TypeLaptop || a.typ == TypeTablet) && a.use == UsePupils {
				r.PupilDevices++
			}
			if a.typ == TypeBoard {
				r.Boards++
			}
			if err == nil && !now.Before(bought.AddDate(defaultLifetime[a.typ], 0, 0)) {
				r.OverLifetime++
			}
			price := a.priceCents
			if price <= 0 {
				price = defaultUnitPrice[a.typ]
			}
			r.CostCents += price
		}
		out[k] = r
	}
	return out
}

// The grouped figures equal those computed asset by asset, on a small
// fleet with every type, use and state, undated and unpriced devices, and
// purchase days on either side of each lifetime's cut-off (29 February
// included), at several clocks (one of them not in UTC); and they keep the
// caller's scope.
func TestFiguresEqualRowByRow(t *testing.T) {
	f := newFx(t)
	dates := []string{"", "2010-06-15", "2016-09-01", "2018-09-01", "2018-09-02", "2019-03-01", "2020-02-28", "2020-02-29",
		"2020-03-01", "2021-02-28", "2021-03-01", "2021-09-01", "2021-09-02", "2022-08-31", "2022-09-01", "2022-09-02",
		"2023-01-01", "2024-02-29", "2025-12-31", "2026-01-01", "2026-09-01", "2026-09-02", "2027-01-01"}
	uses := []Use{UseNone, UsePupils, UseTeachers, UseAdmin}
	schools := []int64{f.schoolA, f.schoolB, f.schoolC}
	now := time.Now().UTC()
	for i := range 600 {
		typ := Types[i%len(Types)]
		if _, err := f.db.ExecContext(f.ctx, `INSERT INTO assets (establishment_id, type, name, assigned_use, state, purchase_date, price_cents, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, schools[i%len(schools)], typ, fmt.Sprintf("F-%d", i), uses[(i/3)%len(uses)],
			States[(i/7)%len(States)], dates[(i/2)%len(dates)], int64(i%3)*12345, now, now); err != nil {
			t.Fatal(err)
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	clocks := []time.Time{
		time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC),
		time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 2, 28, 23, 59, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 30, 0, 0, paris), // still 2026 in UTC
	}
	for _, clock := range clocks {
		f.svc.now = func() time.Time { return clock }
		for _, p := range []*auth.Principal{f.admin, f.headA} {
			want := rowByRow(t, f, p, clock)
			got, err := f.svc.Figures(f.ctx, p, "")
			if err != nil {
				t.Fatal(err)
			}
			if !got.Now.Equal(clock) {
				t.Errorf("clock %v: figures at %v", clock, got.Now)
			}
			seen := map[figuresKey]bool{}
			over := 0
			for i, r := range got.Rows {
				k := figuresKey{r.UAI, r.Year}
				if !r.Dated {
					k.year = -1
				}
				if i > 0 && (r.UAI < got.Rows[i-1].UAI || r.UAI == got.Rows[i-1].UAI && r.Year < got.Rows[i-1].Year) {
					t.Errorf("clock %v: rows out of order at %d: %+v", clock, i, r)
				}
				seen[k] = true
				over += r.OverLifetime
				if !reflect.DeepEqual(r, want[k]) {
					t.Errorf("clock %v, %s: grouped %+v, row by row %+v", clock, p.User.Email, r, want[k])
				}
			}
			for k := range want {
				if !seen[k] {
					t.Errorf("clock %v: %v missing from the grouped figures", clock, k)
				}
			}
			if len(want) == 0 || over == 0 {
				t.Errorf("clock %v: fixture too thin: %d groups, %d over lifetime", clock, len(want), over)
			}
			if p == f.headA {
				for _, r := range got.Rows {
					if r.UAI != uaiA {
						t.Errorf("head of school A sees %s", r.UAI)
					}
				}
			}
		}
	}

	// One establishment: its rows only; outside the scope: not found.
	one, err := f.svc.Figures(f.ctx, f.admin, uaiB)
	if err != nil || len(one.Rows) == 0 {
		t.Fatalf("figures of B: %+v %v", one, err)
	}
	for _, r := range one.Rows {
		if r.UAI != uaiB {
			t.Errorf("figures of B include %s", r.UAI)
		}
	}
	if _, err := f.svc.Figures(f.ctx, f.headA, uaiB); err == nil {
		t.Error("head of school A reads the figures of B")
	}
}

// The cut-off day is the last purchase day the row by row rule counts as
// past its lifetime.
func TestLifetimeCutoff(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		life int
		want string
	}{
		{time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC), 4, "2022-09-01"},
		{time.Date(2025, 2, 28, 10, 0, 0, 0, time.UTC), 5, "2020-02-28"}, // 29/02/2020 + 5 years is 1 March
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), 5, "2019-02-28"},
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), 4, "2020-02-29"},
		{time.Date(2026, 9, 1, 0, 0, 0, 0, time.FixedZone("", 2*3600)), 0, "2026-08-31"},
	} {
		if got := lifetimeCutoff(c.now, c.life); got != c.want {
			t.Errorf("cut-off at %v for %d years: %s, want %s", c.now, c.life, got, c.want)
		}
	}
}
