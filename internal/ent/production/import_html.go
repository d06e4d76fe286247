package production

import (
	"bytes"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Reading HTML back: only the structure Socle writes (and the plain HTML a
// person may write by hand) is understood; scripts, styles, frames and
// event attributes are dropped, and every text becomes plain text again.

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(attr(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// dropped are elements whose content is never text of a production.
func dropped(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Iframe, atom.Object, atom.Embed, atom.Template, atom.Noscript, atom.Head, atom.Svg, atom.Math:
		return true
	}
	return false
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n.Type == html.ElementNode && match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if dropped(c) {
			continue
		}
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func textOf(n *html.Node) string {
	var sb strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			sb.WriteString(n.Data)
		case n.Type == html.ElementNode && n.DataAtom == atom.Br:
			sb.WriteString("\n")
		case n.Type == html.ElementNode && dropped(n):
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return sb.String()
}

func readHTML(kind Kind, data []byte) (Content, string, error) {
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return Content{}, "", err
	}
	if tooDeep(doc, 256) {
		return Content{}, "", errImport("imbrication HTML trop profonde.", nil)
	}
	c := Content{Kind: kind}
	title := ""
	if t := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.H1 && hasClass(n, "production-title") }); t != nil {
		title = textOf(t)
	} else if t := findTitle(doc); t != nil {
		title = textOf(t)
	}
	root := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Main })
	if root == nil {
		root = find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Body })
	}
	if root == nil {
		return c, "", errImport("aucun contenu HTML.", nil)
	}
	switch kind {
	case Pad:
		c.Blocks = htmlBlocks(root)
	case Wiki:
		for s := root.FirstChild; s != nil; s = s.NextSibling {
			if s.Type == html.ElementNode && s.DataAtom == atom.Section {
				pg := Page{ID: attr(s, "data-page")}
				if t := find(s, func(n *html.Node) bool { return hasClass(n, "page-title") }); t != nil {
					pg.Title = textOf(t)
				}
				pg.Blocks = htmlBlocks(s)
				c.Pages = append(c.Pages, pg)
			}
		}
		if len(c.Pages) == 0 {
			c.Pages = []Page{{ID: "p1", Title: title, Blocks: htmlBlocks(root)}}
		}
		fixPageIDs(c.Pages)
	case Blog:
		for _, a := range children(root, atom.Article) {
			p := Post{ID: attr(a, "data-id"), Status: attr(a, "data-status"), Author: attr(a, "data-author"),
				Created: attr(a, "data-created"), Comments: []Comment{}}
			if h := find(a, func(n *html.Node) bool { return n.DataAtom == atom.H2 }); h != nil {
				p.Title = textOf(h)
			}
			var paras []string
			if body := find(a, func(n *html.Node) bool { return hasClass(n, "body") }); body != nil {
				for _, para := range children(body, atom.P) {
					paras = append(paras, textOf(para))
				}
			}
			p.Body = strings.Join(paras, "\n\n")
			if im := find(a, func(n *html.Node) bool { return n.DataAtom == atom.Img }); im != nil {
				p.Image = attr(im, "src")
			}
			if cs := find(a, func(n *html.Node) bool { return hasClass(n, "comments") }); cs != nil {
				if ul := find(cs, func(n *html.Node) bool { return n.DataAtom == atom.Ul }); ul != nil {
					for _, li := range children(ul, atom.Li) {
						p.Comments = append(p.Comments, Comment{ID: attr(li, "data-id"), Author: attr(li, "data-author"), Status: attr(li, "data-status"),
							Created: attr(li, "data-created"), Text: textOf(li)})
					}
				}
			}
			if p.ID == "" {
				p.ID = "post" + strconv.Itoa(len(c.Posts)+1)
			}
			c.Posts = append(c.Posts, p)
		}
	case Wall:
		for _, a := range children(root, atom.Article) {
			cd := Card{X: num(attr(a, "data-x")), Y: num(attr(a, "data-y")), Column: attr(a, "data-column")}
			if t := find(a, func(n *html.Node) bool { return hasClass(n, "text") }); t != nil {
				cd.Text = textOf(t)
			}
			if im := find(a, func(n *html.Node) bool { return n.DataAtom == atom.Img }); im != nil {
				cd.Image = attr(im, "src")
			}
			if l := find(a, func(n *html.Node) bool { return n.DataAtom == atom.A }); l != nil {
				cd.Link = attr(l, "href")
			}
			c.Cards = append(c.Cards, cd)
		}
	}
	return c, strings.TrimSpace(title), nil
}

