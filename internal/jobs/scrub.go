package jobs

import (
	"encoding/base64"
	"strings"

	"github.com/trasloco/trasloco/internal/i18n"
)

// redacted replaces a secret in a text.
const redacted = "[redacted]"

// minSecretLen is the shortest secret scrubbed: a shorter one would
// redact ordinary letters everywhere.
const minSecretLen = 3

// scrubber removes the secrets of one copy or one check from the texts a
// remote (or our own) server sends, before they reach a log, a page,
// river_job.errors or an email: a hostile or careless server may echo
// what it was sent. Each secret is removed as written and in the base64
// forms a login sends it in (the secret alone, AUTHENTICATE PLAIN,
// XOAUTH2).
type scrubber struct{ secrets []string }

// newScrubber returns the scrubber of a login of user (authenticating as
// authUser, the master user, when not empty) with these secrets (the
// password, the master password, a token).
func newScrubber(user, authUser string, secrets ...string) scrubber {
	var s scrubber
	add := func(v string) {
		if len(v) >= minSecretLen {
			s.secrets = append(s.secrets, v)
		}
	}
	b64 := base64.StdEncoding.EncodeToString
	for _, v := range secrets {
		if len(v) < minSecretLen {
			continue
		}
		add(v)
		add(b64([]byte(v)))
		add(b64([]byte("\x00" + user + "\x00" + v)))
		add(b64([]byte(user + "\x00" + authUser + "\x00" + v)))
		add(b64([]byte("user=" + user + "\x01auth=Bearer " + v + "\x01\x01")))
	}
	// The longest first: a base64 form is not cut by a shorter secret.
	for i := 1; i < len(s.secrets); i++ {
		for j := i; j > 0 && len(s.secrets[j]) > len(s.secrets[j-1]); j-- {
			s.secrets[j], s.secrets[j-1] = s.secrets[j-1], s.secrets[j]
		}
	}
	return s
}

// with adds more secrets (the destination's master password).
func (s scrubber) with(o scrubber) scrubber {
	return scrubber{secrets: append(append([]string(nil), s.secrets...), o.secrets...)}
}

// text is t without the secrets.
func (s scrubber) text(t string) string {
	for _, v := range s.secrets {
		if strings.Contains(t, v) {
			t = strings.ReplaceAll(t, v, redacted)
		}
	}
	return t
}

// err is err with a scrubbed message; errors.Is and errors.As still see
// the original chain (whose texts must not be shown as they are).
func (s scrubber) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := s.text(msg); clean != msg {
		return scrubbedError{msg: clean, err: err}
	}
	return err
}

type scrubbedError struct {
	msg string
	err error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.err }

// msg is m without the secrets in its texts, each cut to n bytes.
func (s scrubber) msg(m i18n.Msg, n int) i18n.Msg {
	return m.MapText(func(t string) string { return clip(s.text(t), n) })
}
