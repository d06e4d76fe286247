package planning

import (
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/ical"
)

// planEvents gives the operations of a plan as all-day calendar events,
// for the people involved (owner filters on the owner, case-insensitive;
// empty: all).
func planEvents(pl Plan, host, owner string) ([]ical.Event, error) {
	var out []ical.Event
	for _, o := range pl.Operations {
		if owner != "" && !strings.EqualFold(strings.TrimSpace(o.Owner), strings.TrimSpace(owner)) {
			continue
		}
		start, err := time.Parse(dateLayout, o.StartsOn)
		if err != nil {
			return nil, fmt.Errorf("operation %d start: %w", o.ID, err)
		}
		end, err := time.Parse(dateLayout, o.EndsOn)
		if err != nil {
			return nil, fmt.Errorf("operation %d end: %w", o.ID, err)
		}
		status := "TENTATIVE"
		switch o.Status {
		case OpInProgress, OpDone:
			status = "CONFIRMED"
		case OpCancelled:
			status = "CANCELLED"
		}
		desc := o.Kind.Label() + " — " + o.Status.Label()
		if o.Owner != "" {
			desc += "\nResponsable : " + o.Owner
		}
		if len(o.Establishments) > 0 {
			desc += "\nÉtablissements : " + strings.Join(o.Establishments, ", ")
		}
		// The operation's end date is its last day; the event's is exclusive.
		out = append(out, ical.Event{UID: fmt.Sprintf("plan-%d-op-%d@%s", pl.ID, o.ID, host), Summary: o.Kind.Label() + " : " + o.Title,
			Description: desc, Categories: o.Kind.Label(), Status: status, AllDay: true, Start: start, End: end.AddDate(0, 0, 1)})
	}
	return out, nil
}
