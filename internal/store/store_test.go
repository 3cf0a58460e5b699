package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a database with two tenants, acme and beta.
type fixture struct {
	ctx        context.Context
	db         *pgxpool.Pool
	acme, beta store.Tenant
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	db := testenv.NewTestDB(t)
	acme, err := store.CreateTenant(ctx, db, store.NewTenant{Name: "acme", NotifyEmail: "it@acme.test", Domains: []string{"acme.test", "ACME.example."}})
	require.NoError(t, err)
	beta, err := store.CreateTenant(ctx, db, store.NewTenant{Name: "beta", NotifyEmail: "it@beta.test", Timezone: "America/New_York", Language: "en", Domains: []string{"beta.test"}})
	require.NoError(t, err)
	return fixture{ctx: ctx, db: db, acme: acme, beta: beta}
}

func (f fixture) newMigration(t *testing.T, tenantID int64, lines ...store.NewLine) store.Migration {
	t.Helper()
	first := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	second := first.Add(23 * time.Hour)
	m, err := store.CreateMigration(f.ctx, f.db, tenantID, store.NewMigration{
		Name: "spring move", Preset: "standard-ssl", FirstRunAt: first, SecondRunAt: &second, Lines: lines,
	})
	require.NoError(t, err)
	return m
}

func line(no int, local string) store.NewLine {
	return store.NewLine{LineNo: no, LocalUser: local, RemoteHost: "mail.old.test", RemoteUser: local, RemotePasswordEnc: []byte{1, 2, 3}}
}
