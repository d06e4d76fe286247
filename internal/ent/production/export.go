package production

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// Format is an export format.
type Format struct {
	Key, Label, Ext, ContentType string
}

var formats = map[string]Format{
	"html": {"html", "Page web (HTML)", "html", "text/html; charset=utf-8"},
	"md":   {"md", "Markdown", "md", "text/markdown; charset=utf-8"},
	"odt":  {"odt", "OpenDocument texte (ODT)", "odt", "application/vnd.oasis.opendocument.text"},
	"mm":   {"mm", "FreeMind (.mm)", "mm", "application/x-freemind"},
	"opml": {"opml", "OPML", "opml", "text/x-opml; charset=utf-8"},
	"json": {"json", "JSON", "json", "application/json"},
	"csv":  {"csv", "Tableur (CSV)", "csv", "text/csv; charset=utf-8"},
}

// kindFormats lists, per kind, the formats that let it evolve; the first is
// the one collected for assignments.
var kindFormats = map[Kind][]string{
	Pad:      {"odt", "html", "md"},
	Wiki:     {"odt", "html", "md"},
	Blog:     {"html"},
	MindMap:  {"mm", "opml"},
	Timeline: {"json", "csv"},
	Wall:     {"json", "html"},
}

// FormatsOf lists the export formats of a kind.
func FormatsOf(k Kind) []Format {
	var out []Format
	for _, f := range kindFormats[k] {
		out = append(out, formats[f])
	}
	return out
}

func kindHas(k Kind, format string) bool {
	for _, f := range kindFormats[k] {
		if f == format {
			return true
		}
	}
	return false
}

// MaxImportBytes bounds an imported file.
const MaxImportBytes = 20 << 20

// errImport is a file that cannot be read back; detail says why, in French.
func errImport(detail string, cause error) error {
	return problem.Invalid("import_invalid", "Fichier illisible : "+detail).Wrap(cause)
}

// Exported is an export ready to download.
type Exported struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Export renders a production the caller reads in one of its kind's formats.
func (s *Service) Export(ctx context.Context, p *auth.Principal, id int64, format string) (Exported, error) {
	pr, c, err := s.Content(ctx, p, id)
	if err != nil {
		return Exported{}, err
	}
	return s.export(ctx, pr, c, format)
}

// export renders a content; an ODT embeds the production's images, so that
// the file stands alone.
func (s *Service) export(ctx context.Context, pr Production, c Content, format string) (Exported, error) {
	var pics map[string]picture
	if format == "odt" && kindHas(pr.Kind, format) {
		pics = s.pictures(ctx, pr, c)
	}
	return exportWith(pr, c, format, pics)
}

// exportContent renders a content without embedding pictures (images stay
// links).
func exportContent(pr Production, c Content, format string) (Exported, error) {
	return exportWith(pr, c, format, nil)
}

func exportWith(pr Production, c Content, format string, pics map[string]picture) (Exported, error) {
	if !kindHas(pr.Kind, format) {
		return Exported{}, errBadFormat
	}
	data, err := encode(c, pr.Title, format, pics)
	if err != nil {
		return Exported{}, err
	}
	f := formats[format]
	return Exported{Filename: slug(pr.Title) + "." + f.Ext, ContentType: f.ContentType, Data: data}, nil
}

// Encode writes a content in a format of its kind; images stay links.
func Encode(c Content, title, format string) ([]byte, error) {
	return encode(c, title, format, nil)
}

// encode writes a content; pics are the pictures an ODT embeds, by URL.
func encode(c Content, title, format string, pics map[string]picture) ([]byte, error) {
	var b bytes.Buffer
	var err error
	switch {
	case format == "html":
		writeHTML(&b, c, title)
	case format == "md" && (c.Kind == Pad || c.Kind == Wiki):
		writeMarkdown(&b, c)
	case format == "odt" && (c.Kind == Pad || c.Kind == Wiki):
		err = writeODT(&b, c, title, pics)
	case format == "mm" && c.Kind == MindMap:
		err = writeFreeMind(&b, c)
	case format == "opml" && c.Kind == MindMap:
		err = writeOPML(&b, c, title)
	case format == "json" && c.Kind == Timeline:
		err = writeTimelineJS(&b, c, title)
	case format == "csv" && c.Kind == Timeline:
		err = writeTimelineCSV(&b, c)
	case format == "json" && c.Kind == Wall:
		err = writeWallJSON(&b, c, title)
	default:
		return nil, errBadFormat
	}
	return b.Bytes(), err
}

