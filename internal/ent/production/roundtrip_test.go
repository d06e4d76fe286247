package production

import (
	"archive/zip"
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"socle/internal/ent/collab/yjs"
)

// samples are one rich content per kind, with injection attempts in every
// text field.
func samples() map[Kind]Content {
	rich := []Block{
		{Type: "heading", Level: 1, Runs: []Run{{Text: "Le cycle de l'eau <script>alert(1)</script>"}}},
		{Type: "paragraph", Runs: []Run{{Text: "L'eau "}, {Text: "s'évapore", Bold: true}, {Text: " puis ", Italic: true},
			{Text: "se condense", Bold: true, Italic: true}, {Text: " (voir "}, {Text: "la page", Link: "https://fr.wikipedia.org/wiki/Cycle_de_l%27eau"},
			{Text: ") *étoile* _souligné_ [crochets] #dièse  deux espaces & <b>gras?</b>"}}},
		{Type: "heading", Level: 2, Runs: []Run{{Text: "Étapes"}}},
		{Type: "bullet_list", Items: [][]Run{{{Text: "évaporation"}}, {{Text: "- condensation", Italic: true}}, {{Text: "1. précipitations"}}}},
		{Type: "ordered_list", Items: [][]Run{{{Text: "premier"}}, {{Text: "lien", Bold: true, Link: "/productions/2"}}}},
		{Type: "paragraph", Runs: []Run{{Text: "Ligne un\nligne deux\ttabulée"}}},
		{Type: "image", Src: "/productions/7/medias/abcdefghijklmnopqrstuvwx", Alt: "Schéma « eau » <b>gras?</b> & [crochets] *étoile*"},
		{Type: "image", Src: "https://example.org/images/cycle de l'eau (1).png"},
		// Unsafe sources never reach a document: these two are dropped.
		{Type: "image", Src: "javascript:alert(1)", Alt: "piège"},
		{Type: "image", Src: "data:image/svg+xml,<svg onload=alert(1)>", Alt: "piège"},
		{Type: "paragraph", Runs: []Run{{Text: "Après les images."}}},
	}
	return map[Kind]Content{
		Pad: {Kind: Pad, Blocks: rich},
		Wiki: {Kind: Wiki, Pages: []Page{
			{ID: "p1", Title: "Accueil <img src=x onerror=alert(1)>", Blocks: rich},
			{ID: "p2", Title: "Glossaire", Blocks: []Block{{Type: "paragraph", Runs: []Run{{Text: "Voir "}, {Text: "l'accueil", Link: "#page-p1"}, {Text: " et "}, {Text: "ailleurs", Link: "/productions/1"}}}}},
		}},
		Blog: {Kind: Blog, Posts: []Post{
			{ID: "post1", Title: "Sortie <script>x</script>", Body: "Premier paragraphe.\n\nSecond & <i>dernier</i>\navec retour.", Image: "/productions/3/medias/abcdefghijklmnopqrstuvwx", Author: "Léa",
				Status: "published", Created: "2026-10-01T10:00:00Z", Comments: []Comment{{ID: "c1", Author: "Tom", Text: "Bravo <script>", Status: "published", Created: "2026-10-02T08:00:00Z"}}},
			{ID: "post2", Title: "Brouillon", Body: "", Image: "javascript:alert(1)", Author: "Tom", Status: "submitted", Created: "2026-10-03T09:00:00Z", Comments: []Comment{}},
		}},
		MindMap: {Kind: MindMap, Nodes: []Node{
			{ID: "root", Text: "Volcans <script>", X: 0, Y: 0, Color: "#ff0000"},
			{ID: "a", Text: "Éruption", Parent: "root", X: 120.5, Y: -40, Collapsed: true},
			{ID: "b", Text: "Lave & \"magma\"", Parent: "a", X: 240, Y: -60, Color: "#00aa00"},
			{ID: "c", Text: "Séismes", Parent: "root", X: 120, Y: 40},
		}},
		Timeline: {Kind: Timeline, Events: []Event{
			{Start: "-0052", Title: "Alésia <script>alert(1)</script>", Text: "Vercingétorix\nse rend."},
			{Start: "1789-07-14", Title: "Prise de la Bastille", Text: "=HYPERLINK(\"http://x\")", Image: "https://upload.wikimedia.org/bastille.jpg"},
			{Start: "1914", End: "1918-11-11", Title: "Grande Guerre", Text: "Période, avec \"guillemets\", virgules"},
			{Start: "vers l'an mil", Title: "Date libre", Text: "'apostrophe"},
		}},
		Wall: {Kind: Wall, Cards: []Card{
			{Text: "Idée <script>alert(1)</script>\nsur deux lignes", X: 10, Y: 20.5},
			{Text: "Image", Image: "https://example.org/a.png", Column: "À faire"},
			{Text: "Lien", Link: "https://example.org/?a=1&b=2", Column: "Fait", X: -3},
		}},
	}
}

