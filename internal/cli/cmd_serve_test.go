package cli_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/cli"
	"github.com/trasloco/trasloco/internal/testenv"
)

// lockedBuffer is a bytes.Buffer safe for the serve goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func serveEnv(dbURL, listen string) map[string]string {
	return map[string]string{
		"DATABASE_URL":                  dbURL,
		"TRASLOCO_LISTEN":               listen,
		"TRASLOCO_SECRET_KEY":           "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"TRASLOCO_DEST_HOST":            "127.0.0.1:1",
		"TRASLOCO_DEST_TLS":             "none",
		"TRASLOCO_DEST_MASTER_USER":     "master",
		"TRASLOCO_DEST_MASTER_PASSWORD": "hunter2",
		"TRASLOCO_SMTP_URL":             "smtp://127.0.0.1:1",
		"TRASLOCO_SMTP_FROM":            "trasloco@provider.test",
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestServe(t *testing.T) {
	t.Parallel()
	db := testenv.NewTestDB(t)
	addr := freeAddr(t)
	env := serveEnv(db.Config().ConnString(), addr)
	env["TRASLOCO_BASE_URL"] = "https://panel.example" // behind a TLS proxy: HSTS

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve"}, cli.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stderr, Stderr: &stderr})
	}()

	var res *http.Response
	require.Eventually(t, func() bool {
		var err error
		res, err = http.Get("http://" + addr + "/login")
		return err == nil
	}, 20*time.Second, 50*time.Millisecond, "serve did not start: %s", stderr.String())
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "max-age=31536000", res.Header.Get("Strict-Transport-Security"))
	require.Contains(t, stderr.String(), `"msg":"trasloco serve started"`)

	cancel()
	select {
	case code := <-done:
		require.Equal(t, cli.ExitOK, code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop: %s", stderr.String())
	}
	require.Contains(t, stderr.String(), `"msg":"stopped"`)
	require.NotContains(t, stderr.String(), "hunter2")
}

func TestServeRefuses(t *testing.T) {
	t.Parallel()
	t.Run("schema behind", func(t *testing.T) {
		t.Parallel()
		db := testenv.NewEmptyTestDB(t)
		r := runner{t: t, env: serveEnv(db.Config().ConnString(), freeAddr(t))}
		code, _, errs := r.run("serve")
		require.Equal(t, cli.ExitPartial, code)
		require.Contains(t, errs, "run trasloco migrate")
	})
	for _, v := range []string{"TRASLOCO_SECRET_KEY", "TRASLOCO_DEST_HOST", "DATABASE_URL"} {
		t.Run("missing "+v, func(t *testing.T) {
			t.Parallel()
			env := serveEnv("postgres:///x", "127.0.0.1:0")
			delete(env, v)
			code, _, errs := runner{t: t, env: env}.run("serve")
			require.Equal(t, cli.ExitUsage, code)
			require.Contains(t, errs, v+": is required")
		})
	}
	t.Run("malformed listen", func(t *testing.T) {
		t.Parallel()
		env := serveEnv("postgres:///x", "8080")
		code, _, errs := runner{t: t, env: env}.run("serve")
		require.Equal(t, cli.ExitUsage, code)
		require.Contains(t, errs, "TRASLOCO_LISTEN")
	})
	t.Run("stray argument", func(t *testing.T) {
		t.Parallel()
		code, _, errs := runner{t: t, env: map[string]string{}}.run("serve", "now")
		require.Equal(t, cli.ExitUsage, code)
		require.Contains(t, errs, strconv.Quote("now"))
	})
}
