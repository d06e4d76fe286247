package production

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"socle/internal/ent/collab/yjs"
)

// Content is a production's content read from its Yjs document, the
// neutral shape every export and import goes through.
type Content struct {
	Kind   Kind
	Blocks []Block // pad
	Pages  []Page  // wiki
	Posts  []Post  // blog
	Nodes  []Node  // mindmap
	Events []Event // timeline
	Cards  []Card  // wall
}

// Block is a paragraph, a heading, a list of rich text or an image.
type Block struct {
	Type    string  `json:"type"` // paragraph | heading | bullet_list | ordered_list | image
	Level   int     `json:"level,omitempty"`
	Runs    []Run   `json:"runs,omitempty"`
	Items   [][]Run `json:"items,omitempty"`
	Ordered bool    `json:"-"`
	// Src and Alt are an image's URL (a media of the production or an
	// http(s) address) and its text alternative.
	Src string `json:"src,omitempty"`
	Alt string `json:"alt,omitempty"`
}

// Run is text with the same formatting.
type Run struct {
	Text   string `json:"text"`
	Bold   bool   `json:"bold,omitempty"`
	Italic bool   `json:"italic,omitempty"`
	Link   string `json:"link,omitempty"`
}

// Page is a wiki page.
type Page struct {
	ID     string
	Title  string
	Blocks []Block
}

// Post is a blog post.
type Post struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	Image    string    `json:"image"` // URL, "" for none
	Author   string    `json:"author"`
	Status   string    `json:"status"`
	Created  string    `json:"created"`
	Comments []Comment `json:"comments"`
}

// Comment is a comment on a blog post.
type Comment struct {
	ID      string `json:"id"`
	Author  string `json:"author"`
	Text    string `json:"text"`
	Status  string `json:"status"`
	Created string `json:"created"`
}

// Node is a mind map node.
type Node struct {
	ID        string  `json:"id"`
	Text      string  `json:"text"`
	Parent    string  `json:"parent"`
	Color     string  `json:"color"`
	Collapsed bool    `json:"collapsed"`
	X         float64 `json:"x"`
	Y         float64 `json:"y"`
}

// Event is a timeline event or period.
type Event struct {
	Start string `json:"start"`
	End   string `json:"end"`
	Title string `json:"title"`
	Text  string `json:"text"`
	Image string `json:"image"`
}