// Decode reads a file of a kind's format back into a sanitized content,
// with a clear error (never a panic) for a file altered beyond reading.
// Pictures an ODT embeds are left out (Import stores them).
func Decode(kind Kind, format string, data []byte) (Content, string, error) {
	d, err := decode(kind, format, data)
	if err != nil {
		return Content{}, "", err
	}
	sanitize(&d.content)
	return d.content, d.title, nil
}

// decoded is a file read back, not sanitized yet, with the pictures it
// embeds (an ODT's Pictures/...) by the source its image blocks name.
type decoded struct {
	content  Content
	title    string
	pictures map[string][]byte
}

func decode(kind Kind, format string, data []byte) (d decoded, err error) {
	if !kind.Valid() {
		return d, errBadKind
	}
	if !kindHas(kind, format) {
		return d, errBadFormat
	}
	if len(data) > MaxImportBytes {
		return d, errImport("le fichier dépasse 20 Mo.", nil)
	}
	defer func() {
		// A parser bug on a hand-altered file must not take the server
		// down: it becomes an import error.
		if r := recover(); r != nil {
			d, err = decoded{}, errImport("contenu inattendu.", fmt.Errorf("panic: %v", r))
		}
	}()
	var c Content
	switch format {
	case "html":
		c, d.title, err = readHTML(kind, data)
	case "md":
		c, err = readMarkdown(kind, data)
	case "odt":
		c, d.title, d.pictures, err = readODT(kind, data)
	case "mm":
		c, err = readFreeMind(data)
	case "opml":
		c, d.title, err = readOPML(data)
	case "json":
		if kind == Timeline {
			c, d.title, err = readTimelineJS(data)
		} else {
			c, d.title, err = readWallJSON(data)
		}
	case "csv":
		c, err = readTimelineCSV(data)
	}
	if err != nil {
		if _, ok := problem.As(err); !ok {
			err = errImport("le contenu ne correspond pas au format attendu.", err)
		}
		return decoded{}, err
	}
	c.Kind = kind
	d.content = c
	return d, nil
}

// Import creates a new production owned by the caller from an export. The
// pictures an ODT embeds become medias of the new production, in the
// caller's personal space.
func (s *Service) Import(ctx context.Context, p *auth.Principal, kind Kind, format, title string, r io.Reader) (Production, error) {
	if err := requireUser(p); err != nil {
		return Production{}, err
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return Production{}, errImport("lecture interrompue.", err)
	}
	d, err := decode(kind, format, data)
	if err != nil {
		return Production{}, err
	}
	if strings.TrimSpace(title) == "" {
		title = d.title
	}
	if strings.TrimSpace(title) == "" {
		title = "Production importée"
	}
	pr, err := s.Create(ctx, p, NewProduction{Kind: kind, Title: title})
	if err != nil {
		return Production{}, err
	}
	if len(d.pictures) > 0 {
		if err := s.storePictures(ctx, pr, p.User.ID, &d.content, d.pictures); err != nil {
			return Production{}, err
		}
	}
	if err := s.Write(ctx, p, pr.ID, d.content); err != nil {
		return Production{}, err
	}
	return s.Get(ctx, p, pr.ID)
}

var slugRe = regexp.MustCompile(`[^a-z0-9]+`)

