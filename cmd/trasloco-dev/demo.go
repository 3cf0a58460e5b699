package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trasloco/trasloco/internal/auth"
	"github.com/trasloco/trasloco/internal/store"
	"github.com/trasloco/trasloco/internal/testenv"
)

// The demo: one customer (tenant) with its domain, a panel user, three
// mailboxes on the customer's old server and the same three on ours, plus
// an operator of the provider. docker-compose.yml seeds the same demo with
// `trasloco-dev demo`, so keep the two in step through this file.
const (
	demoTenant       = "Acme S.r.l."
	demoDomain       = "acme.test"
	demoNotifyEmail  = "it@acme.test"
	demoUserEmail    = "demo@acme.test"
	demoUserPassword = "demo-trasloco"

	operatorTenant   = "Trasloco (operatori)"
	operatorDomain   = "trasloco.test"
	operatorEmail    = "operatore@trasloco.test"
	operatorPassword = "operatore-trasloco"

	// oldDomain is the domain of the mailboxes on the customer's old server.
	oldDomain = "vecchiaposta.test"
	// demoPreset is the server type to pick in Nuova Migrazione: the old
	// server offers STARTTLS with a self-signed certificate on its plain
	// port, which Standard-no-SSL accepts (noting it in the log).
	demoPreset      = "Standard-no-SSL"
	demoPresetValue = "standard-nossl"

	// hugeSize is the size of the message over 30 MB that every migration
	// must skip (31 MiB: over the limit whether a MB is 10⁶ or 2²⁰ bytes).
	hugeSize = 31 << 20
)

// demoFolder is a folder of a mailbox on the old server.
type demoFolder struct {
	// Name is below the old server's "INBOX." prefix; "" is INBOX itself.
	Name  string
	Count int
	// Skipped says the migration leaves it behind (Trash and Junk).
	Skipped bool
}

// demoMailbox is one line of the demo CSV.
type demoMailbox struct {
	Local       string // our mailbox
	OldUser     string
	OldPassword string
	Seed        int64
	Folders     []demoFolder
	// Huge adds the message over 30 MB to INBOX.
	Huge bool
}

// demoMailboxes hold a few hundred varied messages: accented folder names,
// nested folders, Trash and Junk by several names (Bulk is the old
// server's \Junk special-use folder), flags, keywords, attachments from a
// few KB to a few MB, and one message over 30 MB. Marco's password holds a
// ';', as the CSV allows.
var demoMailboxes = []demoMailbox{
	{
		Local: "anna@" + demoDomain, OldUser: "anna@" + oldDomain, OldPassword: "Anna-2019!", Seed: 101, Huge: true,
		Folders: []demoFolder{
			{Name: "", Count: 90},
			{Name: "Sent", Count: 25},
			{Name: "Bozze", Count: 3},
			{Name: "Lavoro", Count: 30},
			{Name: "Lavoro.Fatture 2023", Count: 20},
			{Name: "Città & attività", Count: 15},
			{Name: "Trash", Count: 12, Skipped: true},
			{Name: "Bulk", Count: 10, Skipped: true},
		},
	},
	{
		Local: "marco@" + demoDomain, OldUser: "marco@" + oldDomain, OldPassword: "marco;pw-2021", Seed: 202,
		Folders: []demoFolder{
			{Name: "", Count: 60},
			{Name: "Sent", Count: 15},
			{Name: "Società", Count: 20},
			{Name: "Clienti", Count: 10},
			{Name: "Clienti.Rossi SpA", Count: 8},
			{Name: "Cestino", Count: 10, Skipped: true},
			{Name: "Posta indesiderata", Count: 8, Skipped: true},
		},
	},
	{
		Local: "giulia@" + demoDomain, OldUser: "giulia@" + oldDomain, OldPassword: "Giulia#2020", Seed: 303,
		Folders: []demoFolder{
			{Name: "", Count: 40},
			{Name: "Sent", Count: 10},
			{Name: "Archivio", Count: 15},
			{Name: "Übersicht", Count: 8},
			{Name: "Junk", Count: 6, Skipped: true},
			{Name: "Deleted Items", Count: 5, Skipped: true},
		},
	},
}

// demoExtraMailboxes exist on our server but are not in the demo CSV.
var demoExtraMailboxes = []string{"info@" + demoDomain}

// copied is how many messages a migration of the mailbox copies.
func (m demoMailbox) copied() int {
	n := 0
	for _, f := range m.Folders {
		if !f.Skipped {
			n += f.Count
		}
	}
	return n
}

// total is how many messages the old server holds for the mailbox.
func (m demoMailbox) total() int {
	n := 0
	for _, f := range m.Folders {
		n += f.Count
	}
	if m.Huge {
		n++
	}
	return n
}

// demoSize picks the size of message i: mostly a few KB to 40 KB, one in
// 25 a few hundred KB, one in 97 some MB.
func demoSize(seed int64, i int) int {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(i)+1<<32))
	switch {
	case i%97 == 96:
		return 2<<20 + r.IntN(2<<20)
	case i%25 == 24:
		return 200<<10 + r.IntN(600<<10)
	default:
		return 1500 + r.IntN(40<<10)
	}
}

// ensureMailUsers creates the demo's users on both servers, unless an
// earlier start did. The destination users' own passwords are random and
// never used: Trasloco logs in as the master user.
func ensureMailUsers(src, dst *testenv.Dovecot) error {
	for _, m := range demoMailboxes {
		if !src.HasUser(m.OldUser) {
			if err := src.AddUser(m.OldUser, m.OldPassword); err != nil {
				return err
			}
		}
	}
	for _, local := range append(localMailboxes(), demoExtraMailboxes...) {
		if !dst.HasUser(local) {
			if err := dst.AddUser(local, randomToken(12)); err != nil {
				return err
			}
		}
	}
	return nil
}

