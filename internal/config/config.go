// Package config reads trasloco's settings from the environment.
//
// Load reads everything `serve` and `worker` need; LoadDatabase reads only
// what `migrate` and `admin` need. Every error names the variable at fault.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Names of the environment variables Load reads.
const (
	EnvDatabaseURL        = "DATABASE_URL"
	EnvListen             = "TRASLOCO_LISTEN"
	EnvBaseURL            = "TRASLOCO_BASE_URL"
	EnvSecretKey          = "TRASLOCO_SECRET_KEY"
	EnvDestHost           = "TRASLOCO_DEST_HOST"
	EnvDestTLS            = "TRASLOCO_DEST_TLS"
	EnvDestMasterUser     = "TRASLOCO_DEST_MASTER_USER"
	EnvDestMasterPassword = "TRASLOCO_DEST_MASTER_PASSWORD"
	EnvDestCAFile         = "TRASLOCO_DEST_CA_FILE"
	EnvSMTPURL            = "TRASLOCO_SMTP_URL"
	EnvSMTPFrom           = "TRASLOCO_SMTP_FROM"
	EnvAllowRemoteNets    = "TRASLOCO_ALLOW_REMOTE_NETS"
	EnvTrustedProxies     = "TRASLOCO_TRUSTED_PROXIES"
	EnvPinRemoteAddr      = "TRASLOCO_PIN_REMOTE_ADDR"
	EnvWorkers            = "TRASLOCO_WORKERS"
	EnvPerHostLimit       = "TRASLOCO_PER_HOST_LIMIT"
	EnvMailboxSlice       = "TRASLOCO_MAILBOX_SLICE"
	EnvRetryBackoff       = "TRASLOCO_RETRY_BACKOFF"
	EnvJobPoll            = "TRASLOCO_JOB_POLL"
	EnvFlushInterval      = "TRASLOCO_FLUSH_INTERVAL"
	EnvFolderLanes        = "TRASLOCO_FOLDER_LANES"
	EnvMetricsListen      = "TRASLOCO_METRICS_LISTEN"
	EnvPprof              = "TRASLOCO_PPROF"
	EnvMemoryLimit        = "TRASLOCO_MEMORY_LIMIT"
	EnvMinRate            = "TRASLOCO_MIN_RATE"
	EnvRateWindow         = "TRASLOCO_RATE_WINDOW"
	EnvMailboxBudget      = "TRASLOCO_MAILBOX_BUDGET"
	EnvMSClientID         = "TRASLOCO_MS_CLIENT_ID"
	EnvMSClientSecret     = "TRASLOCO_MS_CLIENT_SECRET"
	EnvMSAuthority        = "TRASLOCO_MS_AUTHORITY"
	EnvGoogleKeyFile      = "TRASLOCO_GOOGLE_KEY_FILE"
	EnvAllowRemotePorts   = "TRASLOCO_ALLOW_REMOTE_PORTS"
	EnvDenyRemoteNets     = "TRASLOCO_DENY_REMOTE_NETS"
	EnvOwnIMAPHosts       = "TRASLOCO_OWN_IMAP_HOSTS"
	EnvPerTenantLimit     = "TRASLOCO_PER_TENANT_LIMIT"
	EnvMaxScheduleAhead   = "TRASLOCO_MAX_SCHEDULE_AHEAD"
	EnvMigrationsPerHour  = "TRASLOCO_MIGRATIONS_PER_HOUR"
	EnvForbidPlainLogin   = "TRASLOCO_FORBID_PLAIN_LOGIN"
)

// Defaults of the optional settings.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultWorkers      = 4
	DefaultPerHostLimit = 4
)

// TLSMode is how a connection to an IMAP or SMTP server is secured.
type TLSMode string

// The TLS modes TRASLOCO_DEST_TLS accepts.
const (
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (IMAPS, port 993)
	TLSStartTLS TLSMode = "starttls" // plain connection upgraded with STARTTLS (port 143)
	TLSNone     TLSMode = "none"     // plain text; development and tests only
)

