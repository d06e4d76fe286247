package db

import "testing"

func TestRebind(t *testing.T) {
	cases := []struct{ in, pg string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT ? , ?", "SELECT $1 , $2"},
		{"WHERE a = ? AND b = '?' AND c = ?", "WHERE a = $1 AND b = '?' AND c = $2"},
		{"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
	}
	for _, c := range cases {
		if got := rebind(Postgres, c.in); got != c.pg {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.pg)
		}
		if got := rebind(SQLite, c.in); got != c.in {
			t.Errorf("SQLite must keep %q, got %q", c.in, got)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	for n, want := range map[int]string{0: "", 1: "?", 3: "?, ?, ?"} {
		if got := Placeholders(n); got != want {
			t.Errorf("Placeholders(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := redact("postgres://u:secret@h/db"); got != "postgres://u:xxxxx@h/db" {
		t.Errorf("redact = %q", got)
	}
}
