package transfer

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/stretchr/testify/require"
)

func TestThrottleText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text  string
		ok    bool
		wait  time.Duration
		daily bool
	}{
		{text: "Request is throttled. Suggested Backoff Time: 162823 milliseconds", ok: true, wait: 162823 * time.Millisecond},
		{text: "[UNAVAILABLE] Request is throttled. Suggested Backoff Time: 5 seconds", ok: true, wait: 5 * time.Second},
		{text: "Request is throttled.", ok: true},
		{text: "[ALERT] Account exceeded command or bandwidth limits. (Failure)", ok: true},
		{text: "[OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)", ok: true},
		{text: "[ALERT] Too many simultaneous connections. (Failure)", ok: true},
		{text: "Bandwidth limit exceeded: daily limit reached, try again later", ok: true, daily: true},
		{text: "[THROTTLED] Slow down", ok: true},
		{text: "[AUTHENTICATIONFAILED] Authentication failed.", ok: false},
		{text: "Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)", ok: false},
		{text: "LOGIN failed.", ok: false},
		{text: "Mailbox is over quota", ok: false},
		// RFC 5530's LIMIT is an implementation limit, not a request to
		// wait: the message fails alone, the mailbox goes on.
		{text: "[LIMIT] Too many flags on this message", ok: false},
		// A hostile server's back-off: the longest it names stays in
		// range (the caller bounds it), anything else is none.
		{text: "Request is throttled. Suggested Backoff Time: 999999999 seconds", ok: true, wait: 999999999 * time.Second},
		{text: "Request is throttled. Suggested Backoff Time: 99999999999999999999 milliseconds", ok: true},
		{text: "Request is throttled. Suggested Backoff Time: -5000 milliseconds", ok: true},
		{text: "Request is throttled. Suggested Backoff Time: soon", ok: true},
		{text: "Suggested Backoff Time: 1e9 milliseconds", ok: false},
	}
	for _, tt := range tests {
		wait, daily, ok := throttleText(tt.text)
		require.Equal(t, tt.ok, ok, tt.text)
		require.Equal(t, tt.wait, wait, tt.text)
		require.Equal(t, tt.daily, daily, tt.text)
	}
}

// A server's throttling reply is found in an error chain, and is neither
// a refused password nor retried at once.
func TestIsThrottled(t *testing.T) {
	t.Parallel()
	no := &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Request is throttled. Suggested Backoff Time: 2000 milliseconds"}
	te, ok := IsThrottled(fmt.Errorf("copy folder: %w", folderError{no}))
	require.True(t, ok)
	require.Equal(t, 2*time.Second, te.Wait)
	require.False(t, retriable(fmt.Errorf("x: %w", no)))

	ce := classifyLogin(SideSource, "outlook.office365.com:993", no)
	require.Equal(t, ReasonThrottled, ce.Reason)
	require.Contains(t, ce.Detail, "Suggested Backoff Time")
	te, ok = IsThrottled(ce)
	require.True(t, ok)
	require.Equal(t, 2*time.Second, te.Wait)

	auth := classifyLogin(SideSource, "imap.gmail.com:993", &imap.Error{Type: imap.StatusResponseTypeNo, Text: "[AUTHENTICATIONFAILED] Invalid credentials (Failure)"})
	require.Equal(t, ReasonAuth, auth.Reason)
	_, ok = IsThrottled(auth)
	require.False(t, ok)
	_, ok = IsThrottled(errors.New("connection reset by peer"))
	require.False(t, ok)
	_, ok = IsThrottled(fmt.Errorf("select %q: %w", "Request is throttled", errors.New("connection reset by peer")))
	require.False(t, ok, "a folder's name is not the server's reply")

	// The response code is the reply's too: go-imap and our wire keep it
	// apart from the text ("NO [THROTTLED] Slow down" has Text "Slow down").
	te, ok = IsThrottled(&imap.Error{Type: imap.StatusResponseTypeNo, Code: "THROTTLED", Text: "Slow down"})
	require.True(t, ok)
	require.Equal(t, "Slow down", te.Text, "the server's words, as the customer reads them")
	_, ok = IsThrottled(&imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit, Text: "Too many flags"})
	require.False(t, ok, "RFC 5530's LIMIT is not a request to wait")
}
