package territory

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
	"socle/internal/platform/text"
)

// This file imports the directory ("Annuaire de l'éducation", both vintages).

// Columns of the directory: names of the "annuaire de l'éducation", with
// the other vintage's names ("adresse et géolocalisation") as aliases.
const (
	annUAI          = "Identifiant_de_l_etablissement"
	annName         = "Nom_etablissement"
	annDenomination = "Dénomination principale"
	annPatronym     = "Patronyme uai"
	annType         = "Type_etablissement"
	annNatureCode   = "code_nature"
	annNatureLabel  = "libelle_nature"
	annSector       = "Statut_public_prive"
	annContract     = "Type_contrat_prive"
	annPriority     = "Appartenance_Education_Prioritaire"
	annStatus       = "etat"
	annAddress1     = "Adresse_1"
	annAddress2     = "Adresse_2"
	annAddress3     = "Adresse_3"
	annLocality     = "Localite d'acheminement"
	annPostal       = "Code postal"
	annCommune      = "Code_commune"
	annCommuneName  = "Nom_commune"
	annDept         = "Code_departement"
	annDeptName     = "Libelle_departement"
	annAcademy      = "Code_academie"
	annAcademyName  = "Libelle_academie"
	annRegion       = "Code_region"
	annRegionName   = "Libelle_region"
	annLat          = "latitude"
	annLon          = "longitude"
	annPhone        = "Telephone"
	annMail         = "Mail"
	annWeb          = "Web"
	annSIRET        = "SIREN_SIRET"
	annCirco        = "nom_circonscription"
	annOpened       = "date_ouverture"
	annPupils       = "Nombre_d_eleves"
	annMulti        = "etablissement_multi_lignes"
)

var annuaireColumns = []csvimport.Column{
	{Name: annUAI, Aliases: []string{"Code établissement", "numero_uai", "code_uai", "uai"}, Required: true},
	{Name: annName, Aliases: []string{"Appellation officielle", "appellation_officielle"}, Required: true},
	{Name: annDenomination, Aliases: []string{"denomination_principale"}},
	{Name: annPatronym, Aliases: []string{"patronyme_uai"}},
	{Name: annType},
	{Name: annNatureCode, Aliases: []string{"Code nature", "nature_uai"}},
	{Name: annNatureLabel, Aliases: []string{"Nature", "nature_uai_libe"}},
	{Name: annSector, Aliases: []string{"Secteur Public/Privé", "secteur_public_prive_libe"}},
	{Name: annContract, Aliases: []string{"secteur_prive_libelle_type_contrat"}},
	{Name: annPriority},
	{Name: annStatus, Aliases: []string{"Etat établissement", "etat_etablissement_libe"}},
	{Name: annAddress1, Aliases: []string{"Adresse", "adresse_uai"}},
	{Name: annAddress2, Aliases: []string{"Lieu dit", "lieu_dit_uai"}},
	{Name: annAddress3},
	{Name: annLocality, Aliases: []string{"localite_acheminement_uai"}},
	{Name: annPostal, Aliases: []string{"code_postal_uai"}},
	{Name: annCommune, Aliases: []string{"Code commune", "code_insee"}, Required: true},
	{Name: annCommuneName, Aliases: []string{"Commune", "libelle_commune"}},
	{Name: annDept, Aliases: []string{"Code département"}},
	{Name: annDeptName, Aliases: []string{"Département"}},
	{Name: annAcademy, Aliases: []string{"Code académie"}},
	{Name: annAcademyName, Aliases: []string{"Académie"}},
	{Name: annRegion, Aliases: []string{"Code région"}},
	{Name: annRegionName, Aliases: []string{"Région"}},
	{Name: annLat},
	{Name: annLon},
	{Name: annPhone},
	{Name: annMail},
	{Name: annWeb},
	{Name: annSIRET},
	{Name: annCirco},
	{Name: annOpened},
	{Name: annPupils},
	{Name: annMulti},
}

