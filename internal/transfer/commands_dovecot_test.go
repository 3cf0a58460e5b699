package transfer_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// commandLog records the IMAP commands clients send through a proxy, per
// connection: what each copy costs a server, command by command.
type commandLog struct {
	mu    sync.Mutex
	conns [][]string // per connection, the command names ("UID FETCH", "STATUS", …) in order
}

// literalAtEnd matches the literal a client line announces: {N} or {N+}.
var literalAtEnd = regexp.MustCompile(`\{(\d+)\+?\}\r?\n$`)

// proxy forwards to target in plain text and records the client's commands.
func (l *commandLog) proxy(t *testing.T, target string) string {
	return testenv.Proxy(t, target, func(client, upstream net.Conn, _ int) {
		l.mu.Lock()
		l.conns = append(l.conns, nil)
		n := len(l.conns) - 1
		l.mu.Unlock()
		go func() {
			_, _ = io.Copy(client, upstream)
			client.Close()
		}()
		r := bufio.NewReader(io.TeeReader(client, upstream))
		first := true // a line that starts a command, not the rest of one after a literal
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			if first {
				l.add(n, line)
			}
			first = true
			if m := literalAtEnd.FindSubmatch(line); m != nil {
				size, _ := strconv.ParseInt(string(m[1]), 10, 64)
				if _, err := io.CopyN(io.Discard, r, size); err != nil {
					return
				}
				first = false
			}
		}
	})
}

func (l *commandLog) add(conn int, line []byte) {
	f := strings.Fields(string(bytes.TrimSpace(line)))
	if len(f) < 2 {
		return // a continuation (AUTHENTICATE) or DONE
	}
	cmd := strings.ToUpper(f[1])
	if cmd == "UID" && len(f) > 2 {
		cmd += " " + strings.ToUpper(f[2])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns[conn] = append(l.conns[conn], cmd)
}

// count is how many times each command was sent, on every connection.
func (l *commandLog) count() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, c := range l.conns {
		for _, cmd := range c {
			out[cmd]++
		}
	}
	return out
}

func (l *commandLog) connections() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// seedSmall fills user's mailbox with n messages spread over the bench's
// folders (benchFolders), a few KB each.
func seedSmall(t *testing.T, src *testenv.Dovecot, user, pass string, n int) {
	t.Helper()
	c := src.Dial(t, user, pass)
	byFolder := map[string][]testenv.Msg{}
	for i := range n {
		f := benchFolders[i%len(benchFolders)].name
		byFolder[f] = append(byFolder[f], testenv.BuildMessage(int64(n), i, 3000+i*100))
	}
	for _, f := range benchFolders {
		testenv.Append(t, c, f.name, byFolder[f.name]...)
	}
}

// expectRec is a Reporter that keeps the first Expected the copy reported.
type expectRec struct {
	logRec
	first int
}

func (e *expectRec) Progress(p Progress) {
	e.mu.Lock()
	if e.first == 0 {
		e.first = p.Expected
	}
	e.mu.Unlock()
	e.logRec.Progress(p)
}

// Progress is transfer's, short.
type Progress = transfer.Progress

// smallCopy copies a small mailbox of the bench's layout (20 messages,
// Trash and Junk excluded) through two command-recording proxies, both
// sides in plain text, with the verification, and checks the copy.
func smallCopy(t *testing.T, mod ...func(*transfer.Job)) (src, dst *commandLog, rep *expectRec) {
	t.Helper()
	f := setup(t)
	seedSmall(t, f.src, f.srcUser, f.srcPass, 20)
	src, dst, rep = &commandLog{}, &commandLog{}, &expectRec{}
	job := f.job(transfer.NewMemoryCheckpoints(), rep)
	job.Source.Host, job.Source.TLS = src.proxy(t, f.src.PlainAddr()), transfer.TLSNone
	job.Dest.Host, job.Dest.TLS = dst.proxy(t, f.dst.PlainAddr()), transfer.TLSNone
	job.Verify = true
	for _, m := range mod {
		m(&job)
	}
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err)
	require.Equal(t, 16, res.Copied, "the 20 messages but Trash's and Junk's")
	sc := f.src.Dial(t, f.srcUser, f.srcPass)
	dc := f.dst.Dial(t, f.dstUser, f.dstPass)
	require.NoError(t, testenv.SameMail(sc, dc, benchMapping()))
	return src, dst, rep
}

func (l *commandLog) logTrace(t *testing.T, side string) {
	t.Helper()
	cnt := l.count()
	keys := slices.Sorted(maps.Keys(cnt))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %d,", k, cnt[k])
	}
	t.Logf("%s: %d connection(s):%s", side, l.connections(), b.String())
}

// What a small mailbox costs the two servers, command by command: 53 to
// the old server (LOGIN, CAPABILITY, NAMESPACE, LIST, a STATUS of each of
// the 8 folders to copy for the total shown before the first body, an
// EXAMINE and two UID FETCH for each, the verification's EXAMINE and UID
// FETCH, LOGOUT), 69 to ours. Dovecot's LIST … RETURN (STATUS …) was tried
// for the totals and costs it more (it opens every folder listed, Trash and
// Junk too: 12.3 M instructions against 8 M for a plain LIST and eight
// STATUS, callgrind, 20 messages); taking the capabilities from the
// login's reply instead of a CAPABILITY was tried and left: go-imap clears
// them only after the login's Wait returns, so a server whose reply has
// none could be read with its capabilities from before the login.
func TestCopySmallMailboxCommands(t *testing.T) {
	t.Parallel()
	src, dst, rep := smallCopy(t)
	src.logTrace(t, "old server")
	dst.logTrace(t, "our server")
	s, d := src.count(), dst.count()
	require.Equal(t, 1, src.connections(), "one connection to the old server")
	require.Equal(t, 1, dst.connections(), "one connection to ours: no folder is worth a pipelined appender")
	require.Equal(t, 1, s["LIST"])
	require.Equal(t, 8, s["STATUS"], "one for each folder to copy, none for Trash and Junk")
	require.Equal(t, 16, rep.first, "the total known before the first body")
	require.Equal(t, 16, d["APPEND"])
}

// A job that knows how many messages there were (the line's test login)
// reports that total before the first body without a STATUS of each
// folder: each makes Dovecot open and sync the folder, 8 of them a sixth
// of the old server's session for 20 messages (callgrind: 24.9 M → 20.3 M
// instructions per session without them). Before: 8 STATUS.
func TestCopySmallMailboxExpectedFromTheJob(t *testing.T) {
	t.Parallel()
	src, _, rep := smallCopy(t, func(j *transfer.Job) { j.Expected = 17 })
	src.logTrace(t, "old server")
	require.Zero(t, src.count()["STATUS"], "the job said how many there were")
	require.Equal(t, 17, rep.first, "the job's total, before the first body")
}
