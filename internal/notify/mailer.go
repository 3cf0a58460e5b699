package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/trasloco/trasloco/internal/config"
)

// SenderName is the display name of the sender when TRASLOCO_SMTP_FROM
// gives none ("Nome <addr>" keeps its own).
const SenderName = "Trasloco"

// DefaultTimeout bounds one Send: connecting, TLS, authentication and the
// transfer of the message.
const DefaultTimeout = 30 * time.Second

// Mailer sends run emails through one SMTP server. It is safe for
// concurrent use: every Send opens its own connection.
type Mailer struct {
	from     string
	fromAddr *mail.Address
	password string // only to keep it out of error texts
	opts     []gomail.Option
	host     string
	// Timeout bounds one Send. Default DefaultTimeout.
	Timeout time.Duration
}

// NewMailer checks cfg and returns a Mailer for it. The TLS mode maps to
// go-mail's policies: none sends in clear (development and tests),
// starttls insists on STARTTLS, implicit speaks TLS from the first byte.
// With a Username it authenticates with the strongest mechanism the server
// offers; over a connection without TLS that is PLAIN, which only a server
// configured for it accepts.
func NewMailer(cfg config.SMTP) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("new mailer: no SMTP host")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("new mailer: sender %q: %w", cfg.From, err)
	}
	m := &Mailer{from: cfg.From, fromAddr: from, password: cfg.Password, host: cfg.Host, Timeout: DefaultTimeout}
	port := cfg.Port
	if port == 0 {
		port = 25
		if cfg.TLS == config.TLSImplicit {
			port = 465
		}
	}
	m.opts = append(m.opts, gomail.WithPort(port))
	switch cfg.TLS {
	case config.TLSNone:
		m.opts = append(m.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case config.TLSStartTLS:
		m.opts = append(m.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case config.TLSImplicit:
		m.opts = append(m.opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("new mailer: unknown TLS mode %q", cfg.TLS)
	}
	if cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if cfg.TLS == config.TLSNone {
			// AutoDiscover refuses PLAIN and LOGIN in clear; the operator
			// asked for no TLS, so send them anyway.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		m.opts = append(m.opts,
			gomail.WithSMTPAuth(auth),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
		)
	}
	// Fail now on options go-mail rejects, rather than at the first Send.
	if _, err := gomail.NewClient(m.host, m.opts...); err != nil {
		return nil, m.scrub(fmt.Errorf("new mailer: %w", err))
	}
	return m, nil
}

// Send composes the email of r (Compose) and sends it to the address to,
// with the Message-ID <messageID> (given "@" and the sender's domain when
// it has no "@"), so that sending the same run's email again after a
// crash is recognisably the same message. It gives up after m.Timeout.
// Errors never contain the SMTP password.
func (m *Mailer) Send(ctx context.Context, to string, r RunReport, messageID string) error {
	msg, err := m.message(to, r, messageID)
	if err != nil {
		return fmt.Errorf("send run email: %w", err)
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Clip: concurrent Sends must not append into one shared array.
	c, err := gomail.NewClient(m.host, append(slices.Clip(m.opts), gomail.WithTimeout(timeout))...)
	if err != nil {
		return m.scrub(fmt.Errorf("send run email: %w", err))
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return m.scrub(fmt.Errorf("send run email to %s via %s: %w", to, c.ServerAddr(), err))
	}
	return nil
}

// recipients reads to: one address, or several separated by commas (a
// tenant's notification addresses), each checked.
func recipients(to string) ([]string, error) {
	if strings.ContainsAny(to, "\r\n") {
		return nil, fmt.Errorf("recipient %q is not an email address", to)
	}
	list, err := mail.ParseAddressList(to)
	if err != nil || len(list) == 0 {
		return nil, fmt.Errorf("recipient %q is not an email address", to)
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Address
	}
	return out, nil
}

// SendText sends a short plain-text email (an invitation, a password
// reset link) to one address, through the same SMTP server as the run
// emails. Errors never contain the SMTP password.
func (m *Mailer) SendText(ctx context.Context, to, subject, text string) error {
	rcpts, err := recipients(to)
	if err != nil || len(rcpts) != 1 {
		return fmt.Errorf("send email: recipient %q is not one email address", to)
	}
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return fmt.Errorf("send email: sender %q: %w", m.from, err)
	}
	if err := msg.To(rcpts[0]); err != nil {
		return fmt.Errorf("send email: recipient %q: %w", to, err)
	}
	msg.Subject(subject)
	msg.SetMessageID()
	msg.SetDate()
	msg.SetUserAgent("Trasloco")
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, text)
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := gomail.NewClient(m.host, append(slices.Clip(m.opts), gomail.WithTimeout(timeout))...)
	if err != nil {
		return m.scrub(fmt.Errorf("send email: %w", err))
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return m.scrub(fmt.Errorf("send email to %s via %s: %w", to, c.ServerAddr(), err))
	}
	return nil
}

// message builds the email.
func (m *Mailer) message(to string, r RunReport, messageID string) (*gomail.Msg, error) {
	rcpts, err := recipients(to)
	if err != nil {
		return nil, err
	}
	messageID = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(messageID), "<"), ">")
	if messageID == "" || strings.ContainsAny(messageID, "<> \t\r\n") {
		return nil, fmt.Errorf("message id %q: want a non-empty id without spaces or angle brackets", messageID)
	}
	if !strings.Contains(messageID, "@") {
		messageID += "@" + m.fromAddr.Address[strings.LastIndex(m.fromAddr.Address, "@")+1:]
	}

	subject, text, html := Compose(r)
	msg := gomail.NewMsg()
	// A sender with no display name of its own shows as "Trasloco".
	if m.fromAddr.Name == "" {
		if err := msg.FromFormat(SenderName, m.fromAddr.Address); err != nil {
			return nil, fmt.Errorf("sender %q: %w", m.from, err)
		}
	} else if err := msg.From(m.from); err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.from, err)
	}
	if err := msg.To(rcpts...); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", to, err)
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(messageID)
	msg.SetDate()
	msg.SetUserAgent("Trasloco")
	// RFC 3834: an automatic message; and no out-of-office replies, please.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, text)
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	return msg, nil
}

// scrub removes the SMTP password from an error's text, should a server or
// a library ever echo it. The error still unwraps to the original.
func (m *Mailer) scrub(err error) error {
	if err == nil || m.password == "" || !strings.Contains(err.Error(), m.password) {
		return err
	}
	return &scrubbedError{msg: strings.ReplaceAll(err.Error(), m.password, "[password]"), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
