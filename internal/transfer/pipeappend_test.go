package transfer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/stretchr/testify/require"
)

func TestEncodeUTF7(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"", ""},
		{"a", "a"},
		{"&", "&-"},
		{"a&b", "a&-b"},
		{"\u0000", "&AAA-"},
		{"\u007F", "&AH8-"},
		{"\u00FF", "&AP8-"},
		{"\uFFFF", "&,,8-"},
		{"\U00010000", "&2ADcAA-"},
		{"\U0010FFFF", "&2,,f,w-"},
		{"\x00\x1F\x7F\u0080\u00FF", "&AAAAHwB,AIAA,w-"},
		{"&\x00\x19\x7F\u0080", "&-&AAAAGQB,AIA-"},
		{"Clienti/Società", "Clienti/Societ&AOA-"},
		{"Posta inviata", "Posta inviata"},
		{"Progetti/Attività già svolte", "Progetti/Attivit&AOA- gi&AOA- svolte"},
		{"Entwürfe/Ünter & co", "Entw&APw-rfe/&ANw-nter &- co"},
		{"日本語", "&ZeVnLIqe-"},
	} {
		require.Equal(t, c.out, encodeUTF7(c.in), "%q", c.in)
	}
}

// goIMAPMailbox returns the bytes go-imap's client writes for name in a
// CREATE, talking to a server with caps.
func goIMAPMailbox(t *testing.T, caps, name string) string {
	t.Helper()
	cli, srv := net.Pipe()
	defer srv.Close()
	got := make(chan string, 1)
	go func() {
		br := bufio.NewReader(srv)
		fmt.Fprintf(srv, "* OK [CAPABILITY %s] ready\r\n", caps)
		var cmd strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			cmd.WriteString(line)
			if n, ok := trailingLiteral([]byte(strings.TrimRight(line, "\r\n"))); ok {
				if !strings.HasSuffix(strings.TrimRight(line, "\r\n"), "+}") {
					fmt.Fprintf(srv, "+ go on\r\n")
				}
				b := make([]byte, n)
				if _, err := io.ReadFull(br, b); err != nil {
					got <- "error: " + err.Error()
					return
				}
				cmd.Write(b)
				continue
			}
			break
		}
		tag, rest, _ := strings.Cut(cmd.String(), " ")
		fmt.Fprintf(srv, "%s OK done\r\n", tag)
		got <- strings.TrimSuffix(strings.TrimPrefix(rest, "CREATE "), "\r\n")
	}()
	c := imapclient.New(cli, nil)
	defer c.Close()
	require.NoError(t, c.WaitGreeting())
	require.NoError(t, c.Create(name, nil).Wait())
	return <-got
}

func TestMailboxArgIsWhatGoIMAPSends(t *testing.T) {
	names := []string{
		"INBOX", "inbox", "Sent", "Clienti/Società", "Posta inviata", "Progetti/Attività già svolte",
		"Entwürfe/Ünter & co", `a"b\c`, "a&b", "&", "日本語/📁 Files", "x\ry", "tab\there",
		strings.Repeat("x", 5000),
	}
	for _, utf8 := range []bool{false, true} {
		caps := "IMAP4rev1 LITERAL+"
		if utf8 {
			caps = "IMAP4rev1 IMAP4rev2 LITERAL+"
		}
		for _, name := range names {
			require.Equal(t, goIMAPMailbox(t, caps, name), mailboxArg(name, utf8), "%q, IMAP4rev2 %v", name, utf8)
		}
	}
}

