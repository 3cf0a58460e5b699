package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/trasloco/trasloco/internal/config"
	"github.com/trasloco/trasloco/internal/database"
)

// The demo CSVs of docker-compose.yml, whose old server is always
// composeOldServer; a test keeps them equal to what demoCSV writes.
const (
	composeOldServer     = "mail.vecchiaposta.test:143"
	composeCSVPath       = "deploy/docker/demo.csv"
	composeErrorsCSVPath = "deploy/docker/demo-errors.csv"
)

// runDemo is `trasloco-dev demo`: make dev's demo on servers started by
// someone else — docker-compose.yml's `demo` service. Those Dovecots read
// one passwd file per user from a directory (deploy/dovecot/compose-*.conf,
// like internal/testenv's), which it writes; it fills the old server's
// mailboxes unless they already hold mail, creates the demo tenant and
// users in DATABASE_URL (migrated beforehand) and writes the CSVs.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trasloco-dev demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	oldServer := fs.String("old-server", "", "the old server's plain IMAP host:port, as the CSV names it (required)")
	oldUsers := fs.String("old-users", "", "the old server's passwd-file directory (required)")
	destUsers := fs.String("dest-users", "", "our server's passwd-file directory (required)")
	out := fs.String("out", "", "directory to write the CSVs to (docker-compose.yml's are committed: deploy/docker/)")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the old server")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: trasloco-dev demo -old-server HOST:PORT -old-users DIR -dest-users DIR [-out DIR]\n\nThe demo of make dev on servers started elsewhere (docker-compose.yml). Needs DATABASE_URL.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *oldServer == "" || *oldUsers == "" || *destUsers == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	dbURL, err := config.LoadDatabase(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "trasloco-dev demo: %v\n", err)
		return 2
	}
	if err := demoOn(ctx, dbURL, *oldServer, *oldUsers, *destUsers, *out, *wait, stdout); err != nil {
		fmt.Fprintf(stderr, "trasloco-dev demo: %v\n", err)
		return 1
	}
	return 0
}

func demoOn(ctx context.Context, dbURL, oldServer, oldUsers, destUsers, out string, wait time.Duration, stdout io.Writer) error {
	for _, m := range demoMailboxes {
		if err := writePasswd(oldUsers, m.OldUser, m.OldPassword); err != nil {
			return err
		}
	}
	for _, local := range append(localMailboxes(), demoExtraMailboxes...) {
		if err := writePasswd(destUsers, local, randomToken(12)); err != nil {
			return err
		}
	}
	login := func(user, password string) (*imapclient.Client, error) {
		c, err := imapclient.DialInsecure(oldServer, nil)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", oldServer, err)
		}
		if err := c.Login(user, password).Wait(); err != nil {
			c.Close()
			return nil, fmt.Errorf("log in to %s as %s: %w", oldServer, user, err)
		}
		return c, nil
	}

	var todo []demoMailbox
	deadline := time.Now().Add(wait)
	for _, m := range demoMailboxes {
		for {
			n, err := inboxCount(login, m)
			if err == nil {
				if n == 0 {
					todo = append(todo, m)
				}
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the old server: %w", err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	if len(todo) > 0 {
		fmt.Fprintf(stdout, "trasloco-dev demo: filling %d mailboxes of %s\n", len(todo), oldServer)
		if err := seedOldServer(login, "INBOX.", todo, nil); err != nil {
			return err
		}
	}

	pool, err := database.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := database.CheckCurrent(ctx, pool); err != nil {
		return err
	}
	if _, err := ensureRecords(ctx, pool); err != nil {
		return fmt.Errorf("create the demo tenant and users: %w", err)
	}
	csvPath := composeCSVPath
	if out != "" {
		csvPath = filepath.Join(out, "demo.csv")
		if err := writeFile(csvPath, []byte(demoCSV(oldServer)), 0o644); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(out, "demo-errors.csv"), []byte(demoErrorsCSV(oldServer)), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "trasloco-dev demo: ready — log in as %s (password %s), upload %s with server type %s\n",
		demoUserEmail, demoUserPassword, csvPath, demoPreset)
	return nil
}

// inboxCount logs in as the mailbox's old user and counts INBOX.
func inboxCount(login loginFunc, m demoMailbox) (uint32, error) {
	c, err := login(m.OldUser, m.OldPassword)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0, fmt.Errorf("status of %s's INBOX: %w", m.OldUser, err)
	}
	if st.NumMessages == nil {
		return 0, errors.New("STATUS without MESSAGES")
	}
	return *st.NumMessages, nil
}

// writePasswd writes a user's passwd-file, as internal/testenv's AddUser
// does, unless it exists.
func writePasswd(dir, user, password string) error {
	path := filepath.Join(dir, user)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if strings.ContainsAny(user, "/:\r\n") || strings.ContainsAny(password, ":\r\n") {
		return fmt.Errorf("user %q: name or password unfit for a passwd-file", user)
	}
	return writeFile(path, []byte(user+":{PLAIN}"+password+"::::::\n"), 0o644)
}
