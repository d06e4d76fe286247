package people

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/csvimport"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

// fx is a small territory: an école and the collège of its sector in one
// commune, and another école elsewhere.
type fx struct {
	t                              testing.TB
	ctx                            context.Context
	db                             *db.DB
	auth                           *auth.Service
	svc                            *Service
	clock                          time.Time
	commune, ecole, college, other int64
	admin                          *auth.Principal
}

const (
	uaiEcole   = "0350001A"
	uaiCollege = "0350002B"
	uaiOther   = "0290003C"
)

func newFx(t testing.TB, more ...db.MigrationSet) *fx {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, append([]db.MigrationSet{auth.Migrations(), territory.Migrations(), Migrations()}, more...)...)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fx{t: t, ctx: ctx, db: d, auth: auth.NewService(d, auth.DefaultSettings(), log),
		clock: time.Date(2026, 5, 10, 10, 0, 0, 0, time.UTC)}
	f.svc = NewService(d, f.auth, log, Options{GracePeriod: 30 * 24 * time.Hour})
	f.svc.SetDeleter(AccountDeleter{People: f.svc})
	f.svc.SetClock(func() time.Time { return f.clock })
	f.commune = f.org("commune", "35238", "Rennes", 0)
	f.ecole = f.school(uaiEcole, "École des Tilleuls", "ecole", f.commune, "35238")
	f.college = f.school(uaiCollege, "Collège Anne de Bretagne", "college", f.commune, "35238")
	f.other = f.school(uaiOther, "École du Port", "ecole", 0, "29019")
	if _, err := d.ExecContext(ctx, `INSERT INTO school_sectors (sector_key, commune_code, commune_name, college_uai, single_sector)
		VALUES ('k1', '35238', 'Rennes', ?, TRUE)`, uaiCollege); err != nil {
		t.Fatal(err)
	}
	f.admin = auth.System()
	return f
}

func (f *fx) org(kind, code, name string, parent int64) int64 {
	f.t.Helper()
	now := time.Now().UTC()
	var id int64
	err := f.db.QueryRowContext(f.ctx, `INSERT INTO organizations (kind, code, name, parent_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, kind, code, name, db.NullID(parent), now, now).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fx) school(uai, name, typ string, parent int64, commune string) int64 {
	f.t.Helper()
	id := f.org("establishment", uai, name, parent)
	if _, err := f.db.ExecContext(f.ctx, `INSERT INTO establishments (org_id, uai, type, commune_code) VALUES (?, ?, ?, ?)`,
		id, uai, typ, commune); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// feed runs a feed as the platform administrator and fails on an error.
func (f *fx) feed(uai, year, csv string, skip bool) *csvimport.Report {
	f.t.Helper()
	rep, err := f.svc.Feed(f.ctx, f.admin, uai, strings.NewReader(csv), FeedOptions{SchoolYear: year, SkipInvalid: skip, Filename: "feed.csv"})
	if err != nil {
		f.t.Fatalf("feed %s: %v (%+v)", uai, err, rep)
	}
	return rep
}

func (f *fx) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fx) id(query string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.QueryRowContext(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fx) userByINE(ine string) int64 {
	return f.id(`SELECT user_id FROM people WHERE ine = ?`, ine)
}

func (f *fx) userByName(first, last string) int64 {
	return f.id(`SELECT user_id FROM people WHERE first_name = ? AND last_name = ?`, first, last)
}

func (f *fx) principal(id int64) *auth.Principal {
	f.t.Helper()
	p, err := f.auth.Principal(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// head creates a head of establishment through the auth service.
func (f *fx) head(email string, est int64) *auth.Principal {
	f.t.Helper()
	id, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: email, Password: "mot-de-passe-solide",
		Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: est}}})
	if err != nil {
		f.t.Fatal(err)
	}
	return f.principal(id)
}

// The école's feed for 2025-2026: three CM2 pupils (one without INE), a
// CM1 pupil, two parents, a teacher of each class, the head.
const ecoleFeed = `Profil;Nom;Prénom;Date de naissance;INE;Classe;INE enfant;Courriel;Matières;Fonction
élève;Tanguy;Léa;14/03/2015;1234567890A;CM2 A;;;;
élève;Le Gall;Erwan;02/07/2015;1234567891B;CM2 A;;;;
élève;Morvan;Chloé;21/11/2015;;CM2 A;;;;
élève;Tanguy;Noé;05/01/2016;1234567892C;CM1 B;;;;
parent;Tanguy;Gwenaëlle;;;;1234567890A|1234567892C;g.tanguy@exemple.fr;;
parent;Le Gall;Yann;;;;1234567891B;;;
enseignant;Rolland;Julien;;;CM2 A;;j.rolland@exemple.fr;Polyvalent;
enseignant;Kerouac;Anne;;;CM1 B;;a.kerouac@exemple.fr;Polyvalent;
personnel;Lefebvre;Marc;;;;;m.lefebvre@exemple.fr;;direction
`
