package jobs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/csvimport"
	"github.com/trasloco/trasloco/internal/i18n"
	"github.com/trasloco/trasloco/internal/jobs"
	"github.com/trasloco/trasloco/internal/netguard"
	"github.com/trasloco/trasloco/internal/secret"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// syncBuffer collects the worker's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	ctx      context.Context
	pool     *pgxpool.Pool
	src, dst *testenv.Dovecot
	box      *secret.Box
	key      []byte
	tenant   store.Tenant
	deps     jobs.Deps
	logs     *syncBuffer
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{ctx: ctx, pool: testenv.NewTestDB(t), logs: &syncBuffer{}}
	f.src, f.dst = testenv.SharedDovecot(t)
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	var err error
	f.key = key
	f.box, err = secret.NewBox(key)
	require.NoError(t, err)
	f.tenant, err = store.CreateTenant(ctx, f.pool, store.NewTenant{Name: "Acme", NotifyEmail: "it@acme.test", Domains: []string{"acme.test"}})
	require.NoError(t, err)
	f.deps = jobs.Deps{
		Pool:  f.pool,
		Box:   f.box,
		Guard: netguard.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllPorts: true},
		Dest: transfer.Endpoint{
			Host: f.dst.TLSAddr(), TLS: transfer.TLSImplicit, RootCAs: f.dst.CAPool(),
			AuthUser: f.dst.MasterUser(), Password: f.dst.MasterPassword(),
		},
		PinRemoteAddr: true,
		Logger:        slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CheckTimeout:  10 * time.Second,
	}
	return f
}

// user adds a mailbox with password pw to the source and, when dest, to
// the destination.
func (f *fixture) user(t *testing.T, pw string, dest bool) string {
	t.Helper()
	u := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, f.src.AddUser(u, pw))
	if dest {
		require.NoError(t, f.dst.AddUser(u, "dest-"+pw))
	}
	return u
}

type migrationOpts struct {
	insecureTLS    bool
	masterUser     string
	masterPassword string
	second         bool
	first          time.Time       // default firstRun
	secondAt       time.Time       // with second: default 23 hours after first
	preset         transfer.Preset // default Standard-SSL
	emptyPasswords bool            // the CSV may leave passwords empty (OAuth2)
}

var firstRun = time.Date(2031, 3, 1, 22, 0, 0, 0, time.UTC)

// migration stores a validating migration from csv as the web layer does:
// parsed, good lines pending with sealed passwords, refused lines failed.
func (f *fixture) migration(t *testing.T, csv string, o migrationOpts) store.Migration {
	t.Helper()
	res, err := csvimport.Parse(strings.NewReader(csv), csvimport.Limits{AllowEmptyPassword: o.masterUser != "" || o.emptyPasswords})
	require.NoError(t, err)
	if o.first.IsZero() {
		o.first = firstRun
	}
	if o.preset == "" {
		o.preset = transfer.PresetStandardSSL
	}
	nm := store.NewMigration{Name: "test", Preset: string(o.preset), InsecureTLS: o.insecureTLS, FirstRunAt: o.first}
	if o.second {
		s := o.first.Add(23 * time.Hour)
		if !o.secondAt.IsZero() {
			s = o.secondAt
		}
		nm.SecondRunAt = &s
	}
	if o.masterUser != "" {
		nm.MasterUser = o.masterUser
		nm.MasterPasswordEnc, err = f.box.Seal([]byte(o.masterPassword), jobs.MasterSecretAD(f.tenant.ID, o.masterUser))
		require.NoError(t, err)
	}
	for _, l := range res.Lines {
		nl := store.NewLine{LineNo: l.No, LocalUser: l.LocalUser, RemoteHost: l.RemoteHost, RemoteUser: l.RemoteUser}
		if l.RemotePassword != "" {
			nl.RemotePasswordEnc, err = f.box.Seal([]byte(l.RemotePassword), jobs.LineSecretAD(f.tenant.ID, l.LocalUser, l.RemoteHost, l.RemoteUser))
			require.NoError(t, err)
		}
		nm.Lines = append(nm.Lines, nl)
	}
	for _, p := range res.Problems {
		nm.Lines = append(nm.Lines, store.NewLine{LineNo: p.Line, Status: store.LineFailed, Error: p.Msg()})
	}
	m, err := store.CreateMigration(f.ctx, f.pool, f.tenant.ID, nm)
	require.NoError(t, err)
	return m
}

