package privacy

import (
	"archive/zip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"socle/internal/ent/notify"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
	assets "socle/web"
)

// Organizations of the fixture: a commune above school A; school B
// elsewhere. Only ids matter to grants and org_closure.
const (
	orgCommune = 5
	orgSchoolA = 10
	orgSchoolB = 20
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// guardians is the people domain's parent links, as a map.
type guardians map[[2]int64]bool

func (g guardians) IsGuardian(_ context.Context, parentID, childID int64) (bool, error) {
	return g[[2]int64{parentID, childID}], nil
}

// files is a tiny contributor standing for the personal space: it exports
// the person's files (one with a name that tries to leave its folder) and
// remembers erasures.
type files struct {
	mu     sync.Mutex
	owner  int64
	erased []int64
}

func (f *files) Name() string { return "espace" }

func (f *files) ExportPerson(_ context.Context, userID int64, zw *zip.Writer) error {
	if userID != f.owner {
		return nil
	}
	for name, body := range map[string]string{"Exposé volcans.odt": "contenu de l'exposé", "../../evasion.txt": "reste dans espace/"} {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, body); err != nil {
			return err
		}
	}
	return nil
}

func (f *files) ErasePerson(_ context.Context, userID int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.erased = append(f.erased, userID)
	return nil
}

type account struct {
	id    int64
	email string
	token string
	p     *auth.Principal
}

type fx struct {
	t      testing.TB
	ctx    context.Context
	db     *db.DB
	auth   *auth.Service
	notify *notify.Service
	files  *files
	svc    *Service
	clock  *clock
	dir    string
	// pupil Léa (school A), her parent, her school's head, the head of
	// school B, a teacher of school A, another pupil, a head over the
	// commune (recursive), a platform administrator.
	lea, parent, headA, headB, teacher, tom, headCommune, admin account
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFx(t testing.TB) *fx {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), notify.Migrations(), Migrations())
	f := &fx{t: t, ctx: ctx, db: d, auth: auth.NewService(d, auth.DefaultSettings(), quietLog()),
		clock: &clock{t: time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)}, dir: t.TempDir()}
	if _, err := d.ExecContext(ctx, `INSERT INTO org_closure (ancestor_id, descendant_id, depth) VALUES (?, ?, 1)`, orgCommune, orgSchoolA); err != nil {
		t.Fatal(err)
	}
	f.lea = f.user("lea@ecole-a.test", "Léa Martin", auth.Grant{Role: auth.RolePupil, OrgID: orgSchoolA})
	f.parent = f.user("parent@famille.test", "Sophie Martin", auth.Grant{Role: auth.RoleParent, OrgID: orgSchoolA})
	f.headA = f.user("direction@ecole-a.test", "Directrice A", auth.Grant{Role: auth.RoleEstablishmentHead, OrgID: orgSchoolA})
	f.headB = f.user("direction@ecole-b.test", "Directeur B", auth.Grant{Role: auth.RoleEstablishmentHead, OrgID: orgSchoolB})
	f.teacher = f.user("prof@ecole-a.test", "Professeur A", auth.Grant{Role: auth.RoleTeacher, OrgID: orgSchoolA})
	f.tom = f.user("tom@ecole-a.test", "Tom Durand", auth.Grant{Role: auth.RolePupil, OrgID: orgSchoolA})
	f.headCommune = f.user("mairie@commune.test", "Responsable communal", auth.Grant{Role: auth.RoleEstablishmentHead, OrgID: orgCommune, Recursive: true})
	f.admin = f.user("admin@socle.test", "Administratrice", auth.Grant{Role: auth.RolePlatformAdmin})

	f.notify = notify.NewService(d, notify.Options{BaseURL: "https://socle.test"}, quietLog())
	f.notify.Declare(notify.Type{Key: "share", Label: "Partage avec moi", Default: notify.Daily})
	f.files = &files{owner: f.lea.id}
	f.svc = NewService(d, Options{ArchiveDir: f.dir, GracePeriod: 30 * 24 * time.Hour,
		Guardians: guardians{{f.parent.id, f.lea.id}: true}}, quietLog())
	f.svc.now = f.clock.now
	f.svc.Register(NewAccountContributor(d))
	f.svc.Register(f.notify)
	f.svc.Register(f.files)
	return f
}

func (f *fx) user(email, name string, g auth.Grant) account {
	f.t.Helper()
	id, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: email, DisplayName: name, Password: "motdepasse-solide", Grants: []auth.Grant{g}})
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
	return account{id: id, email: email, token: tok, p: p}
}

func (f *fx) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// unzip reads an archive into name → content.
func unzip(t testing.TB, r io.ReaderAt, size int64) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = string(b)
	}
	return out
}

func (f *fx) server() *httptest.Server {
	f.t.Helper()
	renderer, err := web.NewRenderer(assets.Templates(), quietLog(), nil)
	if err != nil {
		f.t.Fatalf("templates: %v", err)
	}
	router := web.NewRouter(quietLog(), renderer.ErrorPage)
	NewHandler(f.svc, renderer).Routes(router)
	sessions := &web.Sessions{Auth: f.auth, Router: router}
	srv := httptest.NewServer(sessions.Middleware(router))
	f.t.Cleanup(srv.Close)
	return srv
}

func call(t testing.TB, srv *httptest.Server, who account, method, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, nil)
	if who.token != "" {
		req.Header.Set("Authorization", "Bearer "+who.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
