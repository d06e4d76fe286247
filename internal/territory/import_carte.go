package territory

import (
	"context"
	"fmt"
	"strings"

	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
)

// This file imports the carte scolaire of public collèges.

const (
	carteCommune     = "code_insee"
	carteCommuneName = "libelle_commune"
	cartePostal      = "code_postal"
	carteLocality    = "lieu_dit"
	carteStreet      = "Type_et_Libelle"
	carteFrom        = "No_de_voie_debut"
	carteFromIndex   = "Indice_de_repetition_debut"
	carteTo          = "No_de_voie_fin"
	carteToIndex     = "Indice_de_repetition_fin"
	carteParity      = "Parite"
	carteCollege     = "Code_RNE"
	carteSingle      = "Secteur_unique"
)

var carteColumns = []csvimport.Column{
	{Name: carteCommune, Aliases: []string{"Code INSEE", "code_commune"}, Required: true},
	{Name: carteCommuneName, Aliases: []string{"Commune", "nom_commune"}},
	{Name: cartePostal},
	{Name: carteLocality},
	{Name: carteStreet, Aliases: []string{"voie"}},
	{Name: carteFrom},
	{Name: carteFromIndex},
	{Name: carteTo},
	{Name: carteToIndex},
	{Name: carteParity},
	{Name: carteCollege, Aliases: []string{"Code UAI", "code_uai", "uai"}, Required: true},
	{Name: carteSingle},
}

// carteImport writes the carte scolaire. A line is keyed by its area and
// its collège together: the real file gives several collèges for the same
// street (or commune) 477 times, parents then choosing among them, so the
// collège cannot be the value of an area-only key without losing data.
type carteImport struct {
	store    *Store
	keys     map[string]bool
	communes map[string]bool
}

func newCarteImport(store *Store, rd *csvimport.Reader) (*carteImport, error) {
	if err := bindColumns(rd, carteColumns, "une carte scolaire des collèges"); err != nil {
		return nil, err
	}
	return &carteImport{store: store, keys: map[string]bool{}, communes: map[string]bool{}}, nil
}

func (c *carteImport) begin(context.Context, db.Querier) error { return nil }

func (c *carteImport) row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error {
	college := NormalizeUAI(row.Get(carteCollege))
	if msg := uaiProblem(college); msg != "" {
		reject(rep, row, carteCollege, msg)
		return nil
	}
	commune, ok := communeINSEE(row.Get(carteCommune))
	if !ok {
		reject(rep, row, carteCommune, fmt.Sprintf("code commune INSEE invalide : « %s »", row.Get(carteCommune)))
		return nil
	}
	for _, col := range []string{carteFrom, carteTo} {
		if v := row.Get(col); v != "" && !allDigits(v) {
			reject(rep, row, col, fmt.Sprintf("numéro de voie non numérique : « %s »", v))
			return nil
		}
	}
	parity := strings.ToUpper(row.Get(carteParity))
	switch parity {
	case "", "P", "I", "PI":
	default:
		reject(rep, row, carteParity, fmt.Sprintf("parité inconnue : « %s » (P, I ou PI)", row.Get(carteParity)))
		return nil
	}
	sc := SchoolSector{CommuneCode: commune, CommuneName: row.Get(carteCommuneName), Locality: row.Get(carteLocality),
		Street: row.Get(carteStreet), NumberFrom: row.Get(carteFrom) + strings.ToUpper(row.Get(carteFromIndex)),
		NumberTo: row.Get(carteTo) + strings.ToUpper(row.Get(carteToIndex)), Parity: parity, CollegeUAI: college}
	switch strings.ToUpper(row.Get(carteSingle)) {
	case "O", "OUI", "1":
		sc.SingleSector = true
	case "N", "NON", "0":
	case "":
		sc.SingleSector = sc.Street == "" && sc.Locality == ""
	default:
		reject(rep, row, carteSingle, fmt.Sprintf("secteur unique : « %s » au lieu de O ou N", row.Get(carteSingle)))
		return nil
	}
	key := contentHash([]byte(strings.Join([]string{commune, sc.Locality, sc.Street, row.Get(carteFrom), row.Get(carteFromIndex),
		row.Get(carteTo), row.Get(carteToIndex), parity, college}, "\x1f")))
	if !c.communes[commune] {
		c.communes[strings.Clone(commune)] = true
	}
	if c.keys[key] {
		count(rep, Unchanged, 1) // the same line twice
		return nil
	}
	c.keys[key] = true
	outcome, err := c.store.upsertSector(ctx, q, key, sc, row.Get(cartePostal))
	if err != nil {
		return err
	}
	count(rep, outcome, 1)
	return nil
}

// finish removes, in the communes the file covers, the lines a newer
// carte scolaire no longer has (a street moved to another collège). It
// does so only for a complete file: with rejected rows, a missing line may
// just be a rejected one.
func (c *carteImport) finish(ctx context.Context, q db.Querier, _ *db.Tx, rep *csvimport.Report) error {
	if rep.RejectedCount() > 0 {
		return nil
	}
	for commune := range c.communes {
		n, err := c.store.deleteStaleSectors(ctx, q, commune, c.keys)
		if err != nil {
			return err
		}
		rep.Deleted += n
	}
	return nil
}