// work runs the validation job of m the way River does.
func (f *fixture) work(t *testing.T, m store.Migration) *rivertest.WorkResult {
	t.Helper()
	w := rivertest.NewWorker(t, riverpgxv5.New(f.pool), &river.Config{}, jobs.NewValidateWorker(f.deps))
	tx, err := f.pool.Begin(f.ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(f.ctx) }()
	res, err := w.Work(f.ctx, t, tx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: m.ID}, nil)
	require.NoError(t, err)
	return res
}

func (f *fixture) lineErrors(t *testing.T, m store.Migration) map[int]string {
	t.Helper()
	return f.lineErrorsIn(t, m, i18n.Italian)
}

// lineErrorsIn are the reasons of m's refused lines, read in lang.
func (f *fixture) lineErrorsIn(t *testing.T, m store.Migration, lang i18n.Lang) map[int]string {
	t.Helper()
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	out := map[int]string{}
	for _, l := range lines {
		if l.Status == store.LineFailed {
			require.Empty(t, l.ErrorText, "a reason is stored as a code, not a sentence")
			require.NotEmpty(t, l.Error.Code)
			out[l.LineNo] = l.Reason(lang)
		}
	}
	return out
}

func (f *fixture) runJobs(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(*) FROM river_job WHERE kind = 'migration_run'`).Scan(&n))
	return n
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestValidateScheduled(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna;with-semicolon", true)
	bob := f.user(t, "pw-bob", true)
	csv := fmt.Sprintf("%s;%s;%s;pw-anna;with-semicolon\r\n%s;%s;%s;pw-bob\r\n", anna, f.src.TLSAddr(), anna, bob, f.src.TLSAddr(), bob)
	m := f.migration(t, csv, migrationOpts{insecureTLS: true, second: true})

	res := f.work(t, m)
	require.Equal(t, rivertype.JobStateCompleted, res.Job.State)

	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationScheduled, got.Status)
	require.Equal(t, 2, got.ValidatedCount)
	require.Zero(t, got.FailedCount)
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	for _, l := range lines {
		require.Equal(t, store.LineOK, l.Status)
		require.Equal(t, f.src.TLSAddr(), l.PinnedAddr)
	}

	runs, err := store.ListRuns(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	second := firstRun.Add(23 * time.Hour)
	jobRows := rivertest.RequireManyInserted(f.ctx, t, riverpgxv5.New(f.pool), []rivertest.ExpectedJob{
		{Args: &jobs.RunArgs{TenantID: f.tenant.ID, RunID: runs[0].ID}, Opts: &rivertest.RequireInsertedOpts{Queue: jobs.QueueTransfer, ScheduledAt: firstRun, State: rivertype.JobStateScheduled}},
		{Args: &jobs.RunArgs{TenantID: f.tenant.ID, RunID: runs[1].ID}, Opts: &rivertest.RequireInsertedOpts{Queue: jobs.QueueTransfer, ScheduledAt: second, State: rivertype.JobStateScheduled}},
	})
	require.Equal(t, jobRows[0].ID, runs[0].RiverJobID)
	require.Equal(t, jobRows[1].ID, runs[1].RiverJobID)
	require.True(t, runs[0].ScheduledAt.Equal(firstRun))
	require.True(t, runs[1].ScheduledAt.Equal(second))

	// Running the job again (a River retry) changes nothing.
	f.work(t, m)
	require.Equal(t, 2, f.runJobs(t))
	got, err = store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationScheduled, got.Status)
	require.Equal(t, 2, got.ValidatedCount)

	require.NotContains(t, f.logs.String(), "pw-anna")
	require.NotContains(t, f.logs.String(), "pw-bob")
}

func TestValidateOneRunOnly(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna", true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true})
	f.work(t, m)
	runs, err := store.ListRuns(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, 1, f.runJobs(t))
}

func TestValidateMasterUser(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna-unknown-to-customer", true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;", anna, f.src.TLSAddr(), anna),
		migrationOpts{insecureTLS: true, masterUser: f.src.MasterUser(), masterPassword: f.src.MasterPassword()})
	f.work(t, m)
	require.Empty(t, f.lineErrors(t, m))
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationScheduled, got.Status)
	require.NotContains(t, f.logs.String(), f.src.MasterPassword())
}

func TestValidateBadLines(t *testing.T) {
	t.Parallel()
	f := setup(t)
	good := f.user(t, "pw-good", true)
	noDest := f.user(t, "pw-nodest", false)
	wrongPw := f.user(t, "pw-right", true)
	refused := f.user(t, "pw-refused", true)
	other := testenv.UniqueUser(t, "other.test")
	closed := closedPort(t)
	csv := strings.Join([]string{
		fmt.Sprintf("%s;%s;%s;pw-good", good, f.src.TLSAddr(), good),
		fmt.Sprintf("%s;%s;%s;pw-nodest", noDest, f.src.TLSAddr(), noDest),
		fmt.Sprintf("%s;%s;%s;pw-other-domain", other, f.src.TLSAddr(), other),
		fmt.Sprintf("%s;%s;%s;pw-WRONG-secret", wrongPw, f.src.TLSAddr(), wrongPw),
		fmt.Sprintf("%s;%s;%s;pw-refused", refused, closed, refused),
		"not-an-address;host.example;u;pw-format-secret",
	}, "\n")
	m := f.migration(t, csv, migrationOpts{insecureTLS: true, second: true})

	res := f.work(t, m)
	require.Equal(t, rivertype.JobStateCompleted, res.Job.State)
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationRed, got.Status)
	require.Equal(t, 6, got.ValidatedCount)
	require.Equal(t, 5, got.FailedCount)
	require.Equal(t, map[int]string{
		2: "Riga 2: la casella di destinazione " + noDest + " non esiste: creala prima di pianificare la migrazione",
		3: "Riga 3: il dominio other.test non appartiene al tuo account",
		4: "Riga 4: test di migrazione fallito — utente o password errati, oppure accesso IMAP non abilitato",
		5: "Riga 5: test di migrazione fallito — impossibile connettersi a " + closed + ": controlla il nome, la porta e il tipo di server",
		6: "Riga 6: la casella locale (primo campo) non è un indirizzo email valido: controlla l'ordine dei campi (casella locale;server remoto;utente remoto;password)",
	}, f.lineErrors(t, m))
	runs, err := store.ListRuns(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Empty(t, runs)
	require.Zero(t, f.runJobs(t))

	// A red migration keeps no line's password: a corrected CSV brings new ones.
	var sealed int
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT count(remote_password_enc) FROM migration_lines WHERE migration_id = $1`, m.ID).Scan(&sealed))
	require.Zero(t, sealed, "a red migration's lines keep their passwords")

	// No password anywhere: not in the lines, not in the logs.
	var texts string
	require.NoError(t, f.pool.QueryRow(f.ctx, `SELECT string_agg(COALESCE(error_text, '') || COALESCE(pinned_addr, ''), ' ') FROM migration_lines`).Scan(&texts))
	logs := f.logs.String()
	require.Contains(t, logs, "line_no=4")
	for _, pw := range []string{"pw-good", "pw-nodest", "pw-other-domain", "pw-WRONG-secret", "pw-refused", "pw-format-secret", "pw-right"} {
		require.NotContains(t, texts, pw)
		require.NotContains(t, logs, pw)
	}
}