func TestParseStatusAndUIDSets(t *testing.T) {
	r := parseStatus("OK [APPENDUID 38505 3955] APPEND completed")
	require.Equal(t, imap.StatusResponseTypeOK, r.typ)
	require.Equal(t, "APPENDUID", r.code)
	require.Equal(t, "38505 3955", r.arg)
	require.Equal(t, "APPEND completed", r.text)
	r = parseStatus("no [OVERQUOTA] Quota exceeded (mailbox for user is full)")
	require.Equal(t, imap.StatusResponseTypeNo, r.typ)
	require.True(t, isOverQuota(r.err()))
	r = parseStatus("NO Mailbox is full, quota exceeded")
	require.Empty(t, r.code)
	require.True(t, isOverQuota(r.err()), "a NO that speaks of quota without the code")
	r = parseStatus("NO [TRYCREATE] Mailbox doesn't exist: X")
	require.Equal(t, string(imap.ResponseCodeTryCreate), r.code)
	r = parseStatus("BAD Error in IMAP command")
	require.Equal(t, imap.StatusResponseTypeBad, r.typ)
	require.Equal(t, "Error in IMAP command", r.text)

	require.Equal(t, []uint32{7}, expandUIDSet("7"))
	require.Equal(t, []uint32{7, 8, 9}, expandUIDSet("7:9"))
	require.Equal(t, []uint32{7, 8, 9}, expandUIDSet("9:7"))
	require.Equal(t, []uint32{3, 7, 8}, expandUIDSet("3,7:8"))
	require.Nil(t, expandUIDSet("x"))
	require.Nil(t, expandUIDSet("0"))
	require.Nil(t, expandUIDSet("1:4294967295"), "absurd ranges are not expanded")
	require.Nil(t, expandUIDSet(strings.TrimSuffix(strings.Repeat("1:60000,", 100), ",")), "nor absurd lists of ranges")
}

func TestReadLineSkipsLiterals(t *testing.T) {
	p := &pipeConn{br: bufio.NewReader(strings.NewReader("* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\n* OK x\r\n")), to: Timeouts{}.withDefaults()}
	line, err := p.readLine()
	require.NoError(t, err)
	require.Equal(t, "* 1 FETCH (BODY[] {})", line)
	line, err = p.readLine()
	require.NoError(t, err)
	require.Equal(t, "* OK x", line)
	_, err = p.readLine()
	require.ErrorIs(t, err, io.EOF)
}

// fakeCmd is an APPEND as a fake server read it.
type fakeCmd struct {
	tag    string
	bodies []string
	line   string // the command without its literals
}

// fakeServer is the far end of a pipeConn under test.
type fakeServer struct {
	conn net.Conn
	br   *bufio.Reader
}

// read reads one command, literals included.
func (s *fakeServer) read() (fakeCmd, error) {
	var c fakeCmd
	var line strings.Builder
	for {
		l, err := s.br.ReadString('\n')
		if err != nil {
			return c, err
		}
		l = strings.TrimRight(l, "\r\n")
		n, ok := trailingLiteral([]byte(l))
		if !ok {
			line.WriteString(l)
			break
		}
		if !strings.HasSuffix(l, "+}") {
			return c, fmt.Errorf("synchronising literal in %q", l)
		}
		line.WriteString(l[:strings.LastIndexByte(l, '{')])
		b := make([]byte, n)
		if _, err := io.ReadFull(s.br, b); err != nil {
			return c, err
		}
		c.bodies = append(c.bodies, string(b))
	}
	c.line = line.String()
	c.tag, _, _ = strings.Cut(c.line, " ")
	return c, nil
}

func (s *fakeServer) send(format string, args ...any) {
	fmt.Fprintf(s.conn, format+"\r\n", args...)
}

// fakePipe connects a pipeConn to serve over loopback TCP.
func fakePipe(t *testing.T, to Timeouts, serve func(s *fakeServer)) *pipeConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		serve(&fakeServer{conn: c, br: bufio.NewReader(c)})
	})
	t.Cleanup(wg.Wait)
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	p := &pipeConn{raw: c, conn: c, br: bufio.NewReader(c), bw: bufio.NewWriter(c), to: to.withDefaults()}
	t.Cleanup(p.cut)
	return p
}

// testItems returns n messages, the i-th of size sizes[i%len(sizes)].
func testItems(n int, sizes ...int) []item {
	out := make([]item, n)
	for i := range out {
		size := sizes[i%len(sizes)]
		data := []byte(fmt.Sprintf("Message-ID: <%d@test>\r\n\r\n", i))
		for len(data) < size {
			data = append(data, "body "...)
		}
		data = data[:max(size, len(data))]
		out[i] = item{m: meta{uid: uint32(i + 1), flags: []string{"$Label1", `\Seen`}, date: time.Date(2024, 3, 1+i%28, 10, 0, 0, 0, time.FixedZone("", 3600)), size: int64(len(data))}, body: bodyOf(data)}
	}
	return out
}

