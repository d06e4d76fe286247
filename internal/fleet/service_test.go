package fleet

import (
	"strings"
	"testing"
	"time"

	"socle/internal/platform/problem"
)

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"10.2", "9.8", 1}, {"1.2.3", "1.2.3", 0}, {"7.6.4", "7.6.10", -1}, {"128.0", "128.0.1", -1},
		{"1.0-beta", "1.0-alpha", 1}, {"", "1", -1}, {"2:1.0", "1:9.0", 1},
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestBookValueAndWarranty(t *testing.T) {
	a := Asset{PurchaseDate: "2024-01-01", PriceCents: 100000, WarrantyStart: "2024-01-15", WarrantyMonths: 36}
	for _, tc := range []struct {
		at   string
		want int64
	}{{"2023-06-01", 100000}, {"2024-01-01", 100000}, {"2026-01-01", 50000}, {"2028-01-01", 0}, {"2030-01-01", 0}} {
		at, _ := time.Parse(dateLayout, tc.at)
		// 4 years for a laptop; a day's rounding is tolerated.
		if got := a.BookValueCents(at, 4); got < tc.want-100 || got > tc.want+100 {
			t.Errorf("value on %s = %d, want about %d", tc.at, got, tc.want)
		}
	}
	if got := a.WarrantyEnd().Format(dateLayout); got != "2027-01-15" {
		t.Errorf("warranty end %s", got)
	}
	if !(Asset{}).WarrantyEnd().IsZero() {
		t.Error("unknown warranty has an end")
	}
}

func TestCreateValidatesAndRecordsHistory(t *testing.T) {
	f := newFx(t)
	_, err := f.svc.Create(f.ctx, f.admin, Asset{UAI: uaiA, Type: "toaster", State: "broken", PurchaseDate: "01/02/2024", PriceCents: -1})
	p, ok := problem.As(err)
	if !ok || p.Status != 400 || len(p.Fields) != 4 {
		t.Fatalf("validation: %v", err)
	}
	// A school head reads but does not write the fleet.
	if _, err := f.svc.Create(f.ctx, f.headA, Asset{UAI: uaiA, Type: TypeBoard}); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("head creates: %v", err)
	}
	d, err := f.svc.Create(f.ctx, f.admin, Asset{UAI: "0350001a", Type: TypeBoard, Room: "CM2", Use: UsePupils, PurchaseDate: "2020-09-01", PriceCents: 250000, Funding: FundingState})
	if err != nil {
		t.Fatal(err)
	}
	if d.UAI != uaiA || d.State != StateInUse || len(d.History) != 1 || d.History[0].Kind != "created" {
		t.Fatalf("%+v", d)
	}
	if _, err := f.svc.Asset(f.ctx, f.headA, d.ID); err != nil {
		t.Fatalf("head A reads its school's asset: %v", err)
	}
	if _, err := f.svc.List(f.ctx, f.headA, Filter{UAI: uaiB}); err == nil {
		t.Fatal("head A lists school B")
	}
}

func (f *fx) asset(uai string, typ Type, use Use, bought string, price int64) int64 {
	f.t.Helper()
	d, err := f.svc.Create(f.ctx, f.admin, Asset{UAI: uai, Type: typ, Use: use, PurchaseDate: bought, PriceCents: price})
	if err != nil {
		f.t.Fatal(err)
	}
	return d.ID
}

