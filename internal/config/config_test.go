package config_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
)

var testKey = bytes.Repeat([]byte{0xab}, 32)

// setup returns a complete, valid environment the cases then change.
func setup(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		config.EnvDatabaseURL:        "postgres://u@localhost/trasloco",
		config.EnvSecretKey:          base64.StdEncoding.EncodeToString(testKey),
		config.EnvDestHost:           "imap.provider.test",
		config.EnvDestMasterUser:     "master",
		config.EnvDestMasterPassword: "m4ster",
		config.EnvSMTPURL:            "smtp://127.0.0.1:1025",
		config.EnvSMTPFrom:           "panel@provider.test",
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	env := setup(t)
	c, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "postgres://u@localhost/trasloco", c.DatabaseURL)
	require.Equal(t, "127.0.0.1:8080", c.Listen)
	require.Equal(t, "http://127.0.0.1:8080", c.BaseURL.String())
	require.Equal(t, testKey, c.SecretKey)
	require.Equal(t, config.Dest{Addr: "imap.provider.test:993", TLS: config.TLSImplicit, MasterUser: "master", MasterPassword: "m4ster"}, c.Dest)
	require.Equal(t, config.SMTP{Host: "127.0.0.1", Port: 1025, TLS: config.TLSNone, From: "panel@provider.test"}, c.SMTP)
	require.Empty(t, c.AllowRemoteNets)
	require.Equal(t, []uint16{143, 993}, c.AllowRemotePorts)
	require.Empty(t, c.DenyRemoteNets)
	require.Empty(t, c.OwnIMAPHosts)
	require.True(t, c.PinRemoteAddr)
	require.Equal(t, 4, c.Workers)
	require.Equal(t, 4, c.PerHostLimit)
	require.Equal(t, 3, c.PerTenantLimit)
	require.Equal(t, 90*24*time.Hour, c.MaxScheduleAhead)
	require.Equal(t, 20, c.MigrationsPerHour)
	require.Equal(t, 20*time.Minute, c.MailboxSlice)
	require.Equal(t, 2048, c.MinRate)
	require.Equal(t, 5*time.Minute, c.RateWindow)
	require.Equal(t, 12*time.Hour, c.MailboxBudget)
	require.Equal(t, 30*time.Second, c.RetryBackoff)
	require.Equal(t, 10*time.Second, c.JobPoll)
	require.Equal(t, time.Second, c.FlushInterval)
	require.Equal(t, 2, c.FolderLanes)
	require.Empty(t, c.MetricsListen)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		set   map[string]string
		check func(t *testing.T, c config.Config)
	}{
		{"hex key", map[string]string{config.EnvSecretKey: hex.EncodeToString(testKey)},
			func(t *testing.T, c config.Config) { require.Equal(t, testKey, c.SecretKey) }},
		{"raw url base64 key", map[string]string{config.EnvSecretKey: base64.RawURLEncoding.EncodeToString(testKey)},
			func(t *testing.T, c config.Config) { require.Equal(t, testKey, c.SecretKey) }},
		{"listen and base url", map[string]string{config.EnvListen: "0.0.0.0:9000", config.EnvBaseURL: "https://panel.provider.test/"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, "0.0.0.0:9000", c.Listen)
				require.Equal(t, "https://panel.provider.test", c.BaseURL.String())
			}},
		{"starttls dest default port", map[string]string{config.EnvDestTLS: "STARTTLS"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, config.TLSStartTLS, c.Dest.TLS)
				require.Equal(t, "imap.provider.test:143", c.Dest.Addr)
			}},
		{"dest with port and ca", map[string]string{config.EnvDestHost: "127.0.0.1:10993", config.EnvDestCAFile: "/tmp/ca.pem"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, "127.0.0.1:10993", c.Dest.Addr)
				require.Equal(t, "/tmp/ca.pem", c.Dest.CAFile)
			}},
		{"dest ipv6", map[string]string{config.EnvDestHost: "::1"},
			func(t *testing.T, c config.Config) { require.Equal(t, "[::1]:993", c.Dest.Addr) }},
		{"smtps with auth", map[string]string{config.EnvSMTPURL: "smtps://bob:s%3Bcret@mail.provider.test"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, config.SMTP{Host: "mail.provider.test", Port: 465, TLS: config.TLSImplicit,
					Username: "bob", Password: "s;cret", From: "panel@provider.test"}, c.SMTP)
			}},
		{"smtp starttls", map[string]string{config.EnvSMTPURL: "smtp://mail.provider.test:587?starttls=true"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, config.TLSStartTLS, c.SMTP.TLS)
				require.Equal(t, 587, c.SMTP.Port)
			}},
		{"allow nets", map[string]string{config.EnvAllowRemoteNets: "127.0.0.0/8, 10.1.2.3/16,,::1/128"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, []netip.Prefix{
					netip.MustParsePrefix("127.0.0.0/8"),
					netip.MustParsePrefix("10.1.0.0/16"),
					netip.MustParsePrefix("::1/128"),
				}, c.AllowRemoteNets)
			}},
		{"remote ports, denied nets, own hosts", map[string]string{config.EnvAllowRemotePorts: "993, 10143", config.EnvDenyRemoteNets: "198.51.100.0/24",
			config.EnvOwnIMAPHosts: "IMAP.Provider.test, mail.provider.test"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, []uint16{993, 10143}, c.AllowRemotePorts)
				require.Equal(t, []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}, c.DenyRemoteNets)
				require.Equal(t, []string{"imap.provider.test", "mail.provider.test"}, c.OwnIMAPHosts)
			}},
		{"forbid plain", map[string]string{config.EnvForbidPlainLogin: "true"},
			func(t *testing.T, c config.Config) { require.True(t, c.ForbidPlainLogin) }},
		{"any remote port", map[string]string{config.EnvAllowRemotePorts: "any"},
			func(t *testing.T, c config.Config) {
				require.True(t, c.AllowAnyRemotePort)
				require.Empty(t, c.AllowRemotePorts)
			}},
		{"pin off, workers", map[string]string{config.EnvPinRemoteAddr: "false", config.EnvWorkers: "16", config.EnvPerHostLimit: "2"},
			func(t *testing.T, c config.Config) {
				require.False(t, c.PinRemoteAddr)
				require.Equal(t, 16, c.Workers)
				require.Equal(t, 2, c.PerHostLimit)
			}},
		{"metrics listen", map[string]string{config.EnvMetricsListen: "127.0.0.1:9090"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, "127.0.0.1:9090", c.MetricsListen)
				require.False(t, c.Pprof, "off by default")
			}},
		{"pprof", map[string]string{config.EnvPprof: "1"},
			func(t *testing.T, c config.Config) { require.True(t, c.Pprof) }},
		{"trusted proxies", map[string]string{config.EnvTrustedProxies: "127.0.0.1/32, 10.9.0.0/16"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.9.0.0/16")}, c.TrustedProxies)
			}},
		{"run timings", map[string]string{config.EnvMailboxSlice: "90s", config.EnvRetryBackoff: "2s", config.EnvJobPoll: "500ms", config.EnvFlushInterval: "3s"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, 3*time.Second, c.FlushInterval)
				require.Equal(t, 90*time.Second, c.MailboxSlice)
				require.Equal(t, 2*time.Second, c.RetryBackoff)
				require.Equal(t, 500*time.Millisecond, c.JobPoll)
			}},
		{"folder lanes", map[string]string{config.EnvFolderLanes: "3"},
			func(t *testing.T, c config.Config) { require.Equal(t, 3, c.FolderLanes) }},
		{"rate floor and budget", map[string]string{config.EnvMinRate: "512", config.EnvRateWindow: "10m", config.EnvMailboxBudget: "6h"},
			func(t *testing.T, c config.Config) {
				require.Equal(t, 512, c.MinRate)
				require.Equal(t, 10*time.Minute, c.RateWindow)
				require.Equal(t, 6*time.Hour, c.MailboxBudget)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			for k, v := range tt.set {
				env[k] = v
			}
			c, err := config.Load(func(k string) string { return env[k] })
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		set     map[string]string
		wantVar string
	}{
		{"no database", map[string]string{config.EnvDatabaseURL: ""}, config.EnvDatabaseURL},
		{"no key", map[string]string{config.EnvSecretKey: ""}, config.EnvSecretKey},
		{"short key", map[string]string{config.EnvSecretKey: base64.StdEncoding.EncodeToString([]byte("short"))}, config.EnvSecretKey},
		{"garbage key", map[string]string{config.EnvSecretKey: "not a key!"}, config.EnvSecretKey},
		{"bad listen", map[string]string{config.EnvListen: "8080"}, config.EnvListen},
		{"bad metrics listen", map[string]string{config.EnvMetricsListen: "9090"}, config.EnvMetricsListen},
		{"bad pprof", map[string]string{config.EnvPprof: "yes please"}, config.EnvPprof},
		{"bad base url", map[string]string{config.EnvBaseURL: "panel.provider.test"}, config.EnvBaseURL},
		{"no dest", map[string]string{config.EnvDestHost: ""}, config.EnvDestHost},
		{"bad dest port", map[string]string{config.EnvDestHost: "imap:99999"}, config.EnvDestHost},
		{"bad dest tls", map[string]string{config.EnvDestTLS: "ssl"}, config.EnvDestTLS},
		{"no master user", map[string]string{config.EnvDestMasterUser: ""}, config.EnvDestMasterUser},
		{"no master password", map[string]string{config.EnvDestMasterPassword: ""}, config.EnvDestMasterPassword},
		{"no smtp", map[string]string{config.EnvSMTPURL: ""}, config.EnvSMTPURL},
		{"bad smtp scheme", map[string]string{config.EnvSMTPURL: "http://mail"}, config.EnvSMTPURL},
		{"bad smtp starttls", map[string]string{config.EnvSMTPURL: "smtp://mail?starttls=maybe"}, config.EnvSMTPURL},
		{"no smtp from", map[string]string{config.EnvSMTPFrom: ""}, config.EnvSMTPFrom},
		{"bad smtp from", map[string]string{config.EnvSMTPFrom: "panel"}, config.EnvSMTPFrom},
		{"bad cidr", map[string]string{config.EnvAllowRemoteNets: "127.0.0.1"}, config.EnvAllowRemoteNets},
		{"bad remote port", map[string]string{config.EnvAllowRemotePorts: "993,imap"}, config.EnvAllowRemotePorts},
		{"bad denied net", map[string]string{config.EnvDenyRemoteNets: "10.0.0.1"}, config.EnvDenyRemoteNets},
		{"bad pin", map[string]string{config.EnvPinRemoteAddr: "sometimes"}, config.EnvPinRemoteAddr},
		{"bad workers", map[string]string{config.EnvWorkers: "0"}, config.EnvWorkers},
		{"bad forbid plain", map[string]string{config.EnvForbidPlainLogin: "perhaps"}, config.EnvForbidPlainLogin},
		{"bad schedule ahead", map[string]string{config.EnvMaxScheduleAhead: "90d"}, config.EnvMaxScheduleAhead},
		{"bad migrations per hour", map[string]string{config.EnvMigrationsPerHour: "0"}, config.EnvMigrationsPerHour},
		{"bad per tenant", map[string]string{config.EnvPerTenantLimit: "-1"}, config.EnvPerTenantLimit},
		{"bad per host", map[string]string{config.EnvPerHostLimit: "four"}, config.EnvPerHostLimit},
		{"bad slice", map[string]string{config.EnvMailboxSlice: "20"}, config.EnvMailboxSlice},
		{"bad rate", map[string]string{config.EnvMinRate: "2KiB"}, config.EnvMinRate},
		{"bad budget", map[string]string{config.EnvMailboxBudget: "0s"}, config.EnvMailboxBudget},
		{"bad trusted proxy", map[string]string{config.EnvTrustedProxies: "10.0.0.1"}, config.EnvTrustedProxies},
		{"negative backoff", map[string]string{config.EnvRetryBackoff: "-1s"}, config.EnvRetryBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			for k, v := range tt.set {
				env[k] = v
			}
			_, err := config.Load(func(k string) string { return env[k] })
			require.Error(t, err)
			var cerr *config.Error
			require.True(t, errors.As(err, &cerr), "error %v is not a *config.Error", err)
			require.Equal(t, tt.wantVar, cerr.Var)
			require.Contains(t, err.Error(), tt.wantVar)
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	t.Parallel()
	_, err := config.Load(func(string) string { return "" })
	require.Error(t, err)
	for _, v := range []string{config.EnvDatabaseURL, config.EnvSecretKey, config.EnvDestHost, config.EnvSMTPURL} {
		require.Contains(t, err.Error(), v)
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env[config.EnvSMTPURL] = "smtp://bob:hunter2@mail:notaport"
	_, err := config.Load(func(k string) string { return env[k] })
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

func TestLoadDatabase(t *testing.T) {
	t.Parallel()
	u, err := config.LoadDatabase(func(k string) string {
		if k == config.EnvDatabaseURL {
			return " postgres:///x "
		}
		return ""
	})
	require.NoError(t, err)
	require.Equal(t, "postgres:///x", u)

	_, err = config.LoadDatabase(func(string) string { return "" })
	require.ErrorContains(t, err, "DATABASE_URL")
}

func TestLoadOAuth(t *testing.T) {
	t.Parallel()
	env := setup(t)
	c, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, config.OAuth{MSAuthority: "https://login.microsoftonline.com"}, c.OAuth, "no provider by default")

	env[config.EnvMSClientID] = "11111111-2222-3333-4444-555555555555"
	env[config.EnvMSClientSecret] = " s3cret~with.spaces "
	env[config.EnvMSAuthority] = "http://127.0.0.1:8099/"
	env[config.EnvGoogleKeyFile] = "/etc/trasloco/google.json"
	c, err = config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, config.OAuth{MSClientID: "11111111-2222-3333-4444-555555555555", MSClientSecret: " s3cret~with.spaces ",
		MSAuthority: "http://127.0.0.1:8099", GoogleKeyFile: "/etc/trasloco/google.json"}, c.OAuth)

	for _, tc := range []struct {
		name, unset, set, val, wantVar string
	}{
		{"secret without id", config.EnvMSClientID, "", "", config.EnvMSClientID},
		{"id without secret", config.EnvMSClientSecret, "", "", config.EnvMSClientSecret},
		{"authority not a URL", "", config.EnvMSAuthority, "login.microsoftonline.com", config.EnvMSAuthority},
		{"authority with a query", "", config.EnvMSAuthority, "https://login.test/?x=1", config.EnvMSAuthority},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			if tc.unset != "" {
				delete(e, tc.unset)
			}
			if tc.set != "" {
				e[tc.set] = tc.val
			}
			_, err := config.Load(func(k string) string { return e[k] })
			var ce *config.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.wantVar, ce.Var)
			require.NotContains(t, err.Error(), "s3cret")
		})
	}
}
