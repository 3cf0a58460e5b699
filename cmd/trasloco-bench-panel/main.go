// Command trasloco-bench-panel is `make bench-panel`: it measures what the
// panel's pages cost for a small tenant and for a big one, in the same run
// against the same private PostgreSQL, and prints each page's median time
// and size side by side with the ratio big/small as a markdown table.
//
// The small tenant has -small-migrations migrations, the newest of
// -small-mailboxes mailboxes; the big one -big-migrations migrations, the
// newest of -big-mailboxes mailboxes. The newest migration of each has run 1
// completed with errors and run 2 under way (-running mailboxes being
// copied, as many for both tenants), so the migration page,
// status.json and Risorse show progress, failures and skipped messages. The
// data is seeded with plain SQL (generate_series), the tenants and users
// with the store's own functions.
//
// Each page is fetched -warmup times, then -n times, through a real panel
// (internal/web) on a loopback port, as a signed-in customer of each
// tenant in turn (small, big, small, …), so a shared machine's load falls
// on both alike. The target is
// a ratio of at most about 2 and no page over 300 KiB; nothing is asserted:
// it is a measurement, not a test.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/database"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/web"
)

type options struct {
	smallMigrations, smallMailboxes int
	bigMigrations, bigMailboxes     int
	running                         int
	warmup, n                       int
	hold                            bool
}

func main() {
	var o options
	flag.IntVar(&o.smallMigrations, "small-migrations", 10, "migrations of the small tenant")
	flag.IntVar(&o.smallMailboxes, "small-mailboxes", 100, "mailboxes of the small tenant's newest migration (100 fill one page, as the big one's first page)")
	flag.IntVar(&o.bigMigrations, "big-migrations", 10000, "migrations of the big tenant")
	flag.IntVar(&o.bigMailboxes, "big-mailboxes", 5000, "mailboxes of the big tenant's newest migration")
	flag.IntVar(&o.running, "running", 20, "mailboxes of each newest migration being copied at once (run 2)")
	flag.IntVar(&o.warmup, "warmup", 5, "requests per page before measuring")
	flag.IntVar(&o.n, "n", 40, "measured requests per page")
	flag.BoolVar(&o.hold, "hold", false, "after seeding, print the database URL and wait for Ctrl-C (to look at query plans)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "trasloco-bench-panel:", err)
		os.Exit(1)
	}
}

const password = "bench-panel-password"

// tenantSet is one seeded tenant: its user and its newest migration.
type tenantSet struct {
	email     string
	migration int64
}

func run(ctx context.Context, o options, out io.Writer) error {
	pg, err := testenv.StartPostgres(ctx)
	if err != nil {
		return err
	}
	defer pg.Stop()
	admin, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		return err
	}
	dbName := fmt.Sprintf("bench_panel_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+dbName); err != nil {
		return err
	}
	_ = admin.Close(ctx)
	pool, err := database.Open(ctx, pg.DatabaseURL(dbName))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := database.Migrate(ctx, pool); err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "seeding: small tenant %d migrations / %d mailboxes, big tenant %d / %d…\n",
		o.smallMigrations, o.smallMailboxes, o.bigMigrations, o.bigMailboxes)
	start := time.Now()
	small, err := seedTenant(ctx, pool, "small", o.smallMigrations, o.smallMailboxes, o.running)
	if err != nil {
		return fmt.Errorf("seed small tenant: %w", err)
	}
	big, err := seedTenant(ctx, pool, "big", o.bigMigrations, o.bigMailboxes, o.running)
	if err != nil {
		return fmt.Errorf("seed big tenant: %w", err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded in %s\n", time.Since(start).Round(time.Millisecond))
	if o.hold {
		fmt.Fprintf(os.Stderr, "database %s; big migration %d, small %d; Ctrl-C ends\n", pg.DatabaseURL(dbName), big.migration, small.migration)
		<-ctx.Done()
		return nil
	}

	base, closeSrv, err := serve(pool)
	if err != nil {
		return err
	}
	defer closeSrv()

	type page struct{ name, path string }
	pages := func(ts tenantSet) []page {
		m := fmt.Sprintf("/migrations/%d", ts.migration)
		return []page{
			{"Migrazioni", "/migrations"},
			{"Migrazioni, status red", "/migrations?status=red"},
			{"Migrazioni, search a mailbox", "/migrations?q=" + url.QueryEscape("box1@")},
			{"the migration", m},
			{"status.json", m + "/status.json"},
			{"Risorse", m + "/resources"},
		}
	}
	// Each page is fetched for the small and the big tenant in turn, request
	// by request, so both see the same load of a shared machine: the ratio
	// holds better than two medians taken a minute apart.
	sc, err := login(ctx, base, small.email)
	if err != nil {
		return err
	}
	bc, err := login(ctx, base, big.email)
	if err != nil {
		return err
	}
	var sr, br []timing
	sp, bp := pages(small), pages(big)
	for i := range sp {
		s, b, err := timePair(ctx, sc, base+sp[i].path, bc, base+bp[i].path, o.warmup, o.n)
		if err != nil {
			return fmt.Errorf("%s: %w", sp[i].name, err)
		}
		sr, br = append(sr, s), append(br, b)
	}
	fmt.Fprintf(out, "Panel pages: small tenant (%d migrations, newest of %d mailboxes) vs big tenant (%d migrations, newest of %d mailboxes); median of %d requests\n\n",
		o.smallMigrations, o.smallMailboxes, o.bigMigrations, o.bigMailboxes, o.n)
	fmt.Fprintln(out, "| page | small | small size | big | big size | time ratio |")
	fmt.Fprintln(out, "| --- | ---: | ---: | ---: | ---: | ---: |")
	for i, pg := range pages(small) {
		s, b := sr[i], br[i]
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %.2f× |\n", pg.name, ms(s.median), kib(s.size), ms(b.median), kib(b.size),
			float64(b.median)/float64(max(s.median, 1)))
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func kib(n int) string          { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }

// serve runs the panel on a loopback port and returns its URL.
func serve(pool *pgxpool.Pool) (string, func(), error) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: logger})
	if err != nil {
		return "", nil, err
	}
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		return "", nil, err
	}
	h := web.New(web.Deps{Pool: pool, River: rc, Box: box, Login: &auth.Login{DB: pool, Params: &cheapParams}, Logger: logger})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

