package production

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// ---- mind map: FreeMind .mm and OPML ----

// FreeMind has one root; a map with several roots (or none) is wrapped in a
// synthetic root marked so that the reader removes it again. Positions and
// ids travel as FreeMind node attributes (socle:x, socle:y).

type mmNode struct {
	XMLName   xml.Name      `xml:"node"`
	ID        string        `xml:"ID,attr"`
	Text      string        `xml:"TEXT,attr"`
	Color     string        `xml:"COLOR,attr,omitempty"`
	Folded    string        `xml:"FOLDED,attr,omitempty"`
	Attrs     []mmAttribute `xml:"attribute"`
	Children  []mmNode      `xml:"node"`
	synthetic bool
}

type mmAttribute struct {
	Name  string `xml:"NAME,attr"`
	Value string `xml:"VALUE,attr"`
}

type mmMap struct {
	XMLName xml.Name `xml:"map"`
	Version string   `xml:"version,attr"`
	Root    *mmNode  `xml:"node"`
}

func mindTree(c Content) (roots []Node, children map[string][]Node) {
	children = map[string][]Node{}
	ids := map[string]bool{}
	for _, n := range c.Nodes {
		ids[n.ID] = true
	}
	for _, n := range c.Nodes { // already depth-first ordered by sortNodes
		if n.Parent == "" || !ids[n.Parent] {
			roots = append(roots, n)
		} else {
			children[n.Parent] = append(children[n.Parent], n)
		}
	}
	return roots, children
}

func writeFreeMind(w io.Writer, c Content) error {
	roots, children := mindTree(c)
	var build func(n Node, depth int) mmNode
	build = func(n Node, depth int) mmNode {
		m := mmNode{ID: n.ID, Text: n.Text, Color: n.Color,
			Attrs: []mmAttribute{{"socle:x", fnum(n.X)}, {"socle:y", fnum(n.Y)}}}
		if n.Collapsed {
			m.Folded = "true"
		}
		if depth < 1000 {
			for _, ch := range children[n.ID] {
				m.Children = append(m.Children, build(ch, depth+1))
			}
		}
		return m
	}
	doc := mmMap{Version: "1.0.1"}
	if len(roots) == 1 {
		r := build(roots[0], 0)
		doc.Root = &r
	} else {
		r := mmNode{ID: "socle-root", Text: "", Attrs: []mmAttribute{{"socle:synthetic", "true"}}}
		for _, n := range roots {
			r.Children = append(r.Children, build(n, 0))
		}
		doc.Root = &r
	}
	out, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

func readFreeMind(data []byte) (Content, error) {
	var m mmMap
	if err := xml.Unmarshal(data, &m); err != nil {
		return Content{}, errImport("ce n'est pas une carte FreeMind (.mm) valide.", err)
	}
	c := Content{Kind: MindMap}
	if m.Root == nil {
		return c, nil
	}
	seen := map[string]bool{}
	var walk func(n mmNode, parent string, depth int)
	walk = func(n mmNode, parent string, depth int) {
		if depth > 1000 {
			return
		}
		attrs := map[string]string{}
		for _, a := range n.Attrs {
			attrs[a.Name] = a.Value
		}
		id := n.ID
		if attrs["socle:synthetic"] == "true" && depth == 0 {
			for _, ch := range n.Children {
				walk(ch, "", depth+1)
			}
			return
		}
		if id == "" || seen[id] {
			id = "n" + strconv.Itoa(len(c.Nodes)+1)
		}
		seen[id] = true
		c.Nodes = append(c.Nodes, Node{ID: id, Text: n.Text, Parent: parent, Color: n.Color, Collapsed: n.Folded == "true",
			X: num(attrs["socle:x"]), Y: num(attrs["socle:y"])})
		for _, ch := range n.Children {
			walk(ch, id, depth+1)
		}
	}
	walk(*m.Root, "", 0)
	sortNodes(c.Nodes)
	return c, nil
}

type opmlOutline struct {
	Text      string        `xml:"text,attr"`
	ID        string        `xml:"socleId,attr,omitempty"`
	Color     string        `xml:"socleColor,attr,omitempty"`
	Collapsed string        `xml:"socleCollapsed,attr,omitempty"`
	X         string        `xml:"socleX,attr,omitempty"`
	Y         string        `xml:"socleY,attr,omitempty"`
	Children  []opmlOutline `xml:"outline"`
}

type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Body    []opmlOutline `xml:"body>outline"`
}

