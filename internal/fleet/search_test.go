package fleet

import (
	"slices"
	"testing"
)

// Free-text search finds substrings of the name, serial, inventory number,
// manufacturer and model, whatever the accents and case, every word of the
// query required; it follows updates, and the count stops at the cap.
func TestTextSearch(t *testing.T) {
	f := newFx(t)
	ids := map[string]int64{}
	for _, a := range []Asset{
		{UAI: uaiA, Type: TypeWorkstation, Name: "PC-Salle-Étude-01", Serial: "SN7700123", Manufacturer: "Dell", Model: "OptiPlex 7010"},
		{UAI: uaiA, Type: TypeLaptop, Name: "Portable direction", Serial: "HPX-55", InventoryNumber: "INV-2024-0042", Manufacturer: "HP", Model: "ProBook 440"},
		{UAI: uaiB, Type: TypeBoard, Name: "TNI CM2", Serial: "PRM-9", Manufacturer: "Promethean", Model: "ActivPanel"},
	} {
		d, err := f.svc.Create(f.ctx, f.admin, a)
		if err != nil {
			t.Fatal(err)
		}
		ids[a.Name] = d.ID
	}
	search := func(q string) []string {
		t.Helper()
		res, err := f.svc.List(f.ctx, f.admin, Filter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range res.Items {
			names = append(names, a.Name)
		}
		if res.Total != len(names) {
			t.Errorf("%q: total %d for %d items", q, res.Total, len(names))
		}
		return names
	}
	cases := map[string][]string{
		"etude":        {"PC-Salle-Étude-01"},
		"ÉTUDE salle":  {"PC-Salle-Étude-01"},
		"7700":         {"PC-Salle-Étude-01"},
		"inv-2024":     {"Portable direction"},
		"0042":         {"Portable direction"},
		"probook":      {"Portable direction"},
		"hp":           {"Portable direction"},
		"promethean 9": {"TNI CM2"},
		"cm2":          {"TNI CM2"},
		"dell hp":      nil,
		"zzz":          nil,
		"--":           {"PC-Salle-Étude-01", "Portable direction", "TNI CM2"},
	}
	// The same answers whether the words go through the index or, found
	// too often to be worth it, row by row.
	for _, common := range []int{2000, 1} {
		f.svc.store.commonWord = common
		for q, want := range cases {
			got := search(q)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("search %q (common word from %d matches): %v, want %v", q, common, got, want)
			}
		}
	}
	f.svc.store.commonWord = 2000
	// The index follows an update.
	d, err := f.svc.Asset(f.ctx, f.admin, ids["TNI CM2"])
	if err != nil {
		t.Fatal(err)
	}
	d.Name = "TNI CE1"
	if _, err := f.svc.Update(f.ctx, f.admin, d.ID, d.Asset); err != nil {
		t.Fatal(err)
	}
	if got := search("cm2"); len(got) != 0 {
		t.Errorf("old name still found: %v", got)
	}
	if got := search("ce1"); !slices.Equal(got, []string{"TNI CE1"}) {
		t.Errorf("new name: %v", got)
	}
	// Scope applies to searches too.
	if res, err := f.svc.List(f.ctx, f.headA, Filter{Query: "ce1"}); err != nil || res.Total != 0 {
		t.Errorf("head of A finds school B's board: %+v %v", res, err)
	}
}
