package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"riverqueue.com/riverui"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/web"
)

// Under the panel's Content-Security-Policy, a real browser shows the
// panel's pages and River's UI (at /admin/riverui/) without one refusal:
// River's UI renders its jobs, and the console says nothing of the policy.
func TestBrowserUnderCSP(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	pool := testenv.NewTestDB(t)
	logger := slog.New(slog.DiscardHandler)
	rc, err := river.NewClient[pgx.Tx](riverpgxv5.New(pool), &river.Config{Logger: logger})
	require.NoError(t, err)
	_, err = rc.Insert(context.Background(), jobs.ValidateMigrationArgs{TenantID: 1, MigrationID: 424242}, nil)
	require.NoError(t, err)
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(rc, nil), Logger: logger, Prefix: web.RiverUIPath})
	require.NoError(t, err)
	uiCtx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, ui.Start(uiCtx))
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	require.NoError(t, err)
	cheap := auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1, SaltLen: 16, KeyLen: 32}
	tn, err := store.CreateTenant(context.Background(), pool, store.NewTenant{Name: "Provider", NotifyEmail: "noc@provider.test", Domains: []string{"provider.test"}})
	require.NoError(t, err)
	hash, err := auth.HashPasswordWithParams(userPassword, cheap)
	require.NoError(t, err)
	_, err = store.CreateUser(context.Background(), pool, tn.ID, store.NewUser{Email: "noc@provider.test", PasswordHash: hash, Operator: true})
	require.NoError(t, err)
	srv := httptest.NewServer(web.New(web.Deps{Pool: pool, River: rc, Box: box, Login: &auth.Login{DB: pool, Params: &cheap}, Logger: logger, RiverUI: ui}))
	t.Cleanup(srv.Close)

	// Every refusal of the policy, on every page, is kept where the test
	// can read it (the console does not always say).
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		document.addEventListener("securitypolicyviolation", e => {
			const v = JSON.parse(localStorage.getItem("csp") || "[]");
			v.push(location.pathname + ": " + e.violatedDirective + " " + e.blockedURI);
			localStorage.setItem("csp", JSON.stringify(v));
		});`})
	require.NoError(t, err)
	step(t, ctx, 30*time.Second,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), "noc@provider.test"),
		chromedp.SendKeys(chromedp.CSS(`#password`), userPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-migration"]`)),
		chromedp.Navigate(srv.URL+"/migrations/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-form"]`)),
		chromedp.Navigate(srv.URL+"/audit"),
		chromedp.Navigate(srv.URL+web.RiverUIPath+"/"),
	)
	// River's UI is a React application: it has run when its navigation
	// is there, and it lists the job from its API.
	poll := func(what, expr string) {
		t.Helper()
		pctx, pcancel := context.WithTimeout(ctx, 60*time.Second)
		defer pcancel()
		ok, err := chromedp.Run(pctx, chromedp.Poll[bool](expr))
		require.NoError(t, err, what)
		require.True(t, ok)
	}
	poll("River's UI did not render", `document.querySelector('#root nav a[href="/admin/riverui/jobs"]') !== null`)
	step(t, ctx, 30*time.Second, chromedp.Navigate(srv.URL+web.RiverUIPath+"/jobs?state=available"))
	poll("River's UI did not list the job", `document.body.innerText.includes("validate_migration")`)
	// River's UI probes whether eval works (and works without it, as the
	// job list shows); nothing else is refused, and nothing on the panel.
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`JSON.parse(localStorage.getItem("csp") || "[]")`))
	require.NoError(t, err)
	for _, v := range violations {
		require.Regexp(t, `^/admin/riverui/[a-z]*: script-src eval$`, v, "the browser refused under the policy")
	}
	res, err := http.Get(srv.URL + web.RiverUIPath + "/")
	require.NoError(t, err)
	res.Body.Close()
	require.NotEmpty(t, res.Header.Get("Content-Security-Policy"))

}
