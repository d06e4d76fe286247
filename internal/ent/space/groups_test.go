package space

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
	assets "socle/web"
)

// memberships is an in-memory Memberships: who belongs to which class or
// group, changed by the tests as the people model would be.
type memberships struct {
	mu sync.Mutex
	of map[int64][]GroupSpace
}

func (m *memberships) SpacesOf(_ context.Context, userID int64) ([]GroupSpace, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]GroupSpace(nil), m.of[userID]...), nil
}

func (m *memberships) set(userID int64, gs ...GroupSpace) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.of[userID] = gs
}

var (
	class6A   = GroupSpace{ID: 10, Name: "6e A", Kind: OwnerClass}
	class6Bis = GroupSpace{ID: 11, Name: "6e A", Kind: OwnerClass} // same name, another établissement
	latin     = GroupSpace{ID: 20, Name: "Latin 3e/4e: option", Kind: OwnerGroup}
)

// groupFixture: a teacher and two pupils in 6e A, a third pupil elsewhere.
type groupFixture struct {
	*fixture
	m                     *memberships
	teacher, ana, bob, cy *auth.Principal
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	m := &memberships{of: map[int64][]GroupSpace{}}
	cfg := DefaultConfig()
	cfg.GroupQuota = map[OwnerKind]int64{OwnerClass: 1000, OwnerGroup: 500}
	cfg.Memberships = m
	g := &groupFixture{fixture: newFixture(t, cfg), m: m}
	g.teacher, _ = g.user("prof@exemple.fr", auth.RoleTeacher)
	g.ana, _ = g.user("ana@exemple.fr", auth.RolePupil)
	g.bob, _ = g.user("bob@exemple.fr", auth.RolePupil)
	g.cy, _ = g.user("cy@exemple.fr", auth.RolePupil)
	m.set(g.teacher.User.ID, class6A, class6Bis)
	m.set(g.ana.User.ID, latin, class6A)
	m.set(g.bob.User.ID, class6A)
	m.set(g.cy.User.ID, class6Bis)
	return g
}

func TestFolderNames(t *testing.T) {
	for in, want := range map[string]string{
		"6e A": "6e A", "Latin 3e/4e: option": "Latin 3e_4e_ option", "  CM2 . ": "CM2", "": "Groupe 7",
		"CON": "CON (7)", "a\x00b": "a_b", "Club <théâtre>?": "Club _théâtre__",
	} {
		if got := FolderName(in, 7); got != want {
			t.Errorf("FolderName(%q) = %q, want %q", in, got, want)
		}
		if err := ValidateName(FolderName(in, 7)); err != nil {
			t.Errorf("FolderName(%q) is not a valid name: %v", in, err)
		}
	}
}