func feed(its []item) <-chan item {
	ch := make(chan item, len(its))
	for _, it := range its {
		ch <- it
	}
	close(ch)
	return ch
}

type answer struct {
	uid uint32
	err error
}

// stream runs appendStream and collects what it reports.
func stream(t *testing.T, p *pipeConn, lim batchLimits, its []item) (map[uint32]answer, []uint32, int, error) {
	t.Helper()
	got := map[uint32]answer{}
	var order []uint32
	released := 0
	err := p.appendStream(context.Background(), "Clienti/Società", lim, feed(its),
		func(item) { released++ },
		func(m meta, uid uint32, err error) {
			got[m.uid] = answer{uid, err}
			order = append(order, m.uid)
		})
	return got, order, released, err
}

func TestAppendStreamPipelines(t *testing.T) {
	const n = 20
	its := testItems(n, 6000, 300, 70000)
	p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
		// Every APPEND arrives before the first answer: the client does not
		// wait for one before sending the next.
		var cmds []fakeCmd
		for range n {
			c, err := s.read()
			if err != nil {
				t.Error(err)
				return
			}
			cmds = append(cmds, c)
		}
		for i, c := range cmds {
			if i == 0 {
				s.send("* 1 EXISTS")
			}
			s.send("%s OK [APPENDUID 99 %d] Append completed", c.tag, 100+i)
		}
		// What the client sent, exactly.
		for i, c := range cmds {
			want := fmt.Sprintf(`%s APPEND "Clienti/Societ&AOA-" ($Label1 \Seen) "%s" `, c.tag, its[i].m.date.Format("_2-Jan-2006 15:04:05 -0700"))
			if c.line != want || len(c.bodies) != 1 {
				t.Errorf("command %d: %q, want %q", i, c.line, want)
			}
		}
	})
	got, order, released, err := stream(t, p, singleBatch, its)
	require.NoError(t, err)
	require.Equal(t, n, released)
	require.Len(t, got, n)
	for i := range n {
		require.Equal(t, uint32(i+1), order[i], "answers in order")
		require.Equal(t, answer{uid: uint32(100 + i)}, got[uint32(i+1)])
	}
	require.True(t, p.usable())
}

func TestAppendStreamMultiappend(t *testing.T) {
	its := testItems(7, 5000)
	big := testItems(1, 3<<20)[0]
	big.m.uid = 8
	its = append(its, big)
	p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
		c, err := s.read()
		require.NoError(t, err)
		require.Len(t, c.bodies, 7, "the messages ready at once go in one command")
		require.Equal(t, 7, strings.Count(c.line, `($Label1 \Seen)`))
		s.send("%s OK [APPENDUID 99 10:16] Append completed", c.tag)
		c, err = s.read()
		require.NoError(t, err)
		require.Len(t, c.bodies, 1, "over the size of a batch: alone")
		s.send("%s OK Append completed", c.tag)
	})
	got, _, released, err := stream(t, p, multiBatch, its)
	require.NoError(t, err)
	require.Equal(t, 8, released)
	for i := range 7 {
		require.Equal(t, answer{uid: uint32(10 + i)}, got[uint32(i+1)])
	}
	require.Equal(t, answer{}, got[8], "no APPENDUID: UID unknown")
}