func docOf(t *testing.T, c Content) *yjs.Doc {
	t.Helper()
	d := yjs.NewDoc()
	if _, err := d.Transact(func(tx *yjs.Tx) error { return writeContent(d, tx, c) }); err != nil {
		t.Fatalf("write %s: %v", c.Kind, err)
	}
	// Through the wire format, as the engine stores it.
	u, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	d2 := yjs.NewDoc()
	if err := d2.ApplyUpdate(u); err != nil {
		t.Fatal(err)
	}
	return d2
}

// TestRoundTripAllKinds writes each kind into a Yjs document, reads it
// back server-side, exports it in every format, imports the export into a
// new document and compares.
func TestRoundTripAllKinds(t *testing.T) {
	for kind, want := range samples() {
		got := readContent(docOf(t, want), kind)
		sanitize(&want)
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatalf("%s: Yjs layout does not read back:\n got %+v\nwant %+v", kind, got, want)
		}
		for _, f := range kindFormats[kind] {
			t.Run(string(kind)+"/"+f, func(t *testing.T) {
				data, err := Encode(got, "Titre <script>", f)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				back, title, err := Decode(kind, f, data)
				if err != nil {
					t.Fatalf("decode: %v\n%s", err, data)
				}
				if f != "md" && f != "csv" && f != "mm" && title != "Titre <script>" {
					t.Errorf("title = %q", title)
				}
				again := readContent(docOf(t, back), kind)
				if !reflect.DeepEqual(normalize(again), normalize(got)) {
					t.Errorf("round trip through %s lost content:\n got %+v\nwant %+v\nfile:\n%s", f, again, got, data)
				}
			})
		}
	}
}

// normalize makes nil and empty slices equal.
func normalize(c Content) Content {
	for i := range c.Posts {
		if len(c.Posts[i].Comments) == 0 {
			c.Posts[i].Comments = nil
		}
	}
	for _, bs := range append([][]Block{c.Blocks}, pagesBlocks(c.Pages)...) {
		for i := range bs {
			if len(bs[i].Items) == 0 {
				bs[i].Items = nil
			}
		}
	}
	return c
}

func pagesBlocks(ps []Page) [][]Block {
	var out [][]Block
	for _, p := range ps {
		out = append(out, p.Blocks)
	}
	return out
}

func TestHTMLExportsEscapeInjection(t *testing.T) {
	for kind, c := range samples() {
		for _, f := range kindFormats[kind] {
			if f != "html" {
				continue
			}
			data, err := Encode(c, "<script>alert(1)</script>", f)
			if err != nil {
				t.Fatal(err)
			}
			s := string(data)
			if strings.Contains(strings.ToLower(s), "<script") || strings.Contains(s, "<img src=x") || strings.Contains(s, "<b>gras") {
				t.Errorf("%s HTML export carries live markup:\n%s", kind, s)
			}
			if !strings.Contains(s, "&lt;script&gt;") {
				t.Errorf("%s HTML export lost the escaped text", kind)
			}
		}
	}
}

