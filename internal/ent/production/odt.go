package production

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // picture sizes
	_ "image/jpeg"
	_ "image/png"
	"io"
	"slices"
	"strconv"
	"strings"
)

// OpenDocument text (ODF 1.3), the French administration's standard: the
// smallest valid package (mimetype stored first and uncompressed,
// content.xml, styles.xml, META-INF/manifest.xml) that LibreOffice opens and
// that reads back here without loss.

const (
	nsOffice = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
	nsText   = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
	nsStyle  = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
	nsFO     = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
	nsXlink  = "http://www.w3.org/1999/xlink"
	nsDraw   = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
	nsSVG    = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
	odtMime  = "application/vnd.oasis.opendocument.text"
)

const odtNamespaces = `xmlns:office="` + nsOffice + `" xmlns:text="` + nsText + `" xmlns:style="` + nsStyle +
	`" xmlns:fo="` + nsFO + `" xmlns:xlink="` + nsXlink + `" xmlns:draw="` + nsDraw + `" xmlns:svg="` + nsSVG + `" office:version="1.3"`

const odtStyles = `<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles ` + odtNamespaces + `>
<office:styles>
<style:style style:name="Standard" style:family="paragraph"/>
<style:style style:name="Title" style:family="paragraph"><style:text-properties fo:font-size="20pt" fo:font-weight="bold"/></style:style>
<style:style style:name="Heading" style:family="paragraph"><style:text-properties fo:font-weight="bold"/></style:style>
</office:styles>
</office:document-styles>
`

const odtManifest = `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
<manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="` + odtMime + `"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
`

const odtAutoStyles = `<office:automatic-styles>
<style:style style:name="B" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
<style:style style:name="I" style:family="text"><style:text-properties fo:font-style="italic"/></style:style>
<style:style style:name="BI" style:family="text"><style:text-properties fo:font-weight="bold" fo:font-style="italic"/></style:style>
<text:list-style style:name="LB"><text:list-level-style-bullet text:level="1" text:bullet-char="•"/></text:list-style>
<text:list-style style:name="LN"><text:list-level-style-number text:level="1" style:num-format="1" style:num-suffix="."/></text:list-style>
</office:automatic-styles>
`

func xmlEsc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// odtText writes text the way ODF keeps it: a space after a space (or
// first in a paragraph) is <text:s/>, tabs and line breaks are elements.
func odtText(b *bytes.Buffer, s string, prevSpace *bool) {
	for _, r := range s {
		switch r {
		case ' ':
			if *prevSpace {
				b.WriteString(`<text:s/>`)
			} else {
				b.WriteByte(' ')
			}
			*prevSpace = true
			continue
		case '\t':
			b.WriteString(`<text:tab/>`)
		case '\n':
			b.WriteString(`<text:line-break/>`)
		default:
			b.WriteString(xmlEsc(string(r)))
		}
		*prevSpace = r == '\t' || r == '\n'
	}
}

func odtRuns(b *bytes.Buffer, runs []Run) {
	prevSpace := true
	for _, r := range runs {
		if l := safeURL(r.Link); l != "" {
			b.WriteString(`<text:a xlink:type="simple" xlink:href="` + xmlEsc(odtHref(l)) + `">`)
		}
		style := ""
		switch {
		case r.Bold && r.Italic:
			style = "BI"
		case r.Bold:
			style = "B"
		case r.Italic:
			style = "I"
		}
		if style != "" {
			b.WriteString(`<text:span text:style-name="` + style + `">`)
		}
		odtText(b, r.Text, &prevSpace)
		if style != "" {
			b.WriteString(`</text:span>`)
		}
		if safeURL(r.Link) != "" {
			b.WriteString(`</text:a>`)
		}
	}
}

// odtPictures names the pictures a package embeds: Pictures/<n>.<ext>,
// by the URL of the image blocks that show them.
type odtPictures struct {
	pics  map[string]picture
	names map[string]string
	order []string
	// frames counts the frames written, to name each uniquely.
	frames int
}

