package helpdesk

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// storeFile streams r to the files root under dir, named by its SHA-256,
// reading at most limit bytes: a bigger file is refused and nothing of it
// is kept. The key is relative to the files root.
func (s *Service) storeFile(dir string, r io.Reader, limit int64) (key, sum string, size int64, err error) {
	if s.opts.FilesRoot == "" {
		return "", "", 0, errors.New("no files root configured")
	}
	base := filepath.Join(s.opts.FilesRoot, "helpdesk", dir)
	if err := os.MkdirAll(base, 0o750); err != nil {
		return "", "", 0, fmt.Errorf("create %s: %w", base, err)
	}
	tmp, err := os.CreateTemp(base, ".upload-*")
	if err != nil {
		return "", "", 0, fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, limit+1))
	if err != nil {
		return "", "", 0, fmt.Errorf("write file: %w", err)
	}
	if size > limit {
		return "", "", size, problem.New(http.StatusRequestEntityTooLarge, "file_too_large",
			fmt.Sprintf("Fichier trop volumineux (%d Mo au plus).", limit>>20))
	}
	if err = tmp.Sync(); err != nil {
		return "", "", 0, fmt.Errorf("sync file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return "", "", 0, fmt.Errorf("close file: %w", err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	key = path.Join("helpdesk", dir, sum[:2], sum)
	final := filepath.Join(s.opts.FilesRoot, filepath.FromSlash(key))
	if err = os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return "", "", 0, fmt.Errorf("create directory: %w", err)
	}
	// Same content, same name: a second copy of a file replaces the first
	// with identical bytes.
	if err = os.Rename(tmp.Name(), final); err != nil {
		return "", "", 0, fmt.Errorf("store file: %w", err)
	}
	return key, sum, size, nil
}

// cleanName keeps a display name safe for headers and listings: no path,
// no control characters, bounded.
func cleanName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == "" {
		name = "piece-jointe"
	}
	if r := []rune(name); len(r) > 120 {
		name = string(r[:120])
	}
	return name
}

// Attach stores a file on a ticket the caller may read (requesters attach
// to their own tickets, technicians to the ones they work).
func (s *Service) Attach(ctx context.Context, p *auth.Principal, ref, name, contentType string, r io.Reader) (Attachment, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return Attachment{}, err
	}
	work, err := s.canWork(ctx, p, &t)
	if err != nil {
		return Attachment{}, err
	}
	if !work && t.RequesterID != p.User.ID {
		return Attachment{}, problem.Forbidden()
	}
	return s.attach(ctx, t.ID, 0, name, contentType, r)
}

func (s *Service) attach(ctx context.Context, ticketID, followupID int64, name, contentType string, r io.Reader) (Attachment, error) {
	key, sum, size, err := s.storeFile("attachments", r, s.opts.MaxAttachmentBytes)
	if err != nil {
		return Attachment{}, err
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	a := Attachment{FollowupID: followupID, Name: cleanName(name), ContentType: contentType, Size: size, SHA256: sum,
		CreatedAt: s.now().UTC(), storageKey: key}
	err = s.db.QueryRowContext(ctx, `INSERT INTO ticket_attachments (ticket_id, followup_id, name, content_type, size, sha256, storage_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, ticketID, db.NullID(followupID), a.Name, a.ContentType, a.Size, a.SHA256,
		key, a.CreatedAt).Scan(&a.ID)
	if err != nil {
		return a, fmt.Errorf("insert attachment: %w", err)
	}
	return a, nil
}

// OpenAttachment opens an attachment of a ticket the caller may read; the
// caller closes it.
func (s *Service) OpenAttachment(ctx context.Context, p *auth.Principal, ref string, id int64) (Attachment, *os.File, error) {
	t, err := s.load(ctx, s.db, p, ref)
	if err != nil {
		return Attachment{}, nil, err
	}
	work, err := s.canWork(ctx, p, &t)
	if err != nil {
		return Attachment{}, nil, err
	}
	var a Attachment
	var fid sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT a.id, a.followup_id, a.name, a.content_type, a.size, a.sha256, a.storage_key, a.created_at
		FROM ticket_attachments a LEFT JOIN followups f ON f.id = a.followup_id
		WHERE a.id = ? AND a.ticket_id = ? AND (f.private IS NULL OR f.private = ? OR ?)`, id, t.ID, false, work).
		Scan(&a.ID, &fid, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.storageKey, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil, problem.NotFound("Pièce jointe")
	}
	if err != nil {
		return a, nil, fmt.Errorf("find attachment %d: %w", id, err)
	}
	a.FollowupID = fid.Int64
	f, err := os.Open(filepath.Join(s.opts.FilesRoot, filepath.FromSlash(a.storageKey)))
	if err != nil {
		return a, nil, fmt.Errorf("open attachment %d: %w", id, err)
	}
	return a, f, nil
}

func (s *Store) attachments(ctx context.Context, ticketID int64, withPrivate bool) ([]Attachment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, COALESCE(a.followup_id, 0), a.name, a.content_type, a.size, a.sha256, a.created_at
		FROM ticket_attachments a LEFT JOIN followups f ON f.id = a.followup_id
		WHERE a.ticket_id = ? AND (f.private IS NULL OR f.private = ? OR ?) ORDER BY a.created_at, a.id`, ticketID, false, withPrivate)
	if err != nil {
		return nil, fmt.Errorf("attachments of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.ID, &a.FollowupID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
