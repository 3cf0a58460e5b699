package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// browser starts a headless Chromium (Debian's, installed by
// deploy/scripts/deps.sh) with a fresh profile. Without Chromium the test
// is skipped, except in CI, where it fails.
func browser(t *testing.T) context.Context {
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
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first action starts the browser; it must not carry a timeout
	// (chromedp ties the browser's life to that context).
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("about:blank")))
	return bctx
}

// step runs browser actions with a timeout.
func step(t *testing.T, ctx context.Context, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	require.NoError(t, chromedp.Do(c, actions...))
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return strings.TrimSpace(s)
}

// A customer in a real browser: logs in, fills Nuova Migrazione with the
// CSV file, watches the migration turn blue and run with the page's own
// script updating the progress, then reads Risorse and a log.
func TestBrowserMigration(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	ctx := browser(t)

	csvPath := filepath.Join(t.TempDir(), "caselle.csv")
	var csv strings.Builder
	for _, b := range st.boxes {
		fmt.Fprintf(&csv, "%s;%s;%s;%s\n", b.user, st.src.TLSAddr(), b.user, b.pw)
	}
	require.NoError(t, os.WriteFile(csvPath, []byte(csv.String()), 0o600))

	step(t, ctx, 30*time.Second,
		chromedp.Navigate(st.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), userEmail),
		chromedp.SendKeys(chromedp.CSS(`#password`), userPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-migration"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="new-migration"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-form"]`)),
	)

	// Run 1 in a few seconds (the tenant's time zone), no run 2.
	first := time.Now().Add(8 * time.Second)
	loc, err := time.LoadLocation(st.tenant.Timezone)
	require.NoError(t, err)
	setFirst := fmt.Sprintf(`document.getElementById("first_run_at").value = %q; true`, first.In(loc).Format("2006-01-02T15:04:05"))
	step(t, ctx, 30*time.Second,
		chromedp.SendKeys(chromedp.CSS(`#name`), "Ufficio di Roma"),
		chromedp.SetUploadFiles(chromedp.CSS(`#csv`), []string{csvPath}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](setFirst)(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS(`#insecure_tls`)),
		chromedp.Click(chromedp.CSS(`[data-testid="migration-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-title"]`)),
	)
	require.Contains(t, text(t, ctx, `[data-testid="migration-title"]`), "Ufficio di Roma")
	loc2, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Regexp(t, `/migrations/\d+$`, loc2)

	// The page's script shows the progress table while the run goes and
	// reloads into the ended migration, without the test reloading.
	step(t, ctx, 2*time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="progress-row"]`)))
	step(t, ctx, 2*time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-row"][data-status="completed"]`)))
	require.Equal(t, 3, count(t, ctx, `[data-testid="progress-row"]`), "one progress row per mailbox")

	// Risorse, then the log of the first mailbox.
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="resources-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="resources"]`)),
	)
	require.Equal(t, 3, count(t, ctx, `[data-testid="resource-mailbox"]`))
	require.Equal(t, "22", text(t, ctx, `[data-testid="resource-mailbox"] [data-testid="resource-copied"]`))
	require.Equal(t, 1, count(t, ctx, `[data-testid="skipped-row"]`))
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="resource-log"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="log"]`)),
	)
	require.Positive(t, count(t, ctx, `[data-testid="log-line"]`))
	page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NoError(t, err)
	for _, b := range st.boxes {
		require.NotContains(t, page, b.pw)
	}
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := chromedp.Run(c, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	require.NoError(t, err)
	return n
}
