package transfer_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/testenv"
	"github.com/trasloco/trasloco/internal/transfer"
)

// flightLog records, in order, when each folder's copy began (its
// checkpoint loaded) and ended (its figures reported), and holds the first
// folder's start until a second folder starts, or until a timeout: one
// lane after the other cannot meet there, two lanes do.
type flightLog struct {
	*transfer.MemoryCheckpoints
	*logRec

	mu     sync.Mutex
	events []string // "+folder" at its start, "-folder" at its end
	second chan struct{}
	once   sync.Once
}

func newFlightLog() *flightLog {
	return &flightLog{MemoryCheckpoints: transfer.NewMemoryCheckpoints(), logRec: &logRec{}, second: make(chan struct{})}
}

func (f *flightLog) LoadFolder(ctx context.Context, folder string) (transfer.FolderState, error) {
	f.mu.Lock()
	f.events = append(f.events, "+"+folder)
	first := len(f.events) == 1
	if !first {
		f.once.Do(func() { close(f.second) })
	}
	f.mu.Unlock()
	if first {
		select {
		case <-f.second:
		case <-time.After(10 * time.Second):
		}
	}
	return f.MemoryCheckpoints.LoadFolder(ctx, folder)
}

func (f *flightLog) FolderDone(fig transfer.FolderFigures) {
	if fig.Excluded != "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, "-"+fig.Source)
}

// FolderVerified ends the verification's own look at the folder (its
// LoadFolder).
func (f *flightLog) FolderVerified(c transfer.FolderCheck) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, "-"+c.Source)
}

// mostInFlight is the most folders begun and not ended at one time. A
// folder retried after a dropped connection is begun again (its checkpoint
// loaded again) without having ended: it is still one folder in flight.
func (f *flightLog) mostInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	now, most := map[string]bool{}, 0
	for _, e := range f.events {
		if e[0] == '+' {
			now[e[1:]] = true
		} else {
			delete(now, e[1:])
		}
		most = max(most, len(now))
	}
	return most
}

func TestFoldersInFlightAtOnceOnDovecot(t *testing.T) {
	// Not parallel: a second lane is taken only while the process has
	// fewer lanes than CPUs (processLanes), which other tests would use.
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	testenv.Append(t, c, "INBOX", msgs(91, 0, 260, 3000)...)
	testenv.Append(t, c, "INBOX.Clienti", msgs(92, 0, 180, 4000)...)
	testenv.Append(t, c, "INBOX.Fatture", msgs(93, 0, 150, 2000)...)
	testenv.Append(t, c, "INBOX.Fatture.2024", msgs(94, 0, 40, 2000)...)
	testenv.Append(t, c, "INBOX.Trash", msgs(95, 0, 5, 1000)...)
	const total = 260 + 180 + 150 + 40

	fl := newFlightLog()
	job := f.job(fl, fl)
	job.Verify = true
	// The total from the line's preview, as the worker passes it: the
	// lanes still need each folder's size, which only a STATUS gives.
	job.Expected = total
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err, fl.text())
	require.NotNil(t, res.Verification)
	require.True(t, res.Verification.OK(), "%+v", res.Verification)
	require.Len(t, res.Verification.Folders, 5)
	require.Equal(t, 2, fl.mostInFlight(), "folders in flight at once: %v", fl.events)
	// The test Dovecot's source also has an empty INBOX.Sent and INBOX.Bulk.
	require.Contains(t, fl.text(), "2 folders at a time (5 to copy)")
	require.Equal(t, total, res.Found)
	require.Equal(t, total, res.Copied)
	require.Equal(t, 5, res.Folders)
	require.Equal(t, 2, res.ExcludedFolders)
	require.Equal(t, total, fl.last.Done)
	require.Equal(t, total, fl.last.Total)
	require.NoError(t, testenv.SameMail(f.src.Dial(t, f.srcUser, f.srcPass), f.dst.Dial(t, f.dstUser+"*"+f.dst.MasterUser(), f.dst.MasterPassword()),
		map[string]string{"INBOX": "INBOX", "INBOX.Clienti": "Clienti", "INBOX.Fatture": "Fatture", "INBOX.Fatture.2024": "Fatture/2024"}))

	// Again: everything is there, nothing is copied twice.
	again := newFlightLog()
	again.MemoryCheckpoints = fl.MemoryCheckpoints
	again.once.Do(func() { close(again.second) }) // no rendezvous
	res, err = transfer.Run(context.Background(), f.job(again, again))
	require.NoError(t, err, again.text())
	require.Equal(t, 0, res.Copied)
	require.Equal(t, total, res.AlreadyThere)
}

func TestOneLaneForAMailboxOfOneBigFolderOnDovecot(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	testenv.Append(t, c, "INBOX", msgs(96, 0, 400, 1500)...)
	testenv.Append(t, c, "INBOX.Poca", msgs(97, 0, 10, 1500)...)
	rep := &logRec{}
	res, err := transfer.Run(context.Background(), f.job(transfer.NewMemoryCheckpoints(), rep))
	require.NoError(t, err, rep.text())
	require.Equal(t, 410, res.Copied)
	require.NotContains(t, rep.text(), "at a time")
	requireSameMail(t, f, map[string]string{"INBOX": "INBOX", "INBOX.Poca": "Poca"})
}