func TestAppendStreamRefusals(t *testing.T) {
	t.Run("one message", func(t *testing.T) {
		p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
			for i := range 3 {
				c, err := s.read()
				require.NoError(t, err)
				if i == 1 {
					s.send("%s NO [CANNOT] Keyword length too long", c.tag)
					continue
				}
				s.send("%s OK [APPENDUID 1 %d] done", c.tag, i+1)
			}
		})
		got, _, _, err := stream(t, p, singleBatch, testItems(3, 100))
		require.NoError(t, err)
		require.Equal(t, answer{uid: 1}, got[1])
		require.Equal(t, answer{uid: 3}, got[3])
		var ierr *imap.Error
		require.ErrorAs(t, got[2].err, &ierr)
		require.Equal(t, imap.ResponseCodeCannot, ierr.Code)
		require.True(t, p.usable())
	})
	t.Run("a group", func(t *testing.T) {
		p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
			c, err := s.read()
			require.NoError(t, err)
			require.Len(t, c.bodies, 4)
			s.send("%s NO [CANNOT] Keyword length too long", c.tag)
		})
		got, _, _, err := stream(t, p, multiBatch, testItems(4, 100))
		require.NoError(t, err)
		require.Len(t, got, 4)
		for _, a := range got {
			require.ErrorIs(t, a.err, errRetryAlone)
		}
	})
	t.Run("over quota", func(t *testing.T) {
		p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
			c, err := s.read()
			require.NoError(t, err)
			s.send("%s OK [APPENDUID 1 1] done", c.tag)
			c, err = s.read()
			require.NoError(t, err)
			s.send("%s NO [OVERQUOTA] Quota exceeded (mailbox for user is full)", c.tag)
			// Whatever was sent meanwhile is answered too.
			_ = s.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			for {
				c, err := s.read()
				if err != nil {
					return
				}
				s.send("%s NO [OVERQUOTA] Quota exceeded", c.tag)
			}
		})
		its := make(chan item)
		go func() {
			defer close(its)
			for _, it := range testItems(50, 100) {
				select {
				case its <- it:
				case <-time.After(time.Second):
					return // the stream stopped taking items
				}
			}
		}()
		var oks int
		released := 0
		err := p.appendStream(context.Background(), "INBOX", singleBatch, its, func(item) { released++ },
			func(m meta, uid uint32, err error) {
				require.NoError(t, err)
				oks++
			})
		var ierr *imap.Error
		require.ErrorAs(t, err, &ierr)
		require.True(t, isOverQuota(ierr))
		require.Equal(t, 1, oks)
		require.Less(t, released, 50, "it stopped sending")
		require.True(t, p.usable(), "the connection is still in step")
	})
	t.Run("BYE", func(t *testing.T) {
		p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
			_, err := s.read()
			require.NoError(t, err)
			s.send("* BYE Server shutting down.")
		})
		_, _, _, err := stream(t, p, singleBatch, testItems(3, 100))
		var ierr *imap.Error
		require.ErrorAs(t, err, &ierr)
		require.Equal(t, imap.StatusResponseTypeBye, ierr.Type)
		require.True(t, retriable(err))
		require.False(t, p.usable())
	})
	t.Run("BAD", func(t *testing.T) {
		p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
			c, err := s.read()
			require.NoError(t, err)
			s.send("%s BAD Error in IMAP command", c.tag)
		})
		_, _, _, err := stream(t, p, singleBatch, testItems(1, 100))
		var ierr *imap.Error
		require.ErrorAs(t, err, &ierr)
		require.Equal(t, imap.StatusResponseTypeBad, ierr.Type)
		require.False(t, p.usable())
	})
	t.Run("answer out of step", func(t *testing.T) {
		p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
			_, err := s.read()
			require.NoError(t, err)
			s.send("X9 OK what")
		})
		_, _, _, err := stream(t, p, singleBatch, testItems(1, 100))
		require.ErrorContains(t, err, "unexpected answer")
		require.False(t, p.usable())
	})
	t.Run("a flag that cannot be written", func(t *testing.T) {
		its := testItems(2, 100)
		its[0].m.flags = []string{"bad flag"}
		p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
			c, err := s.read()
			require.NoError(t, err)
			s.send("%s OK [APPENDUID 1 5] done", c.tag)
		})
		got, order, released, err := stream(t, p, multiBatch, its)
		require.NoError(t, err)
		require.Equal(t, []uint32{1, 2}, order)
		require.ErrorContains(t, got[1].err, "cannot be written")
		require.Equal(t, answer{uid: 5}, got[2])
		require.Equal(t, 2, released)
	})
}

