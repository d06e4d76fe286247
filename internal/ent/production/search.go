package production

import (
	"context"
	"fmt"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/text"
)

// Search in the productions a person reaches, by their title and their
// text. The server reads each production's Yjs document and keeps its text
// folded in production_search: after every server-side write and, for
// live edits, once the document is quiet (with the automatic versions).
// A blog is searched in what its readers see: the published copies.

// Search lists the caller's productions (owned and shared, not trashed)
// whose title or text holds every word of q, accents and case aside.
func (s *Service) Search(ctx context.Context, p *auth.Principal, q string) (Lists, error) {
	l, err := s.List(ctx, p, false)
	if err != nil {
		return l, err
	}
	words := strings.Fields(text.SearchKey(q))
	if len(words) == 0 {
		return l, nil
	}
	ids := make([]any, 0, len(l.Mine)+len(l.SharedWith))
	for _, pr := range append(l.Mine, l.SharedWith...) {
		ids = append(ids, pr.ID)
	}
	bodies := map[int64]string{}
	if len(ids) > 0 {
		rows, err := s.db.QueryContext(ctx, `SELECT production_id, body FROM production_search WHERE production_id IN (`+placeholders(len(ids))+`)`, ids...)
		if err != nil {
			return l, fmt.Errorf("search productions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var body string
			if err := rows.Scan(&id, &body); err != nil {
				return l, fmt.Errorf("search productions: %w", err)
			}
			bodies[id] = body
		}
		if err := rows.Err(); err != nil {
			return l, fmt.Errorf("search productions: %w", err)
		}
	}
	f := text.NewFolder()
	match := func(pr Production) bool {
		hay := " " + f.Key(pr.Title) + " " + bodies[pr.ID] + " "
		for _, w := range words {
			if !strings.Contains(hay, w) {
				return false
			}
		}
		return true
	}
	return Lists{Mine: filter(l.Mine, match), SharedWith: filter(l.SharedWith, match)}, nil
}

func filter(ps []Production, keep func(Production) bool) []Production {
	out := []Production{}
	for _, p := range ps {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// refreshSearch reindexes after a change; search is secondary to the
// change itself, so a failure is logged and the next change retries.
func (s *Service) refreshSearch(ctx context.Context, pr Production) {
	if err := s.reindex(ctx, pr); err != nil {
		s.log.Warn("production search index", "production_id", pr.ID, "err", err)
	}
}

// reindex refreshes a production's searchable text from its document.
func (s *Service) reindex(ctx context.Context, pr Production) error {
	c, err := s.content(ctx, pr)
	if err != nil {
		return err
	}
	if pr.Kind == Blog {
		if err := s.published(ctx, pr.ID, &c); err != nil {
			return err
		}
	}
	body := text.SearchKey(contentWords(c)...)
	_, err = s.db.ExecContext(ctx, `INSERT INTO production_search (production_id, body, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (production_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, pr.ID, body, s.now().UTC())
	if err != nil && !db.IsForeignKeyViolation(err) { // erased meanwhile
		return fmt.Errorf("index production %d: %w", pr.ID, err)
	}
	return nil
}

// contentWords is every text of a content, in reading order.
func contentWords(c Content) []string {
	var out []string
	runs := func(rs []Run) {
		for _, r := range rs {
			out = append(out, r.Text)
		}
	}
	blocks := func(bs []Block) {
		for _, b := range bs {
			runs(b.Runs)
			for _, it := range b.Items {
				runs(it)
			}
			if b.Alt != "" {
				out = append(out, b.Alt)
			}
		}
	}
	blocks(c.Blocks)
	for _, pg := range c.Pages {
		out = append(out, pg.Title)
		blocks(pg.Blocks)
	}
	for _, po := range c.Posts {
		out = append(out, po.Title, po.Body)
		for _, cm := range po.Comments {
			out = append(out, cm.Text)
		}
	}
	for _, n := range c.Nodes {
		out = append(out, n.Text)
	}
	for _, e := range c.Events {
		out = append(out, e.Title, e.Text)
	}
	for _, cd := range c.Cards {
		out = append(out, cd.Text, cd.Link)
	}
	return out
}
