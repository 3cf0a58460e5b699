package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
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
		chromedp.Flag("hide-scrollbars", true),
		// An Italian customer: the panel answers in its first language.
		chromedp.Flag("lang", "it-IT"),
		chromedp.Flag("accept-lang", "it-IT,it"),
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

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err, js)
	return v
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return loc
}

// Widths the journey is checked at: a desktop and a phone.
var widths = []struct {
	name string
	w, h int64
}{{"1280", 1280, 900}, {"390", 390, 844}}

// pageChecks are the accessibility and layout rules every page must pass,
// as a list of what is wrong (empty when nothing): no page wider than the
// screen, every field labelled with a border of 3:1 against white, every
// bar named, no live region around a table, no inline style (the CSP
// allows none), a language.
const pageChecks = `(() => {
  const p = [];
  const rgb = c => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const contrast = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  window.__contrast = contrast;
  if (!document.documentElement.lang) p.push("no lang");
  const sw = document.documentElement.scrollWidth;
  if (sw > window.innerWidth) p.push("page " + sw + " px wide in a " + window.innerWidth + " px viewport");
  document.querySelectorAll("body *").forEach(e => {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > window.innerWidth + 1 && !e.closest(".table-wrap") && getComputedStyle(e).position !== "absolute") {
      p.push("sticks out: " + e.tagName + "." + e.className + " right=" + Math.round(r.right));
    }
  });
  document.querySelectorAll("progress").forEach(e => {
    if (!(e.getAttribute("aria-label") || e.getAttribute("aria-labelledby") || (e.labels && e.labels.length))) p.push("progress without a name");
  });
  document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(e => {
    if (!((e.labels && e.labels.length) || e.getAttribute("aria-label"))) p.push("field without a label: " + e.name);
    const s = getComputedStyle(e);
    if (e.type !== "checkbox" && e.type !== "file" && contrast(s.borderTopColor, "rgb(255,255,255)") < 3) p.push("border under 3:1: " + e.name + " " + s.borderTopColor);
  });
  document.querySelectorAll("[aria-live]").forEach(e => { if (e.tagName === "TABLE" || e.querySelector("table")) p.push("live region around a table"); });
  document.querySelectorAll("[style]").forEach(e => p.push("inline style on " + e.tagName));
  return p;
})()`

// checkPage asserts pageChecks at both widths and writes a screenshot of
// each to the test's artifact directory (go test -artifacts keeps them).
func checkPage(t *testing.T, ctx context.Context, shots, name string) {
	t.Helper()
	for _, w := range widths {
		step(t, ctx, 10*time.Second, chromedp.EmulateViewport(w.w, w.h), chromedp.Sleep(150*time.Millisecond))
		var problems []string
		for _, p := range eval[[]string](t, ctx, pageChecks) {
			// An email has nothing but inline styles; the CSP is the panel's.
			if !(strings.HasPrefix(name, "10-email") && strings.HasPrefix(p, "inline style")) {
				problems = append(problems, p)
			}
		}
		require.Empty(t, problems, "%s at %s px", name, w.name)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+"-"+w.name+".png"), png, 0o644))
	}
	step(t, ctx, 10*time.Second, chromedp.EmulateViewport(1280, 900))
}

// slowProxy hands the source's bytes to the panel in small, spaced pieces,
// so a run lasts long enough for the page to show it going.
func slowProxy(t *testing.T, target string) string {
	return testenv.Proxy(t, target, func(client, upstream net.Conn, _ int) {
		go func() { _, _ = io.Copy(upstream, client) }()
		buf := make([]byte, 512)
		for {
			n, err := upstream.Read(buf)
			if n > 0 {
				if _, werr := client.Write(buf[:n]); werr != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				return
			}
		}
	})
}

// sample is what the progress table shows of one mailbox at one moment.
type sample struct {
	Line   string `json:"line"`
	Run    string `json:"run"`
	Status string `json:"status"`
	Done   int    `json:"done"`
	Total  int    `json:"total"`
	Count  string `json:"count"`
}