// TestLaneSourceDroppedMidFolderOnDovecot: the source connection of the
// second lane breaks in the middle of its folder and its first reconnect
// fails too: that folder is retried in its lane (its counters taken back
// and counted again) while the other lane goes on, and every message ends
// at the destination once.
func TestLaneSourceDroppedMidFolderOnDovecot(t *testing.T) {
	// Not parallel: a second lane is taken only while the process has
	// fewer lanes than CPUs (processLanes), which other tests would use.
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	testenv.Append(t, c, "INBOX", msgs(98, 0, 150, 8000)...)
	testenv.Append(t, c, "INBOX.Clienti", msgs(99, 0, 150, 8000)...)
	testenv.Append(t, c, "INBOX.Fatture", msgs(100, 0, 150, 8000)...)
	const total = 450

	var cuts atomic.Int32
	addr := testenv.Proxy(t, f.src.PlainAddr(), func(c, up net.Conn, n int) {
		switch n {
		case 2: // the second lane's: cut in the middle of its bodies
			go io.Copy(up, c)
			if n, _ := io.CopyN(c, up, 500_000); n == 500_000 {
				cuts.Add(1)
			}
		case 3: // its first reconnect: refused
			cuts.Add(1)
		default:
			testenv.ProxyPipe(c, up)
		}
	})
	// The first lane holds its first folder until the second lane began
	// one (flightLog), so that the second lane has a folder of 1.2 MB.
	fl := newFlightLog()
	rep := fl.logRec
	job := f.job(fl, fl)
	job.Source.Host = addr
	job.Source.TLS = transfer.TLSNone
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err, rep.text())
	require.Equal(t, int32(2), cuts.Load(), rep.text())
	require.Contains(t, rep.text(), "2 folders at a time")
	// The folder of the second lane was retried (after its reconnect
	// inside the FETCH failed), not only resumed.
	retried := ""
	for _, l := range strings.Split(rep.text(), "\n") {
		if strings.Contains(l, ": connection lost") {
			retried = l[:strings.Index(l, ":")]
		}
	}
	require.NotEmpty(t, retried, rep.text())
	require.Contains(t, rep.text(), retried+": folder done into")
	require.Equal(t, total, res.Found, rep.text())
	require.Equal(t, total, res.Copied+res.AlreadyThere)
	require.Zero(t, res.Failed)
	require.Equal(t, total, rep.last.Done)
	require.Equal(t, total, rep.last.Total)
	require.Equal(t, 2, fl.mostInFlight())
	requireSameMail(t, f, map[string]string{"INBOX": "INBOX", "INBOX.Clienti": "Clienti", "INBOX.Fatture": "Fatture"})
}

// TestThrottledLaneStopsTheMailbox: the old server asks the second lane to
// slow down; the whole mailbox stops (the first lane in the middle of its
// folder, no folder begun after), as one lane does, with its checkpoints,
// for the caller to wait and go on.
func TestThrottledLaneStopsTheMailbox(t *testing.T) {
	// Not parallel: a second lane is taken only while the process has
	// fewer lanes than CPUs (processLanes), which other tests would use.
	var mu sync.Mutex
	examined := map[int]string{}
	begun := map[string]bool{}
	hook := func(c *testenv.HostileConn, cmd testenv.HostileCommand) bool {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case cmd.Name == "EXAMINE" || cmd.Name == "SELECT":
			examined[c.N] = strings.Trim(cmd.Args, `"`)
			begun[examined[c.N]] = true
		case cmd.Name == "UID FETCH" && examined[c.N] == "Lavoro" && strings.Contains(strings.ToUpper(cmd.Args), "BODY.PEEK[]"):
			c.Printf("%s NO [THROTTLED] Slow down\r\n", cmd.Tag)
			return true
		}
		return false
	}
	h := hostileSetup(t, testenv.HostileOptions{Hook: hook, Faults: testenv.HostileFaults{Folder: "INBOX", Drip: 2 * time.Millisecond, DripBytes: 200}},
		testenv.HostileFolder{Name: "INBOX", Messages: corpus(181, 300, 1000)},
		testenv.HostileFolder{Name: "Lavoro", Messages: corpus(182, 250, 1000)},
		testenv.HostileFolder{Name: "Progetti", Messages: corpus(183, 250, 1000)})
	job := h.job()
	// The first lane holds INBOX until the second lane began a folder.
	job.Checkpoints = newFlightLog()
	res, err := transfer.Run(context.Background(), job)
	te, ok := transfer.IsThrottled(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "Slow down", te.Text)
	require.Contains(t, h.rep.text(), "2 folders at a time")
	require.Less(t, res.Copied, 300, "the first lane went on after the throttling")
	mu.Lock()
	require.False(t, begun["Progetti"], "a folder was begun after the throttling")
	mu.Unlock()
	require.Empty(t, h.srv.Writes())
}

