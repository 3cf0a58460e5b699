package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// JobCount is how many River jobs of a kind are in a state.
type JobCount struct {
	Kind  string
	State string
	Count int64
}

// CountJobs counts River's jobs by kind and state, across every tenant:
// for the operators' metrics only.
func CountJobs(ctx context.Context, db DBTX) ([]JobCount, error) {
	rows, err := db.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (JobCount, error) {
		var c JobCount
		err := r.Scan(&c.Kind, &c.State, &c.Count)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return out, nil
}
