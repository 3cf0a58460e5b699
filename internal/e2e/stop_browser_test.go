package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
)

// slowSource is a proxy to the old server that passes about rate bytes a
// second each way, so a copy lasts long enough to be stopped.
func slowSource(t *testing.T, target string, rate int) string {
	t.Helper()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 2<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
				time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	return testenv.Proxy(t, target, func(c, up net.Conn, _ int) {
		go pipe(up, c)
		pipe(c, up)
	})
}

// A customer starts a blue migration now, stops it while it copies (its
// confirmation page says what will happen), gets the email saying so, and
// resumes it: the run ends completed.
func TestBrowserStartStopResume(t *testing.T) {
	// Not parallel: a Chromium each at once is too slow for the steps'
	// timeouts on a small machine.
	st := newStack(t)
	ctx := browser(t)
	src := slowSource(t, st.src.TLSAddr(), 6<<10)
	csvPath := filepath.Join(t.TempDir(), "caselle.csv")
	var csv strings.Builder
	for _, b := range st.boxes {
		fmt.Fprintf(&csv, "%s;%s;%s;%s\n", b.user, src, b.user, b.pw)
	}
	require.NoError(t, os.WriteFile(csvPath, []byte(csv.String()), 0o600))
	login(t, ctx, st.srv.URL, userEmail, userPassword)
	loc, err := time.LoadLocation(st.tenant.Timezone)
	require.NoError(t, err)
	setFirst := fmt.Sprintf(`document.getElementById("first_run_at").value = %q; true`, time.Now().Add(2*time.Hour).In(loc).Format("2006-01-02T15:04"))
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="new-migration"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Sede di Lecce"),
		chromedp.SetUploadFiles(chromedp.CSS(`#csv`), []string{csvPath}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](setFirst)(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS(`#insecure_tls`)),
		chromedp.Click(chromedp.CSS(`[data-testid="migration-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="migration-title"]`)),
	)
	step(t, ctx, time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="start-now"]`)))
	step(t, ctx, 30*time.Second, chromedp.Click(chromedp.CSS(`[data-testid="start-now"]`)))
	// Running: the page follows it and offers Interrompi.
	step(t, ctx, time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="stop-link"]`)))
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="stop-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm"]`)),
	)
	require.Contains(t, text(t, ctx, `[data-testid="confirm"]`), "salva il punto a cui è arrivata")
	step(t, ctx, 30*time.Second,
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	// Stopped: the page turns to the cancelled migration by itself.
	step(t, ctx, time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="resume"]`)))
	require.Equal(t, 1, count(t, ctx, `[data-testid="run-row"][data-run="1"][data-status="cancelled"]`))
	mail := st.mp.WaitMessages(st.ctx, t, "to:"+st.notifyTo, 1)
	require.Contains(t, mail[0].Subject, "interrotta")
	var copied int
	require.NoError(t, st.pool.QueryRow(st.ctx, `SELECT count(*) FROM copied_messages WHERE tenant_id = $1`, st.tenant.ID).Scan(&copied))
	require.Less(t, copied, 3*22, "stopped before the end")

	// Resume: the run goes on and ends completed.
	step(t, ctx, 30*time.Second, chromedp.Click(chromedp.CSS(`[data-testid="resume"]`)))
	step(t, ctx, 3*time.Minute, chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-row"][data-run="1"][data-status="completed"]`)))
	for _, b := range st.boxes {
		requireSame(t, st.src, st.dst, b.user, b.pw, b.user == st.boxes[0].user)
	}
}