func TestForecast(t *testing.T) {
	f := newFx(t)                                                  // now is 2026-09-01
	f.asset(uaiA, TypeWorkstation, UsePupils, "2019-05-01", 60000) // due 2024: overdue → 2026
	f.asset(uaiA, TypeLaptop, UsePupils, "2023-05-01", 0)          // due 2027, default price
	f.asset(uaiA, TypeBoard, UsePupils, "2024-05-01", 300000)      // due 2031: beyond horizon
	f.asset(uaiA, TypeTablet, UsePupils, "", 0)                    // undated
	f.asset(uaiB, TypeSwitch, UseAdmin, "2020-01-10", 120000)      // due 2028
	res, err := f.svc.Forecast(f.ctx, f.admin, ForecastOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Years) != 5 || res.Years[0] != 2026 || len(res.Rows) != 2 {
		t.Fatalf("%+v", res)
	}
	a := res.Rows[0]
	if a.UAI != uaiA || a.Devices[0] != 1 || a.CostCents[0] != 60000 || a.Devices[1] != 1 || a.CostCents[1] != 80000 || a.Undated != 1 {
		t.Fatalf("school A %+v", a)
	}
	if res.TotalDevices[2] != 1 || res.TotalCostCents[2] != 120000 {
		t.Fatalf("totals %+v %+v", res.TotalDevices, res.TotalCostCents)
	}
	// Territory prices override purchase prices; out of scope is absent.
	res, err = f.svc.Forecast(f.ctx, f.headA, ForecastOptions{UnitPrices: map[Type]int64{TypeWorkstation: 90000}})
	if err != nil || len(res.Rows) != 1 || res.Rows[0].CostCents[0] != 90000 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestRatiosAndSoftwareCatalogue(t *testing.T) {
	f := newFx(t)
	for range 4 {
		f.asset(uaiA, TypeLaptop, UsePupils, "2025-01-01", 0)
	}
	f.asset(uaiA, TypeWorkstation, UseTeachers, "2018-01-01", 0) // over lifetime, not for pupils
	f.asset(uaiA, TypeBoard, UsePupils, "2022-01-01", 0)
	f.asset(uaiB, TypeTablet, UsePupils, "2021-01-01", 0) // over lifetime (4 years)
	for _, e := range []struct {
		uai, year, source string
		pupils, classes   int
	}{{uaiA, "2024-2025", "ecoles", 110, 5}, {uaiA, "2025-2026", "ecoles", 100, 4}, {uaiA, "2025-2026", "second-degre", 90, 4}, {uaiB, "2025-2026", "ecoles", 30, 2}} {
		if _, err := f.db.ExecContext(f.ctx, `INSERT INTO enrolments (uai, school_year, source, pupils, classes) VALUES (?, ?, ?, ?, ?)`,
			e.uai, e.year, e.source, e.pupils, e.classes); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.svc.Ratios(f.ctx, f.admin, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Establishments) != 2 || len(r.Communes) != 1 {
		t.Fatalf("%+v", r)
	}
	a := r.Establishments[0]
	if a.SchoolYear != "2025-2026" || a.Pupils != 100 || a.PupilDevices != 4 || a.PupilsPerDevice != 25 || a.BoardsPerClass != 0.25 || a.OverLifetime != 1 || a.Devices != 6 {
		t.Fatalf("school A %+v", a)
	}
	c := r.Communes[0]
	if c.Code != "35238" || c.Name != "Rennes" || c.Pupils != 130 || c.PupilDevices != 5 || c.PupilsPerDevice != 26 || c.OverLifetimeShare != round2(2.0/7) {
		t.Fatalf("commune %+v", c)
	}

	// Software: school A runs an old Firefox, school B the newest.
	h := NewAgentHandler(f.svc, AgentOptions{})
	for _, m := range []machine{
		{tag: uaiA, name: "A1", serial: "A1", software: [][3]string{{"Firefox", "9.8", "Mozilla"}, {"VLC", "3.0.20", "VideoLAN"}}},
		{tag: uaiA, name: "A2", serial: "A2", software: [][3]string{{"Firefox", "9.8", "Mozilla"}}},
		{tag: uaiB, name: "B1", serial: "B1", software: [][3]string{{"Firefox", "10.2", "Mozilla"}}},
	} {
		if rec := post(t, h, "/ocsinventory", "", []byte(m.xml())); rec.Code != 200 {
			t.Fatal(rec.Body)
		}
	}
	sw, err := f.svc.EstablishmentSoftware(f.ctx, f.headA, uaiA)
	if err != nil || len(sw) != 2 {
		t.Fatalf("%+v %v", sw, err)
	}
	if sw[0].Name != "Firefox" || sw[0].Machines != 2 || sw[0].Latest != "10.2" || !sw[0].Outdated || sw[1].Outdated {
		t.Fatalf("%+v", sw)
	}
	if _, err := f.svc.EstablishmentSoftware(f.ctx, f.headA, uaiB); err == nil {
		t.Fatal("head A reads school B's software")
	}
}

func TestUpdateRecordsLifecycle(t *testing.T) {
	f := newFx(t)
	d, err := f.svc.Create(f.ctx, f.admin, Asset{UAI: uaiA, Type: TypeProjector, Room: "CM1"})
	if err != nil {
		t.Fatal(err)
	}
	in := d.Asset
	in.State, in.Room, in.UAI = StateRepair, "Atelier", uaiB
	if _, err := f.svc.Update(f.ctx, f.headA, d.ID, in); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("head updates: %v", err)
	}
	got, err := f.svc.Update(f.ctx, f.admin, d.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateRepair || got.UAI != uaiB || len(got.History) != 2 {
		t.Fatalf("%+v", got)
	}
	h := got.History[1].Detail
	for _, want := range []string{"état : « En service » → « En réparation »", "salle : « CM1 » → « Atelier »", "établissement : " + uaiA + " → " + uaiB} {
		if !strings.Contains(h, want) {
			t.Errorf("history %q lacks %q", h, want)
		}
	}
	if _, err := f.svc.Asset(f.ctx, f.headA, d.ID); err == nil {
		t.Fatal("moved asset still visible to school A")
	}
}
