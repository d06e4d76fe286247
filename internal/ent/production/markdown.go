package production

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// Markdown as CommonMark readers understand it; the reader below reads back
// what the writer writes (and simple hand-written Markdown). Every ASCII
// punctuation that could start markup is backslash-escaped in text.

const mdPunct = "\\`*_[]()#<>!|~"

func mdEscape(s string) string {
	var sb strings.Builder
	lineStart := true
	for i, r := range s {
		if lineStart {
			// A line of text must not turn into a heading or a list item.
			rest := s[i:]
			if strings.HasPrefix(rest, "- ") || strings.HasPrefix(rest, "+ ") || orderedRe.MatchString(rest) {
				sb.WriteByte('\\')
			}
		}
		lineStart = r == '\n'
		if r < 128 && strings.ContainsRune(mdPunct, r) {
			sb.WriteByte('\\')
		}
		if r == '\n' {
			// A hard line break that stays inside the paragraph.
			sb.WriteString("\\\n")
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

var orderedRe = regexp.MustCompile(`^[0-9]+\. `)

func mdURL(u string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(u)
}

func mdRuns(runs []Run) string {
	var sb strings.Builder
	for _, r := range runs {
		t := mdEscape(r.Text)
		switch {
		case r.Bold && r.Italic:
			t = "***" + t + "***"
		case r.Bold:
			t = "**" + t + "**"
		case r.Italic:
			t = "*" + t + "*"
		}
		if l := safeURL(r.Link); l != "" {
			t = "[" + t + "](" + mdURL(l) + ")"
		}
		sb.WriteString(t)
	}
	return sb.String()
}

func writeMarkdownBlocks(b *bytes.Buffer, blocks []Block) {
	for _, bl := range blocks {
		switch bl.Type {
		case "image":
			if u := imageURL(bl.Src); u != "" {
				b.WriteString("![" + mdEscape(strings.Join(strings.Fields(bl.Alt), " ")) + "](" + mdURL(u) + ")\n\n")
			}
		case "heading":
			b.WriteString(strings.Repeat("#", clampLevel(bl.Level)) + " " + mdRuns(bl.Runs) + "\n\n")
		case "bullet_list", "ordered_list":
			for i, it := range bl.Items {
				if bl.Type == "ordered_list" {
					b.WriteString(strconv.Itoa(i+1) + ". ")
				} else {
					b.WriteString("- ")
				}
				b.WriteString(mdRuns(it) + "\n")
			}
			b.WriteString("\n")
		default:
			b.WriteString(mdRuns(bl.Runs) + "\n\n")
		}
	}
}

func writeMarkdown(b *bytes.Buffer, c Content) {
	if c.Kind == Pad {
		writeMarkdownBlocks(b, c.Blocks)
		return
	}
	for _, p := range c.Pages {
		// The page marker is an HTML comment: invisible when rendered,
		// it keeps the page id (the target of links between pages).
		b.WriteString("<!-- page: " + strings.ReplaceAll(p.ID, "-->", "") + " -->\n")
		b.WriteString("# " + mdEscape(p.Title) + "\n\n")
		writeMarkdownBlocks(b, p.Blocks)
	}
}

var pageMarkRe = regexp.MustCompile(`^<!-- page: (.*) -->$`)

func readMarkdown(kind Kind, data []byte) (Content, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	c := Content{Kind: kind}
	if kind == Pad {
		c.Blocks = mdBlocks(lines)
		return c, nil
	}
	var cur *Page
	var buf []string
	flush := func() {
		if cur != nil {
			cur.Blocks = mdBlocks(buf)
			c.Pages = append(c.Pages, *cur)
		}
		buf = nil
	}
	for i := 0; i < len(lines); i++ {
		if m := pageMarkRe.FindStringSubmatch(lines[i]); m != nil {
			flush()
			cur = &Page{ID: m[1]}
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "# ") {
				cur.Title = plainOf(mdInline(lines[i+1][2:]))
				i++
			}
			continue
		}
		if cur == nil {
			cur = &Page{ID: "p1"}
		}
		buf = append(buf, lines[i])
	}
	flush()
	fixPageIDs(c.Pages)
	return c, nil
}

func plainOf(runs []Run) string {
	var sb strings.Builder
	for _, r := range runs {
		sb.WriteString(r.Text)
	}
	return sb.String()
}

var headingRe = regexp.MustCompile(`^(#{1,6}) (.*)$`)

// imageRe is an image alone on its line: ![alt](url).
var imageRe = regexp.MustCompile(`^!\[((?:[^\]\\]|\\.)*)\]\((\S*)\)\s*$`)

func mdUnURL(u string) string {
	return strings.NewReplacer("%20", " ", "%28", "(", "%29", ")", "%3C", "<", "%3E", ">").Replace(u)
}

func mdBlocks(lines []string) []Block {
	var out []Block
	var para []string
	endPara := func() {
		if len(para) > 0 {
			out = append(out, Block{Type: "paragraph", Runs: mdInline(strings.Join(para, "\n"))})
			para = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			endPara()
		case len(para) == 0 && imageRe.MatchString(l):
			m := imageRe.FindStringSubmatch(l)
			out = append(out, Block{Type: "image", Src: mdUnURL(m[2]), Alt: plainOf(mdInline(m[1]))})
		case len(para) == 0 && headingRe.MatchString(l):
			m := headingRe.FindStringSubmatch(l)
			out = append(out, Block{Type: "heading", Level: len(m[1]), Runs: mdInline(m[2])})
		case len(para) == 0 && (strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "* ") || orderedRe.MatchString(l)):
			b := Block{Type: "bullet_list", Items: [][]Run{}}
			if orderedRe.MatchString(l) {
				b.Type = "ordered_list"
			}
			for ; i < len(lines); i++ {
				item, ok := listItem(lines[i], b.Type == "ordered_list")
				if !ok {
					i--
					break
				}
				// Continuation lines of a hard break belong to the item.
				for strings.HasSuffix(item, "\\") && i+1 < len(lines) {
					i++
					item += "\n" + lines[i]
				}
				b.Items = append(b.Items, mdInline(item))
			}
			out = append(out, b)
		default:
			para = append(para, l)
		}
	}
	endPara()
	return out
}

func listItem(l string, ordered bool) (string, bool) {
	if ordered {
		if m := orderedRe.FindString(l); m != "" {
			return l[len(m):], true
		}
		return "", false
	}
	if strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "* ") {
		return l[2:], true
	}
	return "", false
}

