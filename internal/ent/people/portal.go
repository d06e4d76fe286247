package people

import (
	"context"
	"fmt"
)

// Child is one of a parent's children as the portal shows it: names and
// the classes of the current school year (none once the child has left).
type Child struct {
	UserID    int64
	FirstName string
	LastName  string
	Classes   []GroupRef
}

// ChildrenOf lists the children a parent is linked to (feed or
// administrator), with each child's active classes. It is the contract
// with the portal, which only ever asks for the person logged in: the
// parent link itself is the permission.
func (s *Service) ChildrenOf(ctx context.Context, parentID int64) ([]Child, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.user_id, p.first_name, p.last_name FROM parent_links l
		JOIN people p ON p.user_id = l.child_id WHERE l.parent_id = ?
		ORDER BY p.first_name, p.last_name, p.user_id`, parentID)
	if err != nil {
		return nil, fmt.Errorf("children of %d: %w", parentID, err)
	}
	out := []Child{}
	at := map[int64]int{}
	for rows.Next() {
		var c Child
		if err := rows.Scan(&c.UserID, &c.FirstName, &c.LastName); err != nil {
			rows.Close()
			return nil, err
		}
		at[c.UserID] = len(out)
		out = append(out, c)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	// One query for every child's classes rather than one per child.
	rows, err = s.db.QueryContext(ctx, `SELECT gm.user_id, g.id, g.name, g.kind, g.school_year, g.establishment_id
		FROM parent_links l JOIN group_members gm ON gm.user_id = l.child_id JOIN groups g ON g.id = gm.group_id
		WHERE l.parent_id = ? AND g.kind = ? AND gm.ended_at IS NULL AND g.archived_at IS NULL
		ORDER BY g.school_year DESC, g.name`, parentID, KindClass)
	if err != nil {
		return nil, fmt.Errorf("classes of the children of %d: %w", parentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var child int64
		var g GroupRef
		if err := rows.Scan(&child, &g.ID, &g.Name, &g.Kind, &g.SchoolYear, &g.EstablishmentID); err != nil {
			return nil, err
		}
		if i, ok := at[child]; ok {
			out[i].Classes = append(out[i].Classes, g)
		}
	}
	return out, rows.Err()
}
