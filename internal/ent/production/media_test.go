package production

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"socle/internal/platform/problem"
)

// The application stores medias in the personal spaces (internal/app's
// tests go through the real space service); here an in-memory store keeps
// the production's own rules in view: who may upload and read, what is
// refused, where a file goes.

type memFile struct {
	owner  int64
	folder []string
	name   string
	data   []byte
}

type memMedia struct {
	mu    sync.Mutex
	files map[int64]*memFile
}

func (m *memMedia) Put(_ context.Context, owner int64, folder []string, name string, r io.Reader) (StoredFile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return StoredFile{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := int64(len(m.files) + 1)
	m.files[id] = &memFile{owner: owner, folder: folder, name: name, data: data}
	return StoredFile{ID: id, Name: name, Size: int64(len(data)), ModTime: time.Now()}, nil
}

func (m *memMedia) Open(_ context.Context, owner, id int64) (io.ReadSeekCloser, StoredFile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[id]
	if !ok || f.owner != owner {
		return nil, StoredFile{}, problem.NotFound("Document")
	}
	return nopCloser{bytes.NewReader(f.data)}, StoredFile{ID: id, Name: f.name, Size: int64(len(f.data))}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{200, 30, 30, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSniffMedia(t *testing.T) {
	png := pngBytes(t, 2, 2)
	ok := []struct {
		name, head, want string
	}{
		{"photo.png", string(png), "image/png"},
		{"PHOTO.JPG", "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", "image/jpeg"},
		{"anim.gif", "GIF89a\x01\x00\x01\x00", "image/gif"},
		{"img.webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"},
		{"chant.mp3", "ID3\x03\x00\x00\x00\x00\x00\x00", "audio/mpeg"},
		{"brut.mp3", "\xFF\xFB\x90\x64\x00\x00\x00\x00", "audio/mpeg"},
		{"conte.ogg", "OggS\x00\x02\x00\x00", "audio/ogg"},
		{"voix.wav", "RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"},
		{"film.mp4", "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"},
		{"film.webm", "\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\xF7\x81\x01\x42\xF2\x81\x04\x42\xF3\x81\x08\x42\x82\x84webm", "video/webm"},
		{"sans-extension", string(png), "image/png"},
	}
	for _, c := range ok {
		mt, err := sniffMedia(c.name, []byte(c.head))
		if err != nil || mt.contentType != c.want {
			t.Errorf("%s: %v, %v; want %s", c.name, mt.contentType, err, c.want)
		}
	}
	refused := []struct {
		name, head string
		want       *problem.Error
	}{
		{"dessin.svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`, errMediaType},
		{"dessin.png", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, errMediaType},
		{"page.html", "<!DOCTYPE html><script>alert(1)</script>", errMediaType},
		{"vraie.svg", string(png), errMediaType}, // served as PNG, but named for a type we refuse
		{"photo.jpg", string(png), errMediaMismatch},
		{"prog.exe", "MZ\x90\x00", errMediaType},
		{"texte.txt", "bonjour", errMediaType},
	}
	for _, c := range refused {
		if _, err := sniffMedia(c.name, []byte(c.head)); err != c.want {
			t.Errorf("%s: %v; want %v", c.name, err, c.want)
		}
	}
	if got := mediaName("../../etc/pass<wd>", mediaTypes[0]); got != "pass_wd_.png" {
		t.Errorf("mediaName = %q", got)
	}
	if got := mediaName("..", mediaTypes[0]); got != "média.png" {
		t.Errorf("mediaName(..) = %q", got)
	}
	if got := mediaDisposition("élan \"x\";.png"); got != `inline; filename="_lan _x__.png"; filename*=UTF-8''%C3%A9lan%20%22x%22%3B.png` {
		t.Errorf("disposition = %q", got)
	}
}

// upload posts a multipart form with one file, as the editors do.
func upload(t testing.TB, srv *httptest.Server, who person, id int64, name string, data []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/productions/"+docID(id)+"/media", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+who.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func getMedia(t testing.TB, srv *httptest.Server, who person, url string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+url, nil)
	req.Header.Set("Authorization", "Bearer "+who.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestMediaUploadAndServe(t *testing.T) {
	f := newFx(t)
	store := &memMedia{files: map[int64]*memFile{}}
	f.svc.SetMediaStore(store)
	srv := f.server()
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Pad, Title: "Le cycle de l'eau / CM2"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.Create(f.ctx, f.tom.p, NewProduction{Kind: Pad, Title: "Autre"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.tom.id, Role: RoleContribute}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Share(f.ctx, f.lea.p, pr.ID, NewShare{TargetKind: TargetUser, TargetID: f.anne.id, Role: RoleRead}); err != nil {
		t.Fatal(err)
	}
	img := pngBytes(t, 40, 30)

	// A contributor uploads: the file goes to the OWNER's space.
	st, body := upload(t, srv, f.tom, pr.ID, "schéma.png", img)
	if st != http.StatusCreated {
		t.Fatalf("upload: %d %s", st, body)
	}
	var m Media
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.URL, "/productions/"+docID(pr.ID)+"/medias/") || m.ContentType != "image/png" || m.Size != int64(len(img)) || m.Name != "schéma.png" {
		t.Fatalf("media = %+v", m)
	}
	stored := store.files[1]
	if stored.owner != f.lea.id || !slices.Equal(stored.folder, []string{"Productions", "Le cycle de l'eau _ CM2"}) {
		t.Errorf("stored in %d:%v, want the owner's Productions folder", stored.owner, stored.folder)
	}

	// A reader gets it, with the stored type and safe headers.
	resp, got := getMedia(t, srv, f.anne, m.URL)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, img) {
		t.Fatalf("reader GET: %d, %d bytes", resp.StatusCode, len(got))
	}
	for k, want := range map[string]string{"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
		"Content-Disposition": `inline; filename="sch_ma.png"; filename*=UTF-8''sch%C3%A9ma.png`} {
		if v := resp.Header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if !strings.Contains(resp.Header.Get("Cache-Control"), "private") {
		t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}

	// Nobody else: not the stranger, not through another production, not
	// with a guessed reference.
	if resp, _ := getMedia(t, srv, f.ines, m.URL); resp.StatusCode != http.StatusNotFound {
		t.Errorf("stranger GET: %d", resp.StatusCode)
	}
	ref := m.URL[strings.LastIndex(m.URL, "/")+1:]
	if resp, _ := getMedia(t, srv, f.tom, MediaURL(other.ID, ref)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("ref through another production: %d", resp.StatusCode)
	}
	for _, guess := range []string{"1", "aaaaaaaaaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAAAAAAAAAA", ref + "a"} {
		if resp, _ := getMedia(t, srv, f.tom, "/productions/"+docID(pr.ID)+"/medias/"+guess); resp.StatusCode != http.StatusNotFound {
			t.Errorf("guessed ref %q: %d", guess, resp.StatusCode)
		}
	}

	// Readers do not upload; refused files leave nothing behind.
	if st, body := upload(t, srv, f.anne, pr.ID, "x.png", img); st != http.StatusForbidden {
		t.Errorf("reader upload: %d %s", st, body)
	}
	if st, body := upload(t, srv, f.ines, pr.ID, "x.png", img); st != http.StatusNotFound {
		t.Errorf("stranger upload: %d %s", st, body)
	}
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	if st, body := upload(t, srv, f.tom, pr.ID, "dessin.svg", svg); st != http.StatusUnsupportedMediaType || !strings.Contains(body, "media_type_refused") {
		t.Errorf("SVG upload: %d %s", st, body)
	}
	if st, body := upload(t, srv, f.tom, pr.ID, "photo.jpg", img); st != http.StatusUnsupportedMediaType || !strings.Contains(body, "media_type_mismatch") {
		t.Errorf("PNG named .jpg: %d %s", st, body)
	}
	big := append(slices.Clone(img), make([]byte, MaxMediaBytes)...)
	if st, body := upload(t, srv, f.tom, pr.ID, "grand.png", big); st != http.StatusRequestEntityTooLarge || !strings.Contains(body, "20 Mo") {
		t.Errorf("oversized upload: %d %.200s", st, body)
	}
	// The service bounds the stream itself, whatever the transport.
	if _, err := f.svc.UploadMedia(f.ctx, f.lea.p, pr.ID, "grand.png", bytes.NewReader(big)); err != errMediaTooLarge {
		t.Errorf("oversized stream: %v", err)
	}
	if len(store.files) != 1 {
		t.Errorf("%d files stored, want only the accepted one", len(store.files))
	}
}

// TestODTEmbedsMedias: an ODT export carries the production's pictures in
// its package, and importing it stores them as medias of the new
// production, which serves the same bytes.
func TestODTEmbedsMedias(t *testing.T) {
	f := newFx(t)
	store := &memMedia{files: map[int64]*memFile{}}
	f.svc.SetMediaStore(store)
	pr, err := f.svc.Create(f.ctx, f.lea.p, NewProduction{Kind: Wiki, Title: "Volcans"})
	if err != nil {
		t.Fatal(err)
	}
	img := pngBytes(t, 192, 96)
	m, err := f.svc.UploadMedia(f.ctx, f.lea.p, pr.ID, "cratère.png", bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	content := Content{Pages: []Page{{ID: "p1", Title: "Accueil", Blocks: []Block{
		{Type: "paragraph", Runs: []Run{{Text: "Un cratère :"}}},
		{Type: "image", Src: m.URL, Alt: "Le cratère du Vésuve"},
		{Type: "image", Src: "https://example.org/lave.jpg", Alt: "Lave"},
	}}}}
	if err := f.svc.Write(f.ctx, f.lea.p, pr.ID, content); err != nil {
		t.Fatal(err)
	}
	ex, err := f.svc.Export(f.ctx, f.lea.p, pr.ID, "odt")
	if err != nil {
		t.Fatal(err)
	}
	manifest := odtEntry(t, ex.Data, "META-INF/manifest.xml")
	if !strings.Contains(manifest, `manifest:full-path="Pictures/1.png" manifest:media-type="image/png"`) {
		t.Errorf("manifest lacks the picture:\n%s", manifest)
	}
	if pic := odtEntry(t, ex.Data, "Pictures/1.png"); pic != string(img) {
		t.Errorf("embedded picture differs (%d bytes)", len(pic))
	}
	xml := odtEntry(t, ex.Data, "content.xml")
	// 192×96 px at 96 dpi: 5.08 cm × 2.54 cm.
	for _, want := range []string{`svg:width="5.08cm" svg:height="2.54cm"><draw:image xlink:href="Pictures/1.png"`,
		`<svg:title>Le cratère du Vésuve</svg:title>`, `xlink:href="https://example.org/lave.jpg"`} {
		if !strings.Contains(xml, want) {
			t.Errorf("content.xml lacks %s:\n%s", want, xml)
		}
	}

	// Tom imports the file: the picture becomes a media of his new
	// production, in his space, served with the same bytes.
	back, err := f.svc.Import(f.ctx, f.tom.p, Wiki, "odt", "", bytes.NewReader(ex.Data))
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := f.svc.Content(f.ctx, f.tom.p, back.ID)
	if err != nil {
		t.Fatal(err)
	}
	blocks := c.Pages[0].Blocks
	if len(blocks) != 3 || blocks[1].Type != "image" || blocks[1].Alt != "Le cratère du Vésuve" || blocks[2].Src != "https://example.org/lave.jpg" {
		t.Fatalf("imported blocks = %+v", blocks)
	}
	ref, ok := mediaRefOf(back.ID, blocks[1].Src)
	if !ok {
		t.Fatalf("imported image points at %q, not a media of the new production", blocks[1].Src)
	}
	mf, err := f.svc.Media(f.ctx, f.tom.p, back.ID, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Body.Close()
	got, _ := io.ReadAll(mf.Body)
	if !bytes.Equal(got, img) || mf.ContentType != "image/png" {
		t.Errorf("imported media: %s, %d bytes", mf.ContentType, len(got))
	}
	if owner := store.files[2].owner; owner != f.tom.id {
		t.Errorf("imported picture stored in the space of %d, want the importer's", owner)
	}
	// Léa cannot read Tom's new production's media.
	if _, err := f.svc.Media(f.ctx, f.lea.p, back.ID, ref); err == nil {
		t.Error("the source's owner reads the import's media")
	}

	// A hand-altered package whose "PNG" is an SVG: the picture is left
	// out, the rest of the file is imported.
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	forged, err := encode(Content{Kind: Pad, Blocks: []Block{{Type: "image", Src: m.URL, Alt: "piège"},
		{Type: "paragraph", Runs: []Run{{Text: "Texte gardé"}}}}}, "Piège", "odt", map[string]picture{m.URL: {contentType: "image/png", data: svg}})
	if err != nil {
		t.Fatal(err)
	}
	trap, err := f.svc.Import(f.ctx, f.tom.p, Pad, "odt", "", bytes.NewReader(forged))
	if err != nil {
		t.Fatalf("import of a forged picture: %v", err)
	}
	_, c, err = f.svc.Content(f.ctx, f.tom.p, trap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Blocks) != 1 || c.Blocks[0].Type != "paragraph" {
		t.Errorf("forged import blocks = %+v", c.Blocks)
	}
	if len(store.files) != 2 {
		t.Errorf("%d files stored, want the SVG refused", len(store.files))
	}
}