// annuaireFields says which columns carry each establishment field. When a
// vintage has none of a field's columns, the stored value is kept rather
// than erased: the geolocation vintage, for one, has no phone and no
// education-priority label.
var annuaireFields = []struct {
	cols []string
	keep func(dst, src *Establishment)
}{
	{[]string{annType, annNatureCode}, func(d, s *Establishment) { d.Type = s.Type }},
	{[]string{annNatureCode}, func(d, s *Establishment) { d.NatureCode = s.NatureCode }},
	{[]string{annNatureLabel}, func(d, s *Establishment) { d.NatureLabel = s.NatureLabel }},
	{[]string{annSector}, func(d, s *Establishment) { d.Sector = s.Sector }},
	{[]string{annContract}, func(d, s *Establishment) { d.PrivateContract = s.PrivateContract }},
	{[]string{annPriority}, func(d, s *Establishment) { d.Priority = s.Priority }},
	{[]string{annStatus}, func(d, s *Establishment) { d.Status = s.Status }},
	{[]string{annAddress1}, func(d, s *Establishment) { d.Address1 = s.Address1 }},
	{[]string{annAddress2}, func(d, s *Establishment) { d.Address2 = s.Address2 }},
	{[]string{annAddress3, annLocality}, func(d, s *Establishment) { d.Address3 = s.Address3 }},
	{[]string{annPostal}, func(d, s *Establishment) { d.PostalCode = s.PostalCode }},
	{[]string{annCommuneName}, func(d, s *Establishment) { d.CommuneName = s.CommuneName }},
	{[]string{annAcademy}, func(d, s *Establishment) { d.AcademyCode = s.AcademyCode }},
	{[]string{annLat, annLon}, func(d, s *Establishment) { d.Latitude, d.Longitude = s.Latitude, s.Longitude }},
	{[]string{annPhone}, func(d, s *Establishment) { d.Phone = s.Phone }},
	{[]string{annMail}, func(d, s *Establishment) { d.Email = s.Email }},
	{[]string{annWeb}, func(d, s *Establishment) { d.Website = s.Website }},
	{[]string{annSIRET}, func(d, s *Establishment) { d.SIRET = s.SIRET }},
	{[]string{annCirco}, func(d, s *Establishment) { d.Circonscription = s.Circonscription }},
	{[]string{annOpened}, func(d, s *Establishment) { d.OpenedOn = s.OpenedOn }},
	{[]string{annPupils}, func(d, s *Establishment) { d.DirectoryPupils = s.DirectoryPupils }},
}

type orgKey struct {
	kind Kind
	code string
}

// seenEstablishment is what an annuaire run remembers of each UAI, to
// merge the later lines of an establishment published on several lines.
type seenEstablishment struct {
	orgID   int64
	line    int
	outcome Outcome
}

// pendingSites are the extra lines of a multi-line establishment.
type pendingSites struct {
	sites []Site
	lines int
}

type annuaireImport struct {
	store *Store
	rd    *csvimport.Reader
	w     *directoryWriter
	// zones is the holiday zone of each académie in the calendar already
	// imported (by academyKey), so that the order of imports does not
	// matter.
	zones map[string]string
	// keep lists the fields this vintage lacks (see annuaireFields).
	keep []func(dst, src *Establishment)
	// orgs holds the organizations already ensured in this run: the first
	// row naming one sets its name and parent, later rows reuse it.
	orgs      map[orgKey]int64
	resp      map[respKey]respState
	withSites map[int64]bool
	seen      map[string]*seenEstablishment
	sites     map[string]*pendingSites
	changed   bool
}

func newAnnuaireImport(store *Store, rd *csvimport.Reader) (*annuaireImport, error) {
	if err := bindColumns(rd, annuaireColumns, "un annuaire de l'éducation"); err != nil {
		return nil, err
	}
	a := &annuaireImport{store: store, rd: rd, orgs: map[orgKey]int64{}, seen: map[string]*seenEstablishment{}, sites: map[string]*pendingSites{}}
	for _, f := range annuaireFields {
		present := false
		for _, c := range f.cols {
			present = present || rd.Has(c)
		}
		if !present {
			a.keep = append(a.keep, f.keep)
		}
	}
	return a, nil
}

