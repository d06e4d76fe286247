package helpdesk

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// fakeFleet stands for the fleet: assets 1 to 9 belong to school A, 10 to
// 19 to school B; ApplyIMAC writes a row in the caller's transaction, so
// the test sees whether it committed with the ticket's status.
type fakeFleet struct {
	mu      sync.Mutex
	estA    int64
	fail    error
	applied []IMACChange
}

func (f *fakeFleet) CheckAssets(_ context.Context, _ *auth.Principal, est int64, ids []int64) error {
	for _, id := range ids {
		if (est == f.estA) != (id < 10) {
			return problem.Invalid("unknown_asset", "Équipement inconnu.").Field("assets", "Inconnu.")
		}
	}
	return nil
}

func (f *fakeFleet) CheckChange(spec IMACSpec) error {
	if spec.State == "cassé" {
		return problem.Invalid("invalid_imac", "État inconnu.")
	}
	return nil
}

func (f *fakeFleet) ApplyIMAC(ctx context.Context, tx *db.Tx, _ *auth.Principal, ch IMACChange) (IMACResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The fleet's write, in the helpdesk's transaction.
	if _, err := tx.ExecContext(ctx, `UPDATE tickets SET description = 'modifié par le parc' WHERE id = ?`, ch.TicketID); err != nil {
		return IMACResult{}, err
	}
	if f.fail != nil {
		return IMACResult{}, f.fail
	}
	f.applied = append(f.applied, ch)
	res := IMACResult{Summary: "appliqué"}
	if ch.NewAsset != nil {
		res.CreatedAsset = 7
	}
	return res, nil
}

// Solving an IMAC request applies its change in the solving transaction:
// a refused change rolls back the status and the fleet's write alike; it
// is applied once; only those who see the ticket read or write what it
// names.
func TestIMACScope(t *testing.T) {
	f := newFixture(t)
	fl := &fakeFleet{estA: f.estA}
	f.svc.SetFleet(fl)
	var rt int64
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO request_types (service_id, kind, imac, name) VALUES (?, 'request', 'move', 'Déménagement') RETURNING id`, f.serviceID).Scan(&rt); err != nil {
		t.Fatal(err)
	}
	var tk Ticket
	f.mustCall(f.teacher, "POST", "/api/v1/tickets", map[string]any{"kind": "request", "uai": f.uaiA, "request_type_id": rt, "title": "Déménager la salle 3"}, &tk, http.StatusCreated)
	path := "/api/v1/tickets/" + tk.Reference + "/imac"
	var spec IMACSpec
	f.mustCall(f.tech, "PUT", path, map[string]any{"assets": []int64{1, 2, 2}, "room": "12"}, &spec, http.StatusOK)
	if spec.Operation != OpMove || !slices.Equal(spec.Assets, []int64{1, 2}) {
		t.Fatalf("spec %+v", spec)
	}
	for _, c := range []struct {
		who    account
		method string
		body   any
		want   int
	}{
		{f.headB, "GET", nil, http.StatusNotFound},
		{f.headB, "PUT", map[string]any{"assets": []int64{11}}, http.StatusNotFound},
		{f.head, "GET", nil, http.StatusOK},
		{f.head, "PUT", map[string]any{"assets": []int64{1}}, http.StatusForbidden},
		// The requester names devices but does not erase the technician's change.
		{f.teacher, "PUT", map[string]any{"assets": []int64{3}}, http.StatusForbidden},
		{f.tech, "PUT", map[string]any{"assets": []int64{11}, "room": "1"}, http.StatusBadRequest},                       // school B's asset
		{f.tech, "PUT", map[string]any{"operation": "change", "assets": []int64{1}, "room": "1"}, http.StatusBadRequest}, // not the request type's
		{f.tech, "PUT", map[string]any{"assets": []int64{1}}, http.StatusBadRequest},                                     // a move without a place
	} {
		if got := f.call(c.who, c.method, path, c.body, nil); got != c.want {
			t.Errorf("%s %s as %s: %d, want %d", c.method, path, c.who.email, got, c.want)
		}
	}

	// A refused change leaves the ticket open and rolls back the fleet's
	// write made in the same transaction.
	fl.fail = problem.Conflict("unknown_asset", "Équipement parti.")
	if got := f.call(f.tech, "POST", "/api/v1/tickets/"+tk.Reference+"/status", map[string]any{"status": "solved"}, nil); got != http.StatusConflict {
		t.Fatalf("solve with a refused change: %d", got)
	}
	d := f.detail(f.tech, tk.Reference)
	if d.Status.open() == false || d.Description == "modifié par le parc" {
		t.Fatalf("after a refused change: status %s, description %q", d.Status, d.Description)
	}
	fl.fail = nil
	f.status(f.tech, tk.Reference, "solved", "")
	d = f.detail(f.tech, tk.Reference)
	if d.Status != StatusSolved || d.Description != "modifié par le parc" || len(fl.applied) != 1 {
		t.Fatalf("after solving: status %s, description %q, %d applied", d.Status, d.Description, len(fl.applied))
	}
	if ch := fl.applied[0]; ch.Room != "12" || ch.Operation != OpMove || ch.EstablishmentID != f.estA || ch.Actor != f.tech.email || !slices.Equal(ch.Assets, []int64{1, 2}) {
		t.Fatalf("change sent to the fleet %+v", ch)
	}
	// Closed then reopened and solved: not applied twice.
	f.status(f.tech, tk.Reference, "closed", "")
	f.status(f.tech, tk.Reference, "reopened", "")
	f.status(f.tech, tk.Reference, "solved", "")
	if len(fl.applied) != 1 {
		t.Fatalf("applied %d times", len(fl.applied))
	}
	got, err := f.svc.IMAC(f.ctx, f.principal(f.tech), tk.Reference)
	if err != nil || got.AppliedAt == nil {
		t.Fatalf("IMAC after solving %+v %v", got, err)
	}
	// The asset's tickets, as each reader may see them.
	if l, err := f.svc.TicketsOfAsset(f.ctx, f.principal(f.head), 1); err != nil || len(l) != 1 || l[0].Reference != tk.Reference || !l[0].Applied {
		t.Fatalf("tickets of asset 1 for the head: %+v %v", l, err)
	}
	if l, err := f.svc.TicketsOfAsset(f.ctx, f.principal(f.headB), 1); err != nil || len(l) != 0 {
		t.Fatalf("tickets of asset 1 for the head of B: %+v %v", l, err)
	}
	// Without the fleet wired, a request with a change cannot be solved
	// and nothing can be named.
	f.svc.SetFleet(nil)
	var tk2 Ticket
	f.mustCall(f.teacher, "POST", "/api/v1/tickets", map[string]any{"kind": "request", "uai": f.uaiA, "request_type_id": rt, "title": "Autre"}, &tk2, http.StatusCreated)
	if _, err := f.svc.SetIMAC(f.ctx, f.principal(f.tech), tk2.Reference, IMACSpec{Assets: []int64{1}, Room: "3"}); err == nil {
		t.Fatal("named assets without a fleet")
	} else if pe, ok := problem.As(err); !ok || pe.Code != "fleet_unavailable" {
		t.Fatalf("without a fleet: %v", err)
	}
}
