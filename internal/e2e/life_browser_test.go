package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

func login(t *testing.T, ctx context.Context, base, email, pw string) {
	t.Helper()
	step(t, ctx, 30*time.Second,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), pw),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-migration"]`)),
	)
}

// A customer in a real browser changes a scheduled migration, cancels it
// through its confirmation page and deletes it through another: plain
// links and forms, no script of the panel's needed.
func TestBrowserChangeCancelDelete(t *testing.T) {
	// Not parallel: a Chromium each at once is too slow for the steps'
	// timeouts on a small machine.
	st := newStack(t)
	ctx := browser(t)
	csvPath := filepath.Join(t.TempDir(), "caselle.csv")
	var csv strings.Builder
	for _, b := range st.boxes {
		fmt.Fprintf(&csv, "%s;%s;%s;%s\n", b.user, st.src.TLSAddr(), b.user, b.pw)
	}
	require.NoError(t, os.WriteFile(csvPath, []byte(csv.String()), 0o600))
	login(t, ctx, st.srv.URL, userEmail, userPassword)

	loc, err := time.LoadLocation(st.tenant.Timezone)
	require.NoError(t, err)
	first := time.Now().Add(3 * time.Hour).In(loc).Format("2006-01-02T15:04")
	setFirst := fmt.Sprintf(`document.getElementById("first_run_at").value = %q; true`, first)
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="new-migration"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Sede di Bari"),
		chromedp.SetUploadFiles(chromedp.CSS(`#csv`), []string{csvPath}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](setFirst)(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS(`#insecure_tls`)),
		chromedp.Click(chromedp.CSS(`[data-testid="migration-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-title"]`)),
	)
	// Blue once every line passed (the page reloads itself).
	step(t, ctx, time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="edit-link"]`)))
	step(t, ctx, time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-migration-status="scheduled"]`)))

	// Change the name and the first run's time.
	later := time.Now().Add(5 * time.Hour).In(loc).Format("2006-01-02T15:04")
	setLater := fmt.Sprintf(`document.getElementById("first_run_at").value = %q; true`, later)
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="edit-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="edit-form"]`)),
		chromedp.Clear(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Sede di Bari, secondo piano"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](setLater)(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS(`[data-testid="edit-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="history"]`)),
	)
	require.Equal(t, "Sede di Bari, secondo piano", text(t, ctx, `[data-testid="migration-title"]`))
	require.Contains(t, text(t, ctx, `[data-testid="history-what"]`), "Ha modificato: nome, prima esecuzione")
	var id int64
	require.NoError(t, st.pool.QueryRow(st.ctx, `SELECT id FROM migrations WHERE tenant_id = $1`, st.tenant.ID).Scan(&id))
	runs, err := store.ListRuns(st.ctx, st.pool, st.tenant.ID, id)
	require.NoError(t, err)
	require.Equal(t, later, runs[0].ScheduledAt.In(loc).Format("2006-01-02T15:04"), "the run moved with its time")

	// Cancel: a page that says what happens, then the button.
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="cancel"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm"]`)),
	)
	require.Contains(t, text(t, ctx, `[data-testid="confirm"]`), "nessuna posta viene copiata")
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="delete-link"]`)),
	)
	// Delete, through its own confirmation.
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="delete-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm"]`)),
	)
	require.Contains(t, text(t, ctx, `[data-testid="confirm"]`), "le sue 3 caselle")
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	require.Contains(t, text(t, ctx, `[data-testid="flash"]`), "eliminata")
	require.Equal(t, 0, count(t, ctx, `[data-testid="migration-row"]`))
	var n int
	require.NoError(t, st.pool.QueryRow(st.ctx, `SELECT count(*) FROM migration_lines WHERE tenant_id = $1`, st.tenant.ID).Scan(&n))
	require.Zero(t, n)
}

var setLinkRE = regexp.MustCompile(`https?://[^\s]+/password/set/[A-Za-z0-9_-]+`)

// An administrator invites a colleague in a real browser; Mailpit catches
// the invitation; the colleague opens its link, chooses a password and
// signs in; the link then no longer works.
func TestBrowserInvitation(t *testing.T) {
	// Not parallel: a Chromium each at once is too slow for the steps'
	// timeouts on a small machine.
	st := newStack(t)
	ctx := browser(t)
	login(t, ctx, st.srv.URL, userEmail, userPassword)
	colleague := strings.ToLower(testenv.UniqueUser(t, "rossi.test"))
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="nav-team"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), colleague),
		chromedp.Click(chromedp.CSS(`[data-testid="invite-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	require.Contains(t, text(t, ctx, `[data-testid="flash"]`), colleague)
	msgs := st.mp.WaitMessages(st.ctx, t, "to:"+colleague, 1)
	link := setLinkRE.FindString(msgs[0].Text)
	require.NotEmpty(t, link, msgs[0].Text)
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, st.base.Host, u.Host, "the link points at the panel")

	// The colleague, in a browser of their own.
	cctx := browser(t)
	step(t, cctx, 30*time.Second,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="password-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#password`), "la mia password nuova"),
		chromedp.SendKeys(chromedp.CSS(`#confirm`), "la mia password nuova"),
		chromedp.Click(chromedp.CSS(`[data-testid="password-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	login(t, cctx, st.srv.URL, colleague, "la mia password nuova")
	require.Equal(t, 0, count(t, cctx, `[data-testid="nav-team"]`), "not an administrator")
	step(t, cctx, 30*time.Second,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`h1`)),
	)
	require.Contains(t, text(t, cctx, `h1`), "Link non più valido")
}
