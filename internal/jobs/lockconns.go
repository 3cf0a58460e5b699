package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockConns keeps the connections that held a mailbox job's advisory
// locks, released, for the next job: opening one cost each small mailbox
// about 12 ms (a PostgreSQL backend started and authenticated) before its
// copy began. A connection goes back only once pg_advisory_unlock_all()
// succeeded on it, so a job never finds another's locks there; one whose
// unlock failed is closed, which drops its locks, as before. A process
// that dies drops them all with its connections.
type lockConns struct {
	mu   sync.Mutex
	idle []idleLockConn
}

type idleLockConn struct {
	c     *pgx.Conn
	since time.Time
}

const (
	// maxIdleLockConns bounds the connections kept between jobs.
	maxIdleLockConns = 16
	// lockConnMaxIdle is how long a connection may wait for its next job.
	lockConnMaxIdle = time.Minute
)

// get returns a connection for a job's locks, holding none: a kept one
// that still answers a ping (a server restarted meanwhile would fail the
// job's first lock, and the job wait for its retry), or a new one.
func (l *lockConns) get(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	for {
		l.mu.Lock()
		n := len(l.idle)
		if n == 0 {
			l.mu.Unlock()
			return pgx.ConnectConfig(ctx, cfg)
		}
		ic := l.idle[n-1]
		l.idle = l.idle[:n-1]
		l.mu.Unlock()
		idle := time.Since(ic.since)
		if ic.c.IsClosed() || idle > lockConnMaxIdle || ic.c.Ping(ctx) != nil {
			_ = ic.c.Close(context.WithoutCancel(ctx))
			continue
		}
		return ic.c, nil
	}
}

// put releases every advisory lock of c and keeps it for the next job, or
// closes it when the unlock failed or enough are kept.
func (l *lockConns) put(ctx context.Context, c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := c.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err == nil && !c.IsClosed() {
		l.mu.Lock()
		if len(l.idle) < maxIdleLockConns {
			l.idle = append(l.idle, idleLockConn{c: c, since: time.Now()})
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
	}
	_ = c.Close(ctx)
}
