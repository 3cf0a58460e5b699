package transfer_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// fuzzCommands are the commands of the engine whose reply a fuzz input
// replaces, by the input's first argument (modulo their number).
var fuzzCommands = []struct {
	name  string
	match func(testenv.HostileCommand) bool
}{
	{"LOGIN", func(c testenv.HostileCommand) bool { return c.Name == "LOGIN" || c.Name == "AUTHENTICATE" }},
	{"LIST", func(c testenv.HostileCommand) bool { return c.Name == "LIST" }},
	{"EXAMINE", func(c testenv.HostileCommand) bool { return c.Name == "EXAMINE" }},
	{"metadata FETCH", func(c testenv.HostileCommand) bool {
		return strings.HasSuffix(c.Name, "FETCH") && strings.Contains(c.Args, "RFC822.SIZE") && !strings.Contains(c.Args, "BODY")
	}},
	{"body FETCH", func(c testenv.HostileCommand) bool {
		return strings.HasSuffix(c.Name, "FETCH") && strings.Contains(c.Args, "BODY.PEEK[]")
	}},
	{"header FETCH", func(c testenv.HostileCommand) bool {
		return strings.HasSuffix(c.Name, "FETCH") && strings.Contains(c.Args, "HEADER.FIELDS")
	}},
	{"NAMESPACE", func(c testenv.HostileCommand) bool { return c.Name == "NAMESPACE" }},
}

// fuzzSeeds are replies in the shapes the engine asks for, right and
// wrong; "$TAG" is the command's tag. A reply without a tagged line gets
// "$TAG OK done".
var fuzzSeeds = []struct {
	which uint8
	reply string
}{
	{0, "$TAG OK [CAPABILITY IMAP4rev1 LITERAL+ NAMESPACE LIST-EXTENDED SPECIAL-USE] Logged in\r\n"},
	{0, "* BYE no\r\n"},
	{1, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren \\Trash) \"/\" \"INBOX/Trash\"\r\n* LIST () \"/\" Lavoro\r\n"},
	{1, "* LIST (\\Noselect) NIL \"\"\r\n* LIST () \"/\" {5}\r\nINBOX\r\n"},
	{2, "* FLAGS (\\Seen)\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 4] x\r\n$TAG OK [READ-ONLY] done\r\n"},
	{2, "* 4294967295 EXISTS\r\n* OK [UIDVALIDITY 0] x\r\n"},
	{3, "* 1 FETCH (UID 1 FLAGS (\\Seen) INTERNALDATE \"02-Jan-2024 03:04:05 +0000\" RFC822.SIZE 60)\r\n* 2 FETCH (UID 2 FLAGS () INTERNALDATE \"02-Jan-2024 03:04:05 +0000\" RFC822.SIZE 60)\r\n"},
	{3, "* 1 FETCH (UID 1 RFC822.SIZE 900)\r\n* 1 FETCH (UID 1 RFC822.SIZE 18446744073709551615)\r\n* 2 FETCH (UID 0)\r\n"},
	{4, "* 1 FETCH (UID 1 BODY[] {24}\r\nSubject: a\r\n\r\nhello\r\n\r\n)\r\n"},
	{4, "* 1 FETCH (UID 1 BODY[] NIL)\r\n* 2 FETCH (UID 2 BODY[] {2147483647}\r\nshort)\r\n"},
	{4, "* 2 FETCH (UID 2 BODY[] {5}\r\nhello)\r\n$TAG NO Some messages could not be FETCHed (Failure)\r\n"},
	{5, "* 1 FETCH (UID 1 RFC822.SIZE 60 FLAGS () BODY[HEADER.FIELDS (Message-ID)] {22}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n"},
	{6, "* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared/\" \"/\"))\r\n"},
	{6, "* NAMESPACE (( NIL\r\n"},
}

var fuzzDest struct {
	once sync.Once
	user string
	err  error
}

