package testenv

import (
	"errors"
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Connect returns a client logged in as user over the plain port (no TLS).
// The caller closes it. It is the non-test form of Dial, for benchmarks.
func (d *Dovecot) Connect(user, password string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(d.PlainAddr(), nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s dovecot: %w", d.role, err)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("log in to %s dovecot as %s: %w", d.role, user, err)
	}
	return c, nil
}

// Dial returns a client logged in as user over the plain port, for seeding
// and checking mailboxes; it is closed in t.Cleanup. A failure is t.Fatal.
func (d *Dovecot) Dial(t testing.TB, user, password string) *imapclient.Client {
	t.Helper()
	c, err := d.Connect(user, password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// AppendMessages appends msgs to mailbox with their flags and dates,
// creating the mailbox first when it is missing. It is the non-test form of
// Append, for benchmarks.
func AppendMessages(c *imapclient.Client, mailbox string, msgs ...Msg) error {
	if err := ensureMailbox(c, mailbox); err != nil {
		return err
	}
	for i, m := range msgs {
		cmd := c.Append(mailbox, int64(len(m.Raw)), &imap.AppendOptions{Flags: m.Flags, Time: m.Date})
		if _, err := cmd.Write(m.Raw); err != nil {
			_ = cmd.Close()
			_, werr := cmd.Wait()
			return fmt.Errorf("append message %d to %s: %w", i, mailbox, errors.Join(err, werr))
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("append message %d to %s: %w", i, mailbox, err)
		}
		if _, err := cmd.Wait(); err != nil {
			return fmt.Errorf("append message %d to %s: %w", i, mailbox, err)
		}
	}
	return nil
}

// Append appends msgs to mailbox with their flags and dates, creating the
// mailbox first when it is missing. A failure is t.Fatal.
func Append(t testing.TB, c *imapclient.Client, mailbox string, msgs ...Msg) {
	t.Helper()
	if err := AppendMessages(c, mailbox, msgs...); err != nil {
		t.Fatal(err)
	}
}

// ensureMailbox creates mailbox (and, as Dovecot does, its parents) unless it
// already exists.
func ensureMailbox(c *imapclient.Client, mailbox string) error {
	list, err := c.List("", mailbox, nil).Collect()
	if err != nil {
		return fmt.Errorf("list %s: %w", mailbox, err)
	}
	for _, l := range list {
		if l.Mailbox == mailbox || (len(mailbox) == 5 && l.Mailbox == "INBOX") {
			return nil
		}
	}
	if err := c.Create(mailbox, nil).Wait(); err != nil {
		var ierr *imap.Error
		if errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		return fmt.Errorf("create %s: %w", mailbox, err)
	}
	return nil
}
