package catalog

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
)

func TestSanitizeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"convention signée.pdf":           "convention_signée.pdf",
		"../../etc/passwd.pdf":            "passwd.pdf",
		`C:\Users\agent\conv.docx`:        "conv.docx",
		"..":                              "document",
		".hidden.pdf":                     "hidden.pdf",
		"a<script>.odt":                   "a_script_.odt",
		strings.Repeat("x", 300) + ".pdf": strings.Repeat("x", 96) + ".pdf",
	} {
		if got := SanitizeFileName(in); got != want {
			t.Errorf("SanitizeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func (f *fx) agreementForDocument() int64 {
	f.t.Helper()
	a, err := f.svc.CreateAgreement(f.ctx, f.agent, f.listed("CONV-DOC", AgreementDraft, "2025-01-01", "2025-12-31",
		f.service("POSTE"), f.calendar("Bureaux", ""), f.ecoleA.UAI))
	if err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}

func TestDocumentChecksum(t *testing.T) {
	f := newFx(t)
	id := f.agreementForDocument()
	body := []byte("%PDF-1.7\n% convention signée\n" + strings.Repeat("contenu ", 5000) + "\n%%EOF\n")
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])

	doc, err := f.svc.StoreDocument(f.ctx, f.agent, id, "../Convention signée.pdf", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("StoreDocument: %v", err)
	}
	if doc.SHA256 != want || doc.Size != int64(len(body)) || doc.Name != "Convention_signée.pdf" || doc.ContentType != "application/pdf" {
		t.Errorf("document %+v, want sha %s size %d", doc, want, len(body))
	}
	stored, err := os.ReadFile(filepath.Join(f.files, "agreements", strconv.FormatInt(id, 10), want+".pdf"))
	if err != nil || !bytes.Equal(stored, body) {
		t.Fatalf("stored file differs (%v)", err)
	}
	a, err := f.svc.Agreement(f.ctx, f.head, id)
	if err != nil || a.Document == nil || a.Document.SHA256 != want {
		t.Fatalf("agreement document %+v %v", a.Document, err)
	}
	// Downloaded through the API, byte for byte.
	rec := f.request(http.MethodGet, "/api/v1/agreements/"+strconv.FormatInt(id, 10)+"/document", f.headToken, nil, "")
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), body) || rec.Header().Get("Digest") != "sha-256="+want {
		t.Fatalf("download: %d %q", rec.Code, rec.Header())
	}
	if rec := f.request(http.MethodGet, "/api/v1/agreements/"+strconv.FormatInt(id, 10)+"/document", f.brestToken, nil, ""); rec.Code != http.StatusNotFound {
		t.Errorf("download by another collectivité: %d, want 404", rec.Code)
	}

	// Replacing it removes the old file.
	body2 := []byte("%PDF-1.7\nversion 2\n")
	if _, err := f.svc.StoreDocument(f.ctx, f.agent, id, "v2.pdf", bytes.NewReader(body2)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(f.files, "agreements", strconv.FormatInt(id, 10)))
	if len(entries) != 1 {
		t.Errorf("%d files kept after replacement, want 1", len(entries))
	}
}

