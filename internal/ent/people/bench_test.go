package people

import (
	"fmt"
	"strings"
	"testing"
)

// bigFeed writes a feed of pupils, parents and teachers: pupils in classes
// of 25 across levels, one parent for every pupil but one in six (some
// with two children), and teachers of three classes each.
func bigFeed(pupils, parents, teachers int, levels []string) string {
	var b strings.Builder
	b.Grow((pupils + parents + teachers) * 80)
	b.WriteString("Profil;Nom;Prénom;Date de naissance;INE;Classe;INE enfant;Courriel;Matières\n")
	classes := (pupils + 24) / 25
	className := func(i int) string { return fmt.Sprintf("%s %d", levels[i%len(levels)], i/len(levels)+1) }
	ine := func(i int) string { return fmt.Sprintf("%010dB", 100000000+i) }
	for i := 0; i < pupils; i++ {
		fmt.Fprintf(&b, "élève;Nom%d;Prénom%d;%02d/%02d/2014;%s;%s;;;\n", i, i, 1+i%28, 1+i%12, ine(i), className(i%classes))
	}
	for i := 0; i < parents; i++ {
		kids := ine(i % pupils)
		if i%7 == 0 && i+1 < pupils {
			kids += "|" + ine((i+1)%pupils)
		}
		fmt.Fprintf(&b, "parent;Nom%d;Parent%d;;;;%s;parent%d@exemple.fr;\n", i%pupils, i, kids, i)
	}
	for i := 0; i < teachers; i++ {
		fmt.Fprintf(&b, "enseignant;Prof%d;Ens%d;;;%s|%s|%s;;prof%d@exemple.fr;Matière %d\n", i, i,
			className(i%classes), className((i+1)%classes), className((i+2)%classes), i, i%12)
	}
	return b.String()
}

// BenchmarkFeed50000 imports a first feed of 50,000 people into one
// establishment (accounts created without password hashing).
func BenchmarkFeed50000(b *testing.B) {
	csv := bigFeed(30000, 18000, 2000, []string{"6e", "5e", "4e", "3e"})
	for b.Loop() {
		b.StopTimer()
		f := newFx(b)
		b.StartTimer()
		rep := f.feed(uaiCollege, "2025-2026", csv, false)
		if rep.Created != 50000 || rep.RejectedCount() != 0 {
			b.Fatalf("report %+v", rep.Created)
		}
	}
}

// BenchmarkFeed50000Again re-imports the same 50,000 people: nothing
// changes, the usual nightly run.
func BenchmarkFeed50000Again(b *testing.B) {
	csv := bigFeed(30000, 18000, 2000, []string{"6e", "5e", "4e", "3e"})
	f := newFx(b)
	f.feed(uaiCollege, "2025-2026", csv, false)
	for b.Loop() {
		rep := f.feed(uaiCollege, "2025-2026", csv, false)
		if rep.Unchanged != 50000 {
			b.Fatalf("re-import changed things: %+v", rep)
		}
	}
}

// BenchmarkRollover1000 previews and applies the rollover of an école of
// 1,000 pupils (40 classes, their teachers and parents).
func BenchmarkRollover1000(b *testing.B) {
	csv := bigFeed(1000, 800, 40, []string{"CP", "CE1", "CE2", "CM1", "CM2"})
	for b.Loop() {
		b.StopTimer()
		f := newFx(b)
		f.feed(uaiEcole, "2025-2026", csv, false)
		b.StartTimer()
		plan, err := f.svc.Rollover(f.ctx, f.admin, uaiEcole, "2025-2026", false)
		if err != nil {
			b.Fatal(err)
		}
		done, err := f.svc.Rollover(f.ctx, f.admin, uaiEcole, "2025-2026", true)
		if err != nil || len(done.Archive) != 40 || len(done.Leaving) != 200 || len(plan.Leaving) != 200 {
			b.Fatalf("rollover %d archived, %d leaving, %v", len(done.Archive), len(done.Leaving), err)
		}
	}
}

// BenchmarkFeed10000 is a smaller first feed, for profiling.
func BenchmarkFeed10000(b *testing.B) {
	csv := bigFeed(6000, 3600, 400, []string{"6e", "5e", "4e", "3e"})
	for b.Loop() {
		b.StopTimer()
		f := newFx(b)
		b.StartTimer()
		if rep := f.feed(uaiCollege, "2025-2026", csv, false); rep.Created != 10000 {
			b.Fatalf("created %d", rep.Created)
		}
	}
}
