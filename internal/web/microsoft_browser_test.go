package web

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
)

// chromium starts a headless Chromium with a fresh profile; without it the
// test is skipped, except in CI.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is not installed: run deploy/scripts/deps.sh")
		}
		t.Skip("chromium is not installed (deploy/scripts/deps.sh installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("about:blank")))
	return bctx
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(c, actions...))
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return strings.TrimSpace(s)
}

// The customer's administrator, in a real browser, presses "Collega
// Microsoft 365", refuses at the (local) Microsoft consent page, tries
// again and accepts: the panel keeps the directory and says so.
func TestBrowserMicrosoftConsent(t *testing.T) {
	t.Parallel()
	p, srv := consentPanel(t)
	tn, email := p.tenant("acme", "acme.test")
	const dir = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
	srv.SetConsentTenant(dir)
	ctx := chromium(t)

	run(t, ctx,
		chromedp.Navigate(p.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), userPassword),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-migration"]`)),
		chromedp.Navigate(p.srv.URL+"/migrations/new?preset=office365"),
		chromedp.Click(chromedp.CSS(`[data-testid="oauth-ms-connect"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#cancel`)),
	)
	at, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(at, srv.URL()+"/organizations/v2.0/adminconsent?"), at)

	// Refused.
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`#cancel`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	require.Contains(t, textOf(t, ctx, `[data-testid="flash"]`), "access_denied")
	_, err = store.GetMicrosoftDirectory(context.Background(), p.pool, tn.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.False(t, srv.Consented(dir))

	// Granted.
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="oauth-ms-connect"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#accept`)),
		chromedp.Click(chromedp.CSS(`#accept`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="oauth-ms-connected"]`)),
	)
	require.Contains(t, textOf(t, ctx, `[data-testid="flash"]`), "Microsoft 365 is connected", "the browser asks for English")
	require.Contains(t, textOf(t, ctx, `[data-testid="oauth-ms-connected"]`), dir)
	d, err := store.GetMicrosoftDirectory(context.Background(), p.pool, tn.ID)
	require.NoError(t, err)
	require.Equal(t, dir, d.DirectoryID)
	require.True(t, srv.Consented(dir))
	back, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, p.srv.URL+"/migrations/new?preset=office365", back)
}