var cheapParams = auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

func login(ctx context.Context, base, email string) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {email}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("login %s: status %d", email, res.StatusCode)
	}
	return c, nil
}

type timing struct {
	median time.Duration
	size   int
}

// timePair fetches u1 with c1 and u2 with c2 in turn, warmup times and
// then n times, and returns each one's median time and size.
func timePair(ctx context.Context, c1 *http.Client, u1 string, c2 *http.Client, u2 string, warmup, n int) (timing, timing, error) {
	var d1, d2 []time.Duration
	size1, size2 := 0, 0
	for i := range warmup + n {
		d, size, err := fetch(ctx, c1, u1)
		if err != nil {
			return timing{}, timing{}, err
		}
		e, esize, err := fetch(ctx, c2, u2)
		if err != nil {
			return timing{}, timing{}, err
		}
		size1, size2 = size, esize
		if i >= warmup {
			d1, d2 = append(d1, d), append(d2, e)
		}
	}
	if n <= 0 {
		return timing{}, timing{}, errors.New("no measured request (-n 0)")
	}
	slices.Sort(d1)
	slices.Sort(d2)
	return timing{median: d1[len(d1)/2], size: size1}, timing{median: d2[len(d2)/2], size: size2}, nil
}

// fetch GETs u and returns how long the whole answer took and its size.
func fetch(ctx context.Context, c *http.Client, u string) (time.Duration, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return 0, 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	return d, len(body), nil
}