func (o *odtPictures) name(src string) (string, bool) {
	p, ok := o.pics[src]
	if !ok {
		return "", false
	}
	if n, ok := o.names[src]; ok {
		return n, true
	}
	ext := ".img"
	if i := slices.IndexFunc(mediaTypes, func(t mediaType) bool { return t.contentType == p.contentType }); i >= 0 {
		ext = mediaTypes[i].exts[0]
	}
	n := "Pictures/" + strconv.Itoa(len(o.order)+1) + ext
	o.names[src] = n
	o.order = append(o.order, src)
	return n, true
}

// odtImage writes an image as a frame in its own paragraph: embedded when
// its bytes are in the package, else a link to its address.
func odtImage(b *bytes.Buffer, bl Block, pics *odtPictures) {
	src := imageURL(bl.Src)
	if src == "" {
		return
	}
	pics.frames++
	href := src
	w, h := 10.0, 7.5 // cm, when the size is unknown
	if name, ok := pics.name(src); ok {
		href = name
		if pw, ph, ok := imageSize(pics.pics[src].data); ok {
			// At 96 dpi, no wider than the text of an A4 page.
			w, h = float64(pw)*2.54/96, float64(ph)*2.54/96
			if w > 16 {
				w, h = 16, h*16/w
			}
		}
	}
	fmt.Fprintf(b, `<text:p text:style-name="Standard"><draw:frame draw:name="Image%d" text:anchor-type="as-char" svg:width="%.2fcm" svg:height="%.2fcm">`, pics.frames, w, h)
	b.WriteString(`<draw:image xlink:href="` + xmlEsc(href) + `" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/>`)
	if bl.Alt != "" {
		b.WriteString(`<svg:title>` + xmlEsc(bl.Alt) + `</svg:title>`)
	}
	b.WriteString("</draw:frame></text:p>\n")
}

// imageSize reads the pixel size of a PNG, JPEG, GIF or WebP picture.
func imageSize(data []byte) (int, int, bool) {
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width > 0 && cfg.Height > 0 {
		return cfg.Width, cfg.Height, true
	}
	// WebP (RIFF....WEBP), which the standard library does not decode.
	if len(data) < 30 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return 0, 0, false
	}
	le24 := func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }
	switch string(data[12:16]) {
	case "VP8X":
		return le24(data[24:27]) + 1, le24(data[27:30]) + 1, true
	case "VP8L":
		bits := uint32(data[21]) | uint32(data[22])<<8 | uint32(data[23])<<16 | uint32(data[24])<<24
		return int(bits&0x3FFF) + 1, int(bits>>14&0x3FFF) + 1, true
	case "VP8 ":
		return int(data[26]) | int(data[27]&0x3F)<<8, int(data[28]) | int(data[29]&0x3F)<<8, true
	}
	return 0, 0, false
}

func odtBlocks(b *bytes.Buffer, blocks []Block, pics *odtPictures) {
	for _, bl := range blocks {
		switch bl.Type {
		case "image":
			odtImage(b, bl, pics)
		case "heading":
			fmt.Fprintf(b, `<text:h text:style-name="Heading" text:outline-level="%d">`, clampLevel(bl.Level))
			odtRuns(b, bl.Runs)
			b.WriteString("</text:h>\n")
		case "bullet_list", "ordered_list":
			style := "LB"
			if bl.Type == "ordered_list" {
				style = "LN"
			}
			b.WriteString(`<text:list text:style-name="` + style + `">` + "\n")
			for _, it := range bl.Items {
				b.WriteString(`<text:list-item><text:p text:style-name="Standard">`)
				odtRuns(b, it)
				b.WriteString("</text:p></text:list-item>\n")
			}
			b.WriteString("</text:list>\n")
		default:
			b.WriteString(`<text:p text:style-name="Standard">`)
			odtRuns(b, bl.Runs)
			b.WriteString("</text:p>\n")
		}
	}
}