func writeOPML(w io.Writer, c Content, title string) error {
	roots, children := mindTree(c)
	var build func(n Node, depth int) opmlOutline
	build = func(n Node, depth int) opmlOutline {
		o := opmlOutline{Text: n.Text, ID: n.ID, Color: n.Color, X: fnum(n.X), Y: fnum(n.Y)}
		if n.Collapsed {
			o.Collapsed = "true"
		}
		if depth < 1000 {
			for _, ch := range children[n.ID] {
				o.Children = append(o.Children, build(ch, depth+1))
			}
		}
		return o
	}
	doc := opmlDoc{Version: "2.0", Title: title}
	for _, r := range roots {
		doc.Body = append(doc.Body, build(r, 0))
	}
	out, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

func readOPML(data []byte) (Content, string, error) {
	var doc opmlDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		return Content{}, "", errImport("ce n'est pas un fichier OPML valide.", err)
	}
	c := Content{Kind: MindMap}
	seen := map[string]bool{}
	var walk func(o opmlOutline, parent string, depth int)
	walk = func(o opmlOutline, parent string, depth int) {
		if depth > 1000 {
			return
		}
		id := o.ID
		if id == "" || seen[id] {
			id = "n" + strconv.Itoa(len(c.Nodes)+1)
		}
		seen[id] = true
		c.Nodes = append(c.Nodes, Node{ID: id, Text: o.Text, Parent: parent, Color: o.Color, Collapsed: o.Collapsed == "true",
			X: num(o.X), Y: num(o.Y)})
		for _, ch := range o.Children {
			walk(ch, id, depth+1)
		}
	}
	for _, o := range doc.Body {
		walk(o, "", 0)
	}
	sortNodes(c.Nodes)
	return c, doc.Title, nil
}

// ---- timeline: TimelineJS JSON and CSV ----

type tjDate struct {
	Year    string `json:"year,omitempty"`
	Month   string `json:"month,omitempty"`
	Day     string `json:"day,omitempty"`
	Display string `json:"display_date,omitempty"`
}

type tjText struct {
	Headline string `json:"headline"`
	Text     string `json:"text"`
}

type tjMedia struct {
	URL string `json:"url"`
}

type tjEvent struct {
	Start *tjDate  `json:"start_date"`
	End   *tjDate  `json:"end_date,omitempty"`
	Text  tjText   `json:"text"`
	Media *tjMedia `json:"media,omitempty"`
}

type tjDoc struct {
	Title *struct {
		Text tjText `json:"text"`
	} `json:"title,omitempty"`
	Events []tjEvent `json:"events"`
}

// toTJ splits an ISO date (year may be negative: history before our era);
// anything else travels as TimelineJS's display_date.
func toTJ(s string) *tjDate {
	if s == "" {
		return nil
	}
	neg := strings.HasPrefix(s, "-")
	parts := strings.Split(strings.TrimPrefix(s, "-"), "-")
	ok := len(parts) <= 3
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil || p == "" {
			ok = false
		}
	}
	if !ok {
		return &tjDate{Display: s}
	}
	d := &tjDate{Year: parts[0]}
	if neg {
		d.Year = "-" + d.Year
	}
	if len(parts) > 1 {
		d.Month = parts[1]
	}
	if len(parts) > 2 {
		d.Day = parts[2]
	}
	return d
}

func fromTJ(d *tjDate) string {
	if d == nil {
		return ""
	}
	if d.Year == "" {
		return d.Display
	}
	s := d.Year
	if d.Month != "" {
		s += "-" + d.Month
		if d.Day != "" {
			s += "-" + d.Day
		}
	}
	return s
}

// tjHTML is TimelineJS's text, which it renders as HTML: the plain text
// escaped, line breaks as <br>.
func tjHTML(s string) string { return strings.ReplaceAll(esc(s), "\n", "<br>") }