// TestValidateEnglish: a line's reason is stored once, as a code, and
// reads in the reader's language whatever the tenant's: the same row in
// English and in Italian.
func TestValidateEnglish(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.NoError(t, store.SetTenantLanguage(f.ctx, f.pool, f.tenant.ID, store.LanguageEnglish))
	wrongPw := f.user(t, "pw-right", true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-wrong", wrongPw, f.src.TLSAddr(), wrongPw), migrationOpts{insecureTLS: true})
	f.work(t, m)
	require.Equal(t, map[int]string{
		1: "Line 1: migration test failed — wrong user or password, or IMAP access not enabled",
	}, f.lineErrorsIn(t, m, i18n.English))
	require.Equal(t, map[int]string{
		1: "Riga 1: test di migrazione fallito — utente o password errati, oppure accesso IMAP non abilitato",
	}, f.lineErrorsIn(t, m, i18n.Italian))
}

func TestValidateForbiddenAndCertificate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.deps.Guard = netguard.Guard{AllPorts: true} // 127.0.0.1 is not allowed for remote hosts; our own server still is
	anna := f.user(t, "pw-anna", true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true})
	f.work(t, m)
	require.Equal(t, map[int]string{
		1: "Riga 1: il server remoto " + f.src.TLSAddr() + " punta a un indirizzo non consentito (rete privata o locale): indica un server raggiungibile da Internet",
	}, f.lineErrors(t, m))

	// With the guard allowing loopback but certificates verified, the test
	// CA is unknown.
	g := setup(t)
	bob := g.user(t, "pw-bob", true)
	m = g.migration(t, fmt.Sprintf("%s;%s;%s;pw-bob", bob, g.src.TLSAddr(), bob), migrationOpts{})
	g.work(t, m)
	require.Equal(t, map[int]string{
		1: "Riga 1: test di migrazione fallito — il certificato di " + g.src.TLSAddr() + " non è verificabile (scaduto, autofirmato o per un altro nome): usa il nome host del certificato oppure attiva «accetta certificati autofirmati»",
	}, g.lineErrors(t, m))
}

