package auth

import (
	"context"
	"fmt"

	"socle/internal/platform/db"
)

// maxTreeDepth bounds the closure so that a cycle entered by mistake cannot
// loop forever; real trees are four or five levels deep.
const maxTreeDepth = 12

// SetParents replaces the parents of an organization in the scope tree. The
// caller rebuilds the closure once its changes are done (RebuildClosure).
func SetParents(ctx context.Context, tx db.Querier, child int64, parents ...int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM org_edges WHERE child_id = ?`, child); err != nil {
		return fmt.Errorf("clear parents of %d: %w", child, err)
	}
	for _, p := range parents {
		if p == 0 || p == child {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO org_edges (parent_id, child_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, p, child); err != nil {
			return fmt.Errorf("link %d under %d: %w", child, p, err)
		}
	}
	return nil
}

// RemoveNode takes an organization out of the tree.
func RemoveNode(ctx context.Context, tx db.Querier, id int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM org_edges WHERE child_id = ? OR parent_id = ?`, id, id)
	return err
}

// RebuildClosure recomputes org_closure from org_edges in one statement.
func RebuildClosure(ctx context.Context, tx db.Querier) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM org_closure`); err != nil {
		return fmt.Errorf("clear closure: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO org_closure (ancestor_id, descendant_id, depth)
		WITH RECURSIVE c(ancestor_id, descendant_id, depth) AS (
			SELECT parent_id, child_id, 1 FROM org_edges
			UNION
			SELECT c.ancestor_id, e.child_id, c.depth + 1 FROM c JOIN org_edges e ON e.parent_id = c.descendant_id
			WHERE c.depth < ?
		)
		SELECT ancestor_id, descendant_id, MIN(depth) FROM c GROUP BY ancestor_id, descendant_id`, maxTreeDepth)
	if err != nil {
		return fmt.Errorf("rebuild closure: %w", err)
	}
	return nil
}

// ReplaceEdges replaces the whole edge set with the (parent_id, child_id)
// pairs a SELECT returns (its columns named p and c), then rebuilds the closure. Domains that own the
// organizations describe their hierarchy with one query instead of one call
// per node.
func ReplaceEdges(ctx context.Context, tx db.Querier, pairsSelect string, args ...any) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM org_edges`); err != nil {
		return fmt.Errorf("clear edges: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO org_edges (parent_id, child_id) SELECT DISTINCT p, c FROM (`+pairsSelect+`) AS pairs WHERE p IS NOT NULL AND p <> c`, args...); err != nil {
		return fmt.Errorf("insert edges: %w", err)
	}
	return RebuildClosure(ctx, tx)
}