// Config is the whole configuration of a trasloco process.
type Config struct {
	// DatabaseURL is the PostgreSQL connection string (DATABASE_URL). Required.
	DatabaseURL string
	// Listen is the HTTP listen address (TRASLOCO_LISTEN). Default 127.0.0.1:8080.
	Listen string
	// BaseURL is the panel's public URL, used in emails (TRASLOCO_BASE_URL).
	// Default http://<Listen>.
	BaseURL *url.URL
	// SecretKey is the 32-byte key that encrypts remote passwords at rest and
	// signs sessions (TRASLOCO_SECRET_KEY, base64 or hex). Required.
	SecretKey []byte
	// Dest is the provider's own IMAP server, where mail is copied to.
	Dest Dest
	// SMTP is where completion emails are sent.
	SMTP SMTP
	// AllowRemoteNets lists non-public networks a customer's remote host may
	// nevertheless resolve to (TRASLOCO_ALLOW_REMOTE_NETS, comma-separated
	// CIDRs). Default none: loopback, private and link-local are refused.
	AllowRemoteNets []netip.Prefix
	// TrustedProxies lists the reverse proxies whose X-Forwarded-For the
	// panel believes, so login throttling counts the client's address and
	// not the proxy's (TRASLOCO_TRUSTED_PROXIES, comma-separated CIDRs).
	// Default none: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// PinRemoteAddr makes the runs dial the address validation reached
	// instead of resolving the host again (TRASLOCO_PIN_REMOTE_ADDR). Default true.
	PinRemoteAddr bool
	// Workers is the number of mailboxes copied at once by this process
	// (TRASLOCO_WORKERS). Default 4.
	Workers int
	// PerHostLimit caps concurrent connections to one remote host, in
	// validation and in runs (TRASLOCO_PER_HOST_LIMIT). Default 4.
	PerHostLimit int
	// HostLimits are the caps of the remote hosts matching a pattern,
	// first match wins, instead of PerHostLimit: the operator's
	// (TRASLOCO_HOST_LIMITS, see ParseHostLimits), then the built-in
	// DefaultHostLimits of Gmail and Office 365 they do not replace.
	HostLimits []HostLimit
	// MinRate is the slowest an old server may send, in bytes a second,
	// over RateWindow of waiting for it, before the attempt is cut and
	// retried later (TRASLOCO_MIN_RATE, TRASLOCO_RATE_WINDOW a Go
	// duration). Default 2048 over 5m.
	MinRate    int
	RateWindow time.Duration
	// MailboxBudget is the most time one mailbox's copy may take in a run,
	// all attempts together (TRASLOCO_MAILBOX_BUDGET, a Go duration).
	// Default 12h.
	MailboxBudget time.Duration
	// MailboxSlice is the longest one attempt of a mailbox copy works
	// before going on in a fresh attempt; it also sets how soon the copy
	// of a worker process that died is taken up again
	// (TRASLOCO_MAILBOX_SLICE, a Go duration). Default 20m.
	MailboxSlice time.Duration
	// RetryBackoff is the back-off unit of a mailbox that failed for a
	// passing reason: retry n waits n² times it (TRASLOCO_RETRY_BACKOFF).
	// Default 30s.
	RetryBackoff time.Duration
	// JobPoll is how long a mailbox waits before looking again when its
	// remote host is at its limit or its run 1 is still going
	// (TRASLOCO_JOB_POLL). Default 10s.
	JobPoll time.Duration
	// FlushInterval is how often a copying mailbox writes its counters,
	// log and checkpoints, in one transaction.
	FlushInterval time.Duration
	// FolderLanes is the most folders of one mailbox a copy has in flight
	// at once, each with a connection of its own to the old server and
	// its own to ours (TRASLOCO_FOLDER_LANES, 1 to 8). Default 2; a
	// mailbox whose folders are not worth it copies one at a time.
	FolderLanes int
	// MetricsListen is the address of a small HTTP server with /healthz,
	// /readyz and /metrics, without login, for probes and Prometheus
	// (TRASLOCO_METRICS_LISTEN, host:port, e.g. 127.0.0.1:9090). Default
	// none: not started.
	MetricsListen string
	// Pprof adds Go's profiler (/debug/pprof/) to the metrics listener, to
	// find where a worker's time goes (TRASLOCO_PPROF, true or false).
	// Default false; it does nothing without TRASLOCO_METRICS_LISTEN.
	Pprof bool
	// MemoryLimit is the soft memory limit in bytes that serve and worker
	// give the Go runtime when GOMEMLIMIT is not set
	// (TRASLOCO_MEMORY_LIMIT: 1GiB, 768MiB, 2GB, bytes; "off" for none).
	// Default DefaultMemoryLimit.
	MemoryLimit int64
	// AllowRemotePorts are the ports a customer's remote host may be
	// reached on (TRASLOCO_ALLOW_REMOTE_PORTS, comma-separated; list 143
	// and 993 too if they stay allowed; "any" for every port, in
	// development only). Default 143,993.
	AllowRemotePorts []uint16
	// AllowAnyRemotePort is TRASLOCO_ALLOW_REMOTE_PORTS=any.
	AllowAnyRemotePort bool
	// DenyRemoteNets are networks a customer's remote host may never
	// resolve to, public or not: the provider's own
	// (TRASLOCO_DENY_REMOTE_NETS, comma-separated CIDRs). Default none.
	DenyRemoteNets []netip.Prefix
	// PerTenantLimit caps the mailboxes of one tenant copied at once,
	// across every process (TRASLOCO_PER_TENANT_LIMIT). Default 3: keep it
	// below the total of TRASLOCO_WORKERS, so other tenants get slots.
	PerTenantLimit int
	// MaxScheduleAhead is how far ahead a first run may be scheduled
	// (TRASLOCO_MAX_SCHEDULE_AHEAD, a Go duration). Default 2160h (90 days).
	MaxScheduleAhead time.Duration
	// MigrationsPerHour caps the migrations one tenant creates in an hour
	// (TRASLOCO_MIGRATIONS_PER_HOUR). Default 20.
	MigrationsPerHour int
	// ForbidPlainLogin refuses to send a customer's remote password in
	// plain text: Standard-no-SSL then needs the old server to offer
	// STARTTLS (TRASLOCO_FORBID_PLAIN_LOGIN). Default false.
	ForbidPlainLogin bool
	// OwnIMAPHosts are the names (or addresses) customers know our own
	// IMAP server by, refused as a remote host together with
	// TRASLOCO_DEST_HOST and their addresses (TRASLOCO_OWN_IMAP_HOSTS,
	// comma-separated). Default none.
	OwnIMAPHosts []string
	// OAuth holds the operator's registrations at Microsoft and Google, for
	// the customers whose old server wants OAuth2 instead of passwords.
	OAuth OAuth
}