// tjPlain reads TimelineJS HTML back to plain text: tags stripped (script
// contents dropped), entities decoded.
func tjPlain(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	nodes, err := html.ParseFragment(strings.NewReader(s), nil)
	if err != nil {
		return s
	}
	var sb strings.Builder
	for _, n := range nodes {
		sb.WriteString(textOf(n))
	}
	return sb.String()
}

func writeTimelineJS(w io.Writer, c Content, title string) error {
	doc := tjDoc{Events: []tjEvent{}}
	doc.Title = &struct {
		Text tjText `json:"text"`
	}{tjText{Headline: tjHTML(title)}}
	for _, e := range c.Events {
		ev := tjEvent{Start: toTJ(e.Start), End: toTJ(e.End), Text: tjText{Headline: tjHTML(e.Title), Text: tjHTML(e.Text)}}
		if ev.Start == nil {
			ev.Start = &tjDate{}
		}
		if e.Image != "" {
			ev.Media = &tjMedia{URL: e.Image}
		}
		doc.Events = append(doc.Events, ev)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func readTimelineJS(data []byte) (Content, string, error) {
	var doc tjDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return Content{}, "", errImport("ce n'est pas un fichier TimelineJS (JSON) valide.", err)
	}
	c := Content{Kind: Timeline}
	for _, e := range doc.Events {
		ev := Event{Start: fromTJ(e.Start), End: fromTJ(e.End), Title: tjPlain(e.Text.Headline), Text: tjPlain(e.Text.Text)}
		if e.Media != nil {
			ev.Image = e.Media.URL
		}
		c.Events = append(c.Events, ev)
	}
	title := ""
	if doc.Title != nil {
		title = tjPlain(doc.Title.Text.Headline)
	}
	return c, title, nil
}

var timelineCols = []string{"start", "end", "title", "text", "image"}

// csvCell defuses spreadsheet formulas: a cell that starts with = + - @ or
// with the escape quote itself gets a leading quote, removed on import.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvUncell(s string) string { return strings.TrimPrefix(s, "'") }

func writeTimelineCSV(w io.Writer, c Content) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(timelineCols); err != nil {
		return err
	}
	for _, e := range c.Events {
		if err := cw.Write([]string{csvCell(e.Start), csvCell(e.End), csvCell(e.Title), csvCell(e.Text), csvCell(e.Image)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func readTimelineCSV(data []byte) (Content, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return Content{}, errImport("CSV mal formé.", err)
	}
	if len(rows) == 0 {
		return Content{}, errImport("fichier vide : la première ligne doit nommer les colonnes start, end, title, text, image.", nil)
	}
	idx := map[string]int{}
	for i, h := range rows[0] {
		idx[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := idx["start"]; !ok {
		return Content{}, errImport("colonne « start » absente de la première ligne.", nil)
	}
	c := Content{Kind: Timeline}
	var bad []string
	for n, row := range rows[1:] {
		get := func(col string) string {
			if i, ok := idx[col]; ok && i < len(row) {
				return csvUncell(row[i])
			}
			return ""
		}
		e := Event{Start: get("start"), End: get("end"), Title: get("title"), Text: get("text"), Image: get("image")}
		if e.Start == "" {
			bad = append(bad, fmt.Sprintf("ligne %d : date de début manquante", n+2))
			continue
		}
		c.Events = append(c.Events, e)
	}
	if len(bad) > 0 {
		// All or nothing: a partial timeline would lose events silently.
		return Content{}, errImport(strings.Join(bad, " ; ")+".", nil)
	}
	return c, nil
}

// ---- wall: JSON ----

type wallDoc struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Title   string `json:"title"`
	Cards   []Card `json:"cards"`
}

func writeWallJSON(w io.Writer, c Content, title string) error {
	cards := c.Cards
	if cards == nil {
		cards = []Card{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(wallDoc{Format: "socle-wall", Version: 1, Title: title, Cards: cards})
}

func readWallJSON(data []byte) (Content, string, error) {
	var doc wallDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return Content{}, "", errImport("ce n'est pas un mur exporté (JSON) valide.", err)
	}
	if doc.Format != "" && doc.Format != "socle-wall" {
		return Content{}, "", errImport("ce fichier JSON n'est pas un mur collaboratif.", nil)
	}
	return Content{Kind: Wall, Cards: doc.Cards}, doc.Title, nil
}
