package production

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"socle/internal/ent/collab/yjs"
)

func wikiPages(n int) Content {
	c := Content{Kind: Wiki}
	for i := 1; i <= n; i++ {
		var blocks []Block
		blocks = append(blocks, Block{Type: "heading", Level: 2, Runs: []Run{{Text: "Partie " + strconv.Itoa(i)}}})
		for j := 0; j < 20; j++ {
			blocks = append(blocks, Block{Type: "paragraph", Runs: []Run{{Text: "Une phrase assez longue pour ressembler à un vrai paragraphe d'élève, "},
				{Text: "avec du gras", Bold: true}, {Text: " et un "}, {Text: "lien", Link: "/productions/1#p" + strconv.Itoa(j)}}})
		}
		blocks = append(blocks, Block{Type: "bullet_list", Items: [][]Run{{{Text: "un"}}, {{Text: "deux"}}, {{Text: "trois"}}}})
		c.Pages = append(c.Pages, Page{ID: "p" + strconv.Itoa(i), Title: "Page " + strconv.Itoa(i), Blocks: blocks})
	}
	return c
}

// BenchmarkWikiODTExport50Pages: a 50-page wiki read from its Yjs document
// and written as ODT (goal: under 1 s).
func BenchmarkWikiODTExport50Pages(b *testing.B) {
	d := yjs.NewDoc()
	c := wikiPages(50)
	if _, err := d.Transact(func(tx *yjs.Tx) error { return writeContent(d, tx, c) }); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		got := readContent(d, Wiki)
		if _, err := Encode(got, "Wiki", "odt"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenWith5000Edits: a pad that went through 5,000 small edits,
// loaded from its stored update and read for the first paint.
func BenchmarkOpenWith5000Edits(b *testing.B) {
	d := yjs.NewDoc()
	if _, err := d.Transact(func(tx *yjs.Tx) error {
		return writeContent(d, tx, Content{Kind: Pad, Blocks: []Block{{Type: "paragraph", Runs: []Run{{Text: "début"}}}}})
	}); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 5000; i++ {
		if _, err := d.Transact(func(tx *yjs.Tx) error {
			p := d.GetXMLFragment("content").Children()[0].(*yjs.XMLElement)
			t := p.Children()[0].(*yjs.XMLText).Text()
			return t.Insert(tx, t.Len()/2, "x", nil)
		}); err != nil {
			b.Fatal(err)
		}
	}
	state, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		d2 := yjs.NewDoc()
		if err := d2.ApplyUpdate(state); err != nil {
			b.Fatal(err)
		}
		if c := readContent(d2, Pad); len(c.Blocks) != 1 {
			b.Fatal("lost the paragraph")
		}
	}
}

// BenchmarkCollect30: a class's 30 pad productions collected as a zip of
// ODT exports through the engine (goal: under 5 s).
func BenchmarkCollect30(b *testing.B) {
	f := newFx(b)
	pupils := []int64{}
	for i := 0; i < 30; i++ {
		p := f.user(fmt.Sprintf("eleve%d@ecole.test", i), fmt.Sprintf("Élève %d", i), "pupil", 1)
		pupils = append(pupils, p.id)
	}
	f.dir.groups[f.cm2].Pupils = pupils
	f.dir.member[f.cm2] = append(pupils, f.anne.id)
	a, err := f.svc.Assign(f.ctx, f.anne.p, NewAssignment{Title: "Rédaction", Kind: Pad, GroupID: f.cm2})
	if err != nil {
		b.Fatal(err)
	}
	text := wikiPages(3).Pages[0].Blocks
	for _, t := range a.Teams {
		if err := f.svc.Write(f.ctx, f.anne.p, *t.ProductionID, Content{Blocks: text}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		var buf bytes.Buffer
		if err := f.svc.Collect(f.ctx, f.anne.p, a.ID, &buf); err != nil {
			b.Fatal(err)
		}
	}
}
