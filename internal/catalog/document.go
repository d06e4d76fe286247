package catalog

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Document formats accepted for a signed convention, by extension.
var documentTypes = map[string]string{
	".pdf":  "application/pdf",
	".odt":  "application/vnd.oasis.opendocument.text",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

// SanitizeFileName keeps the last element of a client-supplied name, with
// letters, digits, '.', '-' and '_' only (others become '_'), at most 100
// characters: the name is shown and sent back in Content-Disposition, never
// used as a path.
func SanitizeFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.TrimSpace(name))
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if r := []rune(out); len(r) > 100 {
		ext := filepath.Ext(out)
		out = string(r[:100-len([]rune(ext))]) + ext
	}
	if out == "" || out == "_" {
		return "document"
	}
	return out
}

// StoreDocument keeps the signed document of a convention the caller
// manages. It is streamed to a temporary file under the files root while
// its SHA-256 is computed, refused beyond maxDocument bytes or when its
// content is not the PDF, ODT or DOCX its name announces, then renamed into
// place; the row is updated last, so a failure leaves the previous document
// in force.
func (s *Service) StoreDocument(ctx context.Context, p *auth.Principal, agreementID int64, name string, body io.Reader) (Document, error) {
	if !p.Has(auth.PermCatalogManage) {
		return Document{}, problem.Forbidden()
	}
	if _, err := s.managedAgreement(ctx, s.db, p, agreementID); err != nil {
		return Document{}, err
	}
	doc := Document{Name: SanitizeFileName(name)}
	ext := strings.ToLower(filepath.Ext(doc.Name))
	var ok bool
	if doc.ContentType, ok = documentTypes[ext]; !ok {
		return Document{}, problem.Invalid("document_type", "Format de document refusé : déposez un PDF, un ODT ou un DOCX.").Field("document", "PDF, ODT ou DOCX attendu.")
	}
	dir := filepath.Join(s.files, "agreements", strconv.FormatInt(agreementID, 10))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Document{}, fmt.Errorf("create document directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return Document{}, fmt.Errorf("create temporary document: %w", err)
	}
	keep := false
	defer func() {
		tmp.Close()
		if !keep {
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	var head bytes.Buffer
	n, err := io.Copy(io.MultiWriter(tmp, h, &limitedBuffer{buf: &head, max: 512}), io.LimitReader(body, s.maxDocument+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Document{}, tooLarge(s.maxDocument)
		}
		return Document{}, problem.Invalid("document_unreadable", "Le document n'a pas pu être reçu entièrement. Recommencez le dépôt.").Wrap(err)
	}
	if n > s.maxDocument {
		return Document{}, tooLarge(s.maxDocument)
	}
	if n == 0 {
		return Document{}, problem.Invalid("document_empty", "Le document est vide.").Field("document", "Fichier vide.")
	}
	if err := tmp.Sync(); err != nil {
		return Document{}, fmt.Errorf("sync document: %w", err)
	}
	if err := checkContent(tmp.Name(), ext, head.Bytes(), n); err != nil {
		return Document{}, err
	}
	doc.Size, doc.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	// Named by checksum: the same file deposited twice lands on itself,
	// and no client text reaches the file system.
	rel := filepath.ToSlash(filepath.Join("agreements", strconv.FormatInt(agreementID, 10), doc.SHA256+ext))
	final := filepath.Join(s.files, filepath.FromSlash(rel))
	if err := tmp.Close(); err != nil {
		return Document{}, fmt.Errorf("close document: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Document{}, fmt.Errorf("move document into place: %w", err)
	}
	keep = true
	var old string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := s.managedAgreement(ctx, tx, p, agreementID); err != nil {
			return err
		}
		old, err = s.store.SetDocument(ctx, tx, agreementID, rel, doc)
		return err
	})
	if err != nil {
		if old != rel {
			os.Remove(final)
		}
		return Document{}, err
	}
	if old != "" && old != rel {
		if err := os.Remove(filepath.Join(s.files, filepath.FromSlash(old))); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.WarnContext(ctx, "remove replaced document", "agreement", agreementID, "err", err)
		}
	}
	return doc, nil
}

func tooLarge(max int64) error {
	return problem.New(http.StatusRequestEntityTooLarge, "document_too_large",
		fmt.Sprintf("Document trop volumineux : %d Mo au plus.", max>>20)).Field("document", "Fichier trop volumineux.")
}

// checkContent verifies that the bytes are what the extension says: a PDF
// starts with its signature; ODT and DOCX are ZIP packages whose entries
// are checked, so a renamed executable is refused.
func checkContent(file, ext string, head []byte, size int64) error {
	bad := problem.Invalid("document_type", "Le contenu du fichier ne correspond pas à son format : déposez un PDF, un ODT ou un DOCX.").Field("document", "Contenu non reconnu.")
	if ext == ".pdf" {
		if !bytes.HasPrefix(head, []byte("%PDF-")) {
			return bad
		}
		return nil
	}
	if !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return bad
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("reopen document: %w", err)
	}
	defer f.Close()
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return bad.Wrap(err)
	}
	want := "word/document.xml"
	if ext == ".odt" {
		want = "content.xml"
	}
	for _, e := range zr.File {
		if e.Name == want {
			return nil
		}
	}
	return bad
}

// limitedBuffer keeps the first max bytes written, for content sniffing.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// OpenDocument opens the signed document of a readable convention; the
// caller closes it.
func (s *Service) OpenDocument(ctx context.Context, p *auth.Principal, agreementID int64) (Document, *os.File, error) {
	a, err := s.Agreement(ctx, p, agreementID)
	if err != nil {
		return Document{}, nil, err
	}
	if a.Document == nil {
		return Document{}, nil, problem.NotFound("Document")
	}
	rel, err := s.store.DocumentPath(ctx, agreementID)
	if err != nil {
		return Document{}, nil, fmt.Errorf("document path of agreement %d: %w", agreementID, err)
	}
	f, err := os.Open(filepath.Join(s.files, filepath.FromSlash(rel)))
	if err != nil {
		return Document{}, nil, fmt.Errorf("open document of agreement %d: %w", agreementID, err)
	}
	return *a.Document, f, nil
}
