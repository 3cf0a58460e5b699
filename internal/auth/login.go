package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trasloco/trasloco/internal/store"
)

var (
	// ErrBadCredentials is returned for an unknown email or a wrong
	// password alike, so the panel doesn't tell which emails exist.
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrBusy is returned when every password check slot is taken for
	// longer than HashWait: nothing was judged or recorded, try again.
	ErrBusy = errors.New("too many logins at once")
)

// ThrottledError is returned when too many logins failed recently.
type ThrottledError struct {
	RetryAfter time.Duration // how long to wait before trying again
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins: retry in %s", e.RetryAfter.Round(time.Second))
}

// Defaults of Login's throttling.
const (
	DefaultMaxFailures           = 5                // per email and client address
	DefaultMaxFailuresPerIP      = 50               // per client address, any email
	DefaultMaxFailuresPerAccount = 20               // per email, any address
	DefaultWindow                = 15 * time.Minute // the window failures are counted over
	DefaultHashWait              = 2 * time.Second  // how long a login waits for a hashing slot
)

// Login checks an email and password, slowing down guessing: after
// MaxFailures failed logins for one email from one address within Window,
// MaxFailuresPerIP from one address for any email, or
// MaxFailuresPerAccount for one email from any address, it refuses with a
// *ThrottledError until the oldest failure leaves the window. An IPv6
// client is counted by its /64 (one customer line holds 2^64 addresses).
//
// Each attempt is counted and recorded, under a lock per email and per
// address, before its password is hashed (and forgotten after a success),
// so a burst of concurrent guesses cannot pass the limits. Hashing
// (Argon2id, 64 MiB each by default) runs in at most MaxConcurrentHashes
// slots, so a burst cannot exhaust the memory of the process: a login
// that finds none free within HashWait gets ErrBusy. Use it by pointer;
// it is safe for concurrent use.
type Login struct {
	// DB is the pool.
	DB store.DBTX
	// Params are the hashing parameters new hashes use; a hash made with
	// others is upgraded at the next successful login. Default DefaultParams().
	Params *Params
	// MaxFailures defaults to DefaultMaxFailures.
	MaxFailures int
	// MaxFailuresPerIP defaults to DefaultMaxFailuresPerIP.
	MaxFailuresPerIP int
	// MaxFailuresPerAccount defaults to DefaultMaxFailuresPerAccount.
	MaxFailuresPerAccount int
	// Window defaults to DefaultWindow.
	Window time.Duration
	// MaxConcurrentHashes is how many passwords are hashed at once, at
	// most. Default runtime.NumCPU().
	MaxConcurrentHashes int
	// HashWait is how long a login waits for a hashing slot before
	// ErrBusy. Default DefaultHashWait.
	HashWait time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	dummyOnce sync.Once
	dummy     string
	slotsOnce sync.Once
	slots     chan struct{}
	// check is CheckPassword; tests count the hashes running at once.
	check func(hash, password string) (bool, error)
}

// limits are Login's settings with their defaults.
type limits struct {
	maxF, maxIP, maxAccount int
	window                  time.Duration
}

func (l *Login) defaults() (lim limits, now time.Time, p Params) {
	lim = limits{maxF: l.MaxFailures, maxIP: l.MaxFailuresPerIP, maxAccount: l.MaxFailuresPerAccount, window: l.Window}
	if lim.maxF <= 0 {
		lim.maxF = DefaultMaxFailures
	}
	if lim.maxIP <= 0 {
		lim.maxIP = DefaultMaxFailuresPerIP
	}
	if lim.maxAccount <= 0 {
		lim.maxAccount = DefaultMaxFailuresPerAccount
	}
	if lim.window <= 0 {
		lim.window = DefaultWindow
	}
	p = DefaultParams()
	if l.Params != nil {
		p = *l.Params
	}
	now = time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	return lim, now, p
}

