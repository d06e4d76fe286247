package fleet

import "testing"

func TestWarrantyAlerts(t *testing.T) {
	f := newFx(t) // today is 2026-09-01
	mk := func(uai, start string, months int, state State) int64 {
		d, err := f.svc.Create(f.ctx, f.admin, Asset{UAI: uai, Type: TypeLaptop, WarrantyStart: start, WarrantyMonths: months, State: state})
		if err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	soon := mk(uaiA, "2023-10-01", 36, StateInUse)  // ends 2026-10-01: 30 days
	later := mk(uaiA, "2023-11-15", 36, StateInUse) // ends 2026-11-15: 75 days
	mk(uaiA, "2023-08-01", 36, StateInUse)          // ended in August
	mk(uaiA, "2024-09-01", 36, StateInUse)          // a year left
	mk(uaiA, "2023-10-01", 36, StateRetired)        // not in service
	mk(uaiB, "2023-10-01", 36, StateInUse)          // out of head A's scope
	got, err := f.svc.WarrantyAlerts(f.ctx, f.headA, "", 0)
	if err != nil || len(got) != 2 || got[0].ID != soon || got[0].DaysLeft != 30 || got[1].ID != later || got[0].WarrantyEnd != "2026-10-01" {
		t.Fatalf("%+v %v", got, err)
	}
	if got, _ := f.svc.WarrantyAlerts(f.ctx, f.admin, "", 31); len(got) != 2 {
		t.Fatalf("30-day window across schools: %+v", got)
	}
}