// FuzzHostileReplies replaces the old server's reply to one of the engine's
// commands by the fuzz input and runs a whole copy into Dovecot. Whatever
// the reply: no panic, the copy ends by itself, memory stays bounded, the
// old server is never written to, and when the copy reports no error every
// message it found has exactly one outcome. Run it with
//
//	go test -run '^$' -fuzz FuzzHostileReplies -fuzztime 10m -fuzzminimizetime 10s -parallel 1 ./internal/transfer/
//
// (each input is a whole copy, so minimizing an interesting input with the
// default minute would take most of the time)
//
// As a plain test it runs its seeds in a child process (a seed that crashes
// the engine fails this test alone).
func FuzzHostileReplies(f *testing.F) {
	if isolateFuzz(f) {
		// The seeds passed in the child; the parent has nothing to run.
		f.Fuzz(func(*testing.T, uint8, []byte) {})
		return
	}
	for _, s := range fuzzSeeds {
		f.Add(s.which, []byte(s.reply))
	}
	f.Fuzz(func(t *testing.T, which uint8, reply []byte) {
		if len(reply) > 256<<10 {
			return
		}
		_, dst := testenv.SharedDovecot(t)
		fuzzDest.once.Do(func() {
			fuzzDest.user = testenv.UniqueUser(t, "acme.test")
			fuzzDest.err = dst.AddUser(fuzzDest.user, "new-pass")
		})
		require.NoError(t, fuzzDest.err)
		target := fuzzCommands[int(which)%len(fuzzCommands)]
		hook := func(c *testenv.HostileConn, cmd testenv.HostileCommand) bool {
			if !target.match(cmd) {
				return false
			}
			out := bytes.ReplaceAll(reply, []byte("$TAG"), []byte(cmd.Tag))
			_, _ = c.Write(out)
			if !bytes.Contains(out, []byte(cmd.Tag+" ")) {
				c.Printf("%s OK done\r\n", cmd.Tag)
			}
			return true
		}
		srv := testenv.StartHostile(t, testenv.HostileOptions{Hook: hook},
			testenv.HostileFolder{Name: "INBOX", Messages: corpus(41, 3, 800)},
			testenv.HostileFolder{Name: "INBOX/Trash", Attrs: []string{`\Trash`}, Messages: corpus(42, 1, 800)},
			testenv.HostileFolder{Name: "Lavoro", Messages: corpus(43, 1, 800)})
		job := transfer.Job{
			Preset: transfer.PresetStandardSSL,
			Source: transfer.Endpoint{Host: srv.Addr(), TLS: transfer.TLSNone, User: srv.User(), Password: srv.Password()},
			Dest: transfer.Endpoint{Host: dst.TLSAddr(), TLS: transfer.TLSImplicit, User: fuzzDest.user,
				AuthUser: dst.MasterUser(), Password: dst.MasterPassword(), RootCAs: dst.CAPool()},
			Checkpoints: transfer.NewMemoryCheckpoints(),
			Timeouts:    transfer.Timeouts{Dial: 2 * time.Second, Command: time.Second},
			MaxAttempts: 2,
			Backoff:     func(int) time.Duration { return time.Millisecond },
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var res transfer.Result
		var err error
		peak := heapPeak(func() { res, err = transfer.Run(ctx, job) })
		require.NoError(t, ctx.Err(), "transfer.Run hung (reply to %s: %q)", target.name, reply)
		require.Less(t, peak, uint64(64<<20), "heap growth (reply to %s)", target.name)
		require.Empty(t, srv.Writes(), "commands that write to the old server")
		if err == nil {
			require.Equal(t, res.Found, outcomes(res.Counters), "every message found has one outcome: %+v (reply to %s: %q)", res.Counters, target.name, reply)
		}
	})
}

// isolateFuzz runs the seeds of a fuzz test in a child process when the
// test binary is not fuzzing; it reports whether the caller should return.
func isolateFuzz(f *testing.F) bool {
	f.Helper()
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		return false
	}
	if os.Getenv(hostileChildEnv) == f.Name() {
		return false
	}
	if testing.Short() {
		f.Skip("runs in a child process; not in -short")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+f.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), hostileChildEnv+"="+f.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+f.Name()) {
		f.Fatalf("%s seeds in their own process: %v\n%s", f.Name(), err, childReport(out))
	}
	return true
}
