package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"socle/internal/fleet"
	"socle/internal/platform/db"
	"socle/internal/territory"
)

// WithFleet adds a generated equipment fleet to every establishment:
// classroom and administration workstations, teachers' laptops, tablets
// and their carts, a board per class or nearly, projectors, printers, the
// network (switches, Wi-Fi access points) and, in secondary schools, a
// server; with purchase dates spread over ten years so that part of it is
// past its lifetime, prices, funding and warranties, and the software of a
// few machines per school. Ratios and the renewal forecast then show real
// figures on first start.
func WithFleet(f *fleet.Service) Option {
	return func(w *seeder) {
		if f == nil {
			return
		}
		w.extra = append(w.extra, step{name: "fleet", tx: writeFleet})
	}
}

// demoDevice is a model the territory buys, with its price in cents.
type demoDevice struct {
	typ                 fleet.Type
	manufacturer, model string
	price               int64
	supplier            string
	warrantyMonths      int
}

var demoModels = map[fleet.Type][]demoDevice{
	fleet.TypeWorkstation: {{fleet.TypeWorkstation, "Dell", "OptiPlex 3080", 68000, "UGAP", 36}, {fleet.TypeWorkstation, "HP", "ProDesk 400 G7", 72000, "Armor Numérique Services", 36}, {fleet.TypeWorkstation, "Lenovo", "ThinkCentre M70q", 65000, "UGAP", 36}},
	fleet.TypeLaptop:      {{fleet.TypeLaptop, "Lenovo", "ThinkPad E14", 82000, "UGAP", 36}, {fleet.TypeLaptop, "HP", "ProBook 440 G8", 79000, "Armor Numérique Services", 24}},
	fleet.TypeTablet:      {{fleet.TypeTablet, "Apple", "iPad 9e génération", 38000, "UGAP", 12}, {fleet.TypeTablet, "Samsung", "Galaxy Tab A8", 26000, "Kreiz Informatique", 24}},
	fleet.TypeTabletCart:  {{fleet.TypeTabletCart, "Ergotron", "Chariot 16 tablettes", 140000, "UGAP", 24}},
	fleet.TypeBoard:       {{fleet.TypeBoard, "Promethean", "ActivPanel 65\"", 320000, "Armor Numérique Services", 60}, {fleet.TypeBoard, "Epson", "EB-725Wi (VPI)", 240000, "UGAP", 36}, {fleet.TypeBoard, "Speechi", "SpeechiTouch 75\"", 290000, "Kreiz Informatique", 60}},
	fleet.TypeProjector:   {{fleet.TypeProjector, "Epson", "EB-W51", 65000, "UGAP", 24}, {fleet.TypeProjector, "BenQ", "MW560", 52000, "Kreiz Informatique", 24}},
	fleet.TypePrinter:     {{fleet.TypePrinter, "Brother", "MFC-L8690CDW", 45000, "UGAP", 12}, {fleet.TypePrinter, "Kyocera", "ECOSYS M3145dn", 52000, "Armor Numérique Services", 24}},
	fleet.TypeSwitch:      {{fleet.TypeSwitch, "HPE Aruba", "2530-24G PoE+", 110000, "Armor Numérique Services", 60}, {fleet.TypeSwitch, "Cisco", "CBS350-24P", 95000, "UGAP", 60}},
	fleet.TypeAccessPoint: {{fleet.TypeAccessPoint, "HPE Aruba", "AP-505", 45000, "Armor Numérique Services", 60}, {fleet.TypeAccessPoint, "Ubiquiti", "UniFi U6 Lite", 16000, "Kreiz Informatique", 24}},
	fleet.TypeServer:      {{fleet.TypeServer, "Dell", "PowerEdge T150", 280000, "UGAP", 36}},
}

// demoSoftware is what the inventoried machines run; the second version is
// the older one a few machines still have, so the catalogue shows outdated
// versions.
var demoSoftware = []struct{ name, publisher, version, older string }{
	{"LibreOffice", "The Document Foundation", "24.8.2", "7.6.4"},
	{"Mozilla Firefox", "Mozilla", "128.3.1", "115.9.0"},
	{"GeoGebra Classic", "International GeoGebra Institute", "6.0.848", "6.0.790"},
	{"Scratch Desktop", "MIT Media Lab", "3.29.1", "3.29.1"},
	{"VLC media player", "VideoLAN", "3.0.21", "3.0.18"},
	{"Audacity", "Audacity Team", "3.6.4", "3.2.5"},
	{"GIMP", "The GIMP Team", "2.10.38", "2.10.34"},
	{"Python", "Python Software Foundation", "3.12.7", "3.10.11"},
	{"7-Zip", "Igor Pavlov", "24.08", "19.00"},
	{"Adobe Acrobat Reader", "Adobe", "24.003.20180", "23.001.20093"},
}