func fixPageIDs(pages []Page) {
	seen := map[string]bool{}
	for i := range pages {
		id := pages[i].ID
		if id == "" || seen[id] || len(id) > 64 {
			id = "p" + strconv.Itoa(i+1)
			for seen[id] {
				id += "b"
			}
		}
		seen[id] = true
		pages[i].ID = id
	}
}

func children(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == a {
			out = append(out, c)
		}
	}
	return out
}

// htmlBlocks reads the block structure of a container.
func htmlBlocks(root *html.Node) []Block {
	var out []Block
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || dropped(c) {
				continue
			}
			switch c.DataAtom {
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				if hasClass(c, "production-title") || hasClass(c, "page-title") {
					continue
				}
				lvl, _ := strconv.Atoi(c.Data[1:])
				out = append(out, Block{Type: "heading", Level: lvl, Runs: htmlRuns(c)})
			case atom.Img:
				out = append(out, imageBlock(c))
			case atom.P:
				// A paragraph around images (as hand-written HTML often
				// has them) gives its text, then the images as blocks.
				runs := htmlRuns(c)
				imgs := findAll(c, atom.Img)
				if len(runs) > 0 || len(imgs) == 0 {
					out = append(out, Block{Type: "paragraph", Runs: runs})
				}
				for _, im := range imgs {
					out = append(out, imageBlock(im))
				}
			case atom.Ul, atom.Ol:
				b := Block{Type: "bullet_list", Items: [][]Run{}}
				if c.DataAtom == atom.Ol {
					b.Type = "ordered_list"
				}
				for _, li := range children(c, atom.Li) {
					b.Items = append(b.Items, htmlRuns(li))
				}
				out = append(out, b)
			case atom.Section:
				if attr(c, "data-page") != "" && n == root {
					continue // another wiki page
				}
				walk(c)
			default:
				walk(c)
			}
		}
	}
	walk(root)
	return out
}

func imageBlock(n *html.Node) Block {
	return Block{Type: "image", Src: attr(n, "src"), Alt: attr(n, "alt")}
}

// findAll lists the elements a below n, outside dropped elements.
func findAll(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || dropped(c) {
			continue
		}
		if c.DataAtom == a {
			out = append(out, c)
		}
		out = append(out, findAll(c, a)...)
	}
	return out
}

func htmlRuns(n *html.Node) []Run {
	var runs []Run
	var walk func(n *html.Node, r Run)
	walk = func(n *html.Node, r Run) {
		switch n.Type {
		case html.TextNode:
			r.Text = n.Data
			runs = append(runs, r)
			return
		case html.ElementNode:
			if dropped(n) {
				return
			}
			switch n.DataAtom {
			case atom.Strong, atom.B:
				r.Bold = true
			case atom.Em, atom.I:
				r.Italic = true
			case atom.A:
				r.Link = safeURL(attr(n, "href"))
			case atom.Br:
				r.Text = "\n"
				runs = append(runs, r)
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, r)
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, Run{})
	}
	return mergeRuns(runs)
}

// findTitle finds <title>, inside the <head> that find skips.
func findTitle(n *html.Node) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == atom.Title {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.DataAtom == atom.Body || c.DataAtom == atom.Script) {
			continue
		}
		if f := findTitle(c); f != nil {
			return f
		}
	}
	return nil
}

// tooDeep reports a tree nested deeper than max, measured without
// recursion, so that the recursive readers below never exhaust the stack.
func tooDeep(root *html.Node, max int) bool {
	type at struct {
		n     *html.Node
		depth int
	}
	stack := []at{{root, 0}}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if top.depth > max {
			return true
		}
		for c := top.n.FirstChild; c != nil; c = c.NextSibling {
			stack = append(stack, at{c, top.depth + 1})
		}
	}
	return false
}