func localMailboxes() []string {
	out := make([]string, len(demoMailboxes))
	for i, m := range demoMailboxes {
		out[i] = m.Local
	}
	return out
}

// loginFunc opens a connection to the old server, logged in as user.
type loginFunc func(user, password string) (*imapclient.Client, error)

// seedOldServer fills mailboxes of the old server, whose personal
// namespace prefix is prefix ("INBOX."). Before a mailbox is filled, prepare
// (when set) is called with its user: it empties what an interrupted
// seeding left, so the counts are always the demo's.
func seedOldServer(login loginFunc, prefix string, mailboxes []demoMailbox, prepare func(user string) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(mailboxes))
	for i, m := range mailboxes {
		wg.Go(func() {
			if prepare != nil {
				if err := prepare(m.OldUser); err != nil {
					errs[i] = fmt.Errorf("seed %s: %w", m.OldUser, err)
					return
				}
			}
			errs[i] = seedMailbox(login, prefix, m)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func seedMailbox(login loginFunc, prefix string, m demoMailbox) error {
	c, err := login(m.OldUser, m.OldPassword)
	if err != nil {
		return fmt.Errorf("seed %s: %w", m.OldUser, err)
	}
	defer c.Close()
	idx := 0
	for _, f := range m.Folders {
		name := "INBOX"
		if f.Name != "" {
			name = prefix + f.Name
		}
		// In batches, so a mailbox's few MB messages are not all in memory.
		for done := 0; done < f.Count; {
			n := min(25, f.Count-done)
			msgs := make([]testenv.Msg, n)
			for k := range msgs {
				msgs[k] = testenv.BuildMessage(m.Seed, idx, demoSize(m.Seed, idx))
				idx++
			}
			if err := testenv.AppendMessages(c, name, msgs...); err != nil {
				return fmt.Errorf("seed %s: %w", m.OldUser, err)
			}
			done += n
		}
	}
	if m.Huge {
		if err := testenv.AppendMessages(c, "INBOX", testenv.BuildMessage(m.Seed, 1_000_000, hugeSize)); err != nil {
			return fmt.Errorf("seed %s: %w", m.OldUser, err)
		}
	}
	if err := c.Logout().Wait(); err != nil {
		return fmt.Errorf("seed %s: log out: %w", m.OldUser, err)
	}
	return nil
}

// ensureRecords creates the demo tenant with its domain, the demo user and
// the operator, or, when they exist, sets the users' passwords back to the
// demo's and enables them, so the login printed always works.
func ensureRecords(ctx context.Context, pool *pgxpool.Pool) (store.Tenant, error) {
	tenant, err := ensureTenant(ctx, pool, store.NewTenant{
		Name: demoTenant, NotifyEmail: demoNotifyEmail, Timezone: store.DefaultTimezone,
		Language: store.LanguageItalian, Domains: []string{demoDomain},
	})
	if err != nil {
		return store.Tenant{}, err
	}
	ops, err := ensureTenant(ctx, pool, store.NewTenant{
		Name: operatorTenant, NotifyEmail: "noc@" + operatorDomain, Timezone: store.DefaultTimezone,
		Language: store.LanguageItalian, Domains: []string{operatorDomain},
	})
	if err != nil {
		return store.Tenant{}, err
	}
	if err := ensureUser(ctx, pool, tenant, demoUserEmail, demoUserPassword, false); err != nil {
		return store.Tenant{}, err
	}
	if err := ensureUser(ctx, pool, ops, operatorEmail, operatorPassword, true); err != nil {
		return store.Tenant{}, err
	}
	return tenant, nil
}

func ensureTenant(ctx context.Context, pool *pgxpool.Pool, nt store.NewTenant) (store.Tenant, error) {
	t, err := store.GetTenantByName(ctx, pool, nt.Name)
	if errors.Is(err, store.ErrNotFound) {
		return store.CreateTenant(ctx, pool, nt)
	}
	return t, err
}

func ensureUser(ctx context.Context, pool *pgxpool.Pool, t store.Tenant, email, password string, operator bool) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	_, err = store.GetUserByEmail(ctx, pool, email)
	if errors.Is(err, store.ErrNotFound) {
		_, err = store.CreateUser(ctx, pool, t.ID, store.NewUser{Email: email, PasswordHash: hash, Operator: operator})
		return err
	}
	if err != nil {
		return err
	}
	if err := store.SetUserPassword(ctx, pool, email, hash); err != nil {
		return err
	}
	return store.SetUserDisabled(ctx, pool, email, false)
}

// demoCSV is the ready-to-upload CSV: every line passes the panel's checks.
func demoCSV(oldServer string) string {
	var b strings.Builder
	for _, m := range demoMailboxes {
		fmt.Fprintf(&b, "%s;%s;%s;%s\n", m.Local, oldServer, m.OldUser, m.OldPassword)
	}
	return b.String()
}

// demoErrorsCSV shows a red migration: one line for each kind of refusal.
func demoErrorsCSV(oldServer string) string {
	a := demoMailboxes[0]
	return strings.Join([]string{
		fmt.Sprintf("%s;%s;%s;%s", a.Local, oldServer, a.OldUser, "password-sbagliata"),
		fmt.Sprintf("luca@%s;%s;luca@%s;%s", demoDomain, oldServer, oldDomain, "Luca-2022"),
		fmt.Sprintf("anna@altro-cliente.test;%s;%s;%s", oldServer, a.OldUser, a.OldPassword),
		fmt.Sprintf("%s;%s", demoMailboxes[1].Local, oldServer),
	}, "\n") + "\n"
}