// Check logs in email from client address ip. It returns the user, or
// ErrBadCredentials (also for a disabled user or tenant, even with the
// right password: the answer never confirms a password), a
// *ThrottledError, ErrBusy or an internal error.
func (l *Login) Check(ctx context.Context, email, password, ip string) (store.User, error) {
	lim, now, params := l.defaults()
	email = store.NormalizeEmail(email)
	ip = ClientKey(ip)

	release, err := l.acquire(ctx)
	if err != nil {
		return store.User{}, err
	}
	defer release()

	// Count and record this attempt before hashing; a success forgets it.
	if err := l.reserve(ctx, email, ip, lim, now); err != nil {
		return store.User{}, err
	}
	check := l.check
	if check == nil {
		check = CheckPassword
	}

	u, err := store.GetUserByEmail(ctx, l.DB, email)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as for a real user, so timing doesn't tell.
		l.dummyOnce.Do(func() { l.dummy = dummyHash(params) })
		_, _ = check(l.dummy, password)
		return store.User{}, ErrBadCredentials
	}
	if err != nil {
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	ok, err := check(u.PasswordHash, password)
	if err != nil {
		return store.User{}, fmt.Errorf("login %s: %w", email, err)
	}
	if !ok || u.Disabled || u.TenantDisabled {
		// A disabled account stays counted like a wrong password.
		return store.User{}, ErrBadCredentials
	}
	if err := store.ClearFailedLogins(ctx, l.DB, email, ip); err != nil {
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	if NeedsRehash(u.PasswordHash, params) {
		if h, err := HashPasswordWithParams(password, params); err == nil {
			if err := store.SetUserPassword(ctx, l.DB, email, h); err == nil {
				u.PasswordHash = h
			}
		}
	}
	return u, nil
}

// Hash hashes a new password with Login's parameters in one of the same
// hashing slots as the logins, so setting passwords (a change, a link, an
// invitation) cannot exhaust memory either; ErrBusy when no slot frees up
// within HashWait.
func (l *Login) Hash(ctx context.Context, password string) (string, error) {
	_, _, params := l.defaults()
	release, err := l.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPasswordWithParams(password, params)
}

// Verify checks password against hash in a hashing slot (see Hash): for a
// signed-in user confirming the current password.
func (l *Login) Verify(ctx context.Context, hash, password string) (bool, error) {
	release, err := l.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	check := l.check
	if check == nil {
		check = CheckPassword
	}
	return check(hash, password)
}

// acquire takes a hashing slot, waiting at most HashWait.
func (l *Login) acquire(ctx context.Context) (release func(), err error) {
	l.slotsOnce.Do(func() {
		n := l.MaxConcurrentHashes
		if n <= 0 {
			n = runtime.NumCPU()
		}
		l.slots = make(chan struct{}, n)
	})
	wait := l.HashWait
	if wait <= 0 {
		wait = DefaultHashWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// reserve refuses the attempt with a *ThrottledError when a limit is
// reached, else records it as a failure. Concurrent attempts for one email
// or from one address take their turn (advisory locks, email first), so
// each sees the ones before it.
func (l *Login) reserve(ctx context.Context, email, ip string, lim limits, now time.Time) error {
	var wait time.Duration
	err := pgx.BeginFunc(ctx, l.DB, func(tx pgx.Tx) error {
		if err := store.LockLoginAttempts(ctx, tx, email, ip); err != nil {
			return err
		}
		var err error
		if wait, err = retryAfter(ctx, tx, email, ip, lim, now); err != nil || wait > 0 {
			return err
		}
		return store.RecordFailedLogin(ctx, tx, email, ip, now)
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

func retryAfter(ctx context.Context, db store.DBTX, email, ip string, lim limits, now time.Time) (time.Duration, error) {
	since := now.Add(-lim.window)
	var wait time.Duration
	for _, c := range []struct {
		count func() (int, time.Time, error)
		max   int
	}{
		{func() (int, time.Time, error) { return store.FailedLogins(ctx, db, email, ip, since) }, lim.maxF},
		{func() (int, time.Time, error) { return store.FailedLoginsFromIP(ctx, db, ip, since) }, lim.maxIP},
		{func() (int, time.Time, error) { return store.FailedLoginsForEmail(ctx, db, email, since) }, lim.maxAccount},
	} {
		n, oldest, err := c.count()
		if err != nil {
			return 0, err
		}
		if n >= c.max {
			wait = max(wait, oldest.Add(lim.window).Sub(now))
		}
	}
	if wait > 0 {
		// Whole seconds, rounded up: what a Retry-After header carries.
		wait = (wait + time.Second - 1).Truncate(time.Second)
	}
	return wait, nil
}

// ClientKey is what failures are counted by for a client address: the
// address itself for IPv4 (an IPv4-mapped IPv6 address is IPv4), its /64
// for IPv6, the text unchanged when it is no address.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// dummyHash is a valid hash of nothing anyone types, with the same cost as
// real ones.
func dummyHash(p Params) string {
	h, err := HashPasswordWithParams("\x00trasloco-dummy\x00", p)
	if err != nil {
		return ""
	}
	return h
}
