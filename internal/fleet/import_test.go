package fleet

import (
	"bytes"
	"socle/internal/platform/problem"
	"strings"
	"testing"
)

const importCSV = "uai;type;nom;numero_serie;numero_inventaire;salle;affectation;etat;date_achat;prix_ttc;financement;garantie_debut;garantie_mois\n" +
	uaiA + ";Poste fixe;PC-SALLE-1;SN-1;INV-1;B12;élèves;En service;01/09/2021;649,90;collectivite;2021-09-01;36\n" +
	uaiA + ";tni;TNI CM1;;INV-2;CM1;eleves;;2019-09-01;2 500;etat;;\n" +
	uaiB + ";tablet;Tablette 1;TAB-1;;;pupils;in-stock;;;;;\n"

func TestImportCSV(t *testing.T) {
	f := newFx(t)
	rep, err := f.svc.ImportCSV(f.ctx, f.admin, strings.NewReader(importCSV), ImportOptions{File: "parc.csv"})
	if err != nil || rep.Error != "" || rep.Created != 3 || rep.Read != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	res, _ := f.svc.List(f.ctx, f.admin, Filter{UAI: uaiA})
	if res.Total != 2 {
		t.Fatalf("%+v", res)
	}
	var pc Asset
	for _, a := range res.Items {
		if a.Serial == "SN-1" {
			pc = a
		}
	}
	if pc.Type != TypeWorkstation || pc.Use != UsePupils || pc.PurchaseDate != "2021-09-01" || pc.PriceCents != 64990 || pc.WarrantyMonths != 36 || pc.Funding != FundingAuthority {
		t.Fatalf("%+v", pc)
	}

	// Re-importing updates by serial, with a history line.
	upd := strings.Replace(importCSV, "B12", "B14", 1)
	rep, err = f.svc.ImportCSV(f.ctx, f.admin, strings.NewReader(upd), ImportOptions{})
	if err != nil || rep.Created != 0 || rep.Updated != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	d, _ := f.svc.Asset(f.ctx, f.admin, pc.ID)
	if d.Room != "B14" || len(d.History) != 2 || !strings.Contains(d.History[1].Detail, "« B12 » → « B14 »") {
		t.Fatalf("%+v", d.History)
	}

	// All or nothing by default; SkipInvalid keeps the good rows.
	bad := importCSV + uaiA + ";grille-pain;X;;;;;;;;;;\n" + "9999999Z;laptop;Y;;;;;;;;;;\n" + uaiA + ";laptop;Z;;;;;;32/13/2024;;;;\n"
	g := newFx(t)
	rep, err = g.svc.ImportCSV(g.ctx, g.admin, strings.NewReader(bad), ImportOptions{})
	if err != nil || rep.Error == "" || rep.Created != 0 || len(rep.Rejected) != 3 || g.count(`SELECT COUNT(*) FROM assets`) != 0 {
		t.Fatalf("all-or-nothing: %+v %v", rep, err)
	}
	if rep.Rejected[0].Line != 5 || rep.Rejected[0].Column != "type" || !strings.Contains(rep.Rejected[2].Reason, "date d'achat") {
		t.Fatalf("rejections %+v", rep.Rejected)
	}
	rep, err = g.svc.ImportCSV(g.ctx, g.admin, strings.NewReader(bad), ImportOptions{SkipInvalid: true})
	if err != nil || rep.Error != "" || rep.Created != 3 || len(rep.Rejected) != 3 || g.count(`SELECT COUNT(*) FROM assets`) != 3 || g.count(`SELECT COUNT(*) FROM asset_events`) != 3 {
		t.Fatalf("skip invalid: %+v %v", rep, err)
	}
	// A school head cannot import, even into their school: refused as a
	// whole, nothing written.
	rep, err = g.svc.ImportCSV(g.ctx, g.headA, strings.NewReader(importCSV), ImportOptions{SkipInvalid: true})
	if p, ok := problem.As(err); !ok || p.Code != "forbidden" || rep.Created != 0 || g.count(`SELECT COUNT(*) FROM assets`) != 3 {
		t.Fatalf("head import: %+v %v", rep, err)
	}
	if _, err := g.svc.ImportCSV(g.ctx, g.admin, strings.NewReader("nom;salle\nx;y\n"), ImportOptions{}); err == nil || !strings.Contains(err.Error(), "uai") {
		t.Fatalf("missing columns: %v", err)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	f := newFx(t)
	if _, err := f.svc.ImportCSV(f.ctx, f.admin, strings.NewReader(importCSV), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := f.svc.ExportCSV(f.ctx, f.headA, &out, Filter{UAI: uaiA}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "\ufeffuai;type;nom") || !strings.Contains(out.String(), "649,90") {
		t.Fatalf("export:\n%s", out.String())
	}
	g := newFx(t)
	rep, err := g.svc.ImportCSV(g.ctx, g.admin, &out, ImportOptions{})
	if err != nil || rep.Created != 2 || rep.Error != "" {
		t.Fatalf("re-import: %+v %v", rep, err)
	}
}
