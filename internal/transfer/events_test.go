package transfer

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/i18n"
)

// TestEventKeysBuiltAtRunTime: the keys the engine builds from a code (why
// a folder is excluded, why a message was not copied) are in the catalogs,
// so the log never shows a bare key; the source scan of i18n sees only
// literal keys.
func TestEventKeysBuiltAtRunTime(t *testing.T) {
	t.Parallel()
	for _, excl := range []string{ExclTrash, ExclJunk, ExclNoSelect, ExclVirtual, ExclNonMail, ExclShared, ExclParentSkip} {
		m := exclusionMsg(excl)
		require.NotEqual(t, "log.text", m.Code, "%s has a key of its own", excl)
		require.True(t, i18n.Has(m.Code), excl)
		require.NotEqual(t, m.Text(i18n.Italian), m.Text(i18n.English), "%s is translated", excl)
	}
	for _, code := range []string{ReasonTooLarge, ReasonNotDelivered, ReasonSourceRefuse, ReasonSizeMismatch, ReasonDestRefuse, ReasonNoOutcome} {
		m := reasonMsg(code)
		require.Equal(t, "web.resources.reason."+code, m.Code)
		require.True(t, i18n.Has(m.Code), code)
	}
}
