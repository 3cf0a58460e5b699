package i18n

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMailCatalogComplete is TestCatalogsComplete for the email's catalog:
// both languages, the same fmt verbs, and no key shadowed by (or shadowing)
// another catalog, since T looks in csvCatalog and webCatalog first.
func TestMailCatalogComplete(t *testing.T) {
	t.Parallel()
	for key, m := range mailCatalog {
		_, inCSV := csvCatalog[key]
		_, inWeb := webCatalog[key]
		require.False(t, inCSV || inWeb, "%s is in another catalog too", key)
		require.NotEmpty(t, m.IT, key)
		require.NotEmpty(t, m.EN, key)
		require.Equal(t, verbs(m.IT), verbs(m.EN), key)
		require.True(t, Has(key), key)
	}
	require.Equal(t, "Trasloco: migration “x”, run 2 completed", T(English, "mail.subject.completed", "x", 2))
}
