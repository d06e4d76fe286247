package app

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"socle/internal/ent/production"
	"socle/internal/platform/auth"
)

// TestProductionMediaInOwnersSpace goes through the whole application and
// the real personal spaces: a media uploaded into a production lands in
// the owner's space (quota included), is served to the production's
// readers only, and travels inside an ODT export into an imported
// production.
func TestProductionMediaInOwnersSpace(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	if _, created, err := s.app.SeedDemo(ctx); err != nil || !created {
		t.Fatalf("seed demo: %v %v", created, err)
	}
	pupil := s.login(t, "eleve@demo.socle.fr", "socle-demo")
	teacher := s.login(t, "enseignant@demo.socle.fr", "socle-demo")
	stranger := s.login(t, "eleve.college@demo.socle.fr", "socle-demo")
	principal := func(email string) *auth.Principal {
		var id int64
		if err := s.app.DB.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&id); err != nil {
			t.Fatal(err)
		}
		p, err := s.app.Auth.Principal(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	owner, prof := principal("eleve@demo.socle.fr"), principal("enseignant@demo.socle.fr")

	r := s.do(t, request{Method: http.MethodPost, Path: "/api/v1/productions", Token: pupil, Body: `{"kind":"pad","title":"Sortie au musée"}`})
	var pr production.Production
	r.json(t, &pr)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if _, err := s.app.Production.Share(ctx, owner, pr.ID, production.NewShare{TargetKind: production.TargetUser, TargetID: prof.User.ID, Role: production.RoleRead}); err != nil {
		t.Fatal(err)
	}
	img := testPNG(t)
	path := "/api/v1/productions/" + strconv.FormatInt(pr.ID, 10) + "/media"

	r = s.uploadMedia(t, path, pupil, "tableau.png", img)
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var m production.Media
	r.json(t, &m)

	// The file is in the owner's documents, under Productions/<title>.
	sp, err := s.app.Space.UserSpace(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.app.Space.Resolve(ctx, sp, "Productions/Sortie au musée/tableau.png")
	if err != nil {
		t.Fatalf("media not in the owner's space: %v", err)
	}
	if n.Size != int64(len(img)) {
		t.Errorf("stored size %d, want %d", n.Size, len(img))
	}
	// A second file of the same name never overwrites the first.
	if r := s.uploadMedia(t, path, pupil, "tableau.png", img); r.Status != http.StatusCreated {
		t.Fatalf("second upload: %d %s", r.Status, r.Body)
	}
	if _, err := s.app.Space.Resolve(ctx, sp, "Productions/Sortie au musée/tableau (2).png"); err != nil {
		t.Errorf("second file: %v", err)
	}

	// Readers of the production get the bytes; others do not.
	get := s.do(t, request{Path: m.URL, Token: teacher})
	if get.Status != http.StatusOK || !bytes.Equal(get.Body, img) || get.Header.Get("Content-Type") != "image/png" ||
		get.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("reader GET %s: %d %q", m.URL, get.Status, get.Header.Get("Content-Type"))
	}
	if r := s.do(t, request{Path: m.URL, Token: stranger}); r.Status != http.StatusNotFound || bytes.Contains(r.Body, img[:16]) {
		t.Errorf("stranger GET: %d", r.Status)
	}

	// Refused: a reader's upload, an SVG, an owner over quota.
	if r := s.uploadMedia(t, path, teacher, "x.png", img); r.Status != http.StatusForbidden {
		t.Errorf("reader upload: %d %s", r.Status, r.Body)
	}
	r = s.uploadMedia(t, path, pupil, "dessin.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`))
	expectError(t, r, "SVG upload", http.StatusUnsupportedMediaType, "media_type_refused", "")
	small := int64(len(img) * 2)
	if err := s.app.Space.Store().SetQuota(ctx, sp.ID, &small); err != nil {
		t.Fatal(err)
	}
	r = s.uploadMedia(t, path, pupil, "encore.png", img)
	expectError(t, r, "upload over the owner's quota", http.StatusInsufficientStorage, "quota_exceeded", "")
	if err := s.app.Space.Store().SetQuota(ctx, sp.ID, nil); err != nil {
		t.Fatal(err)
	}

	// ODT: the picture travels in the file; the teacher's import keeps it
	// as a media of the new production, in the teacher's space.
	if err := s.app.Production.Write(ctx, owner, pr.ID, production.Content{Blocks: []production.Block{
		{Type: "image", Src: m.URL, Alt: "Le tableau"}}}); err != nil {
		t.Fatal(err)
	}
	odt := s.do(t, request{Path: "/api/v1/productions/" + strconv.FormatInt(pr.ID, 10) + "/export?format=odt", Token: teacher})
	if odt.Status != http.StatusOK {
		t.Fatalf("export: %d %s", odt.Status, odt.Body)
	}
	imp := s.do(t, request{Method: http.MethodPost, Path: "/api/v1/productions/import?kind=pad&format=odt", Token: teacher,
		Body: string(odt.Body), Header: map[string]string{"Content-Type": "application/octet-stream"}})
	if imp.Status != http.StatusCreated {
		t.Fatalf("import: %d %s", imp.Status, imp.Body)
	}
	var copyOf production.Production
	imp.json(t, &copyOf)
	_, c, err := s.app.Production.Content(ctx, prof, copyOf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Blocks) != 1 || c.Blocks[0].Type != "image" || c.Blocks[0].Alt != "Le tableau" ||
		!strings.HasPrefix(c.Blocks[0].Src, "/productions/"+strconv.FormatInt(copyOf.ID, 10)+"/medias/") {
		t.Fatalf("imported blocks = %+v", c.Blocks)
	}
	if r := s.do(t, request{Path: c.Blocks[0].Src, Token: teacher}); r.Status != http.StatusOK || !bytes.Equal(r.Body, img) {
		t.Errorf("imported media: %d, %d bytes; want the uploaded bytes", r.Status, len(r.Body))
	}
	tsp, err := s.app.Space.UserSpace(ctx, prof)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Space.Resolve(ctx, tsp, "Productions/Sortie au musée/1.png"); err != nil {
		t.Errorf("imported picture not in the importer's space: %v", err)
	}
	// The pupil, owner of the source, does not reach the copy's media.
	if r := s.do(t, request{Path: c.Blocks[0].Src, Token: pupil}); r.Status != http.StatusNotFound {
		t.Errorf("source owner GET of the copy's media: %d", r.Status)
	}
}

// uploadMedia posts a file as the editors do, and checks the answer
// against the OpenAPI document.
func (s *testServer) uploadMedia(t *testing.T, path, token, name string, data []byte) reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	r := s.do(t, request{Method: http.MethodPost, Path: path, Token: token, Body: body.String(),
		Header: map[string]string{"Content-Type": mw.FormDataContentType()}})
	s.doc.checkReply(t, http.MethodPost, path, r)
	return r
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