func TestValidateLeavesCancelledAlone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna", true)
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, f.src.TLSAddr(), anna), migrationOpts{insecureTLS: true})
	_, err := store.CancelMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	res := f.work(t, m)
	require.Equal(t, rivertype.JobStateCompleted, res.Job.State)
	got, err := store.GetMigration(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, store.MigrationCancelled, got.Status)
	require.Zero(t, got.ValidatedCount)
	require.Zero(t, f.runJobs(t))
}

func TestValidateUnknownMigrationCancelsJob(t *testing.T) {
	t.Parallel()
	f := setup(t)
	w := rivertest.NewWorker(t, riverpgxv5.New(f.pool), &river.Config{}, jobs.NewValidateWorker(f.deps))
	tx, err := f.pool.Begin(f.ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(f.ctx) }()
	res, err := w.Work(f.ctx, t, tx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: 999999}, nil)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCancelled, res.Job.State)
}

// TestValidateUniqueByArgs shows a second insert of the same validation is
// skipped while the first waits, but allowed once it completed (a
// corrected CSV).
func TestValidateUniqueByArgs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	client, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{})
	require.NoError(t, err)
	var ins jobs.Inserter = client
	args := jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: 1}
	err = pgx.BeginFunc(f.ctx, f.pool, func(tx pgx.Tx) error {
		r1, err := ins.InsertTx(f.ctx, tx, args, nil)
		require.NoError(t, err)
		require.Equal(t, jobs.QueueValidate, r1.Job.Queue)
		r2, err := ins.InsertTx(f.ctx, tx, args, nil)
		require.NoError(t, err)
		require.True(t, r2.UniqueSkippedAsDuplicate)
		_, err = tx.Exec(f.ctx, `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE id = $1`, r1.Job.ID)
		require.NoError(t, err)
		r3, err := ins.InsertTx(f.ctx, tx, args, nil)
		require.NoError(t, err)
		require.False(t, r3.UniqueSkippedAsDuplicate)
		return nil
	})
	require.NoError(t, err)
}

// settleOpen is how long a silentServer's connection lasts before it
// counts as open.
const settleOpen = 100 * time.Millisecond

// silentServer accepts connections and never answers, counting how many
// are open at once and how long each stayed open (until the client gave
// up).
type silentServer struct {
	addr      string
	mu        sync.Mutex
	open, max int
	held      []time.Duration
}

func newSilentServer(t *testing.T) *silentServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &silentServer{addr: l.Addr().String()}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// A connection counts as open once it has lasted settleOpen: the
			// end of the one before it, which the client closed before it
			// dialled this one, reaches this server's goroutines a moment
			// later, and on a loaded machine after this accept. A client over
			// its cap holds the extra connection a whole CheckTimeout.
			var counted bool
			closed := make(chan struct{})
			go func() {
				select {
				case <-closed:
				case <-time.After(settleOpen):
					s.mu.Lock()
					select {
					case <-closed: // it ended meanwhile
					default:
						counted = true
						s.open++
						s.max = max(s.max, s.open)
					}
					s.mu.Unlock()
				}
			}()
			go func() {
				at := time.Now()
				_, _ = io.Copy(io.Discard, c) // until the client gives up
				c.Close()
				s.mu.Lock()
				close(closed)
				if counted {
					s.open--
				}
				s.held = append(s.held, time.Since(at))
				s.mu.Unlock()
			}()
		}
	}()
	return s
}

