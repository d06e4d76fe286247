package catalog

import "time"

// HolidayOptions are the local variations of the French public holidays.
type HolidayOptions struct {
	// WhitMondayOpen: many services work on Whit Monday, the usual date of
	// the "journée de solidarité"; it is then an ordinary day for them.
	WhitMondayOpen bool `json:"whit_monday_open,omitempty"`
	// AlsaceMoselle adds the two days of the local law of Bas-Rhin,
	// Haut-Rhin and Moselle: Good Friday and 26 December.
	AlsaceMoselle bool `json:"alsace_moselle,omitempty"`
}

// PublicHoliday is a jour férié.
type PublicHoliday struct {
	Date Date   `json:"date"`
	Name string `json:"name"`
}

// maxHolidays bounds the holidays of one year (11 national + 2 local), so a
// year's list fits in an array and the deadline loop never allocates for it.
const maxHolidays = 13

// holidayYear is one year's public holidays as day numbers, sorted.
type holidayYear struct {
	year  int
	n     int
	days  [maxHolidays]int
	names [maxHolidays]string
}

// PublicHolidays lists the French public holidays of year, sorted by date.
// They are computed, not stored, so that any year works, including the ones
// no one thought to load.
func PublicHolidays(year int, opt HolidayOptions) []PublicHoliday {
	h := holidaysOf(year, opt)
	out := make([]PublicHoliday, h.n)
	for i := range h.n {
		out[i] = PublicHoliday{Date: dateOfDays(h.days[i]), Name: h.names[i]}
	}
	return out
}

func holidaysOf(year int, opt HolidayOptions) holidayYear {
	h := holidayYear{year: year}
	add := func(d Date, name string) {
		h.days[h.n], h.names[h.n] = d.days(), name
		h.n++
	}
	fixed := func(m time.Month, day int) Date { return Date{year, m, day} }
	easter := Easter(year)
	add(fixed(time.January, 1), "Jour de l'an")
	if opt.AlsaceMoselle {
		add(easter.AddDays(-2), "Vendredi saint")
	}
	add(easter.AddDays(1), "Lundi de Pâques")
	add(fixed(time.May, 1), "Fête du Travail")
	add(fixed(time.May, 8), "Victoire 1945")
	add(easter.AddDays(39), "Ascension")
	if !opt.WhitMondayOpen {
		add(easter.AddDays(50), "Lundi de Pentecôte")
	}
	add(fixed(time.July, 14), "Fête nationale")
	add(fixed(time.August, 15), "Assomption")
	add(fixed(time.November, 1), "Toussaint")
	add(fixed(time.November, 11), "Armistice 1918")
	add(fixed(time.December, 25), "Noël")
	if opt.AlsaceMoselle {
		add(fixed(time.December, 26), "Saint-Étienne")
	}
	// Ascension can fall on 1 or 8 May (2008: 1 May); a plain insertion
	// sort keeps the list ordered without allocating.
	for i := 1; i < h.n; i++ {
		for j := i; j > 0 && h.days[j] < h.days[j-1]; j-- {
			h.days[j], h.days[j-1] = h.days[j-1], h.days[j]
			h.names[j], h.names[j-1] = h.names[j-1], h.names[j]
		}
	}
	return h
}

// name returns the holiday falling on day n, if any.
func (h *holidayYear) name(n int) (string, bool) {
	for i := range h.n {
		if h.days[i] == n {
			return h.names[i], true
		}
	}
	return "", false
}

// Easter is Easter Sunday of the Gregorian calendar, by the anonymous
// Gregorian algorithm (Meeus/Jones/Butcher), valid for every year from 1583.
func Easter(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{year, time.Month(month), day}
}