func TestGroupSpacesMembershipAndQuota(t *testing.T) {
	g := newGroupFixture(t)
	spaces, err := g.svc.GroupSpaces(g.ctx, g.ana)
	if err != nil {
		t.Fatal(err)
	}
	if len(spaces) != 2 || spaces[0].Folder != "Classes/6e A" || spaces[1].Folder != "Groupes/Latin 3e_4e_ option" ||
		spaces[0].Quota != 1000 || spaces[1].Quota != 500 || spaces[0].Name != "6e A" {
		t.Fatalf("Ana's shared spaces: %+v", spaces)
	}
	// Two classes of the same name are told apart by their number.
	ts, _ := g.svc.GroupSpaces(g.ctx, g.teacher)
	if len(ts) != 2 || ts[0].Folder != "Classes/6e A (10)" || ts[1].Folder != "Classes/6e A (11)" {
		t.Fatalf("teacher's spaces: %+v", ts)
	}
	class := spaces[0]
	n := g.put(class, 0, "exposé.txt", "Les volcans")
	// Bob, in the class, reads it; Cy, in another class, finds nothing.
	bobClass, err := g.svc.SpaceByID(g.ctx, g.bob, class.ID)
	if err != nil || g.read(bobClass, n) != "Les volcans" {
		t.Fatalf("Bob in his class space: %v", err)
	}
	if _, err := g.svc.SpaceByID(g.ctx, g.cy, class.ID); status(err) != http.StatusNotFound {
		t.Errorf("Cy opens 6e A's space: %v, want 404", err)
	}
	if _, err := g.svc.SpaceByID(g.ctx, g.cy, 987654); status(err) != http.StatusNotFound {
		t.Errorf("unknown space: %v", err)
	}
	// Cy's personal space is not reachable by Ana through the shared path.
	cyOwn, _ := g.svc.UserSpace(g.ctx, g.cy)
	if _, err := g.svc.SpaceByID(g.ctx, g.ana, cyOwn.ID); status(err) != http.StatusNotFound {
		t.Errorf("Ana opens Cy's personal space: %v", err)
	}
	// The class quota (1000 bytes) holds for everyone together.
	if _, err := g.svc.PutFile(g.ctx, bobClass, 0, "gros.txt", strings.NewReader(strings.Repeat("x", 995))); status(err) != http.StatusInsufficientStorage {
		t.Errorf("over the class quota: %v, want 507", err)
	}
	// A pupil trashes but does not purge; the teacher does.
	if err := g.svc.Trash(g.ctx, bobClass, n.ID); err != nil {
		t.Fatal(err)
	}
	if err := g.svc.Purge(g.ctx, bobClass, n.ID); status(err) != http.StatusForbidden {
		t.Errorf("pupil purges a class file: %v, want 403", err)
	}
	teacherClass, err := g.svc.SpaceByID(g.ctx, g.teacher, class.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.svc.Purge(g.ctx, teacherClass, n.ID); err != nil {
		t.Errorf("teacher purges: %v", err)
	}
	// When Bob leaves the class, the space closes to him at once.
	g.m.set(g.bob.User.ID)
	if _, err := g.svc.SpaceByID(g.ctx, g.bob, class.ID); status(err) != http.StatusNotFound {
		t.Errorf("former member: %v, want 404", err)
	}
	// An administrator overrides a space's quota.
	admin, _ := g.user("admin@exemple.fr", auth.RolePlatformAdmin)
	big := int64(5000)
	if err := g.svc.SetSpaceQuota(g.ctx, g.teacher, class.ID, &big); status(err) != http.StatusForbidden {
		t.Errorf("teacher sets a quota: %v", err)
	}
	if err := g.svc.SetSpaceQuota(g.ctx, admin, class.ID, &big); err != nil {
		t.Fatal(err)
	}
	if sp, _ := g.svc.SpaceByID(g.ctx, g.ana, class.ID); sp.Quota != 5000 {
		t.Errorf("quota after override: %d", sp.Quota)
	}
}

func TestReservedRootNames(t *testing.T) {
	g := newGroupFixture(t)
	own, _ := g.svc.UserSpace(g.ctx, g.ana)
	for _, name := range []string{"Classes", "groupes", "CLASSES"} {
		if _, err := g.svc.Mkdir(g.ctx, own, 0, name); status(err) != http.StatusBadRequest {
			t.Errorf("Mkdir %q at the personal root: %v, want 400", name, err)
		}
		if _, err := g.svc.PutFile(g.ctx, own, 0, name, strings.NewReader("x")); status(err) != http.StatusBadRequest {
			t.Errorf("PutFile %q at the personal root: %v", name, err)
		}
	}
	d, err := g.svc.Mkdir(g.ctx, own, 0, "Cours")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.svc.Mkdir(g.ctx, own, d.ID, "Classes"); err != nil {
		t.Errorf("Classes inside a folder: %v", err)
	}
	if err := g.svc.Move(g.ctx, own, d.ID, 0, "Groupes"); status(err) != http.StatusBadRequest {
		t.Errorf("rename to Groupes at the root: %v", err)
	}
	class, _ := g.svc.SpaceByID(g.ctx, g.ana, mustShared(t, g, g.ana)[0].ID)
	if _, err := g.svc.Mkdir(g.ctx, class, 0, "Classes"); err != nil {
		t.Errorf("Classes at a class space's root: %v", err)
	}
}

func mustShared(t *testing.T, g *groupFixture, p *auth.Principal) []Space {
	t.Helper()
	ss, err := g.svc.GroupSpaces(g.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func TestDAVGroupSpaces(t *testing.T) {
	g := newGroupFixture(t)
	const pw = testPassword
	root := davDo(t, g.dav, "PROPFIND", "/dav/", "ana@exemple.fr", pw, nil, "Depth", "1")
	if root.Code != http.StatusMultiStatus || !strings.Contains(root.Body.String(), "<D:href>/dav/Classes/</D:href>") ||
		!strings.Contains(root.Body.String(), "<D:href>/dav/Groupes/</D:href>") {
		t.Fatalf("personal root listing: %d %s", root.Code, root.Body)
	}
	// Bob has no group: no Groupes folder.
	if w := davDo(t, g.dav, "PROPFIND", "/dav/", "bob@exemple.fr", pw, nil, "Depth", "1"); strings.Contains(w.Body.String(), "Groupes") {
		t.Errorf("Bob sees Groupes: %s", w.Body)
	}
	classes := davDo(t, g.dav, "PROPFIND", "/dav/Classes/", "prof@exemple.fr", pw, nil, "Depth", "1")
	body := classes.Body.String()
	if classes.Code != http.StatusMultiStatus || !strings.Contains(body, "/dav/Classes/6e%20A%20%2810%29/") || !strings.Contains(body, "/dav/Classes/6e%20A%20%2811%29/") {
		t.Fatalf("Classes listing: %d %s", classes.Code, body)
	}
	// Ana writes in her class; Bob reads it; Cy gets 404.
	if w := davDo(t, g.dav, "PUT", "/dav/Classes/6e A/devoir.txt", "ana@exemple.fr", pw, strings.NewReader("Rédaction")); w.Code != http.StatusCreated {
		t.Fatalf("PUT in the class space: %d %s", w.Code, w.Body)
	}
	if w := davDo(t, g.dav, "GET", "/dav/Classes/6e A/devoir.txt", "bob@exemple.fr", pw, nil); w.Code != 200 || w.Body.String() != "Rédaction" {
		t.Errorf("Bob reads the class file: %d %q", w.Code, w.Body)
	}
	if w := davDo(t, g.dav, "GET", "/dav/Classes/6e A/devoir.txt", "cy@exemple.fr", pw, nil); w.Code != http.StatusNotFound {
		t.Errorf("Cy reads 6e A: %d", w.Code)
	}
	// The teacher sees the same class as "6e A (10)".
	if w := davDo(t, g.dav, "GET", "/dav/Classes/6e A (10)/devoir.txt", "prof@exemple.fr", pw, nil); w.Code != 200 {
		t.Errorf("teacher reads the class file: %d", w.Code)
	}
	// Paths that climb out of a shared space stay inside it.
	if w := davDo(t, g.dav, "GET", "/dav/Classes/6e A/../../ana-perso.txt", "ana@exemple.fr", pw, nil); w.Code == 200 {
		t.Errorf("climbing out: %d", w.Code)
	}
	// The listing folders are read-only.
	for _, c := range []struct{ method, path string }{
		{"MKCOL", "/dav/Classes/Nouvelle/"}, {"PUT", "/dav/Classes/fichier.txt"}, {"DELETE", "/dav/Classes/6e A/"}, {"DELETE", "/dav/Classes/"},
	} {
		if w := davDo(t, g.dav, c.method, c.path, "ana@exemple.fr", pw, strings.NewReader("x")); w.Code < 400 {
			t.Errorf("%s %s: %d, want a refusal", c.method, c.path, w.Code)
		}
	}
	if w := davDo(t, g.dav, "MKCOL", "/dav/Classes/6e A/Chapitre 1/", "ana@exemple.fr", pw, nil); w.Code != http.StatusCreated {
		t.Errorf("MKCOL in the class space: %d", w.Code)
	}
	// Moving a personal file into the class space is refused; it stays.
	if w := davDo(t, g.dav, "PUT", "/dav/perso.txt", "ana@exemple.fr", pw, strings.NewReader("à moi")); w.Code != http.StatusCreated {
		t.Fatal(w.Code)
	}
	dest := "http://example.com/dav/Classes/" + url.PathEscape("6e A") + "/perso.txt"
	if w := davDo(t, g.dav, "MOVE", "/dav/perso.txt", "ana@exemple.fr", pw, nil, "Destination", dest); w.Code < 400 {
		t.Errorf("MOVE personal → class: %d", w.Code)
	}
	if w := davDo(t, g.dav, "GET", "/dav/perso.txt", "ana@exemple.fr", pw, nil); w.Code != 200 {
		t.Errorf("personal file after a refused move: %d", w.Code)
	}
	// MOVE inside the class space works with the space's own prefix.
	dest = "http://example.com/dav/Classes/" + url.PathEscape("6e A") + "/Chapitre%201/devoir.txt"
	if w := davDo(t, g.dav, "MOVE", "/dav/Classes/6e A/devoir.txt", "bob@exemple.fr", pw, nil, "Destination", dest); w.Code != http.StatusCreated {
		t.Errorf("MOVE inside the class: %d %s", w.Code, w.Body)
	}
	// The class quota is checked before the upload.
	if w := davDo(t, g.dav, "PUT", "/dav/Classes/6e A/gros.bin", "bob@exemple.fr", pw, strings.NewReader(strings.Repeat("x", 2000)),
		"Content-Length", "2000"); w.Code != http.StatusInsufficientStorage {
		t.Errorf("over the class quota: %d", w.Code)
	}
	// Membership is checked on every request.
	g.m.set(g.bob.User.ID)
	if w := davDo(t, g.dav, "GET", "/dav/Classes/6e A/Chapitre 1/devoir.txt", "bob@exemple.fr", pw, nil); w.Code != http.StatusNotFound {
		t.Errorf("former member: %d", w.Code)
	}
}

func TestGroupSpacePagesAndAPI(t *testing.T) {
	g := newGroupFixture(t)
	renderer, err := web.NewRenderer(assets.Templates(), g.log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(g.log, renderer.ErrorPage)
	NewHandler(g.svc, renderer).Routes(router)
	class := mustShared(t, g, g.ana)[0]
	n := g.put(class, 0, "sortie.pdf", "%PDF-1.4 programme de la sortie")
	get := func(p *auth.Principal, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		asUser(router, p).ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	id := strconv.FormatInt(class.ID, 10)
	w := get(g.bob, "/documents?espace="+id)
	html := w.Body.String()
	if w.Code != 200 || !strings.Contains(html, "Documents — Classe 6e A") || !strings.Contains(html, "sortie.pdf") ||
		!strings.Contains(html, `href="/documents?espace=`+id+`" aria-current="page"`) || !strings.Contains(html, `name="espace" value="`+id+`"`) {
		t.Fatalf("class page for Bob: %d %s", w.Code, html)
	}
	if strings.Count(html, "<form") != strings.Count(html, `name="csrf"`) {
		t.Errorf("a form lacks the csrf field")
	}
	// The personal page lists the shared spaces beside it.
	if w := get(g.ana, "/documents"); !strings.Contains(w.Body.String(), "Classe 6e A") || !strings.Contains(w.Body.String(), "Groupe Latin 3e/4e: option") {
		t.Errorf("personal page does not list the shared spaces: %s", w.Body)
	}
	if w := get(g.bob, "/documents/fichiers/"+strconv.FormatInt(n.ID, 10)+"?espace="+id); w.Code != 200 || !strings.Contains(w.Body.String(), "programme") {
		t.Errorf("download from the class space: %d", w.Code)
	}
	// Outside the class: 404 on the page, the file, the API.
	for _, path := range []string{"/documents?espace=" + id, "/documents/fichiers/" + strconv.FormatInt(n.ID, 10) + "?espace=" + id,
		"/documents/corbeille?espace=" + id, "/api/v1/space?space=" + id, "/api/v1/space/trash?space=" + id, "/documents?espace=abc"} {
		if w := get(g.cy, path); w.Code != http.StatusNotFound {
			t.Errorf("Cy GET %s: %d, want 404", path, w.Code)
		}
	}
	// The file is not in Bob's personal space either.
	if w := get(g.bob, "/documents/fichiers/"+strconv.FormatInt(n.ID, 10)); w.Code != http.StatusNotFound {
		t.Errorf("class file through the personal space: %d", w.Code)
	}
	w = get(g.ana, "/api/v1/space")
	var list struct {
		Space  Space   `json:"space"`
		Spaces []Space `json:"spaces"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Spaces) != 3 || list.Spaces[0].OwnerKind != OwnerUser ||
		list.Spaces[1].Folder != "Classes/6e A" || list.Spaces[2].OwnerKind != OwnerGroup {
		t.Errorf("API spaces: %v %s", err, w.Body)
	}
	w = get(g.ana, "/api/v1/space?space="+id)
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 || list.Space.ID != class.ID || list.Space.Quota != 1000 {
		t.Errorf("API class listing: %d %s", w.Code, w.Body)
	}
	// A pupil's trash page of the class offers restore, not purge.
	if err := g.svc.Trash(g.ctx, class, n.ID); err != nil {
		t.Fatal(err)
	}
	if w := get(g.bob, "/documents/corbeille?espace="+id); !strings.Contains(w.Body.String(), "Restaurer") || strings.Contains(w.Body.String(), "définitivement</button>") {
		t.Errorf("pupil's class trash page: %s", w.Body)
	}
	if w := get(g.teacher, "/documents/corbeille?espace="+id); !strings.Contains(w.Body.String(), "définitivement</button>") {
		t.Errorf("teacher's class trash page lacks purge: %s", w.Body)
	}
}