func TestDocumentRefusals(t *testing.T) {
	f := newFx(t)
	id := f.agreementForDocument()
	f.svc.maxDocument = 1 << 10
	var docx bytes.Buffer
	zw := zip.NewWriter(&docx)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte("<w:document/>"))
	zw.Close()
	var notDocx bytes.Buffer
	zw = zip.NewWriter(&notDocx)
	w, _ = zw.Create("payload.exe")
	w.Write([]byte("MZ"))
	zw.Close()

	cases := []struct {
		name, file string
		body       []byte
		status     int
		code       string
	}{
		{"executable", "setup.exe", []byte("MZ\x90\x00"), http.StatusBadRequest, "document_type"},
		{"text renamed pdf", "faux.pdf", []byte("bonjour"), http.StatusBadRequest, "document_type"},
		{"zip renamed docx", "faux.docx", notDocx.Bytes(), http.StatusBadRequest, "document_type"},
		{"too large", "gros.pdf", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 2<<10)...), http.StatusRequestEntityTooLarge, "document_too_large"},
		{"empty", "vide.pdf", nil, http.StatusBadRequest, "document_empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.StoreDocument(f.ctx, f.agent, id, c.file, bytes.NewReader(c.body))
			wantProblem(t, err, c.status, c.code)
		})
	}
	entries, _ := os.ReadDir(filepath.Join(f.files, "agreements", strconv.FormatInt(id, 10)))
	if len(entries) != 0 {
		t.Errorf("refused uploads left %d files", len(entries))
	}
	if doc, err := f.svc.StoreDocument(f.ctx, f.agent, id, "convention.docx", bytes.NewReader(docx.Bytes())); err != nil || doc.ContentType != documentTypes[".docx"] {
		t.Errorf("real docx refused: %+v %v", doc, err)
	}
	_, err := f.svc.StoreDocument(f.ctx, f.brestAgent, id, "x.pdf", strings.NewReader("%PDF-1.7"))
	wantProblem(t, err, http.StatusNotFound, "not_found")
	_, err = f.svc.StoreDocument(f.ctx, f.head, id, "x.pdf", strings.NewReader("%PDF-1.7"))
	wantProblem(t, err, http.StatusForbidden, "forbidden")
}

func TestDocumentUploadAPI(t *testing.T) {
	f := newFx(t)
	id := f.agreementForDocument()
	body := []byte("%PDF-1.4\nsigned\n")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, _ := mw.CreateFormFile("document", "convention.pdf")
	part.Write(body)
	mw.Close()
	rec := f.request(http.MethodPost, "/api/v1/agreements/"+strconv.FormatInt(id, 10)+"/document", f.agentToken, &buf, mw.FormDataContentType())
	if rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body.String())
	}
	var doc Document
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if doc.SHA256 != hex.EncodeToString(sum[:]) || doc.Name != "convention.pdf" {
		t.Errorf("document %+v", doc)
	}
	// A raw body named by the query works too.
	rec = f.request(http.MethodPost, "/api/v1/agreements/"+strconv.FormatInt(id, 10)+"/document?name=brut.pdf", f.agentToken, bytes.NewReader(body), "application/pdf")
	if rec.Code != http.StatusCreated {
		t.Fatalf("raw upload: %d %s", rec.Code, rec.Body.String())
	}
}

// The convention page's form, as a browser sends it: session cookie, CSRF
// token in the multipart body, then a redirect to the page.
func TestDocumentUploadForm(t *testing.T) {
	f := newFx(t)
	id := f.agreementForDocument()
	uid, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: "agent2@rennes.test", Password: "mot-de-passe-de-test", Grants: f.agent.Grants})
	if err != nil {
		t.Fatal(err)
	}
	secret, csrf, _, err := f.auth.StartSession(f.ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	post := func(withCSRF bool, file string, content []byte) *httptest.ResponseRecorder {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if withCSRF {
			mw.WriteField("csrf", csrf)
		}
		part, _ := mw.CreateFormFile("document", file)
		part.Write(content)
		mw.Close()
		req := httptest.NewRequest(http.MethodPost, "/conventions/"+strconv.FormatInt(id, 10)+"/document", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
		rec := httptest.NewRecorder()
		f.server.ServeHTTP(rec, req)
		return rec
	}
	if rec := post(false, "c.pdf", []byte("%PDF-1.7")); rec.Code != http.StatusForbidden {
		t.Errorf("without CSRF token: %d, want 403", rec.Code)
	}
	rec := post(true, "faux.pdf", []byte("pas un pdf"))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "ne correspond pas à son format") {
		t.Errorf("wrong content: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = post(true, "convention.pdf", []byte("%PDF-1.7\nsigned"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/conventions/"+strconv.FormatInt(id, 10)+"?ok=document" {
		t.Fatalf("upload: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	sum := sha256.Sum256([]byte("%PDF-1.7\nsigned"))
	contains(t, f.request(http.MethodGet, "/conventions/"+strconv.FormatInt(id, 10)+"?ok=document", f.agentToken, nil, "").Body.String(),
		"Document enregistré.", hex.EncodeToString(sum[:]), "convention.pdf")
}