// TestGmailLabelsInLanesOnDovecot: Gmail's labels are copied in lanes,
// All Mail after all of them, bringing into the Archive only what no
// label has, whichever lane saw the label.
func TestGmailLabelsInLanesOnDovecot(t *testing.T) {
	// Not parallel: a second lane is taken only while the process has
	// fewer lanes than CPUs (processLanes), which other tests would use.
	g := testenv.SharedGmail(t)
	user := testenv.UniqueUser(t, "gmail.test")
	require.NoError(t, g.AddUser(user, "app-password"))
	var corpus []testenv.GmailMessage
	msg := map[string]testenv.Msg{}
	where := map[string][]string{}
	add := func(name string, m testenv.GmailMessage, dest ...string) {
		m.Msg = testenv.BuildMessage(191, len(corpus), 800+7*len(corpus))
		msg[name] = m.Msg
		where[name] = dest
		corpus = append(corpus, m)
	}
	for i := range 220 {
		add(fmt.Sprintf("i%d", i), testenv.GmailMessage{Labels: []string{"INBOX"}}, "INBOX")
		add(fmt.Sprintf("l%d", i), testenv.GmailMessage{Labels: []string{"Lavoro"}}, "Lavoro")
	}
	for i := range 20 {
		add(fmt.Sprintf("b%d", i), testenv.GmailMessage{Labels: []string{"INBOX", "Lavoro"}}, "INBOX", "Lavoro")
	}
	for i := range 30 {
		add(fmt.Sprintf("u%d", i), testenv.GmailMessage{}, "Archive")
	}
	require.NoError(t, testenv.SeedGmail(g.Dial(t, user, "app-password"), testenv.GmailEnglish, corpus))

	_, dst := testenv.SharedDovecot(t)
	dstUser := testenv.UniqueUser(t, "acme.test")
	require.NoError(t, dst.AddUser(dstUser, "dest-pw"))
	rep := &logRec{}
	job := transfer.Job{
		Preset: transfer.PresetGmail,
		Source: transfer.Endpoint{Host: g.TLSAddr(), TLS: transfer.TLSImplicit, User: user, Password: "app-password", RootCAs: g.CAPool()},
		Dest: transfer.Endpoint{Host: dst.TLSAddr(), TLS: transfer.TLSImplicit, User: dstUser,
			AuthUser: dst.MasterUser(), Password: dst.MasterPassword(), RootCAs: dst.CAPool()},
		Checkpoints: transfer.NewMemoryCheckpoints(), Reporter: rep, Verify: true,
		Backoff: func(int) time.Duration { return 50 * time.Millisecond },
	}
	res, err := transfer.Run(t.Context(), job)
	require.NoError(t, err, rep.text())
	require.Contains(t, rep.text(), "2 folders at a time")
	require.Equal(t, transfer.PresetGmail, res.Rules)
	require.Equal(t, 220+220+2*20+30, res.Copied, rep.text())
	require.True(t, res.Verification.OK(), "%+v", res.Verification)
	require.Equal(t, wantPlaced(msg, where), destinationOf(t, dst.Dial(t, dstUser, "dest-pw")))
}

// TestLaneRefusedLeavesItsFoldersToTheOthers: the old server does not let
// the second lane in (a per-user limit); the first lane copies everything.
func TestLaneRefusedLeavesItsFoldersToTheOthers(t *testing.T) {
	// Not parallel: a second lane is taken only while the process has
	// fewer lanes than CPUs (processLanes), which other tests would use.
	f := setup(t)
	c := f.src.Dial(t, f.srcUser, f.srcPass)
	testenv.Append(t, c, "INBOX", msgs(201, 0, 200, 1500)...)
	testenv.Append(t, c, "INBOX.Clienti", msgs(202, 0, 200, 1500)...)
	testenv.Append(t, c, "INBOX.Fatture", msgs(203, 0, 100, 1500)...)
	addr := testenv.Proxy(t, f.src.PlainAddr(), func(c, up net.Conn, n int) {
		if n == 2 {
			c.Write([]byte("* BYE Maximum number of connections from user+IP exceeded\r\n"))
			return
		}
		testenv.ProxyPipe(c, up)
	})
	rep := &logRec{}
	job := f.job(transfer.NewMemoryCheckpoints(), rep)
	job.Source.Host = addr
	job.Source.TLS = transfer.TLSNone
	res, err := transfer.Run(context.Background(), job)
	require.NoError(t, err, rep.text())
	require.Contains(t, rep.text(), "connections of lane 2 not opened")
	require.Equal(t, 500, res.Copied)
	require.Zero(t, res.Failed)
	requireSameMail(t, f, map[string]string{"INBOX": "INBOX", "INBOX.Clienti": "Clienti", "INBOX.Fatture": "Fatture"})
}
