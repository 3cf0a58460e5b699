package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Issue 10: Nuova Migrazione explains, for the chosen server type, what
// to enable on the old server, the usual host and what is and is not
// copied, in Italian and in English; only the chosen type's guide shows.
func TestMigrationNewPresetGuide(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	b := p.browser()
	b.login(email)
	presets := []string{"standard-ssl", "standard-nossl", "gmail", "exchange", "office365"}
	must := map[string]map[string][]string{ // words each guide must hold
		"it": {
			"gmail":     {"Attiva IMAP", "password per le app", "imap.gmail.com", "etichetta", "Spam"},
			"exchange":  {"Set-CASMailbox", "FullAccess", "Calendario", "cartelle pubbliche"},
			"office365": {"Collega Microsoft 365", "password per le app", "Outlook.com", "outlook.office365.com", "Files"},
		},
		"en": {
			"gmail":     {"Enable IMAP", "app password", "imap.gmail.com", "label", "Spam"},
			"exchange":  {"Set-CASMailbox", "FullAccess", "Calendar", "public folders"},
			"office365": {"Connect Microsoft 365", "app password", "Outlook.com", "outlook.office365.com", "Files"},
		},
	}
	for _, lang := range []string{"it", "en"} {
		for _, chosen := range presets {
			res := b.get("/migrations/new?preset=" + chosen + "&lang=" + lang)
			require.Equal(t, http.StatusOK, res.status)
			doc := res.doc(t)
			require.Equal(t, 1, doc.Find(`script[src="/static/preset.js"]`).Length(), "the guide's script")
			for _, preset := range presets {
				g := doc.Find(`[data-testid="preset-guide-` + preset + `"]`)
				require.Equal(t, 1, g.Length(), "%s %s", lang, preset)
				_, hidden := g.Attr("hidden")
				require.Equal(t, preset != chosen, hidden, "%s: %s's guide with %s chosen", lang, preset, chosen)
				parts := g.Find("dd[data-guide-part]")
				require.Equal(t, 4, parts.Length())
				parts.Each(func(_ int, dd *goquery.Selection) {
					text := strings.TrimSpace(dd.Text())
					require.NotEmpty(t, text)
					require.NotContains(t, text, "web.guide", "%s %s: a message is missing", lang, preset)
				})
				for _, w := range must[lang][preset] {
					require.Contains(t, g.Text(), w, "%s %s", lang, preset)
				}
			}
		}
	}
	require.Equal(t, http.StatusOK, b.get("/static/preset.js").status)
}

// In a real browser, choosing another server type shows its guide and
// hides the one before.
func TestBrowserPresetGuideFollowsTheChoice(t *testing.T) {
	t.Parallel()
	p := setup(t)
	_, email := p.tenant("acme", "acme.test")
	ctx := chromium(t)
	run(t, ctx,
		chromedp.Navigate(p.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), userPassword),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-migration"]`)),
		chromedp.Navigate(p.srv.URL+"/migrations/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="preset-guide-standard-ssl"]`)),
	)
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.Run(c, chromedp.Evaluate[bool](`(function () {
		var s = document.getElementById("preset");
		s.value = "gmail";
		s.dispatchEvent(new Event("change"));
		return true;
	})()`))
	require.NoError(t, err)
	run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="preset-guide-gmail"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="preset-guide-standard-ssl"]`)),
	)
	require.Contains(t, textOf(t, ctx, `[data-testid="preset-guide-gmail"]`), "imap.gmail.com")
}
