package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// TestMailboxRunRules: the rules a copy followed are kept per mailbox run
// and read back per migration, only by the tenant that owns them.
func TestMailboxRunRules(t *testing.T) {
	t.Parallel()
	f := setupRun(t)
	anna := f.boxes[0]
	rules := []byte(`{"rules":"gmail","why":{"picked":"standard-ssl","sign":"gmail_capability","arg":"X-GM-EXT-1"}}`)

	require.ErrorIs(t, store.SetMailboxRunRules(f.ctx, f.db, f.beta.ID, anna.ID, rules), store.ErrNotFound, "another tenant's mailbox run")
	got, err := store.MailboxRunRules(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	require.Empty(t, got, "nothing changed by the other tenant")

	require.NoError(t, store.SetMailboxRunRules(f.ctx, f.db, f.acme.ID, anna.ID, rules))
	got, err = store.MailboxRunRules(f.ctx, f.db, f.acme.ID, f.m.ID)
	require.NoError(t, err)
	require.Len(t, got, 1, "marco's copy has not listed its folders yet")
	require.JSONEq(t, string(rules), string(got[anna.ID]))

	other, err := store.MailboxRunRules(f.ctx, f.db, f.beta.ID, f.m.ID)
	require.NoError(t, err)
	require.Empty(t, other, "another tenant reads none")
}
