package territory

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// This file imports the enrolment files (écoles, collèges, second degré).

// levelColumn maps a column of pupils per level to its key in
// Enrolment.Levels.
type levelColumn struct{ key, col string }

// effectifsSpec is one of the three enrolment files, told apart by the
// name of their UAI column.
type effectifsSpec struct {
	source                                 string
	uai, year, pupils, classes             string
	name, patronym, commune, sector        string
	rep, repPlus                           string
	levels                                 []levelColumn
	uaiAliases, yearAliases, pupilsAliases []string
}

var effectifsSpecs = []effectifsSpec{
	{
		source: "ecoles", uai: "Numéro de l'école", year: "Rentrée scolaire", pupils: "Nombre total d'élèves", classes: "Nombre total de classes",
		name: "Dénomination principale", patronym: "Patronyme", commune: "Commune", sector: "Secteur", rep: "REP", repPlus: "REP +",
		levels: []levelColumn{
			{"pre_elementaire", "Nombre d'élèves en pré-élémentaire hors ULIS"},
			{"CP", "Nombre d'élèves en CP hors ULIS"}, {"CE1", "Nombre d'élèves en CE1 hors ULIS"}, {"CE2", "Nombre d'élèves en CE2 hors ULIS"},
			{"CM1", "Nombre d'élèves en CM1 hors ULIS"}, {"CM2", "Nombre d'élèves en CM2 hors ULIS"}, {"ULIS", "Nombre d'élèves en ULIS"},
		},
		uaiAliases: []string{"numero_ecole"}, yearAliases: []string{"rentree_scolaire"}, pupilsAliases: []string{"nombre_total_eleves"},
	},
	{
		source: "colleges", uai: "Numéro du collège", year: "Rentrée scolaire", pupils: "Nombre d'élèves total",
		name: "Dénomination principale", patronym: "Patronyme", commune: "Commune", sector: "Secteur", rep: "REP", repPlus: "REP +",
		levels: []levelColumn{
			{"6e", "Nombre total de 6èmes"}, {"5e", "Nombre total de 5èmes"}, {"4e", "Nombre total de 4èmes"}, {"3e", "Nombre total de 3èmes"},
			{"SEGPA", "Nombre d'élèves total Segpa"}, {"ULIS", "Nombre d'élèves total ULIS"},
		},
		uaiAliases: []string{"numero_college"}, yearAliases: []string{"rentree_scolaire"}, pupilsAliases: []string{"nombre_eleves_total"},
	},
	{
		source: "second-degre", uai: "Numero_d_etablissement", year: "Annee_scolaire", pupils: "Nombre_d_eleves",
		name: "nom_etablissement", commune: "localite_acheminement", sector: "Secteur_d_enseignement",
		uaiAliases: []string{"numero_etablissement"}, yearAliases: []string{"Année scolaire"}, pupilsAliases: []string{"nombre_eleves"},
	},
}

func (sp effectifsSpec) columns() []csvimport.Column {
	cols := []csvimport.Column{
		{Name: sp.uai, Aliases: sp.uaiAliases, Required: true},
		{Name: sp.year, Aliases: sp.yearAliases, Required: true},
		{Name: sp.pupils, Aliases: sp.pupilsAliases, Required: true},
	}
	for _, c := range []string{sp.classes, sp.name, sp.patronym, sp.commune, sp.sector, sp.rep, sp.repPlus} {
		if c != "" {
			cols = append(cols, csvimport.Column{Name: c})
		}
	}
	for _, l := range sp.levels {
		cols = append(cols, csvimport.Column{Name: l.col})
	}
	return cols
}

type effectifsImport struct {
	store *Store
	rd    *csvimport.Reader
	spec  effectifsSpec
	known map[string]bool
}

func newEffectifsImport(store *Store, rd *csvimport.Reader) (*effectifsImport, error) {
	for _, sp := range effectifsSpecs {
		found := rd.HasHeader(sp.uai)
		for _, a := range sp.uaiAliases {
			found = found || rd.HasHeader(a)
		}
		if !found {
			continue
		}
		if err := bindColumns(rd, sp.columns(), "un fichier d'effectifs ("+sp.source+")"); err != nil {
			return nil, err
		}
		return &effectifsImport{store: store, rd: rd, spec: sp}, nil
	}
	return nil, problem.Invalid("not_this_dataset", "Ce fichier n'est pas un fichier d'effectifs : aucune des colonnes « Numéro de l'école » "+
		"(effectifs des écoles), « Numéro du collège » (effectifs des collèges) ou « Numero_d_etablissement » (effectifs du second degré) "+
		"n'est dans son en-tête. Vérifiez le fichier ou le jeu de données choisi.")
}

func (e *effectifsImport) begin(ctx context.Context, q db.Querier) error {
	var err error
	e.known, err = e.store.EstablishmentUAIs(ctx, q)
	if err != nil {
		return fmt.Errorf("load directory UAIs: %w", err)
	}
	return nil
}