// workUntilChecked works m's validation job as River would: again while
// it says some lines could not be checked (our own destination server did
// not answer within CheckTimeout, as a short one allows on a busy
// machine), at most a few times. The lines it checked stay checked.
func (f *fixture) workUntilChecked(t *testing.T, m store.Migration) {
	t.Helper()
	w := rivertest.NewWorker(t, riverpgxv5.New(f.pool), &river.Config{}, jobs.NewValidateWorker(f.deps))
	for attempt := 1; ; attempt++ {
		tx, err := f.pool.Begin(f.ctx)
		require.NoError(t, err)
		_, err = w.Work(f.ctx, t, tx, jobs.ValidateMigrationArgs{TenantID: f.tenant.ID, MigrationID: m.ID}, nil)
		_ = tx.Rollback(f.ctx)
		if err == nil {
			return
		}
		require.ErrorContains(t, err, "could not be checked, retrying later", "attempt %d", attempt)
		require.Less(t, attempt, 5, "our destination server did not answer in %d attempts", attempt)
		t.Logf("attempt %d: %v; again", attempt, err)
	}
}

// Six lines on a host that never answers: at most PerHostLimit (2) test
// logins to it at once, each given up after CheckTimeout with the
// customer's "cannot connect" reason. The destination's logins get the
// same short CheckTimeout: on a busy machine one may not answer in time,
// which leaves its line pending for the job's next attempt (the
// product's behaviour, see errRetryLater), so the job is worked again
// until every line is checked; the old server's part of each line still
// happens once.
func TestValidatePerHostLimitAndTimeout(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.deps.PerHostLimit = 2
	f.deps.CheckTimeout = time.Second
	slow := newSilentServer(t)
	var lines []string
	for range 6 {
		u := f.user(t, "pw-slow", true)
		lines = append(lines, fmt.Sprintf("%s;%s;%s;pw-slow", u, slow.addr, u))
	}
	m := f.migration(t, strings.Join(lines, "\n"), migrationOpts{insecureTLS: true})
	start := time.Now()
	f.workUntilChecked(t, m)
	elapsed := time.Since(start)

	errs := f.lineErrors(t, m)
	require.Len(t, errs, 6)
	for no, text := range errs {
		require.Equal(t, fmt.Sprintf("Riga %d: test di migrazione fallito — impossibile connettersi a %s: controlla il nome, la porta e il tipo di server", no, slow.addr), text)
	}
	// The server sees the client's close a moment after the job is done.
	testenv.WaitFor(t, time.Minute, "the client closes every connection", func() (bool, string) {
		slow.mu.Lock()
		defer slow.mu.Unlock()
		return slow.open == 0 && len(slow.held) >= 6, fmt.Sprintf("%d open, %d closed", slow.open, len(slow.held))
	})
	slow.mu.Lock()
	defer slow.mu.Unlock()
	require.Equal(t, 2, slow.max, "per-host cap")
	require.GreaterOrEqual(t, elapsed, 3*time.Second, "6 lines, 2 at a time, 1s each")
	// Each login was given up by the 1 s CheckTimeout, not by the 30 s
	// default nor by the end of the test: the server saw the client close
	// every connection, well before the default would have.
	require.Len(t, slow.held, 6, "one connection per line, each closed by the client")
	for i, d := range slow.held {
		require.Less(t, d, jobs.DefaultCheckTimeout, "connection %d held %s", i, d)
	}
}

// A line's test login and its preview share one connection: the old
// server sees one login per line, and the line still gets its preview.
func TestValidateOneConnectionPerLine(t *testing.T) {
	t.Parallel()
	f := setup(t)
	anna := f.user(t, "pw-anna", true)
	var conns atomic.Int32
	addr := testenv.Proxy(t, f.src.TLSAddr(), func(client, upstream net.Conn, _ int) {
		conns.Add(1)
		testenv.ProxyPipe(client, upstream)
	})
	m := f.migration(t, fmt.Sprintf("%s;%s;%s;pw-anna", anna, addr, anna), migrationOpts{insecureTLS: true})
	f.work(t, m)
	require.Empty(t, f.lineErrors(t, m))
	require.EqualValues(t, 1, conns.Load(), "connections to the old server for one line")
	lines, err := store.ListLines(f.ctx, f.pool, f.tenant.ID, m.ID)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	require.NotEmpty(t, lines[0].Preview, "the line's preview, measured on the same connection")
}