// fleetRow is an asset as the demo writes it.
type fleetRow struct {
	orgID        int64
	uai          string
	typ          fleet.Type
	name, room   string
	building     string
	use          fleet.Use
	state        fleet.State
	model        demoDevice
	bought       time.Time
	funding      fleet.Funding
	serial, inv  string
	agent        bool
	osName, osVe string
}

// writeFleet writes the fleet with multi-row inserts: about ten thousand
// assets in a few dozen statements, so that it adds well under a second to
// the first start.
func writeFleet(ctx context.Context, tx *db.Tx, w *seeder) error {
	r := newRand("fleet")
	now := w.now.UTC()
	var rows []fleetRow
	for _, s := range w.plan.schools {
		orgID, err := w.orgID(orgKey{territory.KindEstablishment, s.UAI})
		if err != nil {
			return err
		}
		from := len(rows)
		rows = schoolFleet(r, s, now, rows)
		for i := from; i < len(rows); i++ {
			rows[i].orgID, rows[i].uai = orgID, s.UAI
		}
	}
	if err := insertFleet(ctx, tx, rows, now); err != nil {
		return fmt.Errorf("demo fleet: %w", err)
	}
	// The software of the inventoried machines, one statement per package
	// and version for the whole territory.
	for i, sw := range demoSoftware {
		for _, v := range []struct {
			version string
			older   bool
		}{{sw.version, false}, {sw.older, true}} {
			cond := fmt.Sprintf("(id + %d) %% 5 <> 0", i)
			if v.older {
				cond = fmt.Sprintf("(id + %d) %% 5 = 0", i)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO asset_software (asset_id, name, version, publisher)
				SELECT id, ?, ?, ? FROM assets WHERE source = 'agent' AND `+cond, sw.name, v.version, sw.publisher); err != nil {
				return fmt.Errorf("demo software %s: %w", sw.name, err)
			}
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE assets SET software_count = (SELECT COUNT(*) FROM asset_software s WHERE s.asset_id = assets.id)
		WHERE source = 'agent'`)
	return err
}

// schoolFleet draws one school's equipment from its latest enrolment.
func schoolFleet(r *rand.Rand, s *school, now time.Time, rows []fleetRow) []fleetRow {
	pupils, classes := 0, 0
	if n := len(s.enrolments); n > 0 {
		e := s.enrolments[n-1]
		pupils = e.Pupils
		if e.Classes != nil {
			classes = *e.Classes
		}
	}
	if classes == 0 {
		classes = max(1, pupils/25)
	}
	secondary := s.Type != territory.TypeEcole
	// A school equips in waves: a purchase year per wave, so that devices
	// of one kind share their age as in real fleets.
	wave := func(maxAge int) time.Time {
		age := r.IntN(maxAge + 1)
		return time.Date(now.Year()-age, time.Month(6+r.IntN(4)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	}
	funding := func() fleet.Funding {
		switch x := r.IntN(10); {
		case x < 7:
			return fleet.FundingAuthority
		case x < 9:
			return fleet.FundingState // plans État (SNEE, France Relance)
		default:
			return fleet.FundingOther
		}
	}
	n := 0
	add := func(t fleet.Type, count int, use fleet.Use, building, roomPrefix string, bought time.Time, agent bool) {
		models := demoModels[t]
		m := models[r.IntN(len(models))]
		f := funding()
		for i := range count {
			n++
			row := fleetRow{typ: t, use: use, model: m, bought: bought, funding: f, building: building,
				name:   fmt.Sprintf("%s-%s-%03d", typePrefix(t), s.UAI, n),
				serial: fmt.Sprintf("%s%s%05d", strings.ToUpper(m.manufacturer[:2]), s.UAI[3:7], n),
				inv:    fmt.Sprintf("INV-%s-%04d", s.UAI, n), state: fleet.StateInUse}
			if roomPrefix != "" {
				row.room = fmt.Sprintf("%s %d", roomPrefix, 1+i%max(1, classes))
			}
			switch x := r.IntN(100); {
			case x < 3:
				row.state = fleet.StateRepair
			case x < 6:
				row.state = fleet.StateInStock
			case x < 8 && now.Sub(bought) > 6*365*24*time.Hour:
				row.state = fleet.StateRetired
			}
			if agent && (t == fleet.TypeWorkstation || t == fleet.TypeLaptop) && i < 3 {
				row.agent, row.osName, row.osVe = true, "Microsoft Windows 11 Éducation", "23H2"
			}
			rows = append(rows, row)
		}
	}
	hall := "Bâtiment principal"
	if secondary {
		rooms := max(1, pupils/15)
		add(fleet.TypeWorkstation, rooms/2+1, fleet.UsePupils, "Bâtiment A", "Salle info", wave(8), true)
		add(fleet.TypeWorkstation, rooms/2+1, fleet.UsePupils, "Bâtiment B", "CDI", wave(8), false)
		add(fleet.TypeWorkstation, 6+r.IntN(6), fleet.UseAdmin, "Administration", "Bureau", wave(7), true)
		add(fleet.TypeLaptop, classes/2+3, fleet.UseTeachers, hall, "", wave(6), true)
		add(fleet.TypeTablet, 16*(1+classes/12), fleet.UsePupils, hall, "", wave(5), false)
		add(fleet.TypeTabletCart, 1+classes/12, fleet.UsePupils, hall, "Salle", wave(5), false)
		add(fleet.TypeBoard, classes*3/4+1, fleet.UseTeachers, "Bâtiment A", "Salle", wave(10), false)
		add(fleet.TypeProjector, classes/4+1, fleet.UseTeachers, "Bâtiment B", "Salle", wave(9), false)
		add(fleet.TypePrinter, 3+r.IntN(3), fleet.UseNone, hall, "Reprographie", wave(7), false)
		add(fleet.TypeSwitch, 3+classes/8, fleet.UseNone, hall, "Baie", wave(11), false)
		add(fleet.TypeAccessPoint, 4+classes/3, fleet.UseNone, hall, "Couloir", wave(8), false)
		add(fleet.TypeServer, 1, fleet.UseAdmin, hall, "Baie", wave(8), false)
	} else {
		add(fleet.TypeWorkstation, 2+pupils/40, fleet.UsePupils, hall, "Classe", wave(9), true)
		add(fleet.TypeWorkstation, 1, fleet.UseAdmin, hall, "Direction", wave(7), false)
		add(fleet.TypeLaptop, classes/2+1, fleet.UseTeachers, hall, "", wave(6), true)
		if r.IntN(3) > 0 {
			add(fleet.TypeTablet, 16, fleet.UsePupils, hall, "", wave(5), false)
			add(fleet.TypeTabletCart, 1, fleet.UsePupils, hall, "Classe", wave(5), false)
		}
		add(fleet.TypeBoard, max(1, classes*(5+r.IntN(6))/10), fleet.UseTeachers, hall, "Classe", wave(10), false)
		add(fleet.TypeProjector, r.IntN(3), fleet.UseTeachers, hall, "Classe", wave(9), false)
		add(fleet.TypePrinter, 1+r.IntN(2), fleet.UseNone, hall, "Direction", wave(7), false)
		add(fleet.TypeSwitch, 1, fleet.UseNone, hall, "Local technique", wave(11), false)
		add(fleet.TypeAccessPoint, 1+classes/3, fleet.UseNone, hall, "Couloir", wave(8), false)
	}
	return rows
}

func typePrefix(t fleet.Type) string {
	switch t {
	case fleet.TypeWorkstation:
		return "PC"
	case fleet.TypeLaptop:
		return "PORT"
	case fleet.TypeTablet:
		return "TAB"
	case fleet.TypeTabletCart:
		return "CHAR"
	case fleet.TypeBoard:
		return "TNI"
	case fleet.TypeProjector:
		return "VP"
	case fleet.TypePrinter:
		return "IMP"
	case fleet.TypeSwitch:
		return "SW"
	case fleet.TypeAccessPoint:
		return "WIFI"
	case fleet.TypeServer:
		return "SRV"
	}
	return "EQ"
}

// insertFleet writes the assets, 1,000 per statement (26 columns: 26,000
// parameters, under both engines' limits): round trips, not rows, are the
// cost of a bulk load, on PostgreSQL most of all.
func insertFleet(ctx context.Context, tx *db.Tx, rows []fleetRow, now time.Time) error {
	const cols = `establishment_id, type, name, manufacturer, model, serial, inventory_number, building, room,
		assigned_use, state, purchase_date, supplier, order_ref, price_cents, funding, warranty_start, warranty_months,
		warranty_supplier, os_name, os_version, source, last_inventory_at, created_at, updated_at, search_text`
	const per = 1000
	one := "(" + db.Placeholders(26) + ")"
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(batch)*26)
		for _, a := range batch {
			bought := a.bought.Format("2006-01-02")
			source, last := "import", any(nil)
			if a.agent {
				source, last = "agent", now.Add(-time.Duration(a.bought.Day())*time.Hour)
			}
			order := fmt.Sprintf("BC-%d-%s", a.bought.Year(), a.uai[3:7])
			args = append(args, a.orgID, string(a.typ), a.name, a.model.manufacturer, a.model.model, a.serial, a.inv,
				a.building, a.room, string(a.use), string(a.state), bought, a.model.supplier, order, a.model.price,
				string(a.funding), bought, a.model.warrantyMonths, a.model.supplier, a.osName, a.osVe, source, last, now, now,
				fleet.SearchText(fleet.Asset{Name: a.name, Serial: a.serial, InventoryNumber: a.inv, Manufacturer: a.model.manufacturer, Model: a.model.model}))
		}
		q := `INSERT INTO assets (` + cols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", len(batch)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}
