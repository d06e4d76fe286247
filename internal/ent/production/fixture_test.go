package production

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"socle/internal/ent/collab"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
	assets "socle/web"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeDir is an in-memory directory: people in establishments, groups,
// and communication rules "same establishment, or an explicit pair".
type fakeDir struct {
	mu     sync.Mutex
	names  map[int64]string
	estabs map[int64][]int64
	groups map[int64]*Group
	member map[int64][]int64 // group → members (pupils and teachers)
	pairs  map[[2]int64]bool
}

func (d *fakeDir) CanReach(_ context.Context, a, b int64) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a == b || d.pairs[[2]int64{a, b}] {
		return true, nil
	}
	for _, e := range d.estabs[a] {
		if slices.Contains(d.estabs[b], e) {
			return true, nil
		}
	}
	return false, nil
}

func (d *fakeDir) GroupsOfUser(_ context.Context, u int64) ([]Group, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Group
	for id, ms := range d.member {
		if g := d.groups[id]; !g.Archived && slices.Contains(ms, u) {
			out = append(out, *g)
		}
	}
	slices.SortFunc(out, func(a, b Group) int { return int(a.ID - b.ID) })
	return out, nil
}

func (d *fakeDir) Group(_ context.Context, id int64) (Group, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.groups[id]
	if !ok {
		return Group{}, ErrNoGroup
	}
	return *g, nil
}

func (d *fakeDir) MembersOfGroup(_ context.Context, id int64) ([]int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if g := d.groups[id]; g == nil || g.Archived {
		return nil, nil
	}
	return slices.Clone(d.member[id]), nil
}

func (d *fakeDir) EstablishmentsOf(_ context.Context, u int64) ([]int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.estabs[u]), nil
}

func (d *fakeDir) DisplayName(_ context.Context, u int64) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.names[u], nil
}

type sent struct {
	to []int64
	n  Notification
}

type fakeNotifier struct {
	mu   sync.Mutex
	sent []sent
}

func (n *fakeNotifier) Notify(_ context.Context, to []int64, x Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, sent{slices.Clone(to), x})
	return nil
}

type person struct {
	id    int64
	token string
	p     *auth.Principal
}

type fx struct {
	t     testing.TB
	ctx   context.Context
	db    *db.DB
	auth  *auth.Service
	docs  *collab.Server
	dir   *fakeDir
	notif *fakeNotifier
	svc   *Service
	// École Jules-Ferry (1): léa (CM2), tom (CM2), teacher anne.
	// Collège Jean-Moulin (2): inès (6e), teacher marc.
	lea, tom, ines, anne, marc person
	cm2, cycle3, oldClass      int64
}

func newFx(t testing.TB) *fx {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), collab.Migrations(), Migrations())
	f := &fx{t: t, ctx: ctx, db: d, auth: auth.NewService(d, auth.DefaultSettings(), quietLog())}
	f.dir = &fakeDir{names: map[int64]string{}, estabs: map[int64][]int64{}, groups: map[int64]*Group{}, member: map[int64][]int64{}, pairs: map[[2]int64]bool{}}
	f.notif = &fakeNotifier{}
	var svc *Service
	f.docs = collab.NewServer(d, f.auth, func(ctx context.Context, p *auth.Principal, doc string) (collab.Access, error) {
		return svc.Authorize(ctx, p, doc)
	}, quietLog(), collab.Options{})
	t.Cleanup(f.docs.Close)
	svc = NewService(d, f.dir, f.notif, f.docs, quietLog())
	f.svc = svc
	f.lea = f.user("lea@ecole.test", "Léa Martin", auth.RolePupil, 1)
	f.tom = f.user("tom@ecole.test", "Tom Petit", auth.RolePupil, 1)
	f.ines = f.user("ines@college.test", "Inès Haddad", auth.RolePupil, 2)
	f.anne = f.user("anne@ecole.test", "Anne Prof", auth.RoleTeacher, 1)
	f.marc = f.user("marc@college.test", "Marc Prof", auth.RoleTeacher, 2)
	f.cm2, f.cycle3, f.oldClass = 101, 102, 103
	f.dir.groups[f.cm2] = &Group{ID: f.cm2, Name: "CM2 A", Kind: "class", EstablishmentID: 1, Level: "CM2", Pupils: []int64{f.lea.id, f.tom.id}}
	f.dir.member[f.cm2] = []int64{f.lea.id, f.tom.id, f.anne.id}
	f.dir.groups[f.cycle3] = &Group{ID: f.cycle3, Name: "Liaison CM2-6e", Kind: "group", EstablishmentID: 2, Pupils: []int64{f.lea.id, f.ines.id}}
	f.dir.member[f.cycle3] = []int64{f.lea.id, f.ines.id, f.marc.id}
	f.dir.groups[f.oldClass] = &Group{ID: f.oldClass, Name: "CM1 A (2025-2026)", Kind: "class", EstablishmentID: 1, Level: "CM1", Archived: true, Pupils: []int64{f.lea.id}}
	f.dir.member[f.oldClass] = []int64{f.lea.id, f.anne.id}
	f.dir.groups[200] = &Group{ID: 200, Name: "6e B", Kind: "class", EstablishmentID: 2, Level: "6e", Pupils: []int64{f.ines.id}}
	f.dir.member[200] = []int64{f.ines.id, f.marc.id}
	return f
}

func (f *fx) user(email, name string, role auth.Role, estab int64) person {
	f.t.Helper()
	id, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: email, DisplayName: name, Password: "motdepasse-solide",
		Grants: []auth.Grant{{Role: role, OrgID: 1}}})
	if err != nil {
		f.t.Fatalf("create %s: %v", email, err)
	}
	tok, _, err := f.auth.IssueToken(f.ctx, id, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.auth.Principal(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	f.dir.names[id] = name
	f.dir.estabs[id] = []int64{estab}
	return person{id: id, token: tok, p: p}
}

func (f *fx) server() *httptest.Server {
	f.t.Helper()
	renderer, err := web.NewRenderer(assets.Templates(), quietLog(), nil)
	if err != nil {
		f.t.Fatalf("templates: %v", err)
	}
	router := web.NewRouter(quietLog(), renderer.ErrorPage)
	h, err := NewHandler(f.svc, renderer, assets.Static())
	if err != nil {
		f.t.Fatal(err)
	}
	h.Routes(router)
	router.HandleHTTP("GET /collab/{id}", f.docs)
	sessions := &web.Sessions{Auth: f.auth, Router: router}
	srv := httptest.NewServer(sessions.Middleware(router))
	f.t.Cleanup(srv.Close)
	return srv
}

func call(t testing.TB, srv *httptest.Server, who person, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, srv.URL+path, r)
	if who.token != "" {
		req.Header.Set("Authorization", "Bearer "+who.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