// seedTenant creates a tenant with a user, migrations migrations (every
// fifth red, with three mailboxes each) and, newest, one of mailboxes
// mailboxes whose run 1 ended with errors and run 2 is copying.
func seedTenant(ctx context.Context, pool *pgxpool.Pool, name string, migrations, mailboxes, running int) (tenantSet, error) {
	domain := name + ".test"
	tn, err := store.CreateTenant(ctx, pool, store.NewTenant{Name: name, NotifyEmail: "it@" + domain, Domains: []string{domain}})
	if err != nil {
		return tenantSet{}, err
	}
	hash, err := auth.HashPasswordWithParams(password, cheapParams)
	if err != nil {
		return tenantSet{}, err
	}
	email := "admin@" + domain
	if _, err := store.CreateUser(ctx, pool, tn.ID, store.NewUser{Email: email, PasswordHash: hash}); err != nil {
		return tenantSet{}, err
	}
	var big int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			// The older migrations, a minute apart: scheduled, completed,
			// red, cancelled, completed with errors in turn.
			{`INSERT INTO migrations (tenant_id, name, preset, status, first_run_at, line_count, validated_count, failed_count, created_at)
				SELECT $1, 'Sede ' || g, 'standard-ssl',
					(ARRAY['scheduled', 'completed', 'red', 'cancelled', 'completed_with_errors'])[1 + g % 5],
					now() + interval '1 day', 3, 3, CASE WHEN g % 5 = 2 THEN 1 ELSE 0 END,
					now() - interval '1 hour' - g * interval '1 minute'
				FROM generate_series(1, $2::int - 1) g`, []any{tn.ID, migrations}},
			{`ANALYZE migrations`, nil}, // see the ANALYZE below
			{`INSERT INTO migration_lines (migration_id, tenant_id, line_no, local_user, remote_host, remote_user, status, error_text)
				SELECT m.id, m.tenant_id, n, 'user' || m.id || '-' || n || '@' || $2, 'mail.old.test', 'old' || m.id || '-' || n,
					CASE WHEN m.status = 'red' AND n = 3 THEN 'failed' ELSE 'ok' END,
					CASE WHEN m.status = 'red' AND n = 3 THEN 'Riga 3: test di migrazione fallito — utente o password errati, oppure accesso IMAP non abilitato' END
				FROM migrations m CROSS JOIN generate_series(1, 3) n WHERE m.tenant_id = $1`, []any{tn.ID, domain}},
		} {
			t0 := time.Now()
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return err
			}
			logSeed(name, q.sql, t0)
		}
		// The newest: mailboxes lines, run 1 completed with errors (every
		// 100th mailbox failed, every 50th skipped one message over
		// 30 MB), run 2 running: half the mailboxes done, running of them
		// being copied (the workers' slots bound those: 3 per tenant by
		// default), the rest pending.
		if err := tx.QueryRow(ctx, `INSERT INTO migrations (tenant_id, name, preset, status, first_run_at, second_run_at,
				line_count, validated_count, created_at)
			VALUES ($1, 'Grande', 'standard-ssl', 'running', now() - interval '2 hours', now() - interval '1 hour', $2, $2, now())
			RETURNING id`, tn.ID, mailboxes).Scan(&big); err != nil {
			return err
		}
		for _, q := range []string{
			`INSERT INTO migration_lines (migration_id, tenant_id, line_no, local_user, remote_host, remote_user, status, pinned_addr, preview)
				SELECT $1, $2, n, 'box' || n || '@' || $3, 'mail.old.test', 'old' || n, 'ok', '192.0.2.7:993',
					'{"folders": 12, "messages": 400, "bytes": 250000000, "too_large": 1, "too_large_bytes": 41943040}'::jsonb
				FROM generate_series(1, $4::int) n`,
			// Statistics of the rows just written, inside the transaction: the
			// foreign-key checks below otherwise keep plans made when the
			// tables were empty, and scan every line once per mailbox.
			`ANALYZE migrations, migration_lines, runs`,
			`INSERT INTO runs (migration_id, tenant_id, run_no, status, scheduled_at, started_at, ended_at)
				VALUES ($1, $2, 1, 'completed_with_errors', now() - interval '2 hours', now() - interval '2 hours', now() - interval '90 minutes'),
				       ($1, $2, 2, 'running', now() - interval '1 hour', now() - interval '1 hour', NULL)`,
			`INSERT INTO mailbox_runs (run_id, line_id, tenant_id, status, folders, found, copied, already_there, too_large,
					excluded_folders, failed, bytes, done, total, error_text, started_at, ended_at)
				SELECT r.id, l.id, l.tenant_id,
					CASE WHEN r.run_no = 1 AND l.line_no % 100 = 0 THEN 'failed'
					     WHEN r.run_no = 1 OR l.line_no % 2 = 0 THEN 'completed'
					     WHEN l.line_no <= 2 * $3::int THEN 'running' ELSE 'pending' END,
					12, 400, CASE WHEN r.run_no = 1 THEN 390 ELSE 5 END, CASE WHEN r.run_no = 1 THEN 8 ELSE 395 END,
					CASE WHEN l.line_no % 50 = 0 THEN 1 ELSE 0 END, 2, 1, 250000000, 400, 400,
					CASE WHEN r.run_no = 1 AND l.line_no % 100 = 0 THEN 'Il vecchio server rifiuta l''accesso: utente o password errati' END,
					CASE WHEN r.run_no = 1 OR l.line_no % 2 = 0 OR l.line_no <= 2 * $3::int THEN r.started_at END,
					CASE WHEN r.run_no = 1 OR l.line_no % 2 = 0 THEN now() END
				FROM runs r JOIN migration_lines l ON l.migration_id = r.migration_id AND l.tenant_id = r.tenant_id
				WHERE r.migration_id = $1 AND r.tenant_id = $2`,
			`INSERT INTO skipped_messages (mailbox_run_id, tenant_id, folder, uid, size, date, sender, subject)
				SELECT b.id, b.tenant_id, 'INBOX', 7, 41943040, now() - interval '30 days', 'Studio Bianchi <info@bianchi.test>', 'Tavole di progetto'
				FROM mailbox_runs b JOIN runs r ON r.id = b.run_id WHERE r.migration_id = $1 AND b.tenant_id = $2 AND b.too_large > 0`,
		} {
			args := []any{big, tn.ID}
			switch {
			case strings.HasPrefix(q, "ANALYZE"):
				args = nil
			case strings.HasPrefix(q, "INSERT INTO mailbox_runs"):
				args = append(args, running)
			case strings.Contains(q, "$4"):
				args = append(args, domain, mailboxes)
			}
			t0 := time.Now()
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
			logSeed(name, q, t0)
		}
		return nil
	})
	if err != nil {
		return tenantSet{}, err
	}
	return tenantSet{email: email, migration: big}, nil
}

// logSeed says on stderr how long a seeding statement took (the first
// words of its SQL name it), to tell a slow machine from a slow write.
func logSeed(tenant, sql string, t0 time.Time) {
	words := strings.Fields(sql)
	fmt.Fprintf(os.Stderr, "  %s: %s: %s\n", tenant, strings.Join(words[:min(3, len(words))], " "), time.Since(t0).Round(time.Millisecond))
}
