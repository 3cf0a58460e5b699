package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/health"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// pinger counts pings and fails while err is set.
type pinger struct {
	n   atomic.Int32
	err atomic.Pointer[error]
}

func (p *pinger) Ping(context.Context) error {
	p.n.Add(1)
	if e := p.err.Load(); e != nil {
		return *e
	}
	return nil
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestReadyAgainstDovecot(t *testing.T) {
	t.Parallel()
	_, dst := testenv.SharedDovecot(t)
	db := &pinger{}
	tests := []struct {
		name string
		dest transfer.Endpoint
		ok   bool
	}{
		{"implicit tls", transfer.Endpoint{Host: dst.TLSAddr(), TLS: transfer.TLSImplicit, RootCAs: dst.CAPool()}, true},
		{"starttls", transfer.Endpoint{Host: dst.PlainAddr(), TLS: transfer.TLSStartTLS, RootCAs: dst.CAPool()}, true},
		{"plain", transfer.Endpoint{Host: dst.PlainAddr(), TLS: transfer.TLSNone}, true},
		{"untrusted certificate", transfer.Endpoint{Host: dst.TLSAddr(), TLS: transfer.TLSImplicit}, false},
		{"nothing listening", transfer.Endpoint{Host: closedPort(t), TLS: transfer.TLSImplicit}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := health.New(health.Options{DB: db, Dest: tt.dest, Timeout: 5 * time.Second})
			rep := c.Check(context.Background())
			require.Equal(t, tt.ok, rep.OK(), "%+v", rep)
			require.Equal(t, "ok", rep.Checks[health.CheckDatabase])
			if tt.ok {
				require.Equal(t, "ok", rep.Checks[health.CheckDestination])
			} else {
				require.NotEqual(t, "ok", rep.Checks[health.CheckDestination])
			}
		})
	}
}

func TestReadyzAndCache(t *testing.T) {
	t.Parallel()
	db := &pinger{}
	dest := closedPort(t)
	c := health.New(health.Options{DB: db, Dest: transfer.Endpoint{Host: dest, TLS: transfer.TLSNone}, CacheFor: 300 * time.Millisecond})
	mux := health.Mux(c, nil)

	code, body := get(t, mux, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	// With detail (the private listener), the reason is in the body.
	code, body = get(t, mux, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	var rep health.Report
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	require.Equal(t, "unavailable", rep.Status)
	require.Equal(t, "ok", rep.Checks[health.CheckDatabase])
	require.Contains(t, rep.Checks[health.CheckDestination], dest)
	require.Contains(t, rep.Checks[health.CheckDestination], "refused")

	// Cached: many probes, one check.
	for range 20 {
		code, _ = get(t, mux, "/readyz")
		require.Equal(t, http.StatusServiceUnavailable, code)
	}
	require.Equal(t, int32(1), db.n.Load())

	// Once the cache expires, a failing database is seen, and named.
	e := errors.New("connection refused by postgres")
	db.err.Store(&e)
	time.Sleep(350 * time.Millisecond)
	_, body = get(t, c.Readyz(false), "/readyz")
	require.JSONEq(t, `{"status":"unavailable","checks":{"database":"failed","destination":"failed"}}`, body)
	require.Equal(t, int32(2), db.n.Load())

	// No metrics handler: no /metrics.
	code, _ = get(t, mux, "/metrics")
	require.Equal(t, http.StatusNotFound, code)
}

func TestReadyWithoutDestination(t *testing.T) {
	t.Parallel()
	c := health.New(health.Options{DB: &pinger{}})
	code, body := get(t, c.Readyz(true), "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"ok","checks":{"database":"ok"}}`, body)
}