func (a *annuaireImport) begin(ctx context.Context, q db.Querier) error {
	var err error
	if a.w, err = a.store.newDirectoryWriter(ctx, q, text.NewFolder()); err != nil {
		return err
	}
	if a.resp, err = a.store.responsibilities(ctx, q); err != nil {
		return err
	}
	if a.zones, err = a.store.academyZones(ctx, q); err != nil {
		return err
	}
	a.withSites, err = a.store.orgsWithSites(ctx, q)
	return err
}

// ensure returns the id of the organization (kind, code), creating it or
// updating its name and parent on its first use in the run; later rows
// use the cache. An empty name keeps the stored one, or gives the
// fallback to a new organization.
func (a *annuaireImport) ensure(ctx context.Context, kind Kind, code, name, fallback string, parentID int64) (*orgState, error) {
	if code == "" {
		return nil, nil
	}
	k := orgKey{kind, code}
	if _, ok := a.orgs[k]; ok {
		return a.w.orgs[k], nil
	}
	st, outcome, err := a.w.ensureOrg(ctx, kind, code, name, fallback, parentID)
	if err != nil {
		return nil, err
	}
	if outcome != Unchanged {
		a.changed = true
	}
	a.orgs[orgKey{kind, strings.Clone(code)}] = st.id // not the line's memory
	return st, nil
}

// ensureAcademy is ensure for an académie named after the directory's
// label ("Rennes"), which also receives its holiday zone from a calendar
// imported before the directory.
func (a *annuaireImport) ensureAcademy(ctx context.Context, q db.Querier, code, label string) (int64, error) {
	if id, done := a.orgs[orgKey{KindAcademy, code}]; done || code == "" {
		return id, nil
	}
	st, err := a.ensure(ctx, KindAcademy, code, academyName(label), "Académie "+code, 0)
	if err != nil {
		return 0, err
	}
	if z := a.zones[academyKey(st.name)]; z != "" && z != st.holidayZone {
		if err := a.store.SetHolidayZone(ctx, q, st.id, z); err != nil {
			return 0, fmt.Errorf("holiday zone of academy %s: %w", code, err)
		}
		st.holidayZone = z
	}
	return st.id, nil
}

// orgID is the id of an ensured organization, 0 for none.
func (st *orgState) orgID() int64 {
	if st == nil {
		return 0
	}
	return st.id
}

// academyName turns the directory's "Rennes" into "Académie de Rennes".
func academyName(label string) string {
	if label == "" || strings.HasPrefix(SearchKey(label), "academie") {
		return label
	}
	if k := SearchKey(label); k != "" && strings.ContainsRune("aeiouy", rune(k[0])) {
		return "Académie d'" + label
	}
	return "Académie de " + label
}

// dsdenName names the State's departmental services; the preposition of
// a département's name is irregular (du Nord, de la Manche, d'Ille-et-
// Vilaine), so the name follows a dash instead.
func dsdenName(departement string) string {
	if departement == "" {
		return ""
	}
	return "Services départementaux de l'Éducation nationale — " + departement
}

// typeFromDirectory reads Type_etablissement.
func typeFromDirectory(v string) Type {
	k := enumKey(v)
	switch {
	case k == "":
		return TypeUnknown
	case strings.HasPrefix(k, "ecole"):
		return TypeEcole
	case strings.HasPrefix(k, "college"):
		return TypeCollege
	case strings.HasPrefix(k, "lycee"):
		return TypeLycee
	case strings.HasPrefix(k, "erea"):
		return TypeEREA
	}
	return TypeOther
}

