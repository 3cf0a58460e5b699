package web

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"
)

// Nuova Migrazione explains every server type in words, in both languages.
func TestMigrationNewPresetHelp(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	for _, lang := range []string{"it", "en"} {
		items := b.get("/migrations/new?lang=" + lang).doc(t).Find(`[data-testid="preset-help"] li`)
		require.Equal(t, 5, items.Length(), lang)
		items.Each(func(_ int, li *goquery.Selection) {
			require.NotContains(t, li.Text(), "web.preset.help", "a message is missing")
		})
		if lang == "it" {
			require.True(t, strings.Contains(items.Text(), "password per le app"))
		}
	}
}
