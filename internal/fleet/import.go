package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// The CSV of assets, for schools without agents (import) and for
// spreadsheets (export). One row per asset, ';' or ',' separated, UTF-8;
// headers are matched tolerantly (case, accents, spaces ignored):
//
//	uai                  establishment UAI (required)
//	type                 poste fixe | portable | tablette | classe mobile | tni (vpi) |
//	                     videoprojecteur | imprimante | commutateur | borne wifi | serveur | autre
//	                     (or the API codes: workstation, laptop, ...) (required)
//	nom, fabricant, modele, numero_serie, numero_inventaire, batiment, salle
//	affectation          eleves | enseignants | administration (or empty)
//	etat                 commande | en stock | en service | en reparation | prete | reforme | elimine
//	                     (empty: en service)
//	date_achat           AAAA-MM-JJ or JJ/MM/AAAA
//	fournisseur, commande
//	prix_ttc             euros, "1 234,56" or "1234.56"
//	financement          collectivite | etat | autre
//	garantie_debut       AAAA-MM-JJ or JJ/MM/AAAA
//	garantie_mois        whole months
//	garantie_prestataire
//
// A row whose numero_serie (else numero_inventaire) matches an asset of the
// same establishment updates it; other rows create assets.
var csvColumns = []csvimport.Column{
	{Name: "uai", Aliases: []string{"etablissement", "rne"}, Required: true},
	{Name: "type", Aliases: []string{"type d'équipement"}, Required: true},
	{Name: "nom", Aliases: []string{"name"}},
	{Name: "fabricant", Aliases: []string{"marque", "manufacturer"}},
	{Name: "modele", Aliases: []string{"model"}},
	{Name: "numero_serie", Aliases: []string{"serie", "n° de série", "serial"}},
	{Name: "numero_inventaire", Aliases: []string{"inventaire", "n° d'inventaire", "inventory_number"}},
	{Name: "batiment", Aliases: []string{"building"}},
	{Name: "salle", Aliases: []string{"room", "local"}},
	{Name: "affectation", Aliases: []string{"usage", "assigned_use"}},
	{Name: "etat", Aliases: []string{"statut", "state"}},
	{Name: "date_achat", Aliases: []string{"achat", "purchase_date"}},
	{Name: "fournisseur", Aliases: []string{"supplier"}},
	{Name: "commande", Aliases: []string{"bon de commande", "order_ref"}},
	{Name: "prix_ttc", Aliases: []string{"prix", "price"}},
	{Name: "financement", Aliases: []string{"funding"}},
	{Name: "garantie_debut", Aliases: []string{"debut de garantie", "warranty_start"}},
	{Name: "garantie_mois", Aliases: []string{"duree de garantie", "warranty_months"}},
	{Name: "garantie_prestataire", Aliases: []string{"warranty_supplier"}},
}

// csvWords maps the French words of the file to codes, keys normalized
// with csvimport.Normalize.
var (
	csvTypes = map[string]Type{"postefixe": TypeWorkstation, "poste": TypeWorkstation, "ordinateur": TypeWorkstation,
		"portable": TypeLaptop, "ordinateurportable": TypeLaptop, "tablette": TypeTablet, "classemobile": TypeTabletCart,
		"chariot": TypeTabletCart, "tni": TypeBoard, "vpi": TypeBoard, "tbi": TypeBoard, "ecraninteractif": TypeBoard,
		"videoprojecteur": TypeProjector, "imprimante": TypePrinter, "copieur": TypePrinter, "commutateur": TypeSwitch,
		"bornewifi": TypeAccessPoint, "pointdacceswifi": TypeAccessPoint, "serveur": TypeServer, "autre": TypeOther}
	csvStates = map[string]State{"commande": StateOrdered, "enstock": StateInStock, "enservice": StateInUse,
		"enreparation": StateRepair, "prete": StateLent, "reforme": StateRetired, "elimine": StateDisposed, "": StateInUse}
	csvUses = map[string]Use{"": UseNone, "eleves": UsePupils, "enseignants": UseTeachers, "administration": UseAdmin,
		"pupils": UsePupils, "teachers": UseTeachers}
)

// ImportOptions tunes an import.
type ImportOptions struct {
	// SkipInvalid imports the valid rows and reports the others; by
	// default one invalid row rejects the whole file, so that a school
	// fixes its spreadsheet once rather than chasing half an import.
	SkipInvalid bool
	File        string
}

var errRollback = errors.New("import rolled back: invalid rows")

