package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// TestRetryTxAfterADeadlock makes a real deadlock between a transaction
// run by RetryTx (acme's row, then beta's) and a plain one (beta's, then
// acme's): PostgreSQL aborts one of them. RetryTx's is the one that waited
// first, so usually the one aborted: it is done again and succeeds. Either
// way RetryTx returns no error.
func TestRetryTxAfterADeadlock(t *testing.T) {
	t.Parallel()
	f := setup(t)
	lock := func(tx pgx.Tx, id int64) error {
		_, err := tx.Exec(f.ctx, `UPDATE tenants SET name = name WHERE id = $1`, id)
		return err
	}
	other, err := f.db.Begin(f.ctx)
	require.NoError(t, err)
	defer func() { _ = other.Rollback(f.ctx) }()
	require.NoError(t, lock(other, f.acme.ID))

	attempts := 0
	pid := make(chan uint32, 1)
	done := make(chan error, 1)
	go func() {
		done <- store.RetryTx(f.ctx, f.db, func(tx pgx.Tx) error {
			attempts++
			if err := lock(tx, f.beta.ID); err != nil {
				return err
			}
			if attempts == 1 {
				var p uint32
				if err := tx.QueryRow(f.ctx, `SELECT pg_backend_pid()`).Scan(&p); err != nil {
					return err
				}
				pid <- p
			}
			return lock(tx, f.acme.ID)
		})
	}()
	p := <-pid
	testenv.WaitFor(t, 30*time.Second, "RetryTx's transaction waits for acme", func() (bool, string) {
		var n int
		require.NoError(t, f.db.QueryRow(f.ctx, `SELECT count(*) FROM pg_locks WHERE pid = $1 AND NOT granted`, p).Scan(&n))
		return n > 0, "not waiting yet"
	})
	otherErr := lock(other, f.beta.ID) // the deadlock
	if otherErr == nil {
		require.NoError(t, other.Commit(f.ctx))
	} else {
		_ = other.Rollback(f.ctx)
	}
	require.NoError(t, <-done)
	var pgErr *pgconn.PgError
	if otherErr == nil {
		require.Equal(t, 2, attempts, "RetryTx's transaction was aborted and done again")
	} else {
		require.True(t, errors.As(otherErr, &pgErr) && pgErr.Code == "40P01", "the other was aborted: %v", otherErr)
		require.Equal(t, 1, attempts)
	}
}
