package auth_test

import (
	"context"
	"fmt"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
)

// BenchmarkRebuildClosure rebuilds the scope tree of a national territory:
// 70,000 establishments under 100 DSDEN and 3,000 communes, 100 of the
// communes grouped in 10 métropoles.
func BenchmarkRebuildClosure(b *testing.B) {
	ctx := context.Background()
	d := dbtest.Open(b, auth.Migrations())
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var sb []any
		insert := func() error {
			if len(sb) == 0 {
				return nil
			}
			q := "INSERT INTO org_edges (parent_id, child_id) VALUES " + placeholders(len(sb)/2)
			_, err := tx.ExecContext(ctx, q, sb...)
			sb = sb[:0]
			return err
		}
		add := func(p, c int64) error {
			sb = append(sb, p, c)
			if len(sb) >= 900 {
				return insert()
			}
			return nil
		}
		const academy, dsden0, commune0, epci0, est0 = 1, 100, 1000, 900, 10000
		for i := int64(0); i < 100; i++ {
			if err := add(academy+i%30, dsden0+i); err != nil {
				return err
			}
		}
		for i := int64(0); i < 100; i++ {
			if err := add(epci0+i%10, commune0+i); err != nil {
				return err
			}
		}
		for i := int64(0); i < 70000; i++ {
			if err := add(dsden0+i%100, est0+i); err != nil {
				return err
			}
			if err := add(commune0+i%3000, est0+i); err != nil {
				return err
			}
		}
		return insert()
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.InTx(ctx, func(tx *db.Tx) error { return auth.RebuildClosure(ctx, tx) }); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM org_closure`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n), "closure-rows")
}

func placeholders(n int) string {
	s := ""
	for i := 0; i < n; i++ {
		if i > 0 {
			s += ", "
		}
		s += "(?, ?)"
	}
	return fmt.Sprint(s)
}