// mdInline reads emphasis, strong emphasis, links and escapes.
func mdInline(s string) []Run {
	var runs []Run
	var cur strings.Builder
	bold, italic := false, false
	link := ""
	emit := func() {
		if cur.Len() > 0 {
			runs = append(runs, Run{Text: cur.String(), Bold: bold, Italic: italic, Link: link})
			cur.Reset()
		}
	}
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == '\\' && i+1 < len(s):
			if s[i+1] == '\n' {
				cur.WriteByte('\n')
			} else {
				cur.WriteByte(s[i+1])
			}
			i += 2
		case ch == '*' || (ch == '_' && (i == 0 || !isWord(s[i-1]))):
			n := 0
			for i+n < len(s) && s[i+n] == ch && n < 3 {
				n++
			}
			emit()
			if n >= 2 {
				bold = !bold
			}
			if n != 2 {
				italic = !italic
			}
			i += n
		case ch == '[' && link == "":
			end, url, ok := mdLink(s, i)
			if !ok {
				cur.WriteByte(ch)
				i++
				continue
			}
			emit()
			inner := mdInline(s[i+1 : end])
			u := safeURL(mdUnURL(url))
			for _, r := range inner {
				r.Bold, r.Italic = r.Bold != bold, r.Italic != italic
				if r.Link == "" {
					r.Link = u
				}
				runs = append(runs, r)
			}
			i = end + 2 + len(url) + 1
		default:
			cur.WriteByte(ch)
			i++
		}
	}
	emit()
	return mergeRuns(runs)
}

func isWord(b byte) bool { return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// mdLink finds "[text](url)" starting at i: the index of "]" and the url.
func mdLink(s string, i int) (int, string, bool) {
	depth := 0
	// A link text is short: bounding the scan keeps a hand-made file of
	// unmatched brackets from costing quadratic time.
	for j := i + 1; j < len(s) && j < i+4096; j++ {
		switch s[j] {
		case '\\':
			j++
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
				continue
			}
			if j+1 < len(s) && s[j+1] == '(' {
				k := strings.IndexByte(s[j+2:], ')')
				if k < 0 {
					return 0, "", false
				}
				return j, s[j+2 : j+2+k], true
			}
			return 0, "", false
		}
	}
	return 0, "", false
}
