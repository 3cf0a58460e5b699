// Package store holds all of trasloco's SQL. There is one file per table;
// every function takes ctx, a DBTX (the pool, or a transaction so a handler
// can write rows and insert River jobs atomically) and, for tenant-owned
// rows, the tenant id, which every query filters by: a row of another
// tenant is ErrNotFound, exactly like a row that does not exist.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is what the store needs of a *pgxpool.Pool or a pgx.Tx. Begin starts
// a transaction (a savepoint inside a pgx.Tx) for the few functions that
// write several statements.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

var (
	// ErrNotFound is returned when a row does not exist or belongs to
	// another tenant.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned when a unique name, domain or email is
	// already taken; the error text says which.
	ErrAlreadyExists = errors.New("already exists")
	// ErrWrongState is returned when a status change is not allowed from
	// the row's current status (cancelling a running migration, …).
	ErrWrongState = errors.New("not allowed in the current state")
	// ErrInvalid is returned for values the schema would refuse; the error
	// text says which.
	ErrInvalid = errors.New("invalid value")
)

// notFound turns pgx.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// uniqueViolation returns the constraint name when err is a unique violation.
func uniqueViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// checkViolation returns the constraint name when err is a check violation.
func checkViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23514" {
		return pgErr.ConstraintName, true
	}
	return "", false
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Retryable PostgreSQL errors: the transaction was aborted only because of
// another one, and the same work may simply be done again.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// RetryTx is pgx.BeginFunc that does fn again, in a new transaction, when
// PostgreSQL aborted it for a deadlock or a serialization failure (three
// tries at most). The store takes its locks in one order (see RequestStop)
// so none is expected; this keeps a user's click from ending in a 500 if
// one is missed. fn must have no effect outside tx.
func RetryTx(ctx context.Context, db DBTX, fn func(pgx.Tx) error) error {
	var err error
	for range 3 {
		err = pgx.BeginFunc(ctx, db, fn)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != codeSerializationFailure && pgErr.Code != codeDeadlockDetected {
			return err
		}
	}
	return err
}
