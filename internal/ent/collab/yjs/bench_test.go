package yjs

import (
	"math/rand/v2"
	"testing"
)

// editSession produces n small updates from three clients typing, deleting
// and setting map keys at random places, each seeing the others' edits.
func editSession(tb testing.TB, n int) ([][]byte, *Doc) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	docs := []*Doc{NewDoc(WithClientID(1)), NewDoc(WithClientID(2)), NewDoc(WithClientID(3))}
	var updates [][]byte
	for i := 0; i < n; i++ {
		d := docs[rng.IntN(len(docs))]
		u, err := d.Transact(func(tx *Tx) error {
			txt := d.GetText("pad")
			switch k := rng.IntN(10); {
			case k < 6 || txt.Len() < 10:
				return txt.Insert(tx, rng.IntN(txt.Len()+1), "mot ", nil)
			case k < 8:
				return txt.Delete(tx, rng.IntN(txt.Len()-3), 2)
			default:
				return d.GetMap("meta").Set(tx, "k", i)
			}
		})
		if err != nil {
			tb.Fatal(err)
		}
		updates = append(updates, u)
		for _, o := range docs {
			if o != d {
				if err := o.ApplyUpdate(u); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	return updates, docs[0]
}

func BenchmarkApply5000SmallUpdates(b *testing.B) {
	updates, _ := editSession(b, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := NewDoc()
		for _, u := range updates {
			if err := d.ApplyUpdate(u); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEncodeStateAsUpdate5000Edits(b *testing.B) {
	_, doc := editSession(b, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := doc.EncodeStateAsUpdate(nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMerge5000Updates(b *testing.B) {
	updates, _ := editSession(b, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := MergeUpdates(updates...); err != nil {
			b.Fatal(err)
		}
	}
}
