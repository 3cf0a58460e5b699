package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	f := setup(t)

	anna, err := store.CreateUser(f.ctx, f.db, f.acme.ID, store.NewUser{Email: " Anna@Acme.test ", PasswordHash: "h1"})
	require.NoError(t, err)
	require.Equal(t, "anna@acme.test", anna.Email)
	require.Equal(t, "acme", anna.TenantName)
	require.False(t, anna.Operator)

	_, err = store.CreateUser(f.ctx, f.db, f.beta.ID, store.NewUser{Email: "ops@beta.test", PasswordHash: "h2", Operator: true})
	require.NoError(t, err)

	_, err = store.CreateUser(f.ctx, f.db, f.beta.ID, store.NewUser{Email: "ANNA@acme.test", PasswordHash: "h3"})
	require.ErrorIs(t, err, store.ErrAlreadyExists)
	_, err = store.CreateUser(f.ctx, f.db, 999999, store.NewUser{Email: "x@y.test", PasswordHash: "h"})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = store.CreateUser(f.ctx, f.db, f.acme.ID, store.NewUser{Email: "nope", PasswordHash: "h"})
	require.ErrorIs(t, err, store.ErrInvalid)

	got, err := store.GetUserByEmail(f.ctx, f.db, "ANNA@acme.TEST")
	require.NoError(t, err)
	require.Equal(t, anna.ID, got.ID)
	require.Equal(t, "h1", got.PasswordHash)
	_, err = store.GetUserByEmail(f.ctx, f.db, "nobody@acme.test")
	require.ErrorIs(t, err, store.ErrNotFound)

	us, err := store.ListUsers(f.ctx, f.db, f.acme.ID)
	require.NoError(t, err)
	require.Len(t, us, 1)
	all, err := store.ListAllUsers(f.ctx, f.db)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.True(t, all[1].Operator)

	require.NoError(t, store.SetUserDisabled(f.ctx, f.db, "anna@acme.test", true))
	got, err = store.GetUser(f.ctx, f.db, anna.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled)
	require.ErrorIs(t, store.SetUserDisabled(f.ctx, f.db, "nobody@acme.test", true), store.ErrNotFound)

	require.NoError(t, store.SetTenantDisabled(f.ctx, f.db, "acme", true))
	got, err = store.GetUser(f.ctx, f.db, anna.ID)
	require.NoError(t, err)
	require.True(t, got.TenantDisabled)
}

func TestLoginAttempts(t *testing.T) {
	t.Parallel()
	f := setup(t)
	now := time.Now()
	for i := range 3 {
		require.NoError(t, store.RecordFailedLogin(f.ctx, f.db, "Anna@acme.test", "192.0.2.1", now.Add(time.Duration(i-10)*time.Minute)))
	}
	require.NoError(t, store.RecordFailedLogin(f.ctx, f.db, "anna@acme.test", "192.0.2.2", now))

	n, oldest, err := store.FailedLogins(f.ctx, f.db, "anna@acme.test", "192.0.2.1", now.Add(-15*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.WithinDuration(t, now.Add(-10*time.Minute), oldest, time.Millisecond)

	n, _, err = store.FailedLogins(f.ctx, f.db, "anna@acme.test", "192.0.2.1", now.Add(-9*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 2, n)

	require.NoError(t, store.ClearFailedLogins(f.ctx, f.db, "anna@acme.test", "192.0.2.1"))
	n, oldest, err = store.FailedLogins(f.ctx, f.db, "anna@acme.test", "192.0.2.1", now.Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
	require.True(t, oldest.IsZero())

	pruned, err := store.PruneLoginAttempts(f.ctx, f.db, now.Add(time.Second))
	require.NoError(t, err)
	require.EqualValues(t, 1, pruned)
}
