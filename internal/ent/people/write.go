package people

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

// writer groups the writes that the feed, the pending-match decisions and
// the hand-entered people share, inside one transaction on one
// establishment.
type writer struct {
	s   *Service
	q   db.Querier
	est int64
	now time.Time
}

func (s *Service) newWriter(q db.Querier, estID int64) *writer {
	return &writer{s: s, q: q, est: estID, now: s.now().UTC()}
}

// createPerson creates the account and the profile. The account gets the
// person's e-mail as its login when one is given and free, otherwise a
// login made of the names under the service's login domain; it never gets
// a password here (hashing tens of thousands of them would make the feed
// slow, and the person sets one when activating the account, or logs in
// through single sign-on).
func (w *writer) createPerson(ctx context.Context, per Person, email string) (int64, error) {
	p, err := w.create(ctx, per, email)
	return p.UserID, err
}

// create is createPerson returning the person as stored.
func (w *writer) create(ctx context.Context, per Person, email string) (Person, error) {
	name := per.FirstName + " " + per.LastName
	var id int64
	var err error
	login := email
	if email != "" {
		if id, err = w.s.store.insertAccountEmail(ctx, w.q, email, name, w.now); err != nil {
			return per, err
		}
	}
	if id == 0 {
		if id, login, err = w.s.store.insertAccount(ctx, w.q, loginPart(per.FirstName)+"."+loginPart(per.LastName), w.s.opts.LoginDomain, name, w.now); err != nil {
			return per, err
		}
	}
	per.UserID, per.Email, per.DisplayName = id, login, name
	return per, w.s.store.insertPerson(ctx, w.q, per, w.now)
}

// ensureProfile gives an existing account (created by hand or for another
// purpose) its directory profile when it has none.
func (w *writer) ensureProfile(ctx context.Context, userID int64, per Person) error {
	per.UserID = userID
	_, err := w.q.ExecContext(ctx, `INSERT INTO people (user_id, profile, function, ine, last_name, first_name, birth_date, name_key, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING`, userID, string(per.Profile), string(per.Function),
		nullString(per.INE), per.LastName, per.FirstName, per.BirthDate, NameKey(per.LastName, per.FirstName, per.BirthDate), w.now, w.now)
	return err
}

// attach makes a person a member of the writer's establishment with the
// grant of their role there, and lifts a suspension. It reports whether
// anything changed.
func (w *writer) attach(ctx context.Context, userID int64, prof Profile, fn Function, source string) (bool, error) {
	var oldProf, oldFn string
	err := w.q.QueryRowContext(ctx, `SELECT profile, function FROM establishment_members WHERE establishment_id = ? AND user_id = ?`,
		w.est, userID).Scan(&oldProf, &oldFn)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if err == nil && (Profile(oldProf) != prof || Function(oldFn) != fn) {
		if old := RoleOf(Profile(oldProf), Function(oldFn)); old != "" && old != RoleOf(prof, fn) {
			if err := w.s.store.accounts.RemoveGrant(ctx, w.q, userID, w.est, old); err != nil {
				return false, err
			}
		}
	}
	return w.join(ctx, userID, prof, fn, source)
}

// join is attach without looking at a previous membership (the feed knows
// it already).
func (w *writer) join(ctx context.Context, userID int64, prof Profile, fn Function, source string) (bool, error) {
	changed, err := w.s.store.addMembership(ctx, w.q, w.est, userID, prof, fn, source, w.now)
	if err != nil {
		return false, err
	}
	if changed {
		if role := RoleOf(prof, fn); role != "" {
			if err := w.s.auth.Store().AddGrant(ctx, w.q, auth.Grant{UserID: userID, Role: role, OrgID: w.est}); err != nil {
				return false, err
			}
		}
	}
	back, err := w.s.store.reactivate(ctx, w.q, userID)
	return changed || back, err
}

// class returns the id of a class of the year, creating it.
func (w *writer) class(ctx context.Context, year, name, level string) (int64, error) {
	id, _, err := w.s.store.ensureGroup(ctx, w.q, Group{EstablishmentID: w.est, SchoolYear: year, Kind: KindClass, Name: name, Level: level}, "feed", w.now)
	if err != nil {
		return 0, fmt.Errorf("class %s: %w", name, err)
	}
	if level != "" {
		if _, err := w.q.ExecContext(ctx, `UPDATE groups SET level = ? WHERE id = ? AND level = ''`, level, id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// splitList reads a list cell: "6e A|6e B", "6e A, 6e B".
func splitList(v string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '|' || r == ',' }) {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