func TestAppendStreamStalledServerIsCut(t *testing.T) {
	p := fakePipe(t, Timeouts{Command: 300 * time.Millisecond}, func(s *fakeServer) {
		_, _ = s.read()
		_, _ = io.Copy(io.Discard, s.br) // reads, never answers
	})
	start := time.Now()
	_, _, _, err := stream(t, p, singleBatch, testItems(3, 100))
	var wd errWatchdog
	require.ErrorAs(t, err, &wd)
	require.True(t, retriable(err))
	require.Less(t, time.Since(start), 5*time.Second)
	require.False(t, p.usable())
}

func TestAppendStreamStopsWithContext(t *testing.T) {
	answered := make(chan struct{})
	p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
		for i := 0; ; i++ {
			c, err := s.read()
			if err != nil {
				return
			}
			s.send("%s OK [APPENDUID 1 %d] done", c.tag, i+1)
			if i == 0 {
				close(answered)
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	items := make(chan item)
	go func() {
		defer close(items)
		its := testItems(100, 100)
		for i, it := range its {
			if i == 1 {
				<-answered
				cancel()
			}
			select {
			case items <- it:
			case <-time.After(time.Second):
				return
			}
		}
	}()
	n := 0
	err := p.appendStream(ctx, "INBOX", singleBatch, items, func(item) {}, func(meta, uint32, error) { n++ })
	require.ErrorIs(t, err, context.Canceled)
	require.GreaterOrEqual(t, n, 1, "what was sent is answered and reported")
	require.Less(t, n, 100)
}

func TestAstring(t *testing.T) {
	s, ok := astring(`us"er\x`, false, false)
	require.True(t, ok)
	require.Equal(t, `"us\"er\\x"`, s)
	_, ok = astring("pàss", false, false)
	require.False(t, ok, "8-bit needs a literal")
	s, ok = astring("pàss", true, false)
	require.True(t, ok)
	require.Equal(t, "{5+}\r\npàss", s)
	s, ok = astring("pàss", false, true)
	require.True(t, ok)
	require.Equal(t, `"pàss"`, s, "quoted UTF-8 with IMAP4rev2")
	require.True(t, validFlag(`\Seen`))
	require.True(t, validFlag("$Label1"))
	require.False(t, validFlag(`a\b`))
	require.False(t, validFlag("a b"))
	require.False(t, validFlag(""))
}

// While the server has not answered a command, the messages that come one
// by one meanwhile wait and go together in the next command: made of the
// messages ready at once, a source slower than the destination would make
// commands of one message each, and the destination pays per command.
func TestAppendStreamFillsWhileBusy(t *testing.T) {
	its := testItems(6, 5000)
	items := make(chan item, len(its))
	firstRead := make(chan struct{})
	allFed := make(chan struct{})
	var mu sync.Mutex
	var sizes []int // messages per APPEND, as the server read them
	p := fakePipe(t, Timeouts{}, func(s *fakeServer) {
		next := uint32(1)
		for {
			c, err := s.read()
			if err != nil || len(c.bodies) == 0 {
				return
			}
			mu.Lock()
			sizes = append(sizes, len(c.bodies))
			mu.Unlock()
			if len(sizes) == 1 {
				close(firstRead)
				<-allFed
			}
			s.send("%s OK [APPENDUID 99 %d:%d] Append completed", c.tag, next, next+uint32(len(c.bodies))-1)
			next += uint32(len(c.bodies))
		}
	})
	go func() {
		items <- its[0]
		<-firstRead
		for _, it := range its[1:] {
			// One at a time, each after the writer had the time to
			// send the one before on its own.
			time.Sleep(20 * time.Millisecond)
			items <- it
		}
		close(allFed)
		close(items)
	}()
	got := map[uint32]answer{}
	err := p.appendStream(context.Background(), "INBOX", multiBatch, items, func(item) {},
		func(m meta, uid uint32, err error) { got[m.uid] = answer{uid, err} })
	require.NoError(t, err)
	for i := range 6 {
		require.Equal(t, answer{uid: uint32(i + 1)}, got[uint32(i+1)])
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []int{1, 5}, sizes, "the first command does not wait; the messages that came while it was unanswered go together")
}
