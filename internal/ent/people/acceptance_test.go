package people

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"socle/internal/ent/space"
)

// Across two school years: a CM2 pupil makes files in her personal space,
// the école rolls over, the collège's feed brings her in 6e, and she logs
// in with the same account and finds her files.
func TestAcceptanceCM2PupilKeepsHerFilesIn6e(t *testing.T) {
	f := newFx(t, space.Migrations())
	blobs, err := space.NewDiskBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	spaces := space.NewService(f.db, blobs, space.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))

	// 2025-2026: the école's feed; Léa activates her account.
	f.feed(uaiEcole, "2025-2026", ecoleFeed, false)
	lea := f.userByINE("1234567890A")
	const password = "mon-mot-de-passe-de-cm2"
	if err := f.auth.SetPassword(f.ctx, lea, password); err != nil {
		t.Fatal(err)
	}
	u, err := f.auth.Login(f.ctx, "lea.tanguy@ent.invalid", password, "192.0.2.1")
	if err != nil || u.ID != lea {
		t.Fatalf("login in CM2: %+v %v", u, err)
	}
	sp, err := spaces.UserSpace(f.ctx, f.principal(lea))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := spaces.Mkdir(f.ctx, sp, 0, "Exposé")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spaces.PutFile(f.ctx, sp, dir.ID, "les-volcans.txt", strings.NewReader("Le Vésuve, le Piton de la Fournaise.")); err != nil {
		t.Fatal(err)
	}

	// July: the école rolls over; Léa leaves it.
	f.clock = time.Date(2026, 7, 6, 9, 0, 0, 0, time.UTC)
	if _, err := f.svc.Rollover(f.ctx, f.admin, uaiEcole, "2025-2026", true); err != nil {
		t.Fatal(err)
	}
	// August: the collège's feed brings her in 6e.
	f.clock = time.Date(2026, 8, 31, 9, 0, 0, 0, time.UTC)
	f.feed(uaiCollege, "", "Profil;Nom;Prénom;Date de naissance;INE;Classe\nélève;Tanguy;Léa;14/03/2015;1234567890A;6e B\n", false)
	if got := f.userByINE("1234567890A"); got != lea {
		t.Fatalf("new account %d for Léa (was %d)", got, lea)
	}

	// Same login, same password, same files.
	u, err = f.auth.Login(f.ctx, "lea.tanguy@ent.invalid", password, "192.0.2.1")
	if err != nil || u.ID != lea {
		t.Fatalf("login in 6e: %+v %v", u, err)
	}
	p := f.principal(u.ID)
	refs, err := f.svc.GroupsOfUser(f.ctx, u.ID)
	if err != nil || len(refs) != 1 || refs[0].Name != "6e B" || refs[0].EstablishmentID != f.college {
		t.Fatalf("Léa's classes in 6e: %+v %v", refs, err)
	}
	sp, err = spaces.UserSpace(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	n, err := spaces.Resolve(f.ctx, sp, "Exposé/les-volcans.txt")
	if err != nil {
		t.Fatalf("Léa's file is gone: %v", err)
	}
	rc, err := spaces.Open(f.ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	body, _ := io.ReadAll(rc)
	if string(body) != "Le Vésuve, le Piton de la Fournaise." {
		t.Errorf("file content %q", body)
	}
}