// Card is a wall card.
type Card struct {
	Text   string  `json:"text"`
	Image  string  `json:"image"`
	Link   string  `json:"link"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Column string  `json:"column"`
}

// Post statuses: the owner or a teacher moderates before publication.
var postStatuses = map[string]bool{"draft": true, "submitted": true, "published": true, "rejected": true}

// ---- reading ----

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0
		}
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
	return 0
}

func boolean(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

func mapOf(v any) map[string]any {
	if m, ok := v.(*yjs.Map); ok {
		return m.Entries()
	}
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// readContent reads the document of a production of kind k.
func readContent(d *yjs.Doc, k Kind) Content {
	c := Content{Kind: k}
	switch k {
	case Pad:
		c.Blocks = readBlocks(d.GetXMLFragment("content").Children())
	case Wiki:
		titles := d.GetMap("titles").Entries()
		pages := d.GetMap("pages").Entries()
		ids := make([]string, 0, len(pages))
		for id := range pages {
			ids = append(ids, id)
		}
		sortPageIDs(ids)
		for _, id := range ids {
			var blocks []Block
			if f, ok := pages[id].(*yjs.XMLFragment); ok {
				blocks = readBlocks(f.Children())
			}
			c.Pages = append(c.Pages, Page{ID: id, Title: str(titles[id]), Blocks: blocks})
		}
	case Blog:
		for _, v := range d.GetArray("posts").ToSlice() {
			m := mapOf(v)
			p := Post{ID: str(m["id"]), Title: str(m["title"]), Body: str(m["body"]), Image: imageURL(str(m["image"])), Author: str(m["author"]),
				Status: str(m["status"]), Created: str(m["created"]), Comments: []Comment{}}
			if a, ok := m["comments"].(*yjs.Array); ok {
				for _, cv := range a.ToSlice() {
					cm := mapOf(cv)
					p.Comments = append(p.Comments, Comment{ID: str(cm["id"]), Author: str(cm["author"]), Text: str(cm["text"]),
						Status: str(cm["status"]), Created: str(cm["created"])})
				}
			}
			c.Posts = append(c.Posts, p)
		}
	case MindMap:
		nodes := d.GetMap("nodes").Entries()
		for id, v := range nodes {
			m := mapOf(v)
			c.Nodes = append(c.Nodes, Node{ID: id, Text: str(m["text"]), Parent: str(m["parent"]), Color: str(m["color"]),
				Collapsed: boolean(m["collapsed"]), X: num(m["x"]), Y: num(m["y"])})
		}
		sortNodes(c.Nodes)
	case Timeline:
		for _, v := range d.GetArray("events").ToSlice() {
			m := mapOf(v)
			c.Events = append(c.Events, Event{Start: str(m["start"]), End: str(m["end"]), Title: str(m["title"]),
				Text: str(m["text"]), Image: str(m["image"])})
		}
	case Wall:
		for _, v := range d.GetArray("cards").ToSlice() {
			m := mapOf(v)
			c.Cards = append(c.Cards, Card{Text: str(m["text"]), Image: str(m["image"]), Link: str(m["link"]),
				X: num(m["x"]), Y: num(m["y"]), Column: str(m["column"])})
		}
	}
	return c
}

// sortPageIDs orders "p2" before "p10".
func sortPageIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		if len(ids[i]) != len(ids[j]) {
			return len(ids[i]) < len(ids[j])
		}
		return ids[i] < ids[j]
	})
}

// sortNodes puts nodes in a stable order (depth-first from the roots, by id)
// so that exports are deterministic.
func sortNodes(ns []Node) {
	sort.Slice(ns, func(i, j int) bool { return ns[i].ID < ns[j].ID })
	children := map[string][]Node{}
	ids := map[string]bool{}
	for _, n := range ns {
		ids[n.ID] = true
	}
	var roots []Node
	for _, n := range ns {
		if n.Parent == "" || !ids[n.Parent] || n.Parent == n.ID {
			roots = append(roots, n)
		} else {
			children[n.Parent] = append(children[n.Parent], n)
		}
	}
	out := ns[:0:0]
	seen := map[string]bool{}
	var walk func(n Node)
	walk = func(n Node) {
		if seen[n.ID] {
			return
		}
		seen[n.ID] = true
		out = append(out, n)
		for _, ch := range children[n.ID] {
			walk(ch)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	// A cycle without a root: keep its nodes rather than lose them.
	for _, n := range ns {
		if !seen[n.ID] {
			n.Parent = ""
			walk(n)
		}
	}
	copy(ns, out)
}

func readBlocks(children []any) []Block {
	var out []Block
	for _, ch := range children {
		e, ok := ch.(*yjs.XMLElement)
		if !ok {
			if t, ok := ch.(*yjs.XMLText); ok {
				out = append(out, Block{Type: "paragraph", Runs: readRuns(t)})
			}
			continue
		}
		switch e.NodeName() {
		case "image":
			// An image whose address is not safe to show is left out.
			if src := imageURL(str(e.Attributes()["src"])); src != "" {
				out = append(out, Block{Type: "image", Src: src, Alt: str(e.Attributes()["alt"])})
			}
		case "heading":
			lvl, _ := strconv.Atoi(str(e.Attributes()["level"]))
			out = append(out, Block{Type: "heading", Level: clampLevel(lvl), Runs: elementRuns(e)})
		case "bullet_list", "ordered_list":
			b := Block{Type: e.NodeName(), Items: [][]Run{}}
			for _, it := range e.Children() {
				if li, ok := it.(*yjs.XMLElement); ok {
					b.Items = append(b.Items, elementRuns(li))
				}
			}
			out = append(out, b)
		default:
			out = append(out, Block{Type: "paragraph", Runs: elementRuns(e)})
		}
	}
	return out
}

func clampLevel(l int) int { return min(max(l, 1), 6) }

// elementRuns reads the text of an element, descending into nested
// elements (a list item's paragraph).
func elementRuns(e *yjs.XMLElement) []Run {
	var runs []Run
	for _, ch := range e.Children() {
		switch x := ch.(type) {
		case *yjs.XMLText:
			runs = append(runs, readRuns(x)...)
		case *yjs.XMLElement:
			runs = append(runs, elementRuns(x)...)
		}
	}
	return mergeRuns(runs)
}

func readRuns(t *yjs.XMLText) []Run {
	var runs []Run
	for _, d := range t.Delta() {
		s, ok := d.Insert.(string)
		if !ok {
			continue // inline embeds are not in the layout: images are blocks
		}
		r := Run{Text: s}
		if _, ok := d.Attributes["strong"]; ok {
			r.Bold = true
		}
		if _, ok := d.Attributes["em"]; ok {
			r.Italic = true
		}
		if l, ok := d.Attributes["link"]; ok {
			r.Link = safeURL(str(mapOf(l)["href"]))
		}
		runs = append(runs, r)
	}
	return mergeRuns(runs)
}

// mergeRuns joins neighbours with the same formatting, so that every
// format's round-trip compares equal.
func mergeRuns(runs []Run) []Run {
	var out []Run
	for _, r := range runs {
		if r.Text == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Bold == r.Bold && out[n-1].Italic == r.Italic && out[n-1].Link == r.Link {
			out[n-1].Text += r.Text
			continue
		}
		out = append(out, r)
	}
	return out
}

// ---- writing ----

// writeContent writes c into an empty document.
func writeContent(d *yjs.Doc, tx *yjs.Tx, c Content) error {
	switch c.Kind {
	case Pad:
		return writeBlocks(tx, d.GetXMLFragment("content"), c.Blocks)
	case Wiki:
		titles, pages := d.GetMap("titles"), d.GetMap("pages")
		for i, p := range c.Pages {
			id := p.ID
			if id == "" {
				id = "p" + strconv.Itoa(i+1)
			}
			if err := titles.Set(tx, id, p.Title); err != nil {
				return err
			}
			if err := pages.Set(tx, id, yjs.XMLFragmentPrelim{}); err != nil {
				return err
			}
			f, ok := pages.Entries()[id].(*yjs.XMLFragment)
			if !ok {
				return fmt.Errorf("wiki page %s: not a fragment", id)
			}
			if err := writeBlocks(tx, f, p.Blocks); err != nil {
				return err
			}
		}
	case Blog:
		posts := d.GetArray("posts")
		for _, p := range c.Posts {
			comments := yjs.ArrayPrelim{}
			for _, cm := range p.Comments {
				comments = append(comments, yjs.MapPrelim{"id": cm.ID, "author": cm.Author, "text": cm.Text, "status": cm.Status, "created": cm.Created})
			}
			if err := posts.Push(tx, yjs.MapPrelim{"id": p.ID, "title": p.Title, "body": p.Body, "image": p.Image, "author": p.Author,
				"status": p.Status, "created": p.Created, "comments": comments}); err != nil {
				return err
			}
		}
	case MindMap:
		nodes := d.GetMap("nodes")
		for _, n := range c.Nodes {
			if err := nodes.Set(tx, n.ID, yjs.MapPrelim{"text": n.Text, "parent": n.Parent, "color": n.Color,
				"collapsed": n.Collapsed, "x": n.X, "y": n.Y}); err != nil {
				return err
			}
		}
	case Timeline:
		events := d.GetArray("events")
		for _, e := range c.Events {
			if err := events.Push(tx, yjs.MapPrelim{"start": e.Start, "end": e.End, "title": e.Title, "text": e.Text, "image": e.Image}); err != nil {
				return err
			}
		}
	case Wall:
		cards := d.GetArray("cards")
		for _, cd := range c.Cards {
			if err := cards.Push(tx, yjs.MapPrelim{"text": cd.Text, "image": cd.Image, "link": cd.Link, "x": cd.X, "y": cd.Y, "column": cd.Column}); err != nil {
				return err
			}
		}
	}
	return nil
}

type xmlParent interface {
	Insert(tx *yjs.Tx, index int, children ...any) error
	Children() []any
	Len() int
}

func writeBlocks(tx *yjs.Tx, f xmlParent, blocks []Block) error {
	for _, b := range blocks {
		var el yjs.XMLElementPrelim
		switch b.Type {
		case "image":
			src := imageURL(b.Src)
			if src == "" {
				continue
			}
			if err := f.Insert(tx, f.Len(), yjs.XMLElementPrelim{Name: "image", Attrs: map[string]any{"src": src, "alt": b.Alt}}); err != nil {
				return err
			}
			continue
		case "heading":
			el = yjs.XMLElementPrelim{Name: "heading", Attrs: map[string]any{"level": strconv.Itoa(clampLevel(b.Level))}}
		case "bullet_list", "ordered_list":
			el = yjs.XMLElementPrelim{Name: b.Type}
		default:
			el = yjs.XMLElementPrelim{Name: "paragraph"}
		}
		if err := f.Insert(tx, f.Len(), el); err != nil {
			return err
		}
		e, ok := f.Children()[f.Len()-1].(*yjs.XMLElement)
		if !ok {
			return fmt.Errorf("block %s: not an element", b.Type)
		}
		if el.Name == "bullet_list" || el.Name == "ordered_list" {
			for _, item := range b.Items {
				if err := e.Insert(tx, e.Len(), yjs.XMLElementPrelim{Name: "list_item"}); err != nil {
					return err
				}
				li, ok := e.Children()[e.Len()-1].(*yjs.XMLElement)
				if !ok {
					return fmt.Errorf("list item: not an element")
				}
				if err := writeRuns(tx, li, item); err != nil {
					return err
				}
			}
			continue
		}
		if err := writeRuns(tx, e, b.Runs); err != nil {
			return err
		}
	}
	return nil
}

func writeRuns(tx *yjs.Tx, e *yjs.XMLElement, runs []Run) error {
	if err := e.Insert(tx, 0, yjs.XMLTextPrelim("")); err != nil {
		return err
	}
	t, ok := e.Children()[0].(*yjs.XMLText)
	if !ok {
		return fmt.Errorf("text: not a text node")
	}
	text := t.Text()
	for _, r := range mergeRuns(runs) {
		attrs := map[string]any{}
		if r.Bold {
			attrs["strong"] = map[string]any{}
		}
		if r.Italic {
			attrs["em"] = map[string]any{}
		}
		if l := safeURL(r.Link); l != "" {
			attrs["link"] = map[string]any{"href": l}
		}
		if err := text.Insert(tx, text.Len(), r.Text, attrs); err != nil {
			return err
		}
	}
	return nil
}

// safeURL keeps only links a reader can follow without running code:
// http(s), mailto and paths on this site; anything else (javascript:,
// data:, vbscript:...) is dropped.
func safeURL(u string) string {
	u = strings.TrimSpace(u)
	if u == "" {
		return ""
	}
	l := strings.ToLower(strings.Map(func(r rune) rune {
		if r < 0x21 || r == 0x7f {
			return -1
		}
		return r
	}, u))
	if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "mailto:") {
		return u
	}
	if strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//") {
		return u
	}
	if pageLink.MatchString(u) {
		return u
	}
	return ""
}

// pageLink is a link from a wiki page to another ("#page-" and its id):
// the editor writes it, the read-only view and the exports resolve it.
var pageLink = regexp.MustCompile(`^#page-[A-Za-z0-9_-]{1,64}$`)

// imageURL keeps the image addresses a page may show: http(s) and paths
// on this site (the production's medias); never javascript:, data: (an
// SVG in a data: URL can carry script) nor mailto:.
func imageURL(u string) string {
	u = safeURL(u)
	if strings.HasPrefix(u, "#") {
		return ""
	}
	if strings.HasPrefix(strings.ToLower(u), "mailto:") {
		return ""
	}
	return u
}

// sanitize cleans a content read from an import: unsafe URLs are dropped,
// statuses normalized; text stays text (escaped on output).
func sanitize(c *Content) {
	c.Blocks = sanitizeBlocks(c.Blocks)
	for i := range c.Pages {
		c.Pages[i].Blocks = sanitizeBlocks(c.Pages[i].Blocks)
	}
	for i := range c.Posts {
		c.Posts[i].Image = imageURL(c.Posts[i].Image)
		if !postStatuses[c.Posts[i].Status] {
			c.Posts[i].Status = "submitted"
		}
		if c.Posts[i].Comments == nil {
			c.Posts[i].Comments = []Comment{}
		}
		for j := range c.Posts[i].Comments {
			if c.Posts[i].Comments[j].ID == "" {
				c.Posts[i].Comments[j].ID = fmt.Sprintf("%s-c%d", c.Posts[i].ID, j+1)
			}
		}
	}
	for i := range c.Events {
		c.Events[i].Image = imageURL(c.Events[i].Image)
	}
	for i := range c.Cards {
		c.Cards[i].Image = imageURL(c.Cards[i].Image)
		c.Cards[i].Link = safeURL(c.Cards[i].Link)
	}
}

// sanitizeBlocks cleans every block and drops the images left without a
// safe address.
func sanitizeBlocks(blocks []Block) []Block {
	if blocks == nil {
		return nil
	}
	out := make([]Block, 0, len(blocks))
	for _, b := range blocks {
		sanitizeBlock(&b)
		if b.Type == "image" && b.Src == "" {
			continue
		}
		out = append(out, b)
	}
	return out
}

func sanitizeBlock(b *Block) {
	if b.Type == "image" {
		b.Src = imageURL(b.Src)
		// An alternative text is one line of plain text.
		b.Alt = strings.Join(strings.Fields(b.Alt), " ")
		b.Runs, b.Items = nil, nil
		return
	}
	for i := range b.Runs {
		b.Runs[i].Link = safeURL(b.Runs[i].Link)
	}
	b.Runs = mergeRuns(b.Runs)
	for i := range b.Items {
		for j := range b.Items[i] {
			b.Items[i][j].Link = safeURL(b.Items[i][j].Link)
		}
		b.Items[i] = mergeRuns(b.Items[i])
	}
	if b.Type == "heading" {
		b.Level = clampLevel(b.Level)
	}
}
