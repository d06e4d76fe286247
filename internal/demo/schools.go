package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"socle/internal/territory"
)

// priorityArea is a neighbourhood of the chef-lieu in éducation
// prioritaire: a collège and the écoles of its sector carry its label.
type priorityArea struct {
	Name       string
	Priority   territory.Priority
	DLat, DLon float64 // offset of the neighbourhood from the town centre
	Streets    []string
}

// First numbers of the UAI ranges, by type: readable ranges make a demo UAI
// easy to recognise in a log or a ticket.
const (
	firstLyceeUAI   = 990001
	firstCollegeUAI = 990021
	firstEcoleUAI   = 990101
)

const privateContract = "CONTRAT D'ASSOCIATION TOUTES CLASSES"

// natures are the directory's nature codes and labels, as the annuaire
// spells them.
var natures = map[schoolKind]struct{ code, label string }{
	kindMaternelle:  {"101", "ECOLE MATERNELLE"},
	kindElementaire: {"151", "ECOLE DE NIVEAU ELEMENTAIRE"},
	kindPrimaire:    {"151", "ECOLE DE NIVEAU ELEMENTAIRE"},
	kindCollege:     {"340", "COLLEGE"},
	kindLGT:         {"300", "LYCEE ENSEIGNT GENERAL ET TECHNOLOGIQUE"},
	kindLPO:         {"306", "LYCEE POLYVALENT"},
	kindLP:          {"320", "LYCEE PROFESSIONNEL"},
}

// schoolGen carries what the school generation draws and the names already
// given (a name is unique per commune for écoles, per département for
// collèges and lycées).
type schoolGen struct {
	r                *rand.Rand
	p                *plan
	lycees, colleges []*school
	ecoles           []*school
	usedEcole        map[*commune]map[string]bool
	usedCollege      map[string]bool
	usedLycee        map[string]bool
}

