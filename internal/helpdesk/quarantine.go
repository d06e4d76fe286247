package helpdesk

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Resolutions of a quarantined message.
const (
	ResolutionFollowup  = "followup"
	ResolutionNewTicket = "ticket"
	ResolutionDiscarded = "discarded"
)

// QuarantineRelease says what to do with a quarantined message: add it to
// the ticket TicketRef, or open a ticket for the account RequesterEmail (at
// the establishment UAI, or the only one the account may open tickets
// for).
type QuarantineRelease struct {
	TicketRef      string `json:"ticket_reference,omitempty"`
	RequesterEmail string `json:"requester_email,omitempty"`
	UAI            string `json:"uai,omitempty"`
}

type quarantinedRow struct {
	QuarantinedMail
	messageID, storageKey string
	resolved              bool
}

func (s *Store) quarantined(ctx context.Context, id int64) (quarantinedRow, error) {
	var r quarantinedRow
	var resolved sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT id, received_at, sender, subject, reason, size, message_id, storage_key, resolved_at
		FROM mail_quarantine WHERE id = ?`, id).Scan(&r.ID, &r.ReceivedAt, &r.Sender, &r.Subject, &r.Reason, &r.Size,
		&r.messageID, &r.storageKey, &resolved)
	r.resolved = resolved.Valid
	return r, err
}

// resolveQuarantine marks the message dealt with, inside the transaction
// of what was done with it; a message another administrator dealt with
// meanwhile is a conflict and undoes it.
func (s *Store) resolveQuarantine(ctx context.Context, q db.Querier, id, by int64, resolution, ref string, now any) error {
	res, err := q.ExecContext(ctx, `UPDATE mail_quarantine SET resolved_at = ?, resolution = ?, ticket_reference = ?, resolved_by = ?
		WHERE id = ? AND resolved_at IS NULL`, now, resolution, ref, db.NullID(by), id)
	if err != nil {
		return fmt.Errorf("resolve quarantined mail %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return problem.Conflict("quarantine_resolved", "Ce message a déjà été traité.")
	}
	return nil
}

// loadQuarantined reads a message still in quarantine, with its raw bytes;
// platform administrators only.
func (s *Service) loadQuarantined(ctx context.Context, p *auth.Principal, id int64) (quarantinedRow, []byte, error) {
	if !p.Global(auth.PermUserManage) {
		return quarantinedRow{}, nil, problem.NotFound("Page")
	}
	r, err := s.store.quarantined(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil, problem.NotFound("Message")
	}
	if err != nil {
		return r, nil, err
	}
	if r.storageKey == "" {
		return r, nil, problem.NotFound("Message")
	}
	raw, err := os.ReadFile(filepath.Join(s.opts.FilesRoot, filepath.FromSlash(r.storageKey)))
	if err != nil {
		return r, nil, fmt.Errorf("read quarantined mail %d: %w", id, err)
	}
	return r, raw, nil
}

// QuarantinedMessage returns a quarantined message as received (.eml), to
// read it whole before deciding.
func (s *Service) QuarantinedMessage(ctx context.Context, p *auth.Principal, id int64) (QuarantinedMail, []byte, error) {
	r, raw, err := s.loadQuarantined(ctx, p, id)
	return r.QuarantinedMail, raw, err
}

// DiscardQuarantine drops a quarantined message from the list; the raw
// message stays on disk with the rest of the files.
func (s *Service) DiscardQuarantine(ctx context.Context, p *auth.Principal, id int64) error {
	r, _, err := s.loadQuarantined(ctx, p, id)
	if err != nil {
		return err
	}
	if r.resolved {
		return problem.Conflict("quarantine_resolved", "Ce message a déjà été traité.")
	}
	return s.store.resolveQuarantine(ctx, s.db, id, p.User.ID, ResolutionDiscarded, "", s.now().UTC())
}

// ReleaseQuarantine turns a quarantined message into a follow-up of a
// chosen ticket or into a new ticket for a chosen requester, and marks it
// dealt with in the same transaction. It returns the ticket's reference.
func (s *Service) ReleaseQuarantine(ctx context.Context, p *auth.Principal, id int64, rel QuarantineRelease) (string, error) {
	r, raw, err := s.loadQuarantined(ctx, p, id)
	if err != nil {
		return "", err
	}
	if r.resolved {
		return "", problem.Conflict("quarantine_resolved", "Ce message a déjà été traité.")
	}
	body, files := "", []mailFile(nil)
	if mr, err := mail.CreateReader(bytes.NewReader(raw)); err == nil || message.IsUnknownCharset(err) {
		body, files, _ = extract(mr)
	}
	if strings.TrimSpace(body) == "" {
		body = "(message sans texte lisible : voir le message d'origine en quarantaine n° " + fmt.Sprint(id) + ")"
	}
	now := s.now().UTC()
	ref := strings.ToUpper(strings.TrimSpace(rel.TicketRef))
	email := strings.ToLower(strings.TrimSpace(rel.RequesterEmail))
	switch {
	case ref != "" && email != "":
		return "", problem.Invalid("release_ambiguous", "Choisissez soit un ticket existant, soit un demandeur pour un nouveau ticket.").Field("ticket_reference", "Un seul choix.")
	case ref != "":
		t, err := s.load(ctx, s.db, p, ref)
		if err != nil {
			return "", problem.Invalid("unknown_ticket", "Ticket introuvable.").Field("ticket_reference", "Ticket introuvable.")
		}
		user, _, err := s.principalByEmail(ctx, r.Sender)
		if err != nil {
			return "", err
		}
		f := Followup{AuthorID: user, AuthorEmail: r.Sender, Body: body, Source: "mail"}
		if len(f.Body) > 100_000 {
			f.Body = f.Body[:100_000]
		}
		fromRequester := strings.EqualFold(r.Sender, t.RequesterEmail) || (user != 0 && user == t.RequesterID)
		err = s.addFollowup(ctx, &t, &f, r.messageID, fromRequester, func(tx *db.Tx) error {
			if err := s.store.resolveQuarantine(ctx, tx, id, p.User.ID, ResolutionFollowup, t.Reference, now); err != nil {
				return err
			}
			return s.notifyHolder(ctx, tx, &t, "Nouveau message (sorti de quarantaine)", "Un message reçu par courriel a été ajouté au ticket :\n\n"+f.Body)
		})
		if db.IsUniqueViolation(err) {
			return "", problem.Conflict("already_followup", "Ce message est déjà un suivi d'un ticket.")
		}
		if err != nil {
			return "", err
		}
		s.attachFiles(ctx, t.ID, f.ID, files)
		return t.Reference, nil
	case email != "":
		user, rp, err := s.principalByEmail(ctx, email)
		if err != nil {
			return "", err
		}
		if rp == nil || !rp.Has(auth.PermTicketCreate) {
			return "", problem.Invalid("unknown_requester", "Aucun compte ne peut ouvrir de ticket avec cette adresse.").Field("requester_email", "Compte inconnu ou sans droit.")
		}
		var estID int64
		if uai := strings.ToUpper(strings.TrimSpace(rel.UAI)); uai != "" {
			if estID, err = s.store.establishmentByUAI(ctx, uai); errors.Is(err, sql.ErrNoRows) {
				return "", problem.Invalid("unknown_establishment", "Établissement inconnu.").Field("uai", "UAI inconnu.")
			} else if err != nil {
				return "", err
			}
			if ok, err := s.auth.Allowed(ctx, rp, auth.PermTicketCreate, estID); err != nil {
				return "", err
			} else if !ok {
				return "", problem.Invalid("requester_out_of_scope", "Ce demandeur ne peut pas ouvrir de ticket pour cet établissement.").Field("uai", "Hors du périmètre du demandeur.")
			}
		} else if estID, err = s.onlyEstablishment(ctx, rp); err != nil {
			return "", err
		} else if estID == 0 {
			return "", problem.Invalid("establishment_required", "Indiquez l'établissement : ce demandeur en a plusieurs, ou aucun.").Field("uai", "Établissement requis.")
		}
		title := strings.TrimSpace(r.Subject)
		if title == "" {
			title = "(sans objet)"
		}
		if rr := []rune(title); len(rr) > 200 {
			title = string(rr[:200])
		}
		if len(body) > 100_000 {
			body = body[:100_000]
		}
		t, err := s.create(ctx, user, email, estID, NewTicket{Kind: KindIncident, Title: title, Description: body}, "mail",
			func(tx *db.Tx, t *Ticket) error {
				return s.store.resolveQuarantine(ctx, tx, id, p.User.ID, ResolutionNewTicket, t.Reference, now)
			})
		if err != nil {
			return "", err
		}
		s.attachFiles(ctx, t.ID, 0, files)
		return t.Reference, nil
	}
	return "", problem.Invalid("release_target_required", "Choisissez un ticket existant ou un demandeur pour un nouveau ticket.").Field("ticket_reference", "Ticket ou demandeur requis.")
}