func writeODT(w io.Writer, c Content, title string, embedded map[string]picture) error {
	pics := &odtPictures{pics: embedded, names: map[string]string{}}
	var content bytes.Buffer
	content.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<office:document-content " + odtNamespaces + ">\n" + odtAutoStyles)
	content.WriteString("<office:body>\n<office:text>\n")
	if c.Kind == Pad {
		odtBlocks(&content, c.Blocks, pics)
	} else {
		for _, p := range c.Pages {
			// A section per page keeps the page id, the target of links.
			content.WriteString(`<text:section text:name="` + xmlEsc(p.ID) + `">` + "\n")
			content.WriteString(`<text:p text:style-name="Title">`)
			prev := true
			odtText(&content, p.Title, &prev)
			content.WriteString("</text:p>\n")
			odtBlocks(&content, p.Blocks, pics)
			content.WriteString("</text:section>\n")
		}
	}
	content.WriteString("</office:text>\n</office:body>\n</office:document-content>\n")
	meta := `<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="` + nsOffice + `" xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:meta><dc:title>` + xmlEsc(title) + `</dc:title></office:meta></office:document-meta>
`
	zw := zip.NewWriter(w)
	// The mimetype must come first, stored, for file-type sniffing.
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(mw, odtMime); err != nil {
		return err
	}
	entries := `<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>` + "\n"
	files := []struct {
		name string
		body []byte
	}{{"content.xml", content.Bytes()}, {"styles.xml", []byte(odtStyles)}, {"meta.xml", []byte(meta)}}
	for _, src := range pics.order {
		name, p := pics.names[src], pics.pics[src]
		entries += `<manifest:file-entry manifest:full-path="` + xmlEsc(name) + `" manifest:media-type="` + xmlEsc(p.contentType) + `"/>` + "\n"
		files = append(files, struct {
			name string
			body []byte
		}{name, p.data})
	}
	manifest := strings.Replace(odtManifest, "</manifest:manifest>", entries+"</manifest:manifest>", 1)
	files = append(files, struct {
		name string
		body []byte
	}{"META-INF/manifest.xml", []byte(manifest)})
	for _, f := range files {
		fw, err := zw.Create(f.name)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.body); err != nil {
			return err
		}
	}
	return zw.Close()
}

func readZipFile(zr *zip.Reader, name string, limit int64) ([]byte, error) {
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			data, err := io.ReadAll(io.LimitReader(rc, limit+1))
			if err != nil {
				return nil, err
			}
			if int64(len(data)) > limit {
				return nil, errImport(name+" est trop volumineux.", nil)
			}
			return data, nil
		}
	}
	return nil, errImport(name+" manque : ce n'est pas un document OpenDocument.", nil)
}

// readODT reads a package back, with the pictures it embeds by the path
// its image blocks name (Pictures/...).
func readODT(kind Kind, data []byte) (Content, string, map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Content{}, "", nil, errImport("ce n'est pas une archive OpenDocument (zip).", err)
	}
	mt, err := readZipFile(zr, "mimetype", 200)
	if err != nil {
		return Content{}, "", nil, err
	}
	if strings.TrimSpace(string(mt)) != odtMime {
		return Content{}, "", nil, errImport("ce n'est pas un document texte OpenDocument (.odt).", nil)
	}
	content, err := readZipFile(zr, "content.xml", 4*MaxImportBytes)
	if err != nil {
		return Content{}, "", nil, err
	}
	title := ""
	if meta, err := readZipFile(zr, "meta.xml", 1<<20); err == nil {
		var m struct {
			Title string `xml:"meta>title"`
		}
		if xml.Unmarshal(meta, &m) == nil {
			title = m.Title
		}
	}
	c, err := parseODTContent(kind, content)
	if err != nil {
		return c, title, nil, err
	}
	pics := map[string][]byte{}
	total := 0
	for _, b := range allBlocks(c) {
		if b.Type != "image" || pics[b.Src] != nil || !strings.HasPrefix(b.Src, "Pictures/") {
			continue
		}
		// The archive is at most MaxImportBytes, but what it inflates to
		// is bounded here too.
		p, err := readZipFile(zr, b.Src, MaxMediaBytes)
		if err != nil || total+len(p) > 4*MaxImportBytes {
			continue // a missing picture: its block is dropped
		}
		total += len(p)
		pics[b.Src] = p
	}
	return c, title, pics, nil
}

