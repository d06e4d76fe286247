package demo

import (
	"math"
	"math/rand/v2"

	"socle/internal/territory"
)

// The enrolment sources, as the importer names the national files: the
// écoles file, the collèges file and the second-degré file (lycées).
const (
	sourceEcoles      = "ecoles"
	sourceColleges    = "colleges"
	sourceSecondDegre = "second-degre"
)

// level is a school level and its share of the pupils: the pre-elementary
// cycle is three years (petite, moyenne and grande sections), counted as
// one level as the écoles file does.
type level struct {
	name   string
	weight float64
}

var (
	maternelleLevels  = []level{{"pre_elementaire", 1}}
	elementaireLevels = []level{{"CP", 1}, {"CE1", 1}, {"CE2", 1}, {"CM1", 1}, {"CM2", 1}}
	primaireLevels    = append([]level{{"pre_elementaire", 3}}, elementaireLevels...)
	collegeLevels     = []level{{"6e", 1}, {"5e", 1}, {"4e", 1}, {"3e", 0.97}}
	// More pupils enter seconde than leave in terminale.
	lyceeLevels = []level{{"2nde", 1.1}, {"1ère", 1}, {"Terminale", 0.95}}
)

func (p *plan) generateEnrolments(r *rand.Rand) {
	for _, s := range p.schools {
		latest := schoolSize(r, s)
		s.DirectoryPupils = &latest
		// Most of Brittany loses pupils (fewer births since 2010), a few
		// growing suburbs gain some.
		trend := -0.025 + 0.035*r.Float64()
		last := len(schoolYears) - 1
		for i, year := range schoolYears {
			pupils := latest
			if i != last {
				pupils = int(math.Round(float64(latest) * math.Pow(1+trend, float64(i-last)) * (0.97 + 0.06*r.Float64())))
			}
			s.enrolments = append(s.enrolments, enrolment(r, s, year, max(pupils, 12)))
		}
	}
}

// schoolSize is the pupils of the latest year.
func schoolSize(r *rand.Rand, s *school) int {
	between := func(lo, hi int) int { return lo + r.IntN(hi-lo+1) }
	private := s.Sector == territory.SectorPrivate
	switch s.kind {
	case kindMaternelle:
		if s.commune.tier == tierVillage {
			return between(50, 110)
		}
		return between(70, 170)
	case kindElementaire:
		if s.commune.tier == tierVillage {
			return between(90, 190)
		}
		return between(120, 300)
	case kindPrimaire:
		if private {
			return between(60, 220)
		}
		if s.commune.tier == tierVillage {
			// A village école takes about a tenth of the inhabitants,
			// less what the private école nearby draws.
			return min(max(int(float64(s.commune.pop)*0.1*(0.6+0.3*r.Float64())), 28), 260)
		}
		return between(100, 220)
	case kindCollege:
		switch {
		case private:
			return between(250, 650)
		case s.Priority == territory.PriorityREPPlus:
			return between(280, 400)
		case s.commune.tier == tierTown:
			return between(480, 720)
		case s.commune.tier == tierVillage:
			return between(280, 480)
		}
		return between(360, 680)
	case kindLGT:
		return between(1_000, 1_500)
	case kindLPO:
		if private {
			return between(550, 900)
		}
		return between(700, 1_200)
	}
	return between(280, 520) // lycée professionnel
}

// enrolment splits a year's pupils by level and counts the classes: smaller
// in éducation prioritaire (CP and CE1 halved to twelve in REP and REP+).
func enrolment(r *rand.Rand, s *school, year string, pupils int) territory.Enrolment {
	var levels []level
	var source string
	switch s.kind {
	case kindMaternelle:
		levels, source = maternelleLevels, sourceEcoles
	case kindElementaire:
		levels, source = elementaireLevels, sourceEcoles
	case kindPrimaire:
		levels, source = primaireLevels, sourceEcoles
	case kindCollege:
		levels, source = collegeLevels, sourceColleges
	default:
		levels, source = lyceeLevels, sourceSecondDegre
	}
	counts := split(r, pupils, levels)
	byLevel := make(map[string]int, len(levels))
	classes := 0
	for i, l := range levels {
		byLevel[l.name] = counts[i]
		classes += ceilDiv(counts[i], classSize(s, l.name))
	}
	if s.kind == kindPrimaire || s.kind == kindMaternelle {
		// Small écoles mix levels in one class; count the classes on the
		// whole school rather than per level.
		classes = max(1, ceilDiv(pupils, classSize(s, "")))
	}
	return territory.Enrolment{UAI: s.UAI, SchoolYear: year, Source: source, Pupils: pupils, Classes: &classes,
		Levels: byLevel, Priority: s.Priority}
}

func classSize(s *school, level string) int {
	prio := s.Priority != territory.PriorityNone
	switch s.kind {
	case kindCollege:
		switch s.Priority {
		case territory.PriorityREPPlus:
			return 23
		case territory.PriorityREP:
			return 25
		}
		return 27
	case kindLGT, kindLPO:
		return 34
	case kindLP:
		return 24
	case kindMaternelle:
		if prio {
			return 22
		}
		return 26
	}
	if prio && (level == "CP" || level == "CE1") {
		return 12
	}
	return 24
}

// split shares total between levels in proportion to their weights, with a
// little noise, and makes the parts add up exactly to total.
func split(r *rand.Rand, total int, levels []level) []int {
	w := make([]float64, len(levels))
	sum := 0.0
	for i, l := range levels {
		w[i] = l.weight * (0.9 + 0.2*r.Float64())
		sum += w[i]
	}
	out := make([]int, len(levels))
	given := 0
	for i := range levels {
		out[i] = int(float64(total) * w[i] / sum)
		given += out[i]
	}
	for i := 0; given < total; i = (i + 1) % len(out) {
		out[i]++
		given++
	}
	return out
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