// typeFromNature reads the nature code of the UAI directory, for vintages
// without Type_etablissement: 1xx are écoles; 340 collège, 350 and 352
// collèges with special status; 300-307 lycées (général, technologique,
// polyvalent, agricole), 320 lycée professionnel, 334/335 sections of
// lycées; 370 EREA; the rest (medical, services, higher education) other.
func typeFromNature(code string) Type {
	code = strings.TrimSpace(code)
	if code == "" {
		return TypeUnknown
	}
	n, err := strconv.Atoi(code)
	switch {
	case err != nil:
		return TypeOther
	case n >= 100 && n < 200:
		return TypeEcole
	case n == 340 || n == 350 || n == 352:
		return TypeCollege
	case n >= 300 && n <= 307, n == 320, n == 334, n == 335:
		return TypeLycee
	case n == 370:
		return TypeEREA
	}
	return TypeOther
}

func parsePriority(v string) (Priority, bool) {
	k := strings.ToUpper(strings.Join(strings.Fields(v), ""))
	switch {
	case k == "" || k == "0" || k == "NON" || strings.HasPrefix(k, "HORS"):
		return PriorityNone, true
	case strings.HasPrefix(k, "REP+"):
		return PriorityREPPlus, true
	case strings.HasPrefix(k, "REP"):
		return PriorityREP, true
	}
	return PriorityNone, false
}

func parseStatus(v string) (Status, bool) {
	switch enumKey(v) {
	case "", "ouvert", "a ouvrir":
		return StatusOpen, true
	case "a fermer":
		return StatusClosing, true
	case "ferme":
		return StatusClosed, true
	}
	return "", false
}

