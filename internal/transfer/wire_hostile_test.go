package transfer_test

// The wire's bounds against the scripted old server (testenv.Hostile): what
// a server sends that no IMAP reply needs ends in a typed error, never in a
// process that grows with it or waits for it. The heap is measured for the
// whole process, so these tests are not parallel: sequential tests run
// alone.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

func hostileEndpoint(srv *testenv.Hostile) transfer.Endpoint {
	return transfer.Endpoint{Host: srv.Addr(), TLS: transfer.TLSNone, User: srv.User(), Password: srv.Password()}
}

func TestWireHostileCheck(t *testing.T) {
	ctx := context.Background()
	to := transfer.Timeouts{Dial: 5 * time.Second, Command: 2 * time.Second}
	folders := standardFolders()
	t.Run("a 64 MiB LIST line", func(t *testing.T) {
		srv := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{ListLineBytes: 64 << 20}}, folders...)
		var err error
		peak := heapPeak(func() { _, err = transfer.Check(ctx, transfer.PresetStandardSSL, hostileEndpoint(srv), to, true) })
		var lerr *transfer.LineTooLongError
		require.True(t, errors.As(err, &lerr), "%v", err)
		require.Less(t, peak, uint64(48<<20), "heap peak growth")
		requireReadOnly(t, srv)
	})
	t.Run("a greeting of 16 MiB", func(t *testing.T) {
		srv := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{GreetingBytes: 16 << 20}}, folders...)
		var err error
		peak := heapPeak(func() { _, err = transfer.Check(ctx, transfer.PresetStandardSSL, hostileEndpoint(srv), to, false) })
		var lerr *transfer.LineTooLongError
		require.True(t, errors.As(err, &lerr), "%v", err)
		require.Less(t, peak, uint64(48<<20), "heap peak growth")
	})
	t.Run("no answer to LOGOUT", func(t *testing.T) {
		srv := testenv.StartHostile(t, testenv.HostileOptions{Faults: testenv.HostileFaults{NoLogoutReply: true}}, folders...)
		res, err := transfer.Check(ctx, transfer.PresetStandardSSL, hostileEndpoint(srv), to, true)
		require.NoError(t, err)
		require.EqualValues(t, 6, res.Messages["INBOX"])
	})
}

// A body literal over the size limit, whatever RFC822.SIZE said, is never
// read into memory nor appended, and the copy returns.
func TestWireHostileLiteralOverItsDeclaredSize(t *testing.T) {
	inbox := testenv.HostileFolder{Name: "INBOX", Messages: corpus(95, 3, 2000)}
	inbox.Messages[1].Pad, inbox.Messages[1].DeclaredSize = 40<<20, 900
	h := hostileSetup(t, testenv.HostileOptions{}, inbox)
	_, _, peak := h.run(t, h.job())
	require.Less(t, peak, uint64(64<<20), "heap peak growth")
	big := messageID(inbox.Messages[1].Body)
	require.NotEmpty(t, big)
	for id := range h.dstFolder(t, "INBOX") {
		require.NotContains(t, id, big, "the 40 MiB message is not at the destination")
	}
	requireReadOnly(t, h.srv)
}

// Garbage in a FETCH reply, and a BYE in the middle of one, end in an
// error or a retry, never in a crash or a wait.
func TestWireHostileGarbageAndBye(t *testing.T) {
	for name, f := range map[string]testenv.HostileFaults{
		"garbage":           {Garbage: []byte("\x00\xff{99999999999}\r\n\x01)))(((* * *")},
		"BYE in a FETCH":    {ByeMidFetch: 1},
		"LOGOUT unanswered": {NoLogoutReply: true},
	} {
		t.Run(name, func(t *testing.T) {
			h := hostileSetup(t, testenv.HostileOptions{Faults: f}, standardFolders()...)
			_, _, peak := h.run(t, h.job())
			require.Less(t, peak, uint64(64<<20), "heap peak growth")
			requireReadOnly(t, h.srv)
		})
	}
}
