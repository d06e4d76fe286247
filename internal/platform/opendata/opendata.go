// Package opendata finds, for tests and benchmarks, the real French open
// data published beside the repository (../shared/data/open-data): the
// directory of establishments, enrolments, the carte scolaire and the
// national school calendar. They are never copied into the repository.
package opendata

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns the path of a file of ../shared/data/open-data next to the
// repository. Absent, the test is skipped, except in CI (CI set), which
// always has them: there it fails.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
	path := filepath.Join(dir, "..", "shared", "data", "open-data", name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("open data file missing in CI: %v", err)
		}
		tb.Skipf("open data file %s absent: skipped (put the published files in ../shared/data/open-data to run it)", path)
	}
	return path
}