func slug(title string) string {
	r := strings.NewReplacer("à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e", "î", "i", "ï", "i",
		"ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "œ", "oe", "æ", "ae")
	s := strings.Trim(slugRe.ReplaceAllString(r.Replace(strings.ToLower(title)), "-"), "-")
	if s == "" {
		s = "production"
	}
	if len(s) > 60 {
		s = strings.TrimRight(s[:60], "-")
	}
	return s
}

// ---- HTML ----

const htmlHead = `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="generator" content="Socle">
<title>%s</title>
</head>
<body>
<main data-socle-kind="%s">
<h1 class="production-title">%s</h1>
`

func esc(s string) string { return html.EscapeString(s) }

func writeHTML(b *bytes.Buffer, c Content, title string) {
	fmt.Fprintf(b, htmlHead, esc(title), c.Kind, esc(title))
	switch c.Kind {
	case Pad:
		writeHTMLBlocks(b, c.Blocks)
	case Wiki:
		for _, p := range c.Pages {
			fmt.Fprintf(b, "<section id=\"page-%s\" data-page=\"%s\">\n<h1 class=\"page-title\">%s</h1>\n", esc(p.ID), esc(p.ID), esc(p.Title))
			writeHTMLBlocks(b, p.Blocks)
			b.WriteString("</section>\n")
		}
	case Blog:
		for _, p := range c.Posts {
			fmt.Fprintf(b, "<article data-id=\"%s\" data-status=\"%s\" data-author=\"%s\" data-created=\"%s\">\n<h2>%s</h2>\n<div class=\"body\">\n",
				esc(p.ID), esc(p.Status), esc(p.Author), esc(p.Created), esc(p.Title))
			if u := imageURL(p.Image); u != "" {
				fmt.Fprintf(b, "<img class=\"image\" src=\"%s\" alt=\"\">\n", esc(u))
			}
			if p.Body != "" {
				for _, para := range strings.Split(p.Body, "\n\n") {
					b.WriteString("<p>" + strings.ReplaceAll(esc(para), "\n", "<br>") + "</p>\n")
				}
			}
			b.WriteString("</div>\n<section class=\"comments\">\n<h3>Commentaires</h3>\n<ul>\n")
			for _, cm := range p.Comments {
				fmt.Fprintf(b, "<li data-id=\"%s\" data-author=\"%s\" data-status=\"%s\" data-created=\"%s\">%s</li>\n",
					esc(cm.ID), esc(cm.Author), esc(cm.Status), esc(cm.Created), esc(cm.Text))
			}
			b.WriteString("</ul>\n</section>\n</article>\n")
		}
	case Wall:
		for _, cd := range c.Cards {
			fmt.Fprintf(b, "<article class=\"card\" data-x=\"%s\" data-y=\"%s\" data-column=\"%s\">\n<p class=\"text\">%s</p>\n",
				fnum(cd.X), fnum(cd.Y), esc(cd.Column), esc(cd.Text))
			if cd.Image != "" {
				fmt.Fprintf(b, "<img class=\"image\" src=\"%s\" alt=\"\">\n", esc(cd.Image))
			}
			if cd.Link != "" {
				fmt.Fprintf(b, "<a class=\"link\" href=\"%s\">%s</a>\n", esc(cd.Link), esc(cd.Link))
			}
			b.WriteString("</article>\n")
		}
	}
	b.WriteString("</main>\n</body>\n</html>\n")
}

func fnum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func writeHTMLBlocks(b *bytes.Buffer, blocks []Block) {
	for _, bl := range blocks {
		switch bl.Type {
		case "image":
			if u := imageURL(bl.Src); u != "" {
				fmt.Fprintf(b, "<img src=\"%s\" alt=\"%s\">\n", esc(u), esc(bl.Alt))
			}
		case "heading":
			fmt.Fprintf(b, "<h%d>", clampLevel(bl.Level))
			writeHTMLRuns(b, bl.Runs)
			fmt.Fprintf(b, "</h%d>\n", clampLevel(bl.Level))
		case "bullet_list", "ordered_list":
			tag := "ul"
			if bl.Type == "ordered_list" {
				tag = "ol"
			}
			b.WriteString("<" + tag + ">\n")
			for _, it := range bl.Items {
				b.WriteString("<li>")
				writeHTMLRuns(b, it)
				b.WriteString("</li>\n")
			}
			b.WriteString("</" + tag + ">\n")
		default:
			b.WriteString("<p>")
			writeHTMLRuns(b, bl.Runs)
			b.WriteString("</p>\n")
		}
	}
}

func writeHTMLRuns(b *bytes.Buffer, runs []Run) {
	for _, r := range runs {
		t := esc(r.Text)
		if r.Italic {
			t = "<em>" + t + "</em>"
		}
		if r.Bold {
			t = "<strong>" + t + "</strong>"
		}
		if l := safeURL(r.Link); l != "" {
			t = "<a href=\"" + esc(l) + "\">" + t + "</a>"
		}
		b.WriteString(t)
	}
}
