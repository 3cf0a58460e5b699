package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
)

func TestParseHostLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []config.HostLimit
		bad  string // in the error, when it is refused
	}{
		{in: "", want: nil},
		{in: "imap.gmail.com=account:5,tenant:12", want: []config.HostLimit{{Pattern: "imap.gmail.com", Account: 5, Tenant: 12}}},
		{in: " *.Aruba.IT = host:8 ; mail.example.com=host:2,account:1 ;", want: []config.HostLimit{
			{Pattern: "*.aruba.it", Host: 8}, {Pattern: "mail.example.com", Host: 2, Account: 1},
		}},
		{in: "imap.gmail.com", bad: "pattern=count:n"},
		{in: "imap.gmail.com=", bad: "count:n"},
		{in: "imap.gmail.com=account:0", bad: "from 1 to 255"},
		{in: "imap.gmail.com=account:256", bad: "from 1 to 255"},
		{in: "imap.gmail.com=users:3", bad: "host, account and tenant"},
		{in: "a.test=host:1;A.test=host:2", bad: "named twice"},
		{in: "bad host!=host:1", bad: "pattern"},
		{in: "*.=host:1", bad: "pattern"},
	}
	for _, tt := range tests {
		got, err := config.ParseHostLimits(tt.in)
		if tt.bad != "" {
			require.ErrorContains(t, err, tt.bad, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

func TestHostLimitMatches(t *testing.T) {
	t.Parallel()
	exact := config.HostLimit{Pattern: "imap.gmail.com"}
	require.True(t, exact.Matches("imap.gmail.com"))
	require.True(t, exact.Matches("IMAP.Gmail.com."))
	require.False(t, exact.Matches("imap.gmail.com.evil.test"))
	require.False(t, exact.Matches("gmail.com"))
	wild := config.HostLimit{Pattern: "*.aruba.it"}
	require.True(t, wild.Matches("imaps.aruba.it"))
	require.True(t, wild.Matches("a.b.aruba.it"))
	require.False(t, wild.Matches("aruba.it"))
	require.False(t, wild.Matches("notaruba.it"))
}

// Gmail and Office 365 count per account and per customer out of the
// box; an operator's rule of the same host replaces the built-in one.
func TestLoadHostLimits(t *testing.T) {
	t.Parallel()
	env := setup(t)
	c, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, config.DefaultHostLimits, c.HostLimits)
	for _, h := range []string{"imap.gmail.com", "outlook.office365.com"} {
		var rule *config.HostLimit
		for i := range c.HostLimits {
			if c.HostLimits[i].Matches(h) {
				rule = &c.HostLimits[i]
				break
			}
		}
		require.NotNil(t, rule, h)
		require.Zero(t, rule.Host, "%s: no service-wide cap", h)
		require.Positive(t, rule.Account, h)
		require.Positive(t, rule.Tenant, h)
	}

	env[config.EnvHostLimits] = "imap.gmail.com=account:3; *.old.test=host:2"
	c, err = config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, config.HostLimit{Pattern: "imap.gmail.com", Account: 3}, c.HostLimits[0])
	require.Equal(t, config.HostLimit{Pattern: "*.old.test", Host: 2}, c.HostLimits[1])
	for _, h := range c.HostLimits[2:] {
		require.NotEqual(t, "imap.gmail.com", h.Pattern, "the operator's rule replaces the built-in one")
	}
	require.Len(t, c.HostLimits, 2+len(config.DefaultHostLimits)-1)

	env[config.EnvHostLimits] = "imap.gmail.com=account:many"
	_, err = config.Load(func(k string) string { return env[k] })
	require.ErrorContains(t, err, config.EnvHostLimits)
}