const readProgress = `Array.from(document.querySelectorAll("[data-testid=progress-row]")).map(r => ({
  line: r.getAttribute("data-line"), run: r.closest("table").getAttribute("data-run"), status: r.getAttribute("data-status"),
  done: parseInt(r.getAttribute("data-done"), 10), total: parseInt(r.getAttribute("data-total"), 10),
  count: r.querySelector("[data-testid=progress-count]").textContent }))`

// A customer in a real browser, at 1280 and 390 px: logs in (a wrong
// password first), fills Nuova Migrazione (an empty submit first), watches
// the page follow the validation, run 1, the state between the runs and
// run 2 in place, without a reload; opens the email's link signed out and
// lands on Risorse after the login; reads Risorse and a log. Every page
// passes the layout and accessibility checks at both widths.
func TestBrowserMigration(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	ctx := browser(t)
	shots := t.ArtifactDir()
	t.Logf("screenshots in %s", shots)

	src := slowProxy(t, st.src.TLSAddr())
	csvPath := filepath.Join(t.TempDir(), "caselle.csv")
	var csv strings.Builder
	for _, b := range st.boxes {
		fmt.Fprintf(&csv, "%s;%s;%s;%s\n", b.user, src, b.user, b.pw)
	}
	require.NoError(t, os.WriteFile(csvPath, []byte(csv.String()), 0o600))

	// Login: a wrong password is shown as an error, focus on the password.
	step(t, ctx, 30*time.Second,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(st.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
	)
	checkPage(t, ctx, shots, "01-login")
	// The focus ring (Tab to the skip link): at least 2 px, 3:1 against white.
	step(t, ctx, 10*time.Second, chromedp.KeyEvent("\t"))
	ring := eval[[]string](t, ctx, `(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth, String(window.__contrast(s.outlineColor, "rgb(255,255,255)"))]; })()`)
	require.NotEqual(t, "none", ring[0])
	require.GreaterOrEqual(t, parseFloat(t, ring[1]), 2.0, "outline width %s", ring[1])
	require.GreaterOrEqual(t, parseFloat(t, ring[2]), 3.0, "focus ring contrast")
	step(t, ctx, 30*time.Second,
		chromedp.SendKeys(chromedp.CSS(`#email`), userEmail),
		chromedp.SendKeys(chromedp.CSS(`#password`), "sbagliata"),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-error"]`)),
	)
	require.Equal(t, "password", eval[string](t, ctx, `document.activeElement.id`), "after a failed login the focus is on the password")
	require.Equal(t, "alert", eval[string](t, ctx, `document.querySelector("[data-testid=login-error]").getAttribute("role")`))
	require.Equal(t, "rgb(192, 49, 43)", eval[string](t, ctx, `getComputedStyle(document.querySelector("[data-testid=login-error]")).borderLeftColor`), "the error is styled as one")
	checkPage(t, ctx, shots, "02-login-error")
	step(t, ctx, 30*time.Second,
		chromedp.SendKeys(chromedp.CSS(`#password`), userPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-migration"]`)),
	)
	checkPage(t, ctx, shots, "03-list-empty")

	// Nuova Migrazione: an empty submit puts the focus on the first
	// refused field, and the summary links the errors.
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="new-migration"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-form"]`)),
	)
	checkPage(t, ctx, shots, "04-new")
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="migration-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="form-error"]`)),
	)
	require.Equal(t, "true", eval[string](t, ctx, `document.activeElement.getAttribute("aria-invalid")`), "focus on the first refused field")
	require.Positive(t, count(t, ctx, `[data-testid="form-error"] a[href^="#"]`))
	checkPage(t, ctx, shots, "05-new-errors")

	// Run 1 in a few seconds (the tenant's time zone), run 2 a minute after.
	first := time.Now().Add(15 * time.Second)
	second := first.Add(75 * time.Second)
	loc, err := time.LoadLocation(st.tenant.Timezone)
	require.NoError(t, err)
	setTimes := fmt.Sprintf(`document.getElementById("first_run_at").value = %q; document.getElementById("second_run_at").value = %q; true`,
		first.In(loc).Format("2006-01-02T15:04:05"), second.In(loc).Format("2006-01-02T15:04:05"))
	step(t, ctx, 30*time.Second,
		chromedp.SendKeys(chromedp.CSS(`#name`), "Ufficio di Roma"),
		chromedp.SetUploadFiles(chromedp.CSS(`#csv`), []string{csvPath}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](setTimes)(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS(`#insecure_tls`)),
		chromedp.Click(chromedp.CSS(`[data-testid="migration-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-title"]`)),
	)
	require.Contains(t, text(t, ctx, `[data-testid="migration-title"]`), "Ufficio di Roma")
	migration := location(t, ctx)
	require.Regexp(t, `/migrations/\d+$`, migration)
	require.Contains(t, text(t, ctx, `[data-testid="detail-notify"]`), st.notifyTo, "the page says who gets the email")
	require.Contains(t, text(t, ctx, `[data-testid="detail-first-run"]`), "ora italiana")
	// Nothing below reloads the page: this mark would be gone.
	require.True(t, eval[bool](t, ctx, `window.__noReload = 42; true`))

	// The page follows the validation into "scheduled", then run 1.
	step(t, ctx, time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration"][data-migration-status="scheduled"]`)))
	// The preview, measured by the test login: per line and in total.
	step(t, ctx, 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`[data-testid="preview-total"]`)))
	preview := eval[map[string]int](t, ctx, `Object.fromEntries(Array.from(document.querySelectorAll("[data-testid=line-row]")).map(r =>
		[r.getAttribute("data-line"), parseInt(r.querySelector("[data-testid=line-preview-text]").getAttribute("data-messages"), 10)]))`)
	require.Equal(t, map[string]int{"1": 22, "2": 22, "3": 22}, preview, "every message of the copied folders, the one over the limit aside")
	require.Equal(t, "66", eval[string](t, ctx, `document.querySelector("[data-testid=preview-total]").getAttribute("data-messages")`))
	require.Contains(t, text(t, ctx, `[data-testid="line-row"][data-line="1"] [data-testid="line-preview-left"]`), "1 messaggio oltre 30 MB")
	checkPage(t, ctx, shots, "06-scheduled")
	step(t, ctx, time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="progress-row"]`)))

	// While run 1 goes: every sample of every mailbox has done <= total,
	// a total that never shrinks, and says "almeno" until the end.
	seen := map[string]int{}
	running := 0
	deadline := time.Now().Add(2 * time.Minute)
	shotRunning := false
	for time.Now().Before(deadline) {
		for _, s := range eval[[]sample](t, ctx, readProgress) {
			if s.Run != "1" {
				continue
			}
			require.LessOrEqual(t, s.Done, s.Total, "line %s: %s", s.Line, s.Count)
			require.GreaterOrEqual(t, s.Total, seen[s.Line], "line %s: the total went down", s.Line)
			require.GreaterOrEqual(t, s.Total, preview[s.Line], "line %s: the total is below what was known before the first message", s.Line)
			seen[s.Line] = s.Total
			if s.Status == "running" {
				running++
				require.Contains(t, s.Count, "almeno", "a running mailbox's total is a lower bound")
			}
		}
		if running > 0 && !shotRunning {
			shotRunning = true
			checkPage(t, ctx, shots, "07-running")
		}
		if count(t, ctx, `[data-testid="migration"][data-migration-status="between_runs"]`) == 1 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	require.Positive(t, running, "the page showed mailboxes running")
	require.Equal(t, 42, eval[int](t, ctx, `window.__noReload || 0`), "the page was patched, not reloaded")

	// Between the runs: the state, run 2's time and the MX reminder.
	step(t, ctx, 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`[data-testid="between-runs"]`)))
	require.Contains(t, text(t, ctx, `[data-testid="mx-reminder"]`), "record MX")
	require.Contains(t, text(t, ctx, `[data-testid="between-when"]`), second.In(loc).Format("02/01/2006 15:04"))
	announced := eval[string](t, ctx, `new Promise(ok => { const t0 = Date.now(); (function wait() {
		const s = document.querySelector("[data-testid=live]").textContent;
		if (s || Date.now() - t0 > 5000) { ok(s); } else { setTimeout(wait, 50); } })(); })`)
	require.Contains(t, announced, "Tra le due esecuzioni", "the live region announced the new state")
	for _, s := range eval[[]sample](t, ctx, readProgress) {
		require.Equal(t, "completed", s.Status)
		require.Equal(t, 22, s.Total, "line %s: every message of the copied folders, the one over the limit aside", s.Line)
		require.Equal(t, s.Total, s.Done)
		require.GreaterOrEqual(t, s.Total, seen[s.Line])
	}
	checkPage(t, ctx, shots, "08-between-runs")
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="nav-migrations"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-row"]`)),
	)
	require.Equal(t, "between_runs", eval[string](t, ctx, `document.querySelector("[data-testid=migration-row] [data-testid=status]").getAttribute("data-status")`))
	require.Contains(t, text(t, ctx, `[data-testid="migration-row"] [data-testid="status-detail"]`), "la 2 il")
	checkPage(t, ctx, shots, "09-list-between-runs")

	// The run-1 email: its link, opened signed out, lands on Risorse after the login.
	mail := latestMail(t, st.mp, st.notifyTo)
	require.Contains(t, mail.Text, "cambia i record MX")
	link := regexp.MustCompile(`href="([^"]+/resources)"`).FindStringSubmatch(mail.HTML)
	require.Len(t, link, 2, mail.HTML)
	emailFile := filepath.Join(t.TempDir(), "email.html")
	require.NoError(t, os.WriteFile(emailFile, []byte(mail.HTML), 0o600))
	step(t, ctx, 30*time.Second, chromedp.Navigate("file://"+emailFile), chromedp.WaitVisible(chromedp.CSS(`[data-testid="mailboxes"]`)))
	checkPage(t, ctx, shots, "10-email-run1")
	step(t, ctx, 30*time.Second,
		chromedp.Navigate(migration),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="logout"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.Navigate(link[1]),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), userEmail),
		chromedp.SendKeys(chromedp.CSS(`#password`), userPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="resources"]`)),
	)
	require.Equal(t, strings.TrimPrefix(link[1], st.base.String()), strings.TrimPrefix(location(t, ctx), st.srv.URL), "the email's link lands on Risorse")

	// Run 2: nothing new arrived, and the page says so rather than full bars of copies.
	step(t, ctx, 30*time.Second, chromedp.Navigate(migration), chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-title"]`)))
	require.True(t, eval[bool](t, ctx, `window.__noReload = 43; true`))
	step(t, ctx, 3*time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration"][data-migration-status="completed"]`)))
	require.Equal(t, 43, eval[int](t, ctx, `window.__noReload || 0`), "the page was patched, not reloaded")
	require.Equal(t, "2", eval[string](t, ctx, `document.querySelector("[data-testid=progress]").getAttribute("data-run")`))
	require.Equal(t, 3, count(t, ctx, `[data-testid="progress-row"]`), "one progress row per mailbox")
	for _, d := range eval[[]string](t, ctx, `Array.from(document.querySelectorAll("[data-testid=progress-row] [data-testid=progress-detail]")).map(e => e.textContent)`) {
		require.Contains(t, d, "nessun messaggio nuovo · 22 già presenti")
	}
	checkPage(t, ctx, shots, "11-completed")

	// Risorse, then the log of the first mailbox.
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="resources-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="resources"]`)),
	)
	require.Equal(t, 3, count(t, ctx, `[data-testid="resource-mailbox"]`))
	copied := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("[data-testid=resource-mailbox-run][data-run='1'] [data-testid=resource-copied]")).map(e => e.textContent.trim())`)
	require.Equal(t, []string{"22", "22", "22"}, copied, "run 1 copied what the preview said")
	require.Equal(t, 1, count(t, ctx, `[data-testid="skipped-row"]`))
	checkPage(t, ctx, shots, "12-resources")
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="resource-log"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="log"]`)),
	)
	require.Positive(t, count(t, ctx, `[data-testid="log-line"]`))
	checkPage(t, ctx, shots, "13-log")
	page := eval[string](t, ctx, `document.documentElement.outerHTML`)
	for _, b := range st.boxes {
		require.NotContains(t, page, b.pw)
	}
	mail2 := latestMail(t, st.mp, st.notifyTo)
	require.Contains(t, mail2.Text, "Nessun messaggio nuovo")
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	_, err := fmt.Sscanf(strings.TrimSuffix(s, "px"), "%g", &f)
	require.NoError(t, err, s)
	return f
}
