package i18n

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPanelCatalogComplete: every panel message has both languages, the
// same format verbs in each, and a key no other catalog has (T would find
// the other first).
func TestPanelCatalogComplete(t *testing.T) {
	t.Parallel()
	for key, m := range panelCatalog {
		_, inCSV := csvCatalog[key]
		_, inWeb := webCatalog[key]
		_, inMail := mailCatalog[key]
		require.False(t, inCSV || inWeb || inMail, "%s is in another catalog too", key)
		require.NotEmpty(t, m.IT, key)
		require.NotEmpty(t, m.EN, key)
		require.Equal(t, strings.Count(m.IT, "%"), strings.Count(m.EN, "%"), key)
		require.True(t, Has(key), key)
	}
}
