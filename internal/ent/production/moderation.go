package production

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Blog moderation. Contributors write posts and comments in the blog's
// document, where they could also write any status: the document is not
// the authority. What the owner or a manager (the teacher) publishes is
// recorded here with the copy they approved, and readers see those copies
// only. The status is also written into the document, so every open
// editor shows the decision.

// Moderation decisions.
const (
	DecisionPublish = "publish"
	DecisionReject  = "reject"
)

// Moderation is the input of Moderate: a post, or one of its comments.
type Moderation struct {
	Post     string `json:"post"`
	Comment  string `json:"comment,omitempty"`
	Decision string `json:"decision"`
}

// publication is one recorded decision.
type publication struct {
	postID, commentID string
	status            string
	title, body       string
	image, author     string
	created           string
}

// Moderate publishes or refuses a post or a comment of a blog (managers and
// the owner) and answers the new status.
func (s *Service) Moderate(ctx context.Context, p *auth.Principal, id int64, in Moderation) (string, error) {
	var status string
	switch in.Decision {
	case DecisionPublish:
		status = "published"
	case DecisionReject:
		status = "rejected"
	default:
		return "", problem.Invalid("invalid_decision", "La décision doit être « publish » ou « reject ».")
	}
	pr, err := s.load(ctx, p, id, RoleManage)
	if err != nil {
		return "", err
	}
	if pr.Kind != Blog {
		return "", problem.New(http.StatusUnprocessableEntity, "not_a_blog", "Seuls les billets et commentaires d'un blog se modèrent.")
	}
	if pr.Trashed {
		return "", problem.New(http.StatusConflict, "trashed", "Cette production est dans la corbeille : restaurez-la avant de la modérer.")
	}
	c, err := s.content(ctx, pr)
	if err != nil {
		return "", err
	}
	pub, ok := findPublication(c, in.Post, in.Comment)
	if !ok {
		return "", problem.NotFound("Billet ou commentaire")
	}
	pub.status = status
	if err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return recordPublication(ctx, tx, id, pub, p.User.ID, s.now().UTC())
	}); err != nil {
		return "", err
	}
	err = s.docs.Apply(ctx, pr.DocID(), func(d *yjs.Doc, tx *yjs.Tx) error {
		return setStatus(d, tx, in.Post, in.Comment, status)
	})
	if err != nil {
		return "", fmt.Errorf("write moderation of production %d: %w", id, err)
	}
	s.refreshSearch(ctx, pr)
	return status, s.store.touch(ctx, id, s.now().UTC())
}

// findPublication copies the post or the comment as it stands now.
func findPublication(c Content, postID, commentID string) (publication, bool) {
	if postID == "" {
		return publication{}, false
	}
	for _, po := range c.Posts {
		if po.ID != postID {
			continue
		}
		if commentID == "" {
			return publication{postID: po.ID, title: po.Title, body: po.Body, image: po.Image, author: po.Author, created: po.Created}, true
		}
		for _, cm := range po.Comments {
			if cm.ID == commentID {
				return publication{postID: po.ID, commentID: cm.ID, body: cm.Text, author: cm.Author, created: cm.Created}, true
			}
		}
	}
	return publication{}, false
}

func recordPublication(ctx context.Context, tx *db.Tx, productionID int64, pub publication, by int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO production_publications
		(production_id, post_id, comment_id, status, title, body, image, author, created, decided_by, decided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (production_id, post_id, comment_id) DO UPDATE SET status = excluded.status,
		title = excluded.title, body = excluded.body, image = excluded.image, author = excluded.author,
		created = excluded.created, decided_by = excluded.decided_by, decided_at = excluded.decided_at`,
		productionID, pub.postID, pub.commentID, pub.status, pub.title, pub.body, pub.image, pub.author, pub.created, by, at)
	if err != nil {
		return fmt.Errorf("record moderation: %w", err)
	}
	return nil
}

// setStatus writes the decision into the document.
func setStatus(d *yjs.Doc, tx *yjs.Tx, postID, commentID, status string) error {
	for _, v := range d.GetArray("posts").ToSlice() {
		post, ok := v.(*yjs.Map)
		if !ok || str(mapOf(post)["id"]) != postID {
			continue
		}
		if commentID == "" {
			return post.Set(tx, "status", status)
		}
		comments, ok := mapOf(post)["comments"].(*yjs.Array)
		if !ok {
			return nil
		}
		for _, cv := range comments.ToSlice() {
			if cm, ok := cv.(*yjs.Map); ok && str(mapOf(cm)["id"]) == commentID {
				return cm.Set(tx, "status", status)
			}
		}
	}
	return nil // removed meanwhile: the record stands, nothing to show
}

// published replaces the blog's posts by the copies moderation approved,
// in the document's order: what readers see.
func (s *Service) published(ctx context.Context, id int64, c *Content) error {
	rows, err := s.db.QueryContext(ctx, `SELECT post_id, comment_id, title, body, image, author, created
		FROM production_publications WHERE production_id = ? AND status = 'published'`, id)
	if err != nil {
		return fmt.Errorf("read publications: %w", err)
	}
	defer rows.Close()
	posts := map[string]publication{}
	comments := map[string]map[string]publication{}
	for rows.Next() {
		var pub publication
		if err := rows.Scan(&pub.postID, &pub.commentID, &pub.title, &pub.body, &pub.image, &pub.author, &pub.created); err != nil {
			return fmt.Errorf("read publications: %w", err)
		}
		if pub.commentID == "" {
			posts[pub.postID] = pub
			continue
		}
		if comments[pub.postID] == nil {
			comments[pub.postID] = map[string]publication{}
		}
		comments[pub.postID][pub.commentID] = pub
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read publications: %w", err)
	}
	out := []Post{}
	for _, po := range c.Posts {
		pub, ok := posts[po.ID]
		if !ok {
			continue
		}
		shown := Post{ID: po.ID, Title: pub.title, Body: pub.body, Image: pub.image, Author: pub.author,
			Created: pub.created, Status: "published", Comments: []Comment{}}
		for _, cm := range po.Comments {
			if cp, ok := comments[po.ID][cm.ID]; ok {
				shown.Comments = append(shown.Comments, Comment{ID: cm.ID, Author: cp.author, Text: cp.body, Status: "published", Created: cp.created})
			}
		}
		out = append(out, shown)
	}
	c.Posts = out
	return nil
}

// recordImported records, for a manager's server-side write (import,
// demo), the posts and comments the content says are published; a
// contributor's published items go back to "submitted".
func recordImported(ctx context.Context, tx *db.Tx, productionID int64, c *Content, by int64, manager bool, at time.Time) error {
	for i := range c.Posts {
		po := &c.Posts[i]
		if po.Status == "published" {
			if !manager {
				po.Status = "submitted"
			} else if err := recordPublication(ctx, tx, productionID, publication{postID: po.ID, status: "published",
				title: po.Title, body: po.Body, image: po.Image, author: po.Author, created: po.Created}, by, at); err != nil {
				return err
			}
		}
		for j := range po.Comments {
			cm := &po.Comments[j]
			if cm.Status != "published" {
				continue
			}
			if !manager {
				cm.Status = "submitted"
			} else if err := recordPublication(ctx, tx, productionID, publication{postID: po.ID, commentID: cm.ID, status: "published",
				body: cm.Text, author: cm.Author, created: cm.Created}, by, at); err != nil {
				return err
			}
		}
	}
	return nil
}
