package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

func TestMicrosoftDirectory(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := store.GetMicrosoftDirectory(f.ctx, f.db, f.acme.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	require.NoError(t, store.SetMicrosoftDirectory(f.ctx, f.db, f.acme.ID, tid))
	d, err := store.GetMicrosoftDirectory(f.ctx, f.db, f.acme.ID)
	require.NoError(t, err)
	require.Equal(t, tid, d.DirectoryID)

	// Another tenant sees none of it.
	_, err = store.GetMicrosoftDirectory(f.ctx, f.db, f.beta.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	// A new consent replaces the directory.
	require.NoError(t, store.SetMicrosoftDirectory(f.ctx, f.db, f.acme.ID, "contoso.onmicrosoft.com"))
	d, err = store.GetMicrosoftDirectory(f.ctx, f.db, f.acme.ID)
	require.NoError(t, err)
	require.Equal(t, "contoso.onmicrosoft.com", d.DirectoryID)

	require.ErrorIs(t, store.SetMicrosoftDirectory(f.ctx, f.db, f.acme.ID, "x'; DROP TABLE tenants;--"), store.ErrInvalid)

	require.NoError(t, store.DeleteMicrosoftDirectory(f.ctx, f.db, f.beta.ID))
	_, err = store.GetMicrosoftDirectory(f.ctx, f.db, f.acme.ID)
	require.NoError(t, err, "deleting another tenant's leaves this one")
	require.NoError(t, store.DeleteMicrosoftDirectory(f.ctx, f.db, f.acme.ID))
	_, err = store.GetMicrosoftDirectory(f.ctx, f.db, f.acme.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
}
