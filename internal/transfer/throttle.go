package transfer

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// ReasonThrottled is a server that asks to slow down: too many
// connections, commands or bytes for the account, or its daily limit.
const ReasonThrottled Reason = "throttled"

// ThrottledError is the source server's request to slow down (Office
// 365's "Request is throttled. Suggested Backoff Time: N milliseconds",
// Gmail's "Account exceeded command or bandwidth limits" and daily-limit
// replies), at login or during the copy. The copy stops where it is (its
// checkpoints are written) so the caller can wait and go on; retrying at
// once would only make it worse.
type ThrottledError struct {
	// Wait is the back-off the server suggested; 0 when it named none.
	Wait time.Duration
	// Daily says the server named a daily limit: it lifts in hours.
	Daily bool
	// Text is the server's own words (they may echo what they were sent:
	// scrub before showing).
	Text string
	Err  error
}

func (e *ThrottledError) Error() string {
	return "the source server asks to slow down: " + e.Text
}

func (e *ThrottledError) Unwrap() error { return e.Err }

var (
	// suggestedBackoff is Exchange Online's "Suggested Backoff Time:
	// 12345 milliseconds".
	suggestedBackoff = regexp.MustCompile(`(?i)suggested\s+backoff\s+time:?\s*(\d{1,9})\s*(milliseconds?|ms|seconds?|s)\b`)
	// throttlePhrases are the words of the providers' throttling replies
	// (lower case). Not RFC 5530's [LIMIT]: that is an implementation limit
	// (too many flags on a message, a message too big), which waiting does
	// not lift — a server answering it to one message every time would hold
	// the whole mailbox in back-offs until its budget ran out.
	throttlePhrases = []string{
		"request is throttled",                        // Exchange, Office 365
		"account exceeded command or bandwidth limit", // Gmail
		"bandwidth limit exceeded",                    // Gmail
		"too many simultaneous connections",           // Gmail
		"[throttled]",                                 // RFC 5530-like code some servers send
		"server is busy",                              // Exchange
	}
	// dailyPhrases say the limit is per day (Gmail's download and upload
	// quotas).
	dailyPhrases = []string{"daily limit", "daily user", "per day", "24 hours", "quota exceeded for the day"}
)

// throttleText reports whether a server's text is a request to slow
// down, with the back-off it suggests (0 when none) and whether the limit
// is daily.
func throttleText(text string) (wait time.Duration, daily, ok bool) {
	low := strings.ToLower(text)
	for _, p := range dailyPhrases {
		if strings.Contains(low, p) && (strings.Contains(low, "limit") || strings.Contains(low, "exceeded") || strings.Contains(low, "quota")) {
			daily, ok = true, true
		}
	}
	for _, p := range throttlePhrases {
		ok = ok || strings.Contains(low, p)
	}
	if m := suggestedBackoff.FindStringSubmatch(text); m != nil {
		ok = true
		n, _ := strconv.Atoi(m[1])
		unit := time.Millisecond
		if u := strings.ToLower(m[2]); u == "s" || strings.HasPrefix(u, "second") {
			unit = time.Second
		}
		wait = time.Duration(n) * unit
	}
	return wait, daily, ok
}

// IsThrottled reports whether err is (or holds) a server's request to slow
// down: a ThrottledError, or a server's reply (NO, BAD, BYE, an
// *imap.Error) in err's chain whose words are one.
func IsThrottled(err error) (*ThrottledError, bool) {
	if err == nil {
		return nil, false
	}
	var te *ThrottledError
	if errors.As(err, &te) {
		return te, true
	}
	// Only the server's own reply: a folder's name in an error's text
	// must not pass for one.
	var ierr *imap.Error
	if !errors.As(err, &ierr) {
		return nil, false
	}
	// go-imap (and our wire) keep the response code apart from the text:
	// "NO [THROTTLED] …" is Code THROTTLED, and is recognised with it.
	text, coded := ierr.Text, ierr.Text
	if ierr.Code != "" {
		coded = "[" + string(ierr.Code) + "] " + text
	}
	if wait, daily, ok := throttleText(coded); ok {
		return &ThrottledError{Wait: wait, Daily: daily, Text: strings.TrimSpace(text), Err: err}, true
	}
	return nil, false
}