func (p *plan) generateSchools(r *rand.Rand) {
	g := &schoolGen{r: r, p: p, usedEcole: map[*commune]map[string]bool{}, usedCollege: map[string]bool{}, usedLycee: map[string]bool{}}
	// The largest villages have a collège of their own; the others send
	// their pupils to the nearest one (see the carte scolaire).
	villages := []*commune{}
	for _, c := range p.communes {
		if c.tier == tierVillage {
			villages = append(villages, c)
		}
	}
	slices.SortStableFunc(villages, func(a, b *commune) int { return b.pop - a.pop })
	bourgs := map[*commune]bool{}
	for _, c := range villages[:4] {
		bourgs[c] = true
	}
	for _, c := range p.communes {
		switch c.tier {
		case tierChefLieu:
			g.chefLieu(c)
		case tierTown:
			g.town(c, c == p.towns[0])
		case tierSuburb:
			g.ecolesOf(c, max(2, c.pop/1_900), boolInt(c.pop > 6_000), nil)
			if c.pop > 8_000 {
				g.college(c, territory.SectorPublic, nil)
			}
		default:
			pub := 1
			if c.pop >= 2_800 {
				pub = 2 // a maternelle and an élémentaire
			}
			g.ecolesOf(c, pub, boolInt(c.pop > 1_700), nil)
			if bourgs[c] {
				g.college(c, territory.SectorPublic, nil)
			}
		}
	}
	number := func(list []*school, first int) {
		for i, s := range list {
			n := first + i
			s.UAI = fmt.Sprintf("%07d%c", n, territory.UAICheckLetter(n))
			s.Email = "ce." + s.UAI + "@" + mailDomain
		}
	}
	number(g.lycees, firstLyceeUAI)
	number(g.colleges, firstCollegeUAI)
	number(g.ecoles, firstEcoleUAI)
	p.schools = slices.Concat(g.lycees, g.colleges, g.ecoles)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// chefLieu gives the préfecture its many écoles, six public collèges (the
// first two heading the REP+ and REP networks of its priority
// neighbourhoods), private ones, and three public lycées and a private one.
func (g *schoolGen) chefLieu(c *commune) {
	for i := range priorityAreas {
		a := &priorityAreas[i]
		g.college(c, territory.SectorPublic, a)
		g.ecolesOf(c, 5+i, 0, a)
	}
	for range 4 {
		g.college(c, territory.SectorPublic, nil)
	}
	for range 2 {
		g.college(c, territory.SectorPrivate, nil)
	}
	g.ecolesOf(c, 30, 5, nil)
	g.lycee(c, kindLGT, territory.SectorPublic)
	g.lycee(c, kindLPO, territory.SectorPublic)
	g.lycee(c, kindLP, territory.SectorPublic)
	g.lycee(c, kindLPO, territory.SectorPrivate)
}

// town gives a small town its écoles, a public and a private collège and a
// lycée polyvalent. The first town's collège heads a REP network, as many
// rural collèges do.
func (g *schoolGen) town(c *commune, rep bool) {
	var area *priorityArea
	if rep {
		area = &priorityArea{Name: c.name, Priority: territory.PriorityREP, Streets: c.streets[:2]}
	}
	g.college(c, territory.SectorPublic, area)
	g.college(c, territory.SectorPrivate, nil)
	if area != nil {
		g.ecolesOf(c, 3, 0, area)
	}
	g.ecolesOf(c, c.pop/2_300, 2, nil)
	g.lycee(c, kindLPO, territory.SectorPublic)
}

// ecolesOf adds public écoles (in maternelle and élémentaire pairs sharing
// a name, as on a groupe scolaire, and a primaire when the count is odd)
// and private primaires.
func (g *schoolGen) ecolesOf(c *commune, public, private int, area *priorityArea) {
	used := g.usedEcole[c]
	if used == nil {
		used = map[string]bool{}
		g.usedEcole[c] = used
	}
	for i := 0; i < public; {
		name := unused(g.r, ecoleNames, used)
		if public-i >= 2 && (c.tier != tierVillage || public == 2) {
			g.ecole(c, kindMaternelle, territory.SectorPublic, "École maternelle publique "+name, area)
			g.ecole(c, kindElementaire, territory.SectorPublic, "École élémentaire publique "+name, area)
			i += 2
			continue
		}
		g.ecole(c, kindPrimaire, territory.SectorPublic, "École primaire publique "+name, area)
		i++
	}
	for range private {
		g.ecole(c, kindPrimaire, territory.SectorPrivate, "École primaire privée "+unused(g.r, privateEcoleNames, used), nil)
	}
}

func (g *schoolGen) ecole(c *commune, kind schoolKind, sector territory.Sector, name string, area *priorityArea) {
	s := g.newSchool(c, kind, sector, name, area, 1880, 2015)
	s.Circonscription = c.circonscription
	g.ecoles = append(g.ecoles, s)
}

func (g *schoolGen) college(c *commune, sector territory.Sector, area *priorityArea) {
	var name string
	if sector == territory.SectorPublic {
		name = "Collège " + unused(g.r, collegeNames, g.usedCollege)
	} else {
		name = "Collège privé " + unused(g.r, privateCollegeNames, g.usedCollege)
	}
	g.colleges = append(g.colleges, g.newSchool(c, kindCollege, sector, name, area, 1962, 2005))
}

func (g *schoolGen) lycee(c *commune, kind schoolKind, sector territory.Sector) {
	if sector == territory.SectorPrivate {
		g.lycees = append(g.lycees, g.newSchool(c, kind, sector, "Lycée privé "+unused(g.r, privateLyceeNames, g.usedLycee), nil, 1900, 1990))
		return
	}
	prefix := map[schoolKind]string{kindLGT: "Lycée général et technologique ", kindLPO: "Lycée polyvalent ", kindLP: "Lycée professionnel "}[kind]
	g.lycees = append(g.lycees, g.newSchool(c, kind, sector, prefix+unused(g.r, lyceeNames, g.usedLycee), nil, 1950, 2000))
}

// newSchool fills what every establishment has; the UAI and e-mail come
// when the lists are numbered.
func (g *schoolGen) newSchool(c *commune, kind schoolKind, sector territory.Sector, name string, area *priorityArea, openedFrom, openedTo int) *school {
	r := g.r
	typ := territory.TypeEcole
	switch kind {
	case kindCollege:
		typ = territory.TypeCollege
	case kindLGT, kindLPO, kindLP:
		typ = territory.TypeLycee
	}
	// Schools spread over the town in proportion to its size; those of a
	// priority neighbourhood gather in it.
	spread := map[tier]float64{tierChefLieu: 0.022, tierTown: 0.009, tierSuburb: 0.008, tierVillage: 0.003}[c.tier]
	lat, lon := c.lat, c.lon
	streets := c.streets
	if area != nil {
		lat, lon, spread = lat+area.DLat, lon+area.DLon, min(spread, 0.004)
		streets = area.Streets
	}
	lat += spread * (2*r.Float64() - 1)
	lon += spread / lonScale * (2*r.Float64() - 1)
	lat, lon = round6(lat), round6(lon)
	s := &school{kind: kind, commune: c, Establishment: territory.Establishment{
		Name:            name,
		Type:            typ,
		NatureCode:      natures[kind].code,
		NatureLabel:     natures[kind].label,
		Sector:          sector,
		Status:          territory.StatusOpen,
		Address1:        fmt.Sprintf("%d %s", 1+r.IntN(90), pick(r, streets)),
		PostalCode:      c.postal,
		CommuneCode:     c.code,
		CommuneName:     c.name,
		DepartementCode: departementCode,
		AcademyCode:     academyCode,
		Latitude:        &lat,
		Longitude:       &lon,
		Phone:           fmt.Sprintf("%s %02d %02d", phonePrefix, r.IntN(100), r.IntN(100)),
		OpenedOn:        fmt.Sprintf("%d-09-01", openedFrom+r.IntN(openedTo-openedFrom+1)),
	}}
	if sector == territory.SectorPrivate {
		s.PrivateContract = privateContract
	} else if area != nil {
		// Éducation prioritaire labels only public schools.
		s.Priority = area.Priority
	}
	return s
}

// unused draws a name not in used, and marks it; when every name is taken
// it numbers the last one rather than loop forever.
func unused(r *rand.Rand, names []string, used map[string]bool) string {
	for range 4 * len(names) {
		n := pick(r, names)
		if !used[n] {
			used[n] = true
			return n
		}
	}
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s %d", pick(r, names), i)
		if !used[n] {
			used[n] = true
			return n
		}
	}
}
