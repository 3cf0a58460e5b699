package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trasloco/trasloco/internal/store"
)

var (
	// ErrBadCredentials is returned for an unknown email or a wrong
	// password alike, so the panel doesn't tell which emails exist.
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrDisabled is returned, after a correct password, for a disabled
	// user or a user of a disabled tenant.
	ErrDisabled = errors.New("account disabled")
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
	DefaultMaxFailures      = 5                // per email and client address
	DefaultMaxFailuresPerIP = 50               // per client address, any email
	DefaultWindow           = 15 * time.Minute // the window failures are counted over
)

// Login checks an email and password, slowing down guessing: after
// MaxFailures failed logins for one email from one address within Window,
// or MaxFailuresPerIP from one address for any email, it refuses with a
// *ThrottledError until the oldest failure leaves the window. Use it by
// pointer; it is safe for concurrent use.
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
	// Window defaults to DefaultWindow.
	Window time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	dummyOnce sync.Once
	dummy     string
}

func (l *Login) defaults() (maxF, maxIP int, window time.Duration, now time.Time, p Params) {
	maxF, maxIP, window, p = l.MaxFailures, l.MaxFailuresPerIP, l.Window, DefaultParams()
	if maxF <= 0 {
		maxF = DefaultMaxFailures
	}
	if maxIP <= 0 {
		maxIP = DefaultMaxFailuresPerIP
	}
	if window <= 0 {
		window = DefaultWindow
	}
	if l.Params != nil {
		p = *l.Params
	}
	now = time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	return maxF, maxIP, window, now, p
}

// Check logs in email from client address ip. It returns the user, or
// ErrBadCredentials, ErrDisabled, a *ThrottledError or an internal error.
func (l *Login) Check(ctx context.Context, email, password, ip string) (store.User, error) {
	maxF, maxIP, window, now, params := l.defaults()
	email = store.NormalizeEmail(email)

	if wait, err := l.retryAfter(ctx, email, ip, maxF, maxIP, window, now); err != nil {
		return store.User{}, err
	} else if wait > 0 {
		return store.User{}, &ThrottledError{RetryAfter: wait}
	}

	u, err := store.GetUserByEmail(ctx, l.DB, email)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as for a real user, so timing doesn't tell.
		l.dummyOnce.Do(func() { l.dummy = dummyHash(params) })
		_, _ = CheckPassword(l.dummy, password)
		return store.User{}, l.fail(ctx, email, ip, now)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	ok, err := CheckPassword(u.PasswordHash, password)
	if err != nil {
		return store.User{}, fmt.Errorf("login %s: %w", email, err)
	}
	if !ok {
		return store.User{}, l.fail(ctx, email, ip, now)
	}
	if err := store.ClearFailedLogins(ctx, l.DB, email, ip); err != nil {
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	if u.Disabled || u.TenantDisabled {
		return store.User{}, ErrDisabled
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

func (l *Login) fail(ctx context.Context, email, ip string, now time.Time) error {
	if err := store.RecordFailedLogin(ctx, l.DB, email, ip, now); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return ErrBadCredentials
}

func (l *Login) retryAfter(ctx context.Context, email, ip string, maxF, maxIP int, window time.Duration, now time.Time) (time.Duration, error) {
	since := now.Add(-window)
	n, oldest, err := store.FailedLogins(ctx, l.DB, email, ip, since)
	if err != nil {
		return 0, fmt.Errorf("login: %w", err)
	}
	var wait time.Duration
	if n >= maxF {
		wait = oldest.Add(window).Sub(now)
	}
	nIP, oldestIP, err := store.FailedLoginsFromIP(ctx, l.DB, ip, since)
	if err != nil {
		return 0, fmt.Errorf("login: %w", err)
	}
	if nIP >= maxIP {
		wait = max(wait, oldestIP.Add(window).Sub(now))
	}
	if wait > 0 {
		// Whole seconds, rounded up: what a Retry-After header carries.
		wait = (wait + time.Second - 1).Truncate(time.Second)
	}
	return wait, nil
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