// parseCoordinate reads a decimal degree, with a dot or a French comma.
func parseCoordinate(v string, limit float64) (*float64, bool) {
	if v == "" {
		return nil, true
	}
	f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
	if err != nil || f < -limit || f > limit {
		return nil, false
	}
	return &f, true
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func (a *annuaireImport) row(ctx context.Context, q db.Querier, row *csvimport.Row, rep *csvimport.Report) error {
	uai := NormalizeUAI(row.Get(annUAI))
	if msg := uaiProblem(uai); msg != "" {
		reject(rep, row, annUAI, msg)
		return nil
	}
	commune, ok := communeINSEE(row.Get(annCommune))
	if commune != "" && !ok {
		reject(rep, row, annCommune, fmt.Sprintf("code commune INSEE invalide : « %s »", row.Get(annCommune)))
		return nil
	}
	name := row.Get(annName)
	if name == "" {
		name = joinNonEmpty(" ", row.Get(annDenomination), row.Get(annPatronym))
	}
	if name == "" {
		reject(rep, row, annName, "nom de l'établissement manquant")
		return nil
	}
	if first, dup := a.seen[uai]; dup {
		// A later line of an establishment published on several lines is
		// one of its sites.
		if a.rd.Has(annMulti) && row.Get(annMulti) == "0" {
			reject(rep, row, annUAI, fmt.Sprintf("UAI %s déjà présent ligne %d, sans l'indication « établissement sur plusieurs lignes »", uai, first.line))
			return nil
		}
		p := a.sites[uai]
		if p == nil {
			p = &pendingSites{}
			a.sites[strings.Clone(uai)] = p
		}
		p.lines++
		st := Site{Name: strings.Clone(name), Address: joinNonEmpty(", ", row.Get(annAddress1), row.Get(annAddress2)),
			PostalCode: strings.Clone(row.Get(annPostal)), CommuneCode: strings.Clone(commune), CommuneName: strings.Clone(row.Get(annCommuneName))}
		for _, other := range p.sites {
			if other.Name == st.Name {
				return nil // the table keys sites by name: keep the first
			}
		}
		p.sites = append(p.sites, st)
		return nil
	}

	e := Establishment{UAI: uai, Name: name, CommuneCode: commune, CommuneName: row.Get(annCommuneName),
		NatureCode: row.Get(annNatureCode), NatureLabel: row.Get(annNatureLabel),
		Address1: row.Get(annAddress1), Address2: row.Get(annAddress2), Address3: row.Get(annAddress3), PostalCode: row.Get(annPostal),
		Phone: row.Get(annPhone), Email: row.Get(annMail), Website: row.Get(annWeb), SIRET: row.Get(annSIRET),
		Circonscription: row.Get(annCirco), OpenedOn: row.Get(annOpened), PrivateContract: row.Get(annContract)}
	if a.rd.Has(annType) {
		e.Type = typeFromDirectory(row.Get(annType))
	} else {
		e.Type = typeFromNature(e.NatureCode)
	}
	if !a.rd.Has(annAddress3) && a.rd.Has(annLocality) {
		e.Address3 = joinNonEmpty(" ", e.PostalCode, row.Get(annLocality))
	}
	if enumKey(e.PrivateContract) == "sans objet" {
		e.PrivateContract = ""
	}
	if e.Sector, ok = parseSector(row.Get(annSector)); !ok {
		reject(rep, row, annSector, fmt.Sprintf("statut public ou privé inconnu : « %s »", row.Get(annSector)))
		return nil
	}
	if e.Priority, ok = parsePriority(row.Get(annPriority)); !ok {
		reject(rep, row, annPriority, fmt.Sprintf("éducation prioritaire inconnue : « %s » (REP, REP+ ou vide)", row.Get(annPriority)))
		return nil
	}
	if e.Status, ok = parseStatus(row.Get(annStatus)); !ok {
		reject(rep, row, annStatus, fmt.Sprintf("état inconnu : « %s » (OUVERT, A FERMER…)", row.Get(annStatus)))
		return nil
	}
	if e.DirectoryPupils, ok = parseCount(row.Get(annPupils)); !ok {
		reject(rep, row, annPupils, fmt.Sprintf("nombre d'élèves non numérique : « %s »", row.Get(annPupils)))
		return nil
	}
	if e.Latitude, ok = parseCoordinate(row.Get(annLat), 90); !ok {
		reject(rep, row, annLat, fmt.Sprintf("latitude illisible : « %s »", row.Get(annLat)))
		return nil
	}
	if e.Longitude, ok = parseCoordinate(row.Get(annLon), 180); !ok {
		reject(rep, row, annLon, fmt.Sprintf("longitude illisible : « %s »", row.Get(annLon)))
		return nil
	}
	if e.Latitude == nil || e.Longitude == nil {
		e.Latitude, e.Longitude = nil, nil
	}
	e.DepartementCode = departementCode(row.Get(annDept), commune)
	e.AcademyCode = row.Get(annAcademy)

	// The organizations around the establishment. Collectivités get no
	// parent here: a commune's parent is its EPCI when someone sets one,
	// and the département is no parent of the communes' écoles.
	academyID, err := a.ensureAcademy(ctx, q, e.AcademyCode, row.Get(annAcademyName))
	if err != nil {
		return err
	}
	region, err := a.ensure(ctx, KindRegion, row.Get(annRegion), row.Get(annRegionName), "Région "+row.Get(annRegion), 0)
	if err != nil {
		return err
	}
	deptName := row.Get(annDeptName)
	dept, err := a.ensure(ctx, KindDepartement, e.DepartementCode, deptName, "Département "+e.DepartementCode, 0)
	if err != nil {
		return err
	}
	dsden, err := a.ensure(ctx, KindDSDEN, e.DepartementCode, dsdenName(deptName), dsdenName(e.DepartementCode), academyID)
	if err != nil {
		return err
	}
	communeOrg, err := a.ensure(ctx, KindCommune, commune, e.CommuneName, "Commune "+commune, 0)
	if err != nil {
		return err
	}

	if len(a.keep) > 0 {
		old, found, err := a.store.storedEstablishment(ctx, q, uai)
		if err != nil {
			return err
		}
		if found {
			for _, keep := range a.keep {
				keep(&e, &old)
			}
		}
	}

	// Who maintains it: by rule, the commune for a public école, the
	// département for a public collège, the région for a public lycée or
	// EREA; nobody for a private one. Pedagogy is the académie's.
	var maintainer int64
	if e.Sector == SectorPublic {
		switch MaintainingKind(e.Type) {
		case KindCommune:
			maintainer = communeOrg.orgID()
		case KindDepartement:
			maintainer = dept.orgID()
		case KindRegion:
			maintainer = region.orgID()
		}
		if missing := map[Kind]string{KindCommune: "le code de la commune", KindDepartement: "le code du département",
			KindRegion: "le code de la région"}[MaintainingKind(e.Type)]; maintainer == 0 && missing != "" {
			rep.Note(row.Line, uai, "collectivité de rattachement inconnue : "+missing+" manque")
		}
	}
	resps := []respAssignment{{"maintenance", maintainer}, {"pedagogy", academyID}}
	seen := &seenEstablishment{line: row.Line}
	id, outcome, fresh, err := a.w.upsertEstablishment(ctx, &e, dsden.orgID(), resps, func(id int64) { seen.orgID = id })
	if err != nil {
		return err
	}
	if !fresh {
		seen.orgID = id
		for _, r := range resps {
			changed, err := a.setResponsibility(ctx, q, id, r.domain, r.authority)
			if err != nil {
				return err
			}
			if changed && outcome == Unchanged {
				outcome = Updated
			}
		}
	}
	if outcome != Unchanged {
		a.changed = true
	}
	count(rep, outcome, 1)
	seen.outcome = outcome
	// The key is cloned: a field of the row shares its memory with the
	// whole line, which a map key would keep alive.
	a.seen[strings.Clone(uai)] = seen
	return nil
}

// setResponsibility writes a rule-derived responsibility only when it
// changes what is stored, which the preloaded map tells without a query.
func (a *annuaireImport) setResponsibility(ctx context.Context, q db.Querier, estID int64, domain string, authorityID int64) (bool, error) {
	k := respKey{estID, domain}
	old, exists := a.resp[k]
	switch {
	case exists && old.manual:
		return false, nil // set by a person: imports leave it alone
	case exists && old.authorityID == authorityID:
		return false, nil
	case !exists && authorityID == 0:
		return false, nil
	}
	if err := a.store.SetResponsibility(ctx, q, estID, domain, authorityID); err != nil {
		return false, fmt.Errorf("set %s of %d: %w", domain, estID, err)
	}
	// Only entries already known are kept up to date: an establishment
	// comes once per run, so remembering new ones would only cost memory.
	if exists {
		a.resp[k] = respState{authorityID: authorityID}
	}
	return true, nil
}

func (a *annuaireImport) finish(ctx context.Context, q db.Querier, tx *db.Tx, rep *csvimport.Report) error {
	if err := a.w.flush(ctx); err != nil {
		return err
	}
	for uai, p := range a.sites {
		est := a.seen[uai]
		changed, err := a.store.ReplaceSites(ctx, q, est.orgID, p.sites)
		if err != nil {
			return fmt.Errorf("sites of %s: %w", uai, err)
		}
		switch {
		case est.outcome == Created:
			count(rep, Created, p.lines)
		case changed:
			a.changed = true
			count(rep, Updated, p.lines)
		default:
			count(rep, Unchanged, p.lines)
		}
	}
	// An establishment now published on one line loses the sites it had.
	for uai, est := range a.seen {
		if !a.withSites[est.orgID] || a.sites[uai] != nil {
			continue
		}
		changed, err := a.store.ReplaceSites(ctx, q, est.orgID, nil)
		if err != nil {
			return fmt.Errorf("sites of %s: %w", uai, err)
		}
		if changed {
			a.changed = true
			if est.outcome == Unchanged {
				rep.Unchanged--
				rep.Updated++
			}
		}
	}
	if !a.changed {
		return nil // nothing moved: leave the scope tree as it is
	}
	if err := a.store.SyncScopeTree(ctx, tx); err != nil {
		return fmt.Errorf("sync scope tree: %w", err)
	}
	return nil
}
