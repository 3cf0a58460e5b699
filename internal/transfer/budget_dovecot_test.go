package transfer

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// TestBudgetGivenBackWhenTheAppenderBreaks: the pipelined appender's
// connection breaks while the source streams bodies ahead of it; the bodies
// waiting for an appender give their memory back, so the process's budget,
// shared by every copy of a worker (and the lanes of a mailbox), is whole
// again once the copy ended. Not parallel: it reads the process's budget.
func TestBudgetGivenBackWhenTheAppenderBreaks(t *testing.T) {
	src, dst := testenv.SharedDovecot(t)
	srcUser, dstUser := testenv.UniqueUser(t, "old.test"), testenv.UniqueUser(t, "acme.test")
	require.NoError(t, src.AddUser(srcUser, "old-pass"))
	require.NoError(t, dst.AddUser(dstUser, "new-pass"))
	c := src.Dial(t, srcUser, "old-pass")
	var ms []testenv.Msg
	for i := range 300 {
		ms = append(ms, testenv.BuildMessage(171, i, 20000))
	}
	testenv.Append(t, c, "INBOX", ms...)

	var cut atomic.Bool
	addr := testenv.Proxy(t, dst.PlainAddr(), func(c, up net.Conn, n int) {
		if n != 2 {
			testenv.ProxyPipe(c, up)
			return
		}
		// The first pipe: cut after a few messages went up.
		cut.Store(true)
		go io.Copy(c, up)
		io.CopyN(up, c, 300_000)
	})
	job := Job{
		Preset:  PresetStandardNoSSL,
		Source:  Endpoint{Host: src.PlainAddr(), TLS: TLSNone, User: srcUser, Password: "old-pass"},
		Dest:    Endpoint{Host: addr, TLS: TLSNone, User: dstUser, AuthUser: dst.MasterUser(), Password: dst.MasterPassword()},
		Backoff: func(int) time.Duration { return 50 * time.Millisecond },
	}
	res, err := Run(context.Background(), job)
	require.NoError(t, err)
	require.True(t, cut.Load())
	require.Equal(t, 300, res.Copied+res.AlreadyThere)
	require.True(t, processBudget.TryAcquire(ProcessInFlightBytes), "the process's in-flight budget is not whole after the copy")
	processBudget.Release(ProcessInFlightBytes)
}
