package demo

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"socle/internal/platform/text"
	"socle/internal/territory"
)

// seed fixes the generator: the same seed gives the same territory, so the
// demo, its screenshots and the tests all describe one département.
const seed uint64 = 0x50C1E_2026

// newRand returns the random stream of one part of the generation. Each part
// has its own stream, derived from its name, so that a change in one part
// (more communes, other enrolment figures, a later issue's tickets) leaves
// what the others generate as it was.
func newRand(part string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(part))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// tier is the size class of a commune, which decides its schools.
type tier int

const (
	tierVillage tier = iota
	tierSuburb       // a member of the métropole around the chef-lieu
	tierTown         // a small town with its own collège and lycée
	tierChefLieu
)

// plan is the whole demo territory, generated in memory before anything is
// written: the accounts' scopes can then be named without a database, and
// the writing steps only translate it to rows.
type plan struct {
	communes []*commune // in INSEE code order
	chefLieu *commune
	towns    []*commune
	schools  []*school // lycées, collèges, then écoles, in UAI order
	sectors  []sector
}

type commune struct {
	code, name, postal string
	pop                int
	lat, lon           float64
	tier               tier
	inEPCI             bool
	streets            []string
	circonscription    string
}

// schoolKind is finer than territory.Type: it decides the name, the levels
// and the size of a school.
type schoolKind int

const (
	kindMaternelle schoolKind = iota
	kindElementaire
	kindPrimaire
	kindCollege
	kindLGT // lycée général et technologique
	kindLPO // lycée polyvalent
	kindLP  // lycée professionnel
)

type school struct {
	territory.Establishment
	kind       schoolKind
	commune    *commune
	enrolments []territory.Enrolment
}

// public reports whether a collectivité maintains the school.
func (s *school) public() bool { return s.Sector == territory.SectorPublic }

// sector is a line of the carte scolaire.
type sector struct {
	key          string
	commune      *commune
	street       string
	collegeUAI   string
	singleSector bool
}

// generate builds the demo territory. It is pure: no clock, no database, a
// fixed seed.
func generate() *plan {
	p := &plan{}
	p.generateCommunes(newRand("communes"))
	p.generateSchools(newRand("schools"))
	p.generateEnrolments(newRand("enrolments"))
	p.generateSectors()
	return p
}

func (p *plan) generateCommunes(r *rand.Rand) {
	used := map[string]bool{chefLieuName: true}
	add := func(t tier, pop int, lat, lon float64) *commune {
		c := &commune{name: communeName(r, used), pop: pop, lat: lat, lon: lon, tier: t}
		p.communes = append(p.communes, c)
		return c
	}
	p.chefLieu = &commune{name: chefLieuName, pop: 64_000 + r.IntN(4_000), lat: centreLat, lon: centreLon,
		tier: tierChefLieu, inEPCI: true}
	p.communes = append(p.communes, p.chefLieu)
	// Nine suburbs on a ring around the chef-lieu, the métropole's members.
	for i := range 9 {
		angle := (float64(i) + 0.4*r.Float64()) * 2 * math.Pi / 9
		dist := 0.045 + 0.07*r.Float64()
		c := add(tierSuburb, 3_200+r.IntN(11_000), centreLat+dist*math.Sin(angle), centreLon+dist*math.Cos(angle)/lonScale)
		c.inEPCI = true
	}
	// Two small towns on either side, far enough to have their own lycée.
	for i := range 2 {
		angle := math.Pi*float64(i) + 0.5 + 0.6*r.Float64()
		dist := 0.22 + 0.06*r.Float64()
		p.towns = append(p.towns, add(tierTown, 8_500+r.IntN(5_000),
			centreLat+dist*math.Sin(angle), centreLon+dist*math.Cos(angle)/lonScale))
	}
	// Villages anywhere else in the box, not on top of another commune.
	for len(p.communes) < 40 {
		lat := minLat + (maxLat-minLat)*r.Float64()
		lon := minLon + (maxLon-minLon)*r.Float64()
		if nearest(p.communes, lat, lon) < 0.035 {
			continue
		}
		// Most villages are small; a few are bourgs of several thousand.
		pop := 350 + int(4_800*math.Pow(r.Float64(), 2.2))
		add(tierVillage, pop, lat, lon)
	}
	// INSEE numbered the communes of a département in alphabetical order;
	// postal codes follow the bureaux distributeurs, one per commune here.
	slices.SortFunc(p.communes, func(a, b *commune) int {
		return cmp.Compare(text.SearchKey(a.name), text.SearchKey(b.name))
	})
	for i, c := range p.communes {
		c.code = fmt.Sprintf("99%03d", i+1)
		c.postal = fmt.Sprintf("99%03d", 100+10*i)
		c.lat, c.lon = round6(c.lat), round6(c.lon)
		c.streets = pickN(r, streetNames, 6+min(c.pop/4_000, 14))
	}
	p.chefLieu.postal = "99000"
	for _, c := range p.communes {
		c.circonscription = p.circonscriptionOf(c)
	}
}

// communeName composes a name not used yet.
func communeName(r *rand.Rand, used map[string]bool) string {
	for {
		var n string
		switch r.IntN(10) {
		case 0, 1, 2, 3:
			n = pick(r, bretonPrefixes) + pick(r, bretonRoots)
			if r.IntN(4) == 0 {
				n += pick(r, placeSuffixes)
			}
		case 4, 5, 6:
			n = pick(r, saints)
			if r.IntN(3) > 0 {
				n += pick(r, placeSuffixes)
			}
		case 7, 8:
			n = pick(r, articleNames)
			if r.IntN(2) == 0 {
				n += pick(r, placeSuffixes)
			}
		default:
			n = pick(r, normanRoots) + "ville"
			if r.IntN(2) == 0 {
				n += pick(r, placeSuffixes)
			}
		}
		if !used[n] {
			used[n] = true
			return n
		}
	}
}

// circonscriptionOf names the inspection district of the écoles of c: the
// chef-lieu is split in two, its métropole forms a third, and the rest of
// the département goes to the nearest town.
func (p *plan) circonscriptionOf(c *commune) string {
	switch {
	case c == p.chefLieu:
		return chefLieuName + " Centre"
	case c.inEPCI:
		return chefLieuName + " Couronne"
	}
	best := p.chefLieu
	for _, t := range p.towns {
		if distance(c.lat, c.lon, t.lat, t.lon) < distance(c.lat, c.lon, best.lat, best.lon) {
			best = t
		}
	}
	if best == p.chefLieu {
		return chefLieuName + " Campagne"
	}
	return best.name
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// pickN draws n distinct elements, in a random order.
func pickN[T any](r *rand.Rand, list []T, n int) []T {
	idx := r.Perm(len(list))[:min(n, len(list))]
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = list[j]
	}
	return out
}

// distance is in degrees of latitude, good enough at the scale of a
// département.
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	return math.Hypot(lat1-lat2, (lon1-lon2)*lonScale)
}

func nearest(cs []*commune, lat, lon float64) float64 {
	d := math.Inf(1)
	for _, c := range cs {
		d = min(d, distance(lat, lon, c.lat, c.lon))
	}
	return d
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