// OAuth is the operator's registrations with the providers. Each provider
// is optional: without it, its customers use passwords (app passwords).
type OAuth struct {
	// MSClientID and MSClientSecret are the multi-tenant application
	// registered in Microsoft Entra ID (TRASLOCO_MS_CLIENT_ID,
	// TRASLOCO_MS_CLIENT_SECRET): both or neither. The secret is never
	// logged.
	MSClientID     string
	MSClientSecret string
	// MSAuthority is Microsoft's identity platform (TRASLOCO_MS_AUTHORITY).
	// Default https://login.microsoftonline.com; tests point it at a local
	// server.
	MSAuthority string
	// GoogleKeyFile is the JSON key file of the service account with
	// domain-wide delegation (TRASLOCO_GOOGLE_KEY_FILE). Default none.
	GoogleKeyFile string
}

// Dest is the destination IMAP server, reached with a master user.
type Dest struct {
	// Addr is host:port (TRASLOCO_DEST_HOST); the port defaults to 993 for
	// implicit TLS and 143 otherwise. Required.
	Addr string
	// TLS is TRASLOCO_DEST_TLS: implicit (default), starttls or none.
	TLS TLSMode
	// MasterUser and MasterPassword log in on behalf of every destination
	// mailbox (TRASLOCO_DEST_MASTER_USER, TRASLOCO_DEST_MASTER_PASSWORD). Required.
	MasterUser     string
	MasterPassword string
	// CAFile is an optional PEM file of extra CAs to trust, for self-signed
	// development certificates (TRASLOCO_DEST_CA_FILE).
	CAFile string
}

// SMTP is the mail server completion emails go through.
type SMTP struct {
	// Host and Port come from TRASLOCO_SMTP_URL; the port defaults to 25
	// for smtp:// and 465 for smtps://. Required.
	Host string
	Port int
	// TLS is implicit for smtps://; for smtp:// it is starttls when
	// ?starttls=1 (or =true) is given, else none.
	TLS TLSMode
	// Username and Password come from the URL's user:pass, if any.
	Username string
	Password string
	// From is the sender address (TRASLOCO_SMTP_FROM). Required.
	From string
}

// Error is a configuration error; it names the environment variable.
type Error struct {
	Var string
	Err error
}