func TestImportStripsScriptsAndJavascriptLinks(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>Piégé</title><script>alert(1)</script></head><body><main>
<p onclick="alert(1)">Texte <a href="javascript:alert(1)">piège</a> <a href=" JaVaScRiPt:alert(2)">bis</a> <a href="data:text/html,x">data</a>
<script>document.cookie</script><strong>ok</strong></p>
<ul><li><a href="https://ok.example/">sûr</a></li></ul>
<iframe src="https://evil.example"></iframe><style>p{}</style></main></body></html>`
	c, title, err := Decode(Pad, "html", []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Piégé" {
		t.Errorf("title %q", title)
	}
	want := []Block{
		{Type: "paragraph", Runs: []Run{{Text: "Texte piège bis data\n"}, {Text: "ok", Bold: true}}},
		{Type: "bullet_list", Items: [][]Run{{{Text: "sûr", Link: "https://ok.example/"}}}},
	}
	if !reflect.DeepEqual(c.Blocks, want) {
		t.Fatalf("blocks = %+v", c.Blocks)
	}
	// Markdown and JSON links are held to the same rule.
	md, _, err := Decode(Pad, "md", []byte("[x](javascript:alert(1)) [y](https://ok.example)"))
	if err != nil {
		t.Fatal(err)
	}
	if got := md.Blocks[0].Runs; len(got) != 2 || got[0].Link != "" || got[1].Link != "https://ok.example" {
		t.Errorf("markdown runs = %+v", got)
	}
	wall, _, err := Decode(Wall, "json", []byte(`{"cards":[{"text":"<script>x</script>","link":"javascript:alert(1)","image":"data:image/png;base64,AA"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if cd := wall.Cards[0]; cd.Link != "" || cd.Image != "" || cd.Text != "<script>x</script>" {
		t.Errorf("wall card = %+v", cd)
	}
	tl, _, err := Decode(Timeline, "json", []byte(`{"events":[{"start_date":{"year":"2020"},"text":{"headline":"<b>Titre</b><script>alert(1)</script>","text":"a<br>b"},"media":{"url":"javascript:x"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if e := tl.Events[0]; e.Title != "Titre" || e.Text != "a\nb" || e.Image != "" || e.Start != "2020" {
		t.Errorf("timeline event = %+v", e)
	}
}

// TestAlteredExportsFailClearly feeds hand-altered and truncated files to
// every reader: each answers a clear import error or content, never a panic.
func TestAlteredExportsFailClearly(t *testing.T) {
	for kind, c := range samples() {
		for _, f := range kindFormats[kind] {
			data, err := Encode(c, "T", f)
			if err != nil {
				t.Fatal(err)
			}
			for _, cut := range []int{0, 1, len(data) / 3, len(data) / 2, len(data) - 5} {
				_, _, err := Decode(kind, f, data[:cut])
				_ = err // content or a problem, both acceptable; a panic fails the test
			}
			garbage := append([]byte("<<<{{{\x00\xff"), data...)
			if _, _, err := Decode(kind, f, garbage); err != nil {
				if !strings.Contains(err.Error(), "import_invalid") {
					t.Errorf("%s/%s: unexpected error %v", kind, f, err)
				}
			}
		}
	}
	cases := []struct {
		kind         Kind
		format, data string
	}{
		{Pad, "odt", "pas un zip"},
		{MindMap, "mm", "<map><node TEXT='a'>"},
		{MindMap, "opml", "{}"},
		{Timeline, "json", `{"events": [`},
		{Timeline, "csv", "title\nsans date"},
		{Timeline, "csv", "start,title\n,Sans date\n"},
		{Wall, "json", `{"format":"autre","cards":[]}`},
	}
	for _, tc := range cases {
		_, _, err := Decode(tc.kind, tc.format, []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), "import_invalid") || !strings.Contains(err.Error(), "Fichier illisible") {
			t.Errorf("%s/%s %q: err = %v", tc.kind, tc.format, tc.data, err)
		}
	}
	if _, _, err := Decode(Blog, "odt", nil); err == nil || !strings.Contains(err.Error(), "invalid_format") {
		t.Errorf("blog as odt: %v", err)
	}
}

func TestODTPackageIsValid(t *testing.T) {
	data, err := Encode(samples()[Pad], "T", "odt")
	if err != nil {
		t.Fatal(err)
	}
	// mimetype first, stored: the bytes at offset 30 spell the media type.
	if string(data[30:38]) != "mimetype" || !strings.HasPrefix(string(data[38:]), odtMime) {
		t.Fatalf("mimetype is not the first stored entry: %q", data[:80])
	}
}

// TestHostileFilesStayCheap: deep nesting and unmatched brackets are
// refused or read in linear time, never a stack overflow.
func TestHostileFilesStayCheap(t *testing.T) {
	deep := strings.Repeat("<div>", 200000) + "x"
	if _, _, err := Decode(Pad, "html", []byte(deep)); err == nil || !strings.Contains(err.Error(), "import_invalid") {
		t.Errorf("deep HTML: %v", err)
	}
	brackets := strings.Repeat("[", 1<<20)
	c, _, err := Decode(Pad, "md", []byte(brackets))
	if err != nil || len(c.Blocks) != 1 || len(c.Blocks[0].Runs[0].Text) != 1<<20 {
		t.Errorf("brackets: %v", err)
	}
	nested := strings.Repeat("<node TEXT='a'>", 20000)
	if _, _, err := Decode(MindMap, "mm", []byte("<map>"+nested)); err == nil {
		t.Error("deep FreeMind accepted")
	}
}

// TestImagesInEveryRichFormat: the images of the pad and the wiki are in
// each export as that format says (HTML <img>, Markdown ![alt](src), ODT
// frame), their unsafe sources are not, and they read back.
func TestImagesInEveryRichFormat(t *testing.T) {
	for _, kind := range []Kind{Pad, Wiki} {
		c := samples()[kind]
		got := readContent(docOf(t, c), kind)
		var images []Block
		for _, b := range allBlocks(got) {
			if b.Type == "image" {
				images = append(images, b)
			}
		}
		if len(images) != 2 || images[0].Src != "/productions/7/medias/abcdefghijklmnopqrstuvwx" || images[1].Alt != "" {
			t.Fatalf("%s: images read from the document = %+v", kind, images)
		}
		for _, f := range kindFormats[kind] {
			data, err := Encode(got, "T", f)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			if f == "odt" {
				text = odtEntry(t, data, "content.xml")
			}
			want := map[string]string{
				"html": `<img src="/productions/7/medias/abcdefghijklmnopqrstuvwx" alt="Schéma « eau » &lt;b&gt;gras?&lt;/b&gt; &amp; [crochets] *étoile*">`,
				"md":   `![Schéma « eau » <b>gras?</b> & [crochets] *étoile*](/productions/7/medias/abcdefghijklmnopqrstuvwx)`,
				"odt":  `<draw:image xlink:href="/productions/7/medias/abcdefghijklmnopqrstuvwx"`,
			}[f]
			if f == "md" {
				want = `![Schéma « eau » \<b\>gras?\</b\> & \[crochets\] \*étoile\*](/productions/7/medias/abcdefghijklmnopqrstuvwx)`
			}
			if !strings.Contains(text, want) {
				t.Errorf("%s/%s: %q missing from\n%s", kind, f, want, text)
			}
			if l := strings.ToLower(text); strings.Contains(l, "javascript:") || strings.Contains(l, "data:image") {
				t.Errorf("%s/%s carries an unsafe image source:\n%s", kind, f, text)
			}
		}
	}
	// A hand-written page: images at block level or inside a paragraph
	// are read; unsafe ones are dropped.
	c, _, err := Decode(Pad, "html", []byte(`<main><p>Avant <img src="https://ok.example/a.png" alt="A"></p>
<img src="javascript:alert(1)" alt="x"><figure><img src="data:image/svg+xml,<svg/onload=alert(1)>" alt="y"></figure>
<img src="/productions/2/medias/abcdefghijklmnopqrstuvwx"></main>`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{{Type: "paragraph", Runs: []Run{{Text: "Avant "}}}, {Type: "image", Src: "https://ok.example/a.png", Alt: "A"},
		{Type: "image", Src: "/productions/2/medias/abcdefghijklmnopqrstuvwx"}}
	if !reflect.DeepEqual(c.Blocks, want) {
		t.Errorf("hand-written HTML images = %+v", c.Blocks)
	}
	md, _, err := Decode(Pad, "md", []byte("![a](javascript:alert(1))\n\n![b](https://ok.example/b.png)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Blocks) != 1 || md.Blocks[0].Src != "https://ok.example/b.png" || md.Blocks[0].Alt != "b" {
		t.Errorf("markdown images = %+v", md.Blocks)
	}
}

// odtEntry reads one file of an ODT package.
func odtEntry(t *testing.T, data []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := readZipFile(zr, name, 1<<30)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(b)
}

// A link between wiki pages points at its page in every export: the HTML
// section's id, the ODT section (followed by word processors), and it is
// the only kind of fragment link kept.
func TestWikiPageLinksHaveTargets(t *testing.T) {
	c := samples()[Wiki]
	html := mustEncode(t, c, "html")
	if !strings.Contains(html, `id="page-p1"`) || !strings.Contains(html, `href="#page-p1"`) {
		t.Errorf("HTML export: no target for #page-p1")
	}
	odt, err := Encode(c, "T", "odt")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(odt), int64(len(odt)))
	if err != nil {
		t.Fatal(err)
	}
	var content string
	for _, f := range zr.File {
		if f.Name == "content.xml" {
			r, _ := f.Open()
			b, _ := io.ReadAll(r)
			content = string(b)
		}
	}
	if !strings.Contains(content, `xlink:href="#p1|region"`) || !strings.Contains(content, `text:name="p1"`) {
		t.Errorf("ODT export: the page link does not point at the page's section")
	}
	for _, bad := range []string{"#page-", "#page-a b", "#p1", "#page-" + strings.Repeat("x", 65), "javascript:#page-p1"} {
		if got := safeURL(bad); got != "" {
			t.Errorf("safeURL(%q) = %q, want it dropped", bad, got)
		}
	}
	if imageURL("#page-p1") != "" {
		t.Error("a page link is not an image")
	}
}
