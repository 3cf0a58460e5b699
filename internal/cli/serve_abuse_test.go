package cli_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// Against a real trasloco serve (real Argon2 parameters): twenty wrong
// passwords at once for one account from one client are at most five
// judged (401); the others are throttled (429) or told to come back
// (503), never hashed.
func TestServeLoginBurst(t *testing.T) {
	t.Parallel()
	db := testenv.NewTestDB(t)
	ctx := context.Background()
	tn, err := store.CreateTenant(ctx, db, store.NewTenant{Name: "acme", NotifyEmail: "it@acme.test", Domains: []string{"acme.test"}})
	require.NoError(t, err)
	hash, err := auth.HashPassword("the right one")
	require.NoError(t, err)
	_, err = store.CreateUser(ctx, db, tn.ID, store.NewUser{Email: "anna@acme.test", PasswordHash: hash})
	require.NoError(t, err)
	addr := freeAddr(t)
	s := start(t, serveEnv(db.Config().ConnString(), addr), "serve")
	code, _ := httpGet(t, "http://"+addr+"/login", s.logs)
	require.Equal(t, http.StatusOK, code)

	statuses := make(chan int, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			form := url.Values{"email": {"anna@acme.test"}, "password": {"wrong"}}
			req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/login", strings.NewReader(form.Encode()))
			if err != nil {
				statuses <- -1
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for st := range statuses {
		counts[st]++
	}
	require.LessOrEqual(t, counts[http.StatusUnauthorized], 5, "%v", counts)
	require.Equal(t, 20, counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable], "%v", counts)
	var failures int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM login_attempts WHERE email = 'anna@acme.test'`).Scan(&failures))
	require.LessOrEqual(t, failures, 5, "attempts recorded")
}
