package cli_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/cli"
	"github.com/trasloco/trasloco/internal/testenv"
)

// started runs a subcommand of cli.Run in the background; stop cancels
// it and waits (at most bound) for its exit code.
type started struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan int
	logs   *lockedBuffer
}

func start(t *testing.T, env map[string]string, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{t: t, cancel: cancel, done: make(chan int, 1), logs: &lockedBuffer{}}
	go func() {
		s.done <- cli.Run(ctx, args, cli.Env{Getenv: func(k string) string { return env[k] }, Stdout: s.logs, Stderr: s.logs})
	}()
	t.Cleanup(func() { s.stop(30 * time.Second) })
	return s
}

func (s *started) stop(bound time.Duration) int {
	s.t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for a second stop (the cleanup)
		return code
	case <-time.After(bound):
		s.t.Fatalf("did not stop within %s: %s", bound, s.logs.String())
		return -1
	}
}

// httpGet waits until url answers, then returns its status and body.
func httpGet(t *testing.T, url string, logs *lockedBuffer) (int, string) {
	t.Helper()
	var (
		code int
		body string
	)
	require.Eventually(t, func() bool {
		res, err := http.Get(url)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		code, body = res.StatusCode, string(b)
		return true
	}, 20*time.Second, 50*time.Millisecond, "%s did not answer: %s", url, logs.String())
	return code, body
}

func TestServeProbesAndMetrics(t *testing.T) {
	t.Parallel()
	db := testenv.NewTestDB(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env := serveEnv(db.Config().ConnString(), addr) // the destination, 127.0.0.1:1, is down
	env["TRASLOCO_METRICS_LISTEN"] = metricsAddr
	s := start(t, env, "serve")

	code, body := httpGet(t, "http://"+addr+"/healthz", s.logs)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	code, body = httpGet(t, "http://"+addr+"/readyz", s.logs)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.JSONEq(t, `{"status":"unavailable","checks":{"database":"ok","destination":"failed"}}`, body)

	// On the panel, /metrics needs an operator's session.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	// The metrics listener: no login, and the reasons in /readyz.
	code, body = httpGet(t, "http://"+metricsAddr+"/readyz", s.logs)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, `"database":"ok"`)
	require.Contains(t, body, "127.0.0.1:1")
	code, body = httpGet(t, "http://"+metricsAddr+"/healthz", s.logs)
	require.Equal(t, http.StatusOK, code)
	// The leader inserts the periodic password purge on start.
	require.Eventually(t, func() bool {
		_, body = httpGet(t, "http://"+metricsAddr+"/metrics", s.logs)
		return strings.Contains(body, `trasloco_river_jobs{kind="purge_passwords",state=`)
	}, 20*time.Second, 200*time.Millisecond, "no River jobs in the metrics")
	for _, want := range []string{"trasloco_mailboxes_started_total 0", `trasloco_mailboxes_ended_total{outcome="completed"} 0`, "go_goroutines "} {
		require.Contains(t, body, want)
	}

	require.Equal(t, cli.ExitOK, s.stop(30*time.Second), s.logs.String())
	require.NotContains(t, s.logs.String(), "hunter2")
}

func TestWorkerMetricsListener(t *testing.T) {
	t.Parallel()
	db := testenv.NewTestDB(t)
	_, dst := testenv.SharedDovecot(t)
	metricsAddr := freeAddr(t)
	env := serveEnv(db.Config().ConnString(), "127.0.0.1:0")
	env["TRASLOCO_DEST_HOST"] = dst.TLSAddr()
	env["TRASLOCO_DEST_TLS"] = "implicit"
	env["TRASLOCO_DEST_CA_FILE"] = dst.CAFile()
	env["TRASLOCO_METRICS_LISTEN"] = metricsAddr
	s := start(t, env, "worker")

	code, body := httpGet(t, "http://"+metricsAddr+"/readyz", s.logs)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"status":"ok","checks":{"database":"ok","destination":"ok"}}`, body)
	code, body = httpGet(t, "http://"+metricsAddr+"/metrics", s.logs)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "trasloco_messages_copied_total 0")
	code, _ = httpGet(t, "http://"+metricsAddr+"/debug/pprof/cmdline", s.logs)
	require.Equal(t, http.StatusNotFound, code, "no profiler unless TRASLOCO_PPROF says so")

	require.Equal(t, cli.ExitOK, s.stop(30*time.Second), s.logs.String())
	require.Contains(t, s.logs.String(), `"msg":"metrics listener started"`)
}

// TestWorkerPprof: TRASLOCO_PPROF=1 adds Go's profiler to the metrics
// listener; a CPU profile of the running worker comes back in pprof's
// format (gzip-compressed protocol buffer).
func TestWorkerPprof(t *testing.T) {
	t.Parallel()
	db := testenv.NewTestDB(t)
	_, dst := testenv.SharedDovecot(t)
	metricsAddr := freeAddr(t)
	env := serveEnv(db.Config().ConnString(), "127.0.0.1:0")
	env["TRASLOCO_DEST_HOST"] = dst.TLSAddr()
	env["TRASLOCO_DEST_TLS"] = "implicit"
	env["TRASLOCO_DEST_CA_FILE"] = dst.CAFile()
	env["TRASLOCO_METRICS_LISTEN"] = metricsAddr
	env["TRASLOCO_PPROF"] = "1"
	s := start(t, env, "worker")

	code, body := httpGet(t, "http://"+metricsAddr+"/debug/pprof/", s.logs)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "goroutine")
	code, body = httpGet(t, "http://"+metricsAddr+"/debug/pprof/profile?seconds=1", s.logs)
	require.Equal(t, http.StatusOK, code, body)
	require.True(t, strings.HasPrefix(body, "\x1f\x8b"), "a gzip-compressed profile")

	require.Equal(t, cli.ExitOK, s.stop(30*time.Second), s.logs.String())
	require.Contains(t, s.logs.String(), `"pprof":true`)
}