// ImportCSV creates or updates assets from a CSV file.
func (s *Service) ImportCSV(ctx context.Context, p *auth.Principal, r io.Reader, o ImportOptions) (*csvimport.Report, error) {
	rep := csvimport.NewReport("parc", o.File)
	// Refuse at once a caller who may write no fleet at all; rows for
	// establishments outside a writer's scope are rejected one by one.
	if !p.Has(auth.PermFleetManage) {
		return rep, problem.Forbidden()
	}
	rd, err := csvimport.NewReader(r, csvimport.Options{})
	if err != nil {
		return rep, err
	}
	if err := rd.Bind(csvColumns); err != nil {
		var miss *csvimport.MissingColumnsError
		if errors.As(err, &miss) {
			return rep, problem.Invalid("missing_columns", "Fichier d'équipements invalide : "+miss.Error()+".").Wrap(err)
		}
		return rep, err
	}
	orgs := map[string]int64{} // UAI → org id, 0 when unknown or out of scope
	now := s.now().UTC()
	actor := actorOf(p)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
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
			a, col, msg := assetFromRow(row)
			if msg != "" {
				rep.Reject(row.Line, row.Column(col), msg)
				continue
			}
			orgID, seen := orgs[a.UAI]
			if !seen {
				id, err := s.store.EstablishmentByUAI(ctx, tx, a.UAI)
				if err == nil && s.inScope(ctx, p, auth.PermFleetManage, id) {
					orgID = id
				}
				orgs[a.UAI] = orgID
			}
			if orgID == 0 {
				rep.Reject(row.Line, row.Column("uai"), "établissement "+a.UAI+" inconnu ou hors de votre périmètre de gestion")
				continue
			}
			a.EstablishmentID = orgID
			created, err := s.upsertManual(ctx, tx, a, now, actor)
			if err != nil {
				return fmt.Errorf("import line %d: %w", row.Line, err)
			}
			if created {
				rep.Created++
			} else {
				rep.Updated++
			}
		}
		if rep.RejectedCount() > 0 && !o.SkipInvalid {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		rep.DiscardWrites()
		rep.Error = fmt.Sprintf("%d ligne(s) invalide(s) : rien n'a été importé. Corrigez-les, ou importez en ignorant les lignes invalides.", rep.RejectedCount())
		return rep, nil
	}
	return rep, err
}

// upsertManual updates the asset of the same establishment with the same
// serial (else inventory number), or creates one.
func (s *Service) upsertManual(ctx context.Context, tx *db.Tx, a Asset, now time.Time, actor string) (bool, error) {
	var id int64
	for _, k := range [][2]string{{"serial", a.Serial}, {"inventory_number", a.InventoryNumber}} {
		if k[1] == "" {
			continue
		}
		err := tx.QueryRowContext(ctx, `SELECT id FROM assets WHERE establishment_id = ? AND `+k[0]+` = ? ORDER BY id LIMIT 1`,
			a.EstablishmentID, k[1]).Scan(&id)
		if err == nil {
			break
		}
		id = 0
	}
	a.Source, a.CreatedAt, a.UpdatedAt = "manual", now, now
	if id == 0 {
		newID, err := s.store.InsertAsset(ctx, tx, a)
		if err != nil {
			return false, err
		}
		return true, s.store.AddEvent(ctx, tx, newID, now, actor, "created", "Import CSV : "+a.Type.Label())
	}
	old, err := s.store.Asset(ctx, tx, id, "1=1", nil)
	if err != nil {
		return false, err
	}
	a.ID, a.HardwareUUID, a.OSName, a.OSVersion, a.LastInventoryAt = id, old.HardwareUUID, old.OSName, old.OSVersion, old.LastInventoryAt
	// What an agent reported is not erased by an empty cell.
	for _, f := range []struct {
		dst *string
		old string
	}{{&a.Name, old.Name}, {&a.Manufacturer, old.Manufacturer}, {&a.Model, old.Model}, {&a.Serial, old.Serial}} {
		if *f.dst == "" {
			*f.dst = f.old
		}
	}
	if err := s.store.UpdateManual(ctx, tx, a); err != nil {
		return false, err
	}
	if d := diffManual(old, a); d != "" {
		return false, s.store.AddEvent(ctx, tx, id, now, actor, "updated", "Import CSV : "+d)
	}
	return false, nil
}

