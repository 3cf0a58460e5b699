package i18n

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOAuthCatalogComplete(t *testing.T) {
	t.Parallel()
	for key, m := range oauthCatalog {
		for name, other := range map[string]map[string]Message{"csv": csvCatalog, "web": webCatalog, "mail": mailCatalog} {
			_, dup := other[key]
			require.False(t, dup, "%s is also in the %s catalog", key, name)
		}
		require.NotEmpty(t, m.IT, key)
		require.NotEmpty(t, m.EN, key)
		require.Equal(t, verbs(m.IT), verbs(m.EN), key)
		require.True(t, Has(key), key)
	}
}
