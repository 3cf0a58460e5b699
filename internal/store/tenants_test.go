package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

func TestTenants(t *testing.T) {
	t.Parallel()
	f := setup(t)

	require.Equal(t, "acme", f.acme.Name)
	require.Equal(t, "Europe/Rome", f.acme.Timezone)
	require.Equal(t, "it", f.acme.Language)
	require.Equal(t, []string{"acme.example", "acme.test"}, f.acme.Domains)
	require.Equal(t, "America/New_York", f.beta.Timezone)

	got, err := store.GetTenantByName(f.ctx, f.db, "beta")
	require.NoError(t, err)
	require.Equal(t, f.beta.ID, got.ID)
	require.Equal(t, []string{"beta.test"}, got.Domains)

	_, err = store.GetTenantByName(f.ctx, f.db, "nobody")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = store.GetTenant(f.ctx, f.db, 999999)
	require.ErrorIs(t, err, store.ErrNotFound)

	all, err := store.ListTenants(f.ctx, f.db)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "acme", all[0].Name)

	require.NoError(t, store.SetTenantLanguage(f.ctx, f.db, f.acme.ID, "en"))
	got, err = store.GetTenant(f.ctx, f.db, f.acme.ID)
	require.NoError(t, err)
	require.Equal(t, "en", got.Language)
	require.ErrorIs(t, store.SetTenantLanguage(f.ctx, f.db, f.acme.ID, "fr"), store.ErrInvalid)

	require.NoError(t, store.SetTenantDisabled(f.ctx, f.db, "acme", true))
	got, err = store.GetTenant(f.ctx, f.db, f.acme.ID)
	require.NoError(t, err)
	require.True(t, got.Disabled)

	own, err := store.TenantOwnsDomain(f.ctx, f.db, f.acme.ID, "ACME.test")
	require.NoError(t, err)
	require.True(t, own)
	own, err = store.TenantOwnsDomain(f.ctx, f.db, f.acme.ID, "beta.test")
	require.NoError(t, err)
	require.False(t, own)
}

func TestCreateTenantRefuses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		name    string
		nt      store.NewTenant
		wantErr error
		wantMsg string
	}{
		{"duplicate name", store.NewTenant{Name: "acme", NotifyEmail: "a@b.test", Domains: []string{"new.test"}}, store.ErrAlreadyExists, `"acme"`},
		{"domain of another tenant", store.NewTenant{Name: "gamma", NotifyEmail: "a@b.test", Domains: []string{"new.test", "Beta.Test"}}, store.ErrAlreadyExists, "domain"},
		{"no domain", store.NewTenant{Name: "gamma", NotifyEmail: "a@b.test"}, store.ErrInvalid, "no domain"},
		{"bad domain", store.NewTenant{Name: "gamma", NotifyEmail: "a@b.test", Domains: []string{"x@y.test"}}, store.ErrInvalid, "domain"},
		{"bad timezone", store.NewTenant{Name: "gamma", NotifyEmail: "a@b.test", Timezone: "Mars/Olympus", Domains: []string{"g.test"}}, store.ErrInvalid, "Mars/Olympus"},
		{"bad language", store.NewTenant{Name: "gamma", NotifyEmail: "a@b.test", Language: "de", Domains: []string{"g.test"}}, store.ErrInvalid, "de"},
		{"bad notify email", store.NewTenant{Name: "gamma", NotifyEmail: "nobody", Domains: []string{"g.test"}}, store.ErrInvalid, "nobody"},
		{"empty name", store.NewTenant{Name: " ", NotifyEmail: "a@b.test", Domains: []string{"g.test"}}, store.ErrInvalid, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.CreateTenant(f.ctx, f.db, tt.nt)
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantMsg)
		})
	}
	// Nothing half-created.
	all, err := store.ListTenants(f.ctx, f.db)
	require.NoError(t, err)
	require.Len(t, all, 2)
	var n int
	require.NoError(t, f.db.QueryRow(f.ctx, "SELECT count(*) FROM tenant_domains").Scan(&n))
	require.Equal(t, 3, n)
}
