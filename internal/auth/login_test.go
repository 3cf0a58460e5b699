package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type loginFixture struct {
	ctx   context.Context
	login *auth.Login
	db    store.DBTX
	now   *time.Time
}

func setupLogin(t *testing.T) loginFixture {
	t.Helper()
	ctx := context.Background()
	db := testenv.NewTestDB(t)
	tn, err := store.CreateTenant(ctx, db, store.NewTenant{Name: "acme", NotifyEmail: "it@acme.test", Domains: []string{"acme.test"}})
	require.NoError(t, err)
	h, err := auth.HashPasswordWithParams("right", fast)
	require.NoError(t, err)
	_, err = store.CreateUser(ctx, db, tn.ID, store.NewUser{Email: "anna@acme.test", PasswordHash: h})
	require.NoError(t, err)
	now := time.Now()
	return loginFixture{ctx: ctx, db: db, now: &now, login: &auth.Login{
		DB: db, Params: &fast, Now: func() time.Time { return now },
	}}
}

func (f loginFixture) advance(d time.Duration) {
	*f.now = f.now.Add(d)
	n := *f.now
	f.login.Now = func() time.Time { return n }
}

func TestLogin(t *testing.T) {
	t.Parallel()
	f := setupLogin(t)

	u, err := f.login.Check(f.ctx, "Anna@Acme.test", "right", "192.0.2.1")
	require.NoError(t, err)
	require.Equal(t, "anna@acme.test", u.Email)

	_, err = f.login.Check(f.ctx, "anna@acme.test", "wrong", "192.0.2.1")
	require.ErrorIs(t, err, auth.ErrBadCredentials)
	_, err = f.login.Check(f.ctx, "nobody@acme.test", "right", "192.0.2.1")
	require.ErrorIs(t, err, auth.ErrBadCredentials)

	require.NoError(t, store.SetUserDisabled(f.ctx, f.db, "anna@acme.test", true))
	_, err = f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.1")
	require.ErrorIs(t, err, auth.ErrDisabled)
	// A wrong password on a disabled account says nothing about the account.
	_, err = f.login.Check(f.ctx, "anna@acme.test", "wrong", "192.0.2.1")
	require.ErrorIs(t, err, auth.ErrBadCredentials)
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	f := setupLogin(t)
	for range 5 {
		_, err := f.login.Check(f.ctx, "anna@acme.test", "wrong", "192.0.2.1")
		require.ErrorIs(t, err, auth.ErrBadCredentials)
		f.advance(time.Minute)
	}
	// Locked out, even with the right password…
	_, err := f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.1")
	var te *auth.ThrottledError
	require.True(t, errors.As(err, &te), "got %v", err)
	require.Equal(t, 10*time.Minute, te.RetryAfter) // the first failure was 5 minutes ago
	// …but not from another address.
	_, err = f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.2")
	require.NoError(t, err)

	// When the oldest failure leaves the window, one more try is allowed.
	f.advance(10 * time.Minute)
	u, err := f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.1")
	require.NoError(t, err)
	require.Equal(t, "anna@acme.test", u.Email)
	// And success clears the count.
	for range 4 {
		_, err = f.login.Check(f.ctx, "anna@acme.test", "wrong", "192.0.2.1")
		require.ErrorIs(t, err, auth.ErrBadCredentials)
	}
	_, err = f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.1")
	require.NoError(t, err)
}

func TestLoginThrottlePerIP(t *testing.T) {
	t.Parallel()
	f := setupLogin(t)
	f.login.MaxFailuresPerIP = 3
	for _, email := range []string{"a@acme.test", "b@acme.test", "c@acme.test"} {
		_, err := f.login.Check(f.ctx, email, "x", "192.0.2.9")
		require.ErrorIs(t, err, auth.ErrBadCredentials)
	}
	_, err := f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.9")
	var te *auth.ThrottledError
	require.True(t, errors.As(err, &te), "got %v", err)
	require.Equal(t, 15*time.Minute, te.RetryAfter)
}

func TestLoginUpgradesHash(t *testing.T) {
	t.Parallel()
	f := setupLogin(t)
	stronger := fast
	stronger.Time = 2
	f.login.Params = &stronger
	u, err := f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.1")
	require.NoError(t, err)
	require.Contains(t, u.PasswordHash, ",t=2,")
	stored, err := store.GetUserByEmail(f.ctx, f.db, "anna@acme.test")
	require.NoError(t, err)
	require.Equal(t, u.PasswordHash, stored.PasswordHash)
}