func diffManual(old, cur Asset) string {
	var parts []string
	add := func(label, a, b string) {
		if a != b {
			parts = append(parts, fmt.Sprintf("%s : « %s » → « %s »", label, a, b))
		}
	}
	add("type", string(old.Type), string(cur.Type))
	add("nom", old.Name, cur.Name)
	add("fabricant", old.Manufacturer, cur.Manufacturer)
	add("modèle", old.Model, cur.Model)
	add("numéro de série", old.Serial, cur.Serial)
	add("numéro d'inventaire", old.InventoryNumber, cur.InventoryNumber)
	add("bâtiment", old.Building, cur.Building)
	add("salle", old.Room, cur.Room)
	add("affectation", string(old.Use), string(cur.Use))
	add("état", old.State.Label(), cur.State.Label())
	add("date d'achat", old.PurchaseDate, cur.PurchaseDate)
	add("fournisseur", old.Supplier, cur.Supplier)
	add("commande", old.OrderRef, cur.OrderRef)
	add("prix", Euros(old.PriceCents), Euros(cur.PriceCents))
	add("financement", string(old.Funding), string(cur.Funding))
	add("début de garantie", old.WarrantyStart, cur.WarrantyStart)
	add("durée de garantie", strconv.Itoa(old.WarrantyMonths), strconv.Itoa(cur.WarrantyMonths))
	add("prestataire de garantie", old.WarrantySupplier, cur.WarrantySupplier)
	return strings.Join(parts, " ; ")
}

// assetFromRow reads one row; on error it returns the column name and a
// French reason.
func assetFromRow(row *csvimport.Row) (Asset, string, string) {
	a := Asset{UAI: strings.ToUpper(row.Get("uai")), Name: row.Get("nom"), Manufacturer: row.Get("fabricant"),
		Model: row.Get("modele"), Serial: row.Get("numero_serie"), InventoryNumber: row.Get("numero_inventaire"),
		Building: row.Get("batiment"), Room: row.Get("salle"), Supplier: row.Get("fournisseur"), OrderRef: row.Get("commande"),
		WarrantySupplier: row.Get("garantie_prestataire")}
	if a.UAI == "" {
		return a, "uai", "UAI manquant"
	}
	t := row.Get("type")
	if a.Type = Type(t); !a.Type.Valid() {
		var ok bool
		if a.Type, ok = csvTypes[csvimport.Normalize(t)]; !ok {
			return a, "type", "type d'équipement inconnu : « " + t + " »"
		}
	}
	st := row.Get("etat")
	if a.State = State(st); !a.State.Valid() {
		var ok bool
		if a.State, ok = csvStates[csvimport.Normalize(st)]; !ok {
			return a, "etat", "état inconnu : « " + st + " »"
		}
	}
	u := row.Get("affectation")
	if a.Use = Use(u); !a.Use.Valid() {
		var ok bool
		if a.Use, ok = csvUses[csvimport.Normalize(u)]; !ok {
			return a, "affectation", "affectation inconnue : « " + u + " » (eleves, enseignants, administration)"
		}
	}
	if a.Funding = Funding(csvimport.Normalize(row.Get("financement"))); !a.Funding.Valid() {
		return a, "financement", "financement inconnu : « " + row.Get("financement") + " » (collectivite, etat, autre)"
	}
	var ok bool
	if a.PurchaseDate, ok = csvDate(row.Get("date_achat")); !ok {
		return a, "date_achat", "date d'achat invalide : « " + row.Get("date_achat") + " » (AAAA-MM-JJ ou JJ/MM/AAAA)"
	}
	if a.WarrantyStart, ok = csvDate(row.Get("garantie_debut")); !ok {
		return a, "garantie_debut", "début de garantie invalide : « " + row.Get("garantie_debut") + " »"
	}
	if m := row.Get("garantie_mois"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > 240 {
			return a, "garantie_mois", "durée de garantie invalide : « " + m + " » (nombre de mois)"
		}
		a.WarrantyMonths = n
	}
	if pr := row.Get("prix_ttc"); pr != "" {
		c, ok := parseEuros(pr)
		if !ok {
			return a, "prix_ttc", "prix invalide : « " + pr + " » (euros, par exemple 1234,56)"
		}
		a.PriceCents = c
	}
	return a, "", ""
}

func csvDate(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	for _, layout := range []string{dateLayout, "02/01/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(dateLayout), true
		}
	}
	return "", false
}

// parseEuros reads "1 234,56", "1234.56", "1234 €" as cents.
func parseEuros(s string) (int64, bool) {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "€", "", "EUR", "").Replace(s)
	s = strings.Replace(s, ",", ".", 1)
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 1e9 {
		return 0, false
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil || f < 0 {
			return 0, false
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, true
}
