package catalog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/problem"
)

// Delay is a service-level target as conventions write it: either an amount
// of open time ("4h", "30m", "1h30m") or a number of business days ("3d",
// also "3j"), counted by Calendar.DeadlineDays. The zero Delay is "no
// target". In JSON it is the same short text.
type Delay struct {
	Open time.Duration
	Days int
}

// maxDelayDays and maxDelayOpen reject typing slips ("300000h") that would
// send the deadline search to its limit.
const (
	maxDelayDays = 1000
	maxDelayOpen = 10000 * time.Hour
)

// ParseDelay reads a delay as the API receives it. Days and hours do not
// mix ("1d4h" is refused): the two count differently, and a user could not
// tell which applies first.
func ParseDelay(s string) (Delay, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	bad := func() (Delay, error) {
		return Delay{}, problem.Invalid("delay_invalid", fmt.Sprintf(
			"Délai « %s » invalide : écrivez par exemple 4h, 30m, 1h30m ou 3d (jours ouvrés).", s))
	}
	if num, ok := strings.CutSuffix(text, "d"); ok || strings.HasSuffix(text, "j") {
		if !ok {
			num = strings.TrimSuffix(text, "j")
		}
		n, err := strconv.Atoi(num)
		if err != nil || !digits(num) {
			return bad()
		}
		if n < 1 || n > maxDelayDays {
			return Delay{}, problem.Invalid("delay_invalid", fmt.Sprintf(
				"Délai « %s » : le nombre de jours ouvrés doit être entre 1 et %d.", s, maxDelayDays))
		}
		return Delay{Days: n}, nil
	}
	// Hours then minutes, each optional; "1h30" (the French way of
	// writing it) is read as 1h30m.
	var total time.Duration
	rest := text
	if h, after, ok := strings.Cut(rest, "h"); ok {
		n, err := strconv.Atoi(h)
		if err != nil || !digits(h) {
			return bad()
		}
		total, rest = time.Duration(n)*time.Hour, after
		if digits(rest) {
			rest += "m"
		}
	}
	if rest != "" {
		m, ok := strings.CutSuffix(rest, "m")
		n, err := strconv.Atoi(m)
		if !ok || err != nil || !digits(m) || (total > 0 && n > 59) {
			return bad()
		}
		total += time.Duration(n) * time.Minute
	}
	if text == "" {
		return bad()
	}
	if total <= 0 || total > maxDelayOpen {
		return Delay{}, problem.Invalid("delay_invalid", fmt.Sprintf(
			"Délai « %s » : la durée doit être positive et d'au plus %d heures.", s, int(maxDelayOpen.Hours())))
	}
	return Delay{Open: total}, nil
}

// IsZero reports whether d is "no target".
func (d Delay) IsZero() bool { return d == Delay{} }

// String is the canonical short form, the one ParseDelay reads back.
func (d Delay) String() string {
	switch {
	case d.Days > 0:
		return strconv.Itoa(d.Days) + "d"
	case d.Open <= 0:
		return ""
	}
	h, m := int(d.Open/time.Hour), int(d.Open%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// MarshalText writes the short form ("3d", "1h30m").
func (d Delay) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads the short form; an empty text is "no target".
func (d *Delay) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Delay{}
		return nil
	}
	v, err := ParseDelay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// DeadlineFor applies a delay of either kind from start.
func (c *Calendar) DeadlineFor(start time.Time, d Delay) (time.Time, []Interval, error) {
	if d.Days > 0 {
		return c.DeadlineDays(start, d.Days)
	}
	return c.Deadline(start, d.Open)
}

// Budget is the open time a delay grants from start: the delay itself for
// an open-time delay, and for business days the open time between start and
// the due instant. SLA clocks consume this budget, which is what lets a
// pause push a day-counted deadline by exactly the open time paused.
func (c *Calendar) Budget(start time.Time, d Delay) (time.Duration, error) {
	if d.Days == 0 {
		return d.Open, nil
	}
	_, intervals, err := c.DeadlineDays(start, d.Days)
	if err != nil {
		return 0, fmt.Errorf("budget of %s from %s: %w", d, start.Format(time.RFC3339), err)
	}
	var total time.Duration
	for _, iv := range intervals {
		total += iv.Duration()
	}
	return total, nil
}