// odtReader walks content.xml: a small state machine over the tokens.
type odtReader struct {
	runs      []Run
	bold      []bool // per open span
	italic    []bool
	link      string
	lineStart bool
	inPara    bool
	paraKind  string // "p" | "h" | "title"
	level     int
	// images are the frames of the paragraph being read; inAlt is set
	// inside a frame's svg:title or svg:desc, whose text is the alt.
	images []Block
	inAlt  string
}

func (o *odtReader) text(s string) {
	// Raw whitespace collapses to one space and vanishes at the start of
	// a paragraph, as ODF says.
	var sb strings.Builder
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			if o.lineStart {
				continue
			}
			o.lineStart = true
			sb.WriteByte(' ')
			continue
		}
		o.lineStart = false
		sb.WriteRune(r)
	}
	o.add(sb.String())
}

func (o *odtReader) add(s string) {
	if s == "" {
		return
	}
	b, i := false, false
	for k := range o.bold {
		b = b || o.bold[k]
		i = i || o.italic[k]
	}
	o.runs = append(o.runs, Run{Text: s, Bold: b, Italic: i, Link: o.link})
}

func parseODTContent(kind Kind, data []byte) (Content, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	c := Content{Kind: kind}
	o := &odtReader{}
	var blocks []Block
	var list *Block
	var page *Page
	styles := map[string][2]bool{"B": {true, false}, "I": {false, true}, "BI": {true, true}}
	listStyles := map[string]bool{"LN": true}
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c, errImport("content.xml n'est pas du XML valide.", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 200 {
				return c, errImport("structure trop profonde.", nil)
			}
			switch {
			case t.Name.Space == nsDraw && t.Name.Local == "frame" && o.inPara:
				o.images = append(o.images, Block{Type: "image"})
			case t.Name.Space == nsDraw && t.Name.Local == "image" && len(o.images) > 0:
				o.images[len(o.images)-1].Src = strings.TrimPrefix(xattr(t, nsXlink, "href"), "./")
			case t.Name.Space == nsSVG && (t.Name.Local == "title" || t.Name.Local == "desc") && len(o.images) > 0:
				o.inAlt = t.Name.Local
			}
			if t.Name.Space != nsText && t.Name.Space != nsStyle {
				continue
			}
			switch t.Name.Local {
			case "style":
				// Automatic styles written by other editors (LibreOffice's
				// T1, T2...) carry bold and italic in their properties.
				name := xattr(t, nsStyle, "name")
				styles[name] = [2]bool{}
				o.paraKind = "style:" + name
			case "text-properties":
				if strings.HasPrefix(o.paraKind, "style:") {
					name := strings.TrimPrefix(o.paraKind, "style:")
					s := styles[name]
					s[0] = s[0] || xattr(t, nsFO, "font-weight") == "bold"
					s[1] = s[1] || xattr(t, nsFO, "font-style") == "italic"
					styles[name] = s
				}
			case "list-style":
				o.paraKind = "list-style:" + xattr(t, nsStyle, "name")
			case "list-level-style-number":
				listStyles[strings.TrimPrefix(o.paraKind, "list-style:")] = true
			case "section":
				if kind == Wiki {
					if page != nil {
						page.Blocks = blocks
						c.Pages = append(c.Pages, *page)
					}
					page = &Page{ID: xattr(t, nsText, "name")}
					blocks = nil
				}
			case "list":
				if list == nil {
					typ := "bullet_list"
					if listStyles[xattr(t, nsText, "style-name")] {
						typ = "ordered_list"
					}
					list = &Block{Type: typ, Items: [][]Run{}}
				}
			case "p", "h":
				o.runs, o.bold, o.italic, o.lineStart, o.inPara, o.images = nil, nil, nil, true, true, nil
				o.paraKind = t.Name.Local
				if t.Name.Local == "h" {
					o.level, _ = strconv.Atoi(xattr(t, nsText, "outline-level"))
				} else if xattr(t, nsText, "style-name") == "Title" && page != nil && page.Title == "" && len(blocks) == 0 {
					o.paraKind = "title"
				}
			case "span":
				s := styles[xattr(t, nsText, "style-name")]
				o.bold, o.italic = append(o.bold, s[0]), append(o.italic, s[1])
			case "a":
				o.link = fromODTHref(xattr(t, nsXlink, "href"))
			case "s":
				n, err := strconv.Atoi(xattr(t, nsText, "c"))
				if err != nil || n < 1 {
					n = 1
				}
				o.add(strings.Repeat(" ", min(n, 1000)))
				o.lineStart = true
			case "tab":
				o.add("\t")
				o.lineStart = true
			case "line-break":
				o.add("\n")
				o.lineStart = true
			}
		case xml.EndElement:
			depth--
			if t.Name.Space == nsSVG {
				o.inAlt = ""
			}
			if t.Name.Space != nsText {
				continue
			}
			switch t.Name.Local {
			case "span":
				if n := len(o.bold); n > 0 {
					o.bold, o.italic = o.bold[:n-1], o.italic[:n-1]
				}
			case "a":
				o.link = ""
			case "p", "h":
				if !o.inPara {
					continue
				}
				o.inPara = false
				runs := mergeRuns(o.runs)
				switch {
				case len(o.images) > 0 && list == nil && o.paraKind != "title":
					// A paragraph holding pictures: its text, then each
					// picture as a block of its own.
					if len(runs) > 0 {
						blocks = append(blocks, Block{Type: "paragraph", Runs: runs})
					}
					blocks = append(blocks, o.images...)
				case o.paraKind == "title":
					page.Title = plainOf(runs)
				case list != nil:
					list.Items = append(list.Items, runs)
				case o.paraKind == "h":
					blocks = append(blocks, Block{Type: "heading", Level: clampLevel(o.level), Runs: runs})
				default:
					blocks = append(blocks, Block{Type: "paragraph", Runs: runs})
				}
			case "list":
				if list != nil {
					blocks = append(blocks, *list)
					list = nil
				}
			}
		case xml.CharData:
			switch {
			case o.inAlt == "title" || o.inAlt == "desc" && o.images[len(o.images)-1].Alt == "":
				o.images[len(o.images)-1].Alt += string(t)
			case o.inAlt != "":
				// A description after a title: the title is the alt.
			case o.inPara:
				o.text(string(t))
			}
		}
	}
	if kind == Pad {
		c.Blocks = blocks
		return c, nil
	}
	if page != nil {
		page.Blocks = blocks
		c.Pages = append(c.Pages, *page)
	} else if len(blocks) > 0 {
		c.Pages = []Page{{ID: "p1", Blocks: blocks}}
	}
	fixPageIDs(c.Pages)
	return c, nil
}

func xattr(t xml.StartElement, space, local string) string {
	for _, a := range t.Attr {
		if a.Name.Space == space && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// A wiki page is an ODT section named after its id: a link to a page
// ("#page-p2") points to the section ("#p2|region"), which word
// processors follow, and comes back as a page link on import.
func odtHref(l string) string {
	if id, ok := strings.CutPrefix(l, "#page-"); ok {
		return "#" + id + "|region"
	}
	return l
}

func fromODTHref(h string) string {
	if id, ok := strings.CutSuffix(h, "|region"); ok && strings.HasPrefix(id, "#") {
		return "#page-" + id[1:]
	}
	return h
}
