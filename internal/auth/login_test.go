package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
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
	// The right password on a disabled account answers like a wrong one:
	// it never confirms a password.
	_, err = f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.1")
	require.ErrorIs(t, err, auth.ErrBadCredentials)
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

// A burst of concurrent wrong passwords for one account from one client:
// each attempt is counted before it is hashed, so exactly MaxFailures are
// judged and the rest throttled.
func TestLoginBurstCannotPassTheLimit(t *testing.T) {
	t.Parallel()
	f := setupLogin(t)
	var hashes atomic.Int32
	auth.SetCheck(f.login, func(h, pw string) (bool, error) { hashes.Add(1); return auth.CheckPassword(h, pw) })
	errs := make(chan error, 20)
	for range 20 {
		go func() {
			_, err := f.login.Check(f.ctx, "anna@acme.test", "wrong", "192.0.2.1")
			errs <- err
		}()
	}
	var bad, throttled int
	for range 20 {
		err := <-errs
		var te *auth.ThrottledError
		switch {
		case errors.Is(err, auth.ErrBadCredentials):
			bad++
		case errors.As(err, &te):
			throttled++
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	require.Equal(t, auth.DefaultMaxFailures, bad)
	require.Equal(t, 20-auth.DefaultMaxFailures, throttled)
	require.EqualValues(t, auth.DefaultMaxFailures, hashes.Load(), "only judged attempts are hashed")
}

// However many logins arrive at once, at most MaxConcurrentHashes
// passwords are hashed at a time (each Argon2id hash holds 64 MiB); the
// others wait for a slot, or get ErrBusy after HashWait.
func TestLoginHashesBounded(t *testing.T) {
	t.Parallel()
	f := setupLogin(t)
	f.login.MaxConcurrentHashes = 3
	f.login.HashWait = time.Hour
	var cur, peak atomic.Int32
	release := make(chan struct{})
	auth.SetCheck(f.login, func(h, pw string) (bool, error) {
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		cur.Add(-1)
		return auth.CheckPassword(h, pw)
	})
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			// 20 accounts from 20 addresses: no limit applies.
			_, err := f.login.Check(f.ctx, fmt.Sprintf("u%d@acme.test", i), "x", fmt.Sprintf("192.0.2.%d", i+1))
			errs <- err
		}()
	}
	require.Eventually(t, func() bool { return cur.Load() == 3 }, 30*time.Second, 5*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // room for more to start, were they allowed to
	require.EqualValues(t, 3, cur.Load())
	close(release)
	for range 20 {
		require.ErrorIs(t, <-errs, auth.ErrBadCredentials)
	}
	require.EqualValues(t, 3, peak.Load())

	// With every slot taken for longer than HashWait: ErrBusy, and
	// nothing recorded.
	f.login.HashWait = 50 * time.Millisecond
	block := make(chan struct{})
	auth.SetCheck(f.login, func(string, string) (bool, error) { cur.Add(1); <-block; return false, nil })
	for i := range 3 {
		go func() { _, _ = f.login.Check(f.ctx, "x@acme.test", "x", fmt.Sprintf("198.51.100.%d", i+1)) }()
	}
	require.Eventually(t, func() bool { return cur.Load() == 3 }, 30*time.Second, 5*time.Millisecond)
	_, err := f.login.Check(f.ctx, "anna@acme.test", "wrong", "203.0.113.1")
	require.ErrorIs(t, err, auth.ErrBusy)
	close(block)
	n, _, err := store.FailedLogins(f.ctx, f.db, "anna@acme.test", "203.0.113.1", time.Time{})
	require.NoError(t, err)
	require.Zero(t, n, "a login refused as busy is not counted")
}

// IPv6 clients are counted by their /64; every account has a cap across
// addresses too.
func TestLoginThrottleIPv6AndAccount(t *testing.T) {
	t.Parallel()
	f := setupLogin(t)
	f.login.MaxFailures = 3
	for i := range 3 {
		_, err := f.login.Check(f.ctx, "anna@acme.test", "wrong", fmt.Sprintf("2001:db8:1:2::%x", i+1))
		require.ErrorIs(t, err, auth.ErrBadCredentials)
	}
	var te *auth.ThrottledError
	_, err := f.login.Check(f.ctx, "anna@acme.test", "right", "2001:db8:1:2:ffff:1:2:3")
	require.True(t, errors.As(err, &te), "another address of the same /64: got %v", err)
	_, err = f.login.Check(f.ctx, "anna@acme.test", "right", "2001:db8:1:3::1")
	require.NoError(t, err, "another /64")

	g := setupLogin(t)
	g.login.MaxFailuresPerAccount = 4
	for i := range 4 {
		_, err := g.login.Check(g.ctx, "anna@acme.test", "wrong", fmt.Sprintf("192.0.2.%d", i+1))
		require.ErrorIs(t, err, auth.ErrBadCredentials)
	}
	_, err = g.login.Check(g.ctx, "anna@acme.test", "right", "198.51.100.7")
	require.True(t, errors.As(err, &te), "a fresh address, the account's cap: got %v", err)
	_, err = g.login.Check(g.ctx, "other@acme.test", "x", "198.51.100.7")
	require.ErrorIs(t, err, auth.ErrBadCredentials, "other accounts are not affected")
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::1%eth0": "2001:db8:1:2::/64",
		"not an address":       "not an address",
	} {
		require.Equal(t, want, auth.ClientKey(in), in)
	}
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

// Setting and confirming passwords (Hash, Verify) take the same hashing
// slots as the logins: with every slot held by a login, both answer
// ErrBusy; once it is free they work.
func TestHashAndVerifyShareTheSlots(t *testing.T) {
	t.Parallel()
	f := setupLogin(t)
	f.login.MaxConcurrentHashes = 1
	f.login.HashWait = 50 * time.Millisecond
	held, release := make(chan struct{}), make(chan struct{})
	auth.SetCheck(f.login, func(h, pw string) (bool, error) {
		select {
		case held <- struct{}{}:
			<-release
		default:
		}
		return auth.CheckPassword(h, pw)
	})
	done := make(chan error, 1)
	go func() { _, err := f.login.Check(f.ctx, "anna@acme.test", "right", "192.0.2.1"); done <- err }()
	<-held
	_, err := f.login.Hash(f.ctx, "new password")
	require.ErrorIs(t, err, auth.ErrBusy)
	_, err = f.login.Verify(f.ctx, "irrelevant", "x")
	require.ErrorIs(t, err, auth.ErrBusy)
	close(release)
	require.NoError(t, <-done)

	h, err := f.login.Hash(f.ctx, "new password")
	require.NoError(t, err)
	ok, err := f.login.Verify(f.ctx, h, "new password")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = f.login.Verify(f.ctx, h, "wrong")
	require.NoError(t, err)
	require.False(t, ok)
}