// schoolYear turns "2022" (the rentrée) or "2022-2023" into "2022-2023".
func schoolYear(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) == 4 && allDigits(v) {
		y, _ := strconv.Atoi(v)
		return fmt.Sprintf("%d-%d", y, y+1), true
	}
	if len(v) == 9 && (v[4] == '-' || v[4] == '/') && allDigits(v[:4]) && allDigits(v[5:]) {
		a, _ := strconv.Atoi(v[:4])
		b, _ := strconv.Atoi(v[5:])
		if b == a+1 {
			return fmt.Sprintf("%d-%d", a, b), true
		}
	}
	return "", false
}

func (e *effectifsImport) row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error {
	sp := e.spec
	uai := NormalizeUAI(row.Get(sp.uai))
	masked := maskedUAI(uai)
	if msg := uaiProblem(uai); msg != "" && !masked {
		reject(rep, row, sp.uai, msg)
		return nil
	}
	year, ok := schoolYear(row.Get(sp.year))
	if !ok {
		reject(rep, row, sp.year, fmt.Sprintf("année scolaire illisible : « %s » (attendu 2022 ou 2022-2023)", row.Get(sp.year)))
		return nil
	}
	en := Enrolment{UAI: uai, SchoolYear: year, Source: sp.source}
	pupils, ok := parseCount(row.Get(sp.pupils))
	switch {
	case !ok:
		reject(rep, row, sp.pupils, fmt.Sprintf("nombre d'élèves non numérique : « %s »", row.Get(sp.pupils)))
		return nil
	case pupils == nil:
		reject(rep, row, sp.pupils, "nombre d'élèves manquant")
		return nil
	}
	en.Pupils = *pupils
	if sp.classes != "" {
		if en.Classes, ok = parseCount(row.Get(sp.classes)); !ok {
			reject(rep, row, sp.classes, fmt.Sprintf("nombre de classes non numérique : « %s »", row.Get(sp.classes)))
			return nil
		}
	}
	for _, l := range sp.levels {
		n, ok := parseCount(row.Get(l.col))
		if !ok {
			reject(rep, row, l.col, fmt.Sprintf("nombre d'élèves non numérique : « %s »", row.Get(l.col)))
			return nil
		}
		if n != nil {
			if en.Levels == nil {
				en.Levels = map[string]int{}
			}
			en.Levels[l.key] = *n
		}
	}
	// The enrolment keeps its own education-priority flags; the directory
	// stays the reference for the establishment's label.
	for _, f := range []struct {
		col string
		p   Priority
	}{{sp.rep, PriorityREP}, {sp.repPlus, PriorityREPPlus}} {
		if f.col == "" {
			continue
		}
		on, ok := parseFlag(row.Get(f.col))
		if !ok {
			reject(rep, row, f.col, fmt.Sprintf("indicateur non reconnu : « %s » (1 ou 0)", row.Get(f.col)))
			return nil
		}
		if on {
			en.Priority = f.p
		}
	}
	sector, ok := parseSector(row.Get(sp.sector))
	if !ok {
		reject(rep, row, sp.sector, fmt.Sprintf("secteur inconnu : « %s » (public ou privé)", row.Get(sp.sector)))
		return nil
	}
	name := joinNonEmpty(" ", row.Get(sp.name), row.Get(sp.patronym))
	outcome, err := e.store.UpsertEnrolment(ctx, q, en, name, row.Get(sp.commune), string(sector))
	if err != nil {
		return err
	}
	count(rep, outcome, 1)
	switch {
	case masked:
		rep.Note(row.Line, uai, "identifiant masqué par le fichier (la lettre "+uai[7:]+" n'est jamais une lettre clé d'UAI) : "+
			"effectifs conservés sous cet identifiant, sans établissement de l'annuaire")
	case !e.known[uai]:
		// Closed schools stay in the enrolment files: their figures are
		// kept (enrolments are keyed by UAI) and pointed out.
		rep.Note(row.Line, uai, "établissement absent de l'annuaire (fermé ?)")
	}
	return nil
}

// maskedUAI recognizes the identifiers the second-degré enrolment file
// gives some private establishments whose name and address it hides too:
// seven digits and the letter I, O or Q, which the UAI check alphabet
// leaves out so that they are never mistaken for 1 and 0. Such a code is no
// typo of a real UAI (0350708O is a private lycée, 0350708E a public
// collège), so the row is kept under it and pointed out, not rejected.
func maskedUAI(v string) bool {
	return len(v) == 8 && allDigits(v[:7]) && strings.ContainsRune("IOQ", rune(v[7]))
}

func (e *effectifsImport) finish(context.Context, db.Querier, *db.Tx, *csvimport.Report) error {
	return nil
}