func (e *Error) Error() string { return e.Var + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

var errMissing = errors.New("is required but not set")

func bad(name string, format string, args ...any) error {
	return &Error{Var: name, Err: fmt.Errorf(format, args...)}
}

// LoadDatabase reads only DATABASE_URL: all that `migrate` and `admin` need.
func LoadDatabase(getenv func(string) string) (string, error) {
	v := strings.TrimSpace(getenv(EnvDatabaseURL))
	if v == "" {
		return "", &Error{Var: EnvDatabaseURL, Err: errMissing}
	}
	return v, nil
}

// Load reads and checks the whole configuration. It reports every bad or
// missing variable at once (joined), each naming its variable.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	var errs []error
	fail := func(err error) { errs = append(errs, err) }
	required := func(name string) string {
		v := get(name)
		if v == "" {
			fail(&Error{Var: name, Err: errMissing})
		}
		return v
	}

	var c Config
	var err error
	c.DatabaseURL = required(EnvDatabaseURL)

	c.Listen = get(EnvListen)
	if c.Listen == "" {
		c.Listen = DefaultListen
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		fail(bad(EnvListen, "want host:port, got %q", c.Listen))
	}

	if c.MetricsListen = get(EnvMetricsListen); c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			fail(bad(EnvMetricsListen, "want host:port, got %q", c.MetricsListen))
		}
	}

	if v := get(EnvBaseURL); v == "" {
		c.BaseURL = &url.URL{Scheme: "http", Host: c.Listen}
	} else if c.BaseURL, err = parseBaseURL(v); err != nil {
		fail(&Error{Var: EnvBaseURL, Err: err})
	}

	if v := required(EnvSecretKey); v != "" {
		if c.SecretKey, err = parseKey(v); err != nil {
			fail(&Error{Var: EnvSecretKey, Err: err})
		}
	}

	c.Dest.TLS = TLSImplicit
	if v := get(EnvDestTLS); v != "" {
		switch m := TLSMode(strings.ToLower(v)); m {
		case TLSImplicit, TLSStartTLS, TLSNone:
			c.Dest.TLS = m
		default:
			fail(bad(EnvDestTLS, "want implicit, starttls or none, got %q", v))
		}
	}
	if v := required(EnvDestHost); v != "" {
		port := "993"
		if c.Dest.TLS != TLSImplicit {
			port = "143"
		}
		if c.Dest.Addr, err = hostPort(v, port); err != nil {
			fail(&Error{Var: EnvDestHost, Err: err})
		}
	}
	c.Dest.MasterUser = required(EnvDestMasterUser)
	// A password may legitimately start or end with spaces: don't trim it.
	c.Dest.MasterPassword = getenv(EnvDestMasterPassword)
	if c.Dest.MasterPassword == "" {
		fail(&Error{Var: EnvDestMasterPassword, Err: errMissing})
	}
	c.Dest.CAFile = get(EnvDestCAFile)

	if v := required(EnvSMTPURL); v != "" {
		if err := parseSMTP(v, &c.SMTP); err != nil {
			fail(&Error{Var: EnvSMTPURL, Err: err})
		}
	}
	if v := required(EnvSMTPFrom); v != "" {
		if !strings.Contains(v, "@") {
			fail(bad(EnvSMTPFrom, "want an email address, got %q", v))
		}
		c.SMTP.From = v
	}

	c.AllowRemoteNets = prefixes(get, EnvAllowRemoteNets, fail)
	c.TrustedProxies = prefixes(get, EnvTrustedProxies, fail)
	c.DenyRemoteNets = prefixes(get, EnvDenyRemoteNets, fail)
	c.AllowRemotePorts = []uint16{143, 993}
	if v := get(EnvAllowRemotePorts); strings.EqualFold(strings.TrimSpace(v), "any") {
		c.AllowRemotePorts, c.AllowAnyRemotePort = nil, true
	} else if v != "" {
		c.AllowRemotePorts = nil
		for _, s := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 || n > 65535 {
				fail(bad(EnvAllowRemotePorts, "%q is not a port like 993", strings.TrimSpace(s)))
				continue
			}
			c.AllowRemotePorts = append(c.AllowRemotePorts, uint16(n))
		}
	}
	for _, s := range strings.Split(get(EnvOwnIMAPHosts), ",") {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			c.OwnIMAPHosts = append(c.OwnIMAPHosts, s)
		}
	}

	c.PinRemoteAddr = true
	if v := get(EnvPinRemoteAddr); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail(bad(EnvPinRemoteAddr, "want true or false, got %q", v))
		}
		c.PinRemoteAddr = b
	}

	c.OAuth.MSClientID = get(EnvMSClientID)
	c.OAuth.MSClientSecret = getenv(EnvMSClientSecret)
	switch {
	case c.OAuth.MSClientID != "" && c.OAuth.MSClientSecret == "":
		fail(bad(EnvMSClientSecret, "is required when %s is set", EnvMSClientID))
	case c.OAuth.MSClientID == "" && c.OAuth.MSClientSecret != "":
		fail(bad(EnvMSClientID, "is required when %s is set", EnvMSClientSecret))
	}
	c.OAuth.MSAuthority = "https://login.microsoftonline.com"
	if v := get(EnvMSAuthority); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			fail(bad(EnvMSAuthority, "want an http(s) URL like https://login.microsoftonline.com, got %q", v))
		} else {
			c.OAuth.MSAuthority = strings.TrimRight(v, "/")
		}
	}
	c.OAuth.GoogleKeyFile = get(EnvGoogleKeyFile)
	if v := get(EnvPprof); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail(bad(EnvPprof, "want true or false, got %q", v))
		}
		c.Pprof = b
	}

	if v := get(EnvForbidPlainLogin); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail(bad(EnvForbidPlainLogin, "want true or false, got %q", v))
		}
		c.ForbidPlainLogin = b
	}

	c.Workers = positiveInt(get, EnvWorkers, DefaultWorkers, fail)
	c.PerHostLimit = positiveInt(get, EnvPerHostLimit, DefaultPerHostLimit, fail)
	c.PerTenantLimit = positiveInt(get, EnvPerTenantLimit, 3, fail)
	if rules, err := ParseHostLimits(get(EnvHostLimits)); err != nil {
		fail(&Error{Var: EnvHostLimits, Err: err})
	} else {
		c.HostLimits = WithDefaultHostLimits(rules)
	}
	c.MaxScheduleAhead = positiveDuration(get, EnvMaxScheduleAhead, 90*24*time.Hour, fail)
	c.MigrationsPerHour = positiveInt(get, EnvMigrationsPerHour, 20, fail)
	c.MailboxSlice = positiveDuration(get, EnvMailboxSlice, 20*time.Minute, fail)
	c.MinRate = positiveInt(get, EnvMinRate, 2048, fail)
	c.RateWindow = positiveDuration(get, EnvRateWindow, 5*time.Minute, fail)
	c.MailboxBudget = positiveDuration(get, EnvMailboxBudget, 12*time.Hour, fail)
	c.RetryBackoff = positiveDuration(get, EnvRetryBackoff, 30*time.Second, fail)
	c.JobPoll = positiveDuration(get, EnvJobPoll, 10*time.Second, fail)
	c.FlushInterval = positiveDuration(get, EnvFlushInterval, time.Second, fail)
	if c.FolderLanes = positiveInt(get, EnvFolderLanes, 2, fail); c.FolderLanes > 8 {
		fail(bad(EnvFolderLanes, "want a whole number from 1 to 8, got %q", get(EnvFolderLanes)))
	}
	c.MemoryLimit = memoryLimit(get, fail)

	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// prefixes reads a comma-separated list of CIDRs.
