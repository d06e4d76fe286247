package catalog

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/problem"
)

// problems collects every fault of a spec, so that a user fixing a form
// sees all of them at once rather than one per submission.
type problems struct {
	msgs   []string
	fields map[string]string
	cause  error
}

func (p *problems) add(field, msg string) {
	p.msgs = append(p.msgs, msg)
	if p.fields == nil {
		p.fields = map[string]string{}
	}
	if prev, ok := p.fields[field]; ok {
		msg = prev + " " + msg
	}
	p.fields[field] = msg
}

func (p *problems) err() error {
	if len(p.msgs) == 0 {
		return nil
	}
	e := problem.Invalid("calendar_invalid", "Calendrier invalide : "+strings.Join(p.msgs, " "))
	for _, k := range slices.Sorted(maps.Keys(p.fields)) {
		e = e.Field(k, p.fields[k])
	}
	if p.cause != nil {
		e = e.Wrap(p.cause)
	}
	return e
}

func compile(spec Spec, periods []Period) (*Calendar, error) {
	var p problems
	tz := cmp.Or(spec.TimeZone, DefaultTimeZone)
	loc, err := time.LoadLocation(tz)
	if err != nil {
		p.add("time_zone", fmt.Sprintf("Fuseau horaire « %s » inconnu.", tz))
		p.cause = fmt.Errorf("load time zone %q: %w", tz, err)
	}
	c := &Calendar{loc: loc}
	c.week = compileWeek(spec.Hours, &p)
	if !slices.ContainsFunc(c.week[:], func(s []span) bool { return len(s) > 0 }) && len(p.msgs) == 0 {
		p.add("hours", "Le calendrier n'a aucune plage d'ouverture : indiquez au moins un jour ouvert.")
	}
	for i, cl := range spec.Closures {
		name := cmp.Or(cl.Label, fmt.Sprintf("n° %d", i+1))
		field := fmt.Sprintf("closures[%d]", i)
		switch {
		case cl.From.IsZero() || cl.To.IsZero():
			p.add(field, fmt.Sprintf("Fermeture « %s » : les dates de début et de fin sont requises.", name))
		case cl.To.days() < cl.From.days():
			p.add(field, fmt.Sprintf("Fermeture « %s » : la date de fin (%s) précède la date de début (%s).", name, cl.To, cl.From))
		default:
			c.labeled = append(c.labeled, dayRange{cl.From.days(), cl.To.days() + 1, cmp.Or(cl.Label, "Fermeture exceptionnelle")})
		}
	}
	if spec.ClosedDuringSchoolHolidays {
		compileSchoolHolidays(c, periods, &p)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	slices.SortFunc(c.labeled, func(a, b dayRange) int { return cmp.Compare(a.from, b.from) })
	for _, r := range c.labeled {
		if k := len(c.closed) - 1; k >= 0 && r.from <= c.closed[k].to {
			c.closed[k].to = max(c.closed[k].to, r.to)
			continue
		}
		c.closed = append(c.closed, dayRange{from: r.from, to: r.to})
	}
	return c, nil
}

func compileSchoolHolidays(c *Calendar, periods []Period, p *problems) {
	if len(periods) == 0 {
		// Silently counting holidays as open days would breach every SLA
		// of the summer; refuse instead.
		p.add("school_holidays", "Le calendrier ferme pendant les vacances scolaires, mais aucune période de vacances n'est connue pour sa zone.")
		return
	}
	if c.loc == nil {
		return // reported with the time zone
	}
	for _, h := range periods {
		from, to := dayIn(h.Start, c.loc), dayIn(h.End, c.loc)
		label := cmp.Or(h.Label, "Vacances scolaires")
		if to < from {
			p.add("school_holidays", fmt.Sprintf("Vacances scolaires « %s » : la fin (%s) précède le début (%s).",
				label, dateOfDays(to), dateOfDays(from)))
			continue
		}
		// The national file marks the start of the summer holidays with a
		// zero-length row (start = end): it closes nothing but still tells
		// how far the calendar is known.
		c.schoolUntil = max(c.schoolUntil, to)
		if to > from {
			c.labeled = append(c.labeled, dayRange{from, to, label})
		}
	}
}

// compileWeek parses the opening hours. Days are processed in the French
// week order so that messages come out in the order a user reads the form.
func compileWeek(hours map[string][]TimeRange, p *problems) [7][]span {
	type parsed struct {
		span
		text string
	}
	var week [7][]parsed
	keys := slices.SortedFunc(maps.Keys(hours), func(a, b string) int {
		wa, oka := parseWeekday(a)
		wb, okb := parseWeekday(b)
		switch {
		case oka && okb:
			return cmp.Compare((wa+6)%7, (wb+6)%7) // Monday first
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, key := range keys {
		wd, ok := parseWeekday(key)
		if !ok {
			p.add("hours."+key, fmt.Sprintf("Jour « %s » inconnu : attendu lundi, mardi, mercredi, jeudi, vendredi, samedi ou dimanche.", key))
			continue
		}
		day := frenchWeekday(wd)
		for _, r := range hours[key] {
			text := r.Start + "–" + r.End
			start, msgS := parseClock(r.Start)
			end, msgE := parseClock(r.End)
			if msg := cmp.Or(msgS, msgE); msg != "" {
				p.add("hours."+day, fmt.Sprintf("%s : %s dans la plage %s.", day, msg, text))
				continue
			}
			if start >= end {
				p.add("hours."+day, fmt.Sprintf("%s : la plage %s doit commencer avant de finir "+
					"(une plage ne passe pas minuit : finissez-la à 24:00 et reprenez à 00:00 le lendemain).", day, text))
				continue
			}
			week[wd] = append(week[wd], parsed{span{start, end}, text})
		}
	}
	var out [7][]span
	for wd, ranges := range week {
		slices.SortFunc(ranges, func(a, b parsed) int { return cmp.Compare(a.start, b.start) })
		widest := -1 // index of the range reaching furthest so far
		for i, r := range ranges {
			if widest >= 0 && r.start < ranges[widest].end {
				p.add("hours."+frenchWeekday(time.Weekday(wd)), fmt.Sprintf("%s : les plages %s et %s se chevauchent.",
					frenchWeekday(time.Weekday(wd)), ranges[widest].text, r.text))
			}
			if widest < 0 || r.end > ranges[widest].end {
				widest = i
			}
			// Touching ranges (08:00–12:00, 12:00–14:00) are one opening.
			if k := len(out[wd]) - 1; k >= 0 && r.start <= out[wd][k].end {
				out[wd][k].end = max(out[wd][k].end, r.end)
				continue
			}
			out[wd] = append(out[wd], r.span)
		}
	}
	return out
}

// parseClock reads "HH:MM" (or "H:MM") into minutes from midnight, from
// 00:00 to 24:00. On failure it returns a French fragment for the message.
func parseClock(s string) (int, string) {
	hs, ms, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, errH := strconv.Atoi(hs)
	m, errM := strconv.Atoi(ms)
	if !ok || !digits(hs) || !digits(ms) || errH != nil || errM != nil || len(ms) != 2 || len(hs) > 2 {
		return 0, fmt.Sprintf("heure « %s » invalide (format HH:MM attendu)", s)
	}
	if m > 59 || h > 24 || (h == 24 && m > 0) {
		return 0, fmt.Sprintf("heure « %s » hors de 00:00–24:00", s)
	}
	return h*60 + m, ""
}

func digits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// parseWeekday accepts French and English day names, in any case.
func parseWeekday(s string) (time.Weekday, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lundi", "monday":
		return time.Monday, true
	case "mardi", "tuesday":
		return time.Tuesday, true
	case "mercredi", "wednesday":
		return time.Wednesday, true
	case "jeudi", "thursday":
		return time.Thursday, true
	case "vendredi", "friday":
		return time.Friday, true
	case "samedi", "saturday":
		return time.Saturday, true
	case "dimanche", "sunday":
		return time.Sunday, true
	}
	return 0, false
}

func frenchWeekday(wd time.Weekday) string {
	switch wd {
	case time.Monday:
		return "lundi"
	case time.Tuesday:
		return "mardi"
	case time.Wednesday:
		return "mercredi"
	case time.Thursday:
		return "jeudi"
	case time.Friday:
		return "vendredi"
	case time.Saturday:
		return "samedi"
	}
	return "dimanche"
}