func prefixes(get func(string) string, name string, fail func(error)) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range strings.Split(get(name), ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			fail(bad(name, "%q is not a CIDR like 127.0.0.0/8", s))
			continue
		}
		out = append(out, p.Masked())
	}
	return out
}

func positiveDuration(get func(string) string, name string, def time.Duration, fail func(error)) time.Duration {
	v := get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		fail(bad(name, "want a positive duration like 90s or 20m, got %q", v))
		return def
	}
	return d
}

func positiveInt(get func(string) string, name string, def int, fail func(error)) int {
	v := get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		fail(bad(name, "want a whole number from 1 to 10000, got %q", v))
		return def
	}
	return n
}

func parseKey(v string) ([]byte, error) {
	if len(v) == 64 {
		if k, err := hex.DecodeString(v); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(v); err == nil {
			if len(k) != 32 {
				return nil, fmt.Errorf("decodes to %d bytes, want 32 (generate one with: openssl rand -base64 32)", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("want 32 bytes as base64 or 64 hex digits (generate one with: openssl rand -base64 32)")
}

func parseBaseURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("want an absolute http(s) URL, got %q", v)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// hostPort checks host[:port] and adds defPort when the port is missing.
func hostPort(v, defPort string) (string, error) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		// No port (or an unbracketed IPv6 address).
		host, port = strings.Trim(v, "[]"), defPort
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return "", fmt.Errorf("want host or host:port, got %q", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("bad port in %q", v)
	}
	return net.JoinHostPort(host, port), nil
}

func parseSMTP(v string, s *SMTP) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("want smtp://[user:pass@]host[:port] or smtps://…, got an unparsable URL")
	}
	defPort := 25
	switch u.Scheme {
	case "smtp":
		s.TLS = TLSNone
		if st := u.Query().Get("starttls"); st != "" {
			on, err := strconv.ParseBool(st)
			if err != nil {
				return fmt.Errorf("starttls=%q: want true or false", st)
			}
			if on {
				s.TLS = TLSStartTLS
			}
		}
	case "smtps":
		s.TLS, defPort = TLSImplicit, 465
	default:
		return fmt.Errorf("scheme %q: want smtp or smtps", u.Scheme)
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return errors.New("no host")
	}
	s.Port = defPort
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("bad port %q", p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	return nil
}
