package testenv

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Hostile is a scripted IMAP server on a loopback port, the old server of a
// test: well behaved by default (CAPABILITY, LOGIN, AUTHENTICATE PLAIN,
// NAMESPACE, LIST with RETURN (SPECIAL-USE STATUS), STATUS, EXAMINE/SELECT,
// FETCH and UID FETCH of metadata, headers and bodies, UID SEARCH, NOOP, ID,
// ENABLE, UNSELECT, LOGOUT) over an in-memory mailbox, and misbehaving the
// ways its Faults say. It refuses every command that would write (STORE,
// COPY, MOVE, EXPUNGE, CREATE, APPEND, DELETE, RENAME, …) and records every
// command it receives, so a test can prove the old server was never written
// to (Writes). Mailbox names are ASCII: modified UTF-7 is not decoded.
type Hostile struct {
	opts  HostileOptions
	ln    net.Listener
	certs *testCerts

	mu      sync.Mutex
	folders []*HostileFolder
	cmds    []HostileCommand
	conns   int
	open    map[net.Conn]bool
	closed  bool
	bumped  bool // Faults.UIDValidityChange happened
	wg      sync.WaitGroup
	lastErr error
}

// HostileFolder is one folder of the Hostile server's mailbox.
type HostileFolder struct {
	Name string
	// Attrs are shown in LIST: special-use ones (\Trash, \Junk, \Sent, …)
	// only when the server offers SPECIAL-USE.
	Attrs []string
	// UIDValidity defaults to 1.
	UIDValidity uint32
	Messages    []HostileMessage
}

// HostileMessage is one message of a HostileFolder.
type HostileMessage struct {
	UID   uint32 // default: the message's position, from 1
	Flags []string
	Date  time.Time // INTERNALDATE; default 2024-01-02 03:04:05 UTC
	Body  []byte
	// Pad adds this many filler bytes after Body on the wire (text lines,
	// streamed, never held in memory): a large message for little memory.
	Pad int64
	// DeclaredSize, when set, is the RFC822.SIZE the server claims instead
	// of the real size.
	DeclaredSize int64
}

// Size is the real size of the message on the wire.
func (m HostileMessage) Size() int64 { return int64(len(m.Body)) + m.Pad }

func (m HostileMessage) declared() int64 {
	if m.DeclaredSize != 0 {
		return m.DeclaredSize
	}
	return m.Size()
}

// HostileOptions configure a Hostile server. The zero value is a plain
// (no TLS) server for user "user" with password "secret", delimiter "/",
// an empty personal namespace, NAMESPACE, LIST-EXTENDED, LIST-STATUS and
// SPECIAL-USE, and no faults.
type HostileOptions struct {
	User, Password string
	// TLS makes the listener implicit TLS, with a certificate for
	// 127.0.0.1 signed by the CA of CAPool.
	TLS bool
	// Delim is the hierarchy delimiter; default '/'.
	Delim rune
	// NamespacePrefix is the personal namespace's prefix; default "".
	NamespacePrefix string
	// NoNamespace leaves out NAMESPACE (an old Courier).
	NoNamespace bool
	// NoSpecialUse leaves out LIST-EXTENDED, LIST-STATUS and SPECIAL-USE,
	// and special-use attributes from LIST.
	NoSpecialUse bool
	// Capabilities are announced besides the default ones (Gmail's
	// X-GM-EXT-1, say); the server does not implement them.
	Capabilities []string
	// Faults are the misbehaviours.
	Faults HostileFaults
	// Hook, when set, sees every command first; it returns true when it
	// answered the command itself (through c), tagged response included.
	Hook func(c *HostileConn, cmd HostileCommand) bool
}

// HostileFaults are the ways a Hostile server misbehaves; the zero value is
// none. "Body FETCH" is a FETCH that asks for BODY[] or BODY.PEEK[]. The
// faults of a FETCH (NilBodyUID, OmitUID, RefuseUID, ShortLiteralUID,
// ByeMidFetch, Garbage, Drip) hit the folder Folder only.
type HostileFaults struct {
	// Folder is the folder whose FETCH replies misbehave; default INBOX.
	Folder string
	// NilBodyUID answers a body FETCH of this UID with BODY[] NIL.
	NilBodyUID uint32
	// Exists, when set, is the EXISTS count claimed on SELECT/EXAMINE.
	Exists uint32
	// OmitUID is left out of every body FETCH reply (tagged OK anyway).
	OmitUID uint32
	// RefuseUID makes a body FETCH that includes it deliver the others and
	// end with a tagged NO, as Gmail answers for one unreadable message.
	RefuseUID uint32
	// ListLineBytes, when set, adds to LIST a folder whose name is that many
	// bytes long, all on one line.
	ListLineBytes int64
	// ShortLiteralUID sends this message's body literal with half of its
	// declared bytes; then the server stalls (ShortLiteralClose false: it
	// keeps the connection open, silent) or closes the connection.
	ShortLiteralUID   uint32
	ShortLiteralClose bool
	// ByeMidFetch sends "* BYE" and closes the connection after the first
	// message of a body FETCH, on the first ByeMidFetch connections.
	ByeMidFetch int
	// UIDValidityChange, once the first metadata FETCH of a folder is
	// answered, renumbers every message of every folder (UID+1000) and
	// changes UIDVALIDITY: the messages just listed are no longer there by
	// those UIDs.
	UIDValidityChange bool
	// ExpungeUID is expunged from Folder right after the first metadata
	// FETCH that listed it: really gone, as UID FETCH and UID SEARCH then
	// show.
	ExpungeUID uint32
	// Garbage is written, followed by CRLF, after the first message of
	// every body FETCH.
	Garbage []byte
	// NoLogoutReply never answers LOGOUT and keeps the connection open.
	NoLogoutReply bool
	// GreetingBytes, when set, makes the greeting's text that long.
	GreetingBytes int
	// Drip, when set, writes the body literal of DripUID (of every message
	// when DripUID is 0) DripBytes (default 1) every Drip.
	Drip      time.Duration
	DripUID   uint32
	DripBytes int
}

// HostileCommand is a command the server received.
type HostileCommand struct {
	Conn int    // connection number, from 1
	Tag  string //
	Name string // upper case; "UID FETCH" for UID commands
	// Args are the arguments as text (lists flattened; literals inline).
	Args string
}

// HostileConn is one client connection, as a Hook sees it.
type HostileConn struct {
	N   int // connection number, from 1
	s   *Hostile
	nc  net.Conn
	w   *bufio.Writer
	sel *HostileFolder // selected folder
	err error
}

// Write sends b as is (buffered; Flush sends it).
func (c *HostileConn) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(b)
	c.err = err
	return n, err
}

// Printf sends a formatted line part; add "\r\n" yourself.
func (c *HostileConn) Printf(format string, args ...any) { fmt.Fprintf(c, format, args...) }

// Flush sends what was written.
func (c *HostileConn) Flush() error {
	if c.err != nil {
		return c.err
	}
	c.err = c.w.Flush()
	return c.err
}

// Close closes the connection.
func (c *HostileConn) Close() { _ = c.w.Flush(); _ = c.nc.Close() }

// StartHostile starts a server with the given folders (a copy is kept; it
// may be empty), stopped with the test.
func StartHostile(t testing.TB, opts HostileOptions, folders ...HostileFolder) *Hostile {
	t.Helper()
	if opts.User == "" {
		opts.User = "user"
	}
	if opts.Password == "" {
		opts.Password = "secret"
	}
	if opts.Delim == 0 {
		opts.Delim = '/'
	}
	s := &Hostile{opts: opts, open: map[net.Conn]bool{}}
	for _, f := range folders {
		f := f
		if f.UIDValidity == 0 {
			f.UIDValidity = 1
		}
		f.Messages = slices.Clone(f.Messages)
		for i := range f.Messages {
			if f.Messages[i].UID == 0 {
				f.Messages[i].UID = uint32(i + 1)
			}
			if f.Messages[i].Date.IsZero() {
				f.Messages[i].Date = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
			}
		}
		s.folders = append(s.folders, &f)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hostile server: %v", err)
	}
	if opts.TLS {
		s.certs, err = newTestCerts()
		if err != nil {
			ln.Close()
			t.Fatalf("hostile server: %v", err)
		}
		cert, err := tls.X509KeyPair(s.certs.certPEM, s.certs.keyPEM)
		if err != nil {
			ln.Close()
			t.Fatalf("hostile server: %v", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.ln = ln
	t.Cleanup(s.Close)
	s.wg.Add(1)
	go s.accept()
	return s
}

// Addr is the "127.0.0.1:port" the server listens on.
func (s *Hostile) Addr() string { return s.ln.Addr().String() }

// User and Password are the credentials the server accepts.
func (s *Hostile) User() string     { return s.opts.User }
func (s *Hostile) Password() string { return s.opts.Password }

// CAPool verifies the server's certificate (TLS servers only; nil otherwise).
func (s *Hostile) CAPool() *x509.CertPool {
	if s.certs == nil {
		return nil
	}
	return s.certs.pool
}

// CAPEM is the CA certificate in PEM (TLS servers only).
func (s *Hostile) CAPEM() []byte {
	if s.certs == nil {
		return nil
	}
	return s.certs.caPEM
}

// Close stops the server and closes every connection.
func (s *Hostile) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

// Commands returns every command received so far, in order.
func (s *Hostile) Commands() []HostileCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cmds)
}

// Err is the last error a connection ended with, other than the client
// hanging up (a command too long, a malformed literal): nil when every
// client spoke IMAP.
func (s *Hostile) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Connections is the number of connections accepted so far.
func (s *Hostile) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// writeCommands are the commands that change a mailbox.
var writeCommands = map[string]bool{
	"STORE": true, "UID STORE": true, "COPY": true, "UID COPY": true, "MOVE": true, "UID MOVE": true,
	"EXPUNGE": true, "UID EXPUNGE": true, "CREATE": true, "APPEND": true, "DELETE": true, "RENAME": true,
	"SUBSCRIBE": true, "UNSUBSCRIBE": true, "SETMETADATA": true, "SETACL": true, "DELETEACL": true,
	"SETQUOTA": true, "CLOSE": true,
}

// Writes returns the commands received that would have written to the
// mailbox (CLOSE included: it expunges); a test wants none.
func (s *Hostile) Writes() []HostileCommand {
	var out []HostileCommand
	for _, c := range s.Commands() {
		if writeCommands[c.Name] {
			out = append(out, c)
		}
	}
	return out
}

// SetFlags replaces the flags of a message, as the customer would on the
// old server between two runs; it reports whether the message exists.
func (s *Hostile) SetFlags(folder string, uid uint32, flags ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.folder(folder)
	if f == nil {
		return false
	}
	for i := range f.Messages {
		if f.Messages[i].UID == uid {
			f.Messages[i].Flags = flags
			return true
		}
	}
	return false
}

// Folder returns a copy of the named folder as it is now.
func (s *Hostile) Folder(name string) (HostileFolder, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.folder(name); f != nil {
		c := *f
		c.Messages = slices.Clone(f.Messages)
		return c, true
	}
	return HostileFolder{}, false
}

func (s *Hostile) folder(name string) *HostileFolder {
	for _, f := range s.folders {
		if f.Name == name || strings.EqualFold(name, "INBOX") && strings.EqualFold(f.Name, "INBOX") {
			return f
		}
	}
	return nil
}

func (s *Hostile) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns++
		n := s.conns
		s.open[nc] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.open, nc)
				s.mu.Unlock()
				nc.Close()
			}()
			c := &HostileConn{N: n, s: s, nc: nc, w: bufio.NewWriterSize(nc, 64<<10)}
			if err := c.serve(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.mu.Lock()
				s.lastErr = err
				s.mu.Unlock()
			}
		}()
	}
}

// errHangUp ends a connection on purpose.
var errHangUp = errors.New("hang up")

func (c *HostileConn) serve() error {
	f := c.s.opts.Faults
	if f.GreetingBytes > 0 {
		c.Printf("* OK ")
		c.fill(int64(f.GreetingBytes), 'g')
		c.Printf("\r\n")
	} else {
		c.Printf("* OK [CAPABILITY %s] Hostile test server ready\r\n", c.caps())
	}
	if err := c.Flush(); err != nil {
		return err
	}
	r := bufio.NewReaderSize(c.nc, 16<<10)
	authed := false
	for {
		cmd, args, err := c.readCommand(r)
		if err != nil {
			return err
		}
		c.s.mu.Lock()
		c.s.cmds = append(c.s.cmds, cmd)
		c.s.mu.Unlock()
		if h := c.s.opts.Hook; h != nil && h(c, cmd) {
			if err := c.Flush(); err != nil {
				return err
			}
			continue
		}
		err = c.handle(cmd, args, &authed, r)
		if ferr := c.Flush(); err == nil {
			err = ferr
		}
		if errors.Is(err, errHangUp) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (c *HostileConn) caps() string {
	o := c.s.opts
	caps := []string{"IMAP4rev1", "LITERAL+", "SASL-IR", "AUTH=PLAIN", "ID", "ENABLE", "UNSELECT", "UIDPLUS"}
	if !o.NoNamespace {
		caps = append(caps, "NAMESPACE")
	}
	if !o.NoSpecialUse {
		caps = append(caps, "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE")
	}
	caps = append(caps, o.Capabilities...)
	return strings.Join(caps, " ")
}

func (c *HostileConn) ok(tag, text string) { c.Printf("%s OK %s\r\n", tag, text) }
func (c *HostileConn) no(tag, text string) { c.Printf("%s NO %s\r\n", tag, text) }
func (c *HostileConn) bad(tag, text string) {
	c.Printf("%s BAD %s\r\n", tag, text)
}

func (c *HostileConn) handle(cmd HostileCommand, args []htok, authed *bool, r *bufio.Reader) error {
	o := c.s.opts
	tag := cmd.Tag
	switch cmd.Name {
	case "CAPABILITY":
		c.Printf("* CAPABILITY %s\r\n", c.caps())
		c.ok(tag, "CAPABILITY completed")
	case "NOOP":
		c.ok(tag, "NOOP completed")
	case "ID":
		c.Printf("* ID (\"name\" \"hostile\")\r\n")
		c.ok(tag, "ID completed")
	case "ENABLE":
		c.Printf("* ENABLED\r\n")
		c.ok(tag, "ENABLE completed")
	case "LOGOUT":
		if o.Faults.NoLogoutReply {
			_ = c.Flush()
			// Read (and ignore) until the client gives up.
			_, err := io.Copy(io.Discard, r)
			return err
		}
		c.Printf("* BYE Logging out\r\n")
		c.ok(tag, "LOGOUT completed")
		return errHangUp
	case "LOGIN":
		if len(args) != 2 {
			c.bad(tag, "LOGIN wants a user and a password")
			return nil
		}
		if args[0].text != o.User || args[1].text != o.Password {
			c.no(tag, "[AUTHENTICATIONFAILED] Authentication failed.")
			return nil
		}
		*authed = true
		c.ok(tag, "[CAPABILITY "+c.caps()+"] Logged in")
	case "AUTHENTICATE":
		if len(args) < 1 || !strings.EqualFold(args[0].text, "PLAIN") {
			c.no(tag, "Unsupported mechanism")
			return nil
		}
		var ir string
		if len(args) > 1 {
			ir = args[1].text
		} else {
			c.Printf("+ \r\n")
			if err := c.Flush(); err != nil {
				return err
			}
			line, err := readLine(r, 64<<10)
			if err != nil {
				return err
			}
			ir = line
		}
		raw, err := base64.StdEncoding.DecodeString(ir)
		parts := strings.Split(string(raw), "\x00")
		if err != nil || len(parts) != 3 || parts[1] != o.User || parts[2] != o.Password || parts[0] != "" && parts[0] != o.User {
			c.no(tag, "[AUTHENTICATIONFAILED] Authentication failed.")
			return nil
		}
		*authed = true
		c.ok(tag, "[CAPABILITY "+c.caps()+"] Logged in")
	default:
		if !*authed {
			c.bad(tag, "Log in first")
			return nil
		}
		return c.handleAuthed(cmd, args)
	}
	return nil
}

func (c *HostileConn) handleAuthed(cmd HostileCommand, args []htok) error {
	o := c.s.opts
	tag := cmd.Tag
	if writeCommands[cmd.Name] {
		c.no(tag, "[CANNOT] This test server is read-only")
		return nil
	}
	switch cmd.Name {
	case "NAMESPACE":
		if o.NoNamespace {
			c.bad(tag, "Unknown command")
			return nil
		}
		c.Printf("* NAMESPACE ((%s %s)) NIL NIL\r\n", quote(o.NamespacePrefix), quote(string(o.Delim)))
		c.ok(tag, "NAMESPACE completed")
	case "LIST", "LSUB":
		return c.list(cmd, args)
	case "STATUS":
		if len(args) < 2 {
			c.bad(tag, "STATUS wants a mailbox and items")
			return nil
		}
		c.s.mu.Lock()
		f := c.s.folder(args[0].text)
		var line string
		if f != nil {
			line = statusLine(f, args[1])
		}
		c.s.mu.Unlock()
		if f == nil {
			c.no(tag, "[NONEXISTENT] Mailbox doesn't exist")
			return nil
		}
		c.Printf("%s\r\n", line)
		c.ok(tag, "STATUS completed")
	case "SELECT", "EXAMINE":
		if len(args) < 1 {
			c.bad(tag, "SELECT wants a mailbox")
			return nil
		}
		c.s.mu.Lock()
		f := c.s.folder(args[0].text)
		var n, uv, next uint32
		if f != nil {
			n, uv, next = uint32(len(f.Messages)), f.UIDValidity, uidNext(f)
		}
		c.s.mu.Unlock()
		if f == nil {
			c.sel = nil
			c.no(tag, "[NONEXISTENT] Mailbox doesn't exist")
			return nil
		}
		c.sel = f
		if o.Faults.Exists != 0 {
			n = o.Faults.Exists
		}
		c.Printf("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
		c.Printf("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n")
		c.Printf("* %d EXISTS\r\n* 0 RECENT\r\n", n)
		c.Printf("* OK [UIDVALIDITY %d] UIDs valid\r\n* OK [UIDNEXT %d] Predicted next UID\r\n", uv, next)
		if cmd.Name == "EXAMINE" {
			c.ok(tag, "[READ-ONLY] EXAMINE completed")
		} else {
			c.ok(tag, "[READ-WRITE] SELECT completed")
		}
	case "UNSELECT":
		c.sel = nil
		c.ok(tag, "UNSELECT completed")
	case "FETCH", "UID FETCH":
		if c.sel == nil {
			c.bad(tag, "No mailbox selected")
			return nil
		}
		return c.fetch(cmd, args)
	case "SEARCH", "UID SEARCH":
		if c.sel == nil {
			c.bad(tag, "No mailbox selected")
			return nil
		}
		c.search(cmd, args)
	default:
		c.bad(tag, "Unknown command "+cmd.Name)
	}
	return nil
}

func uidNext(f *HostileFolder) uint32 {
	var max uint32
	for _, m := range f.Messages {
		max = maxU(max, m.UID)
	}
	return max + 1
}

func maxU(a, b uint32) uint32 {
	if a > b {
		return a
	}
	return b
}

// statusLine answers STATUS items of f.
func statusLine(f *HostileFolder, items htok) string {
	var parts []string
	for _, it := range items.flat() {
		switch strings.ToUpper(it) {
		case "MESSAGES":
			parts = append(parts, "MESSAGES "+strconv.Itoa(len(f.Messages)))
		case "UIDNEXT":
			parts = append(parts, "UIDNEXT "+strconv.FormatUint(uint64(uidNext(f)), 10))
		case "UIDVALIDITY":
			parts = append(parts, "UIDVALIDITY "+strconv.FormatUint(uint64(f.UIDValidity), 10))
		case "UNSEEN":
			n := 0
			for _, m := range f.Messages {
				if !slices.ContainsFunc(m.Flags, func(s string) bool { return strings.EqualFold(s, `\Seen`) }) {
					n++
				}
			}
			parts = append(parts, "UNSEEN "+strconv.Itoa(n))
		case "RECENT":
			parts = append(parts, "RECENT 0")
		case "SIZE":
			var n int64
			for _, m := range f.Messages {
				n += m.Size()
			}
			parts = append(parts, "SIZE "+strconv.FormatInt(n, 10))
		}
	}
	return fmt.Sprintf("* STATUS %s (%s)", quote(f.Name), strings.Join(parts, " "))
}

var specialUseAttrs = map[string]bool{`\all`: true, `\archive`: true, `\drafts`: true, `\flagged`: true,
	`\junk`: true, `\sent`: true, `\trash`: true, `\important`: true}

func (c *HostileConn) list(cmd HostileCommand, args []htok) error {
	o := c.s.opts
	// LIST [(selection)] reference pattern [RETURN (options)]
	i := 0
	if i < len(args) && args[i].list != nil {
		i++
	}
	if len(args) < i+2 {
		c.bad(cmd.Tag, "LIST wants a reference and a pattern")
		return nil
	}
	ref, pats := args[i].text, args[i+1]
	var status htok
	for j := i + 2; j+1 < len(args); j++ {
		if strings.EqualFold(args[j].text, "RETURN") {
			opts := args[j+1].list
			for k := 0; k < len(opts); k++ {
				if strings.EqualFold(opts[k].text, "STATUS") && k+1 < len(opts) {
					status = opts[k+1]
				}
			}
		}
	}
	patterns := []string{pats.text}
	if pats.list != nil {
		patterns = pats.flat()
	}
	if o.Faults.ListLineBytes > 0 {
		c.Printf("* LIST (\\HasNoChildren) %s \"", quote(string(o.Delim)))
		c.fill(o.Faults.ListLineBytes, 'L')
		c.Printf("\"\r\n")
	}
	c.s.mu.Lock()
	type row struct{ line, status string }
	var rows []row
	for _, f := range c.s.folders {
		if !slices.ContainsFunc(patterns, func(p string) bool { return matchPattern(ref+p, f.Name, o.Delim) }) {
			continue
		}
		var attrs []string
		for _, a := range f.Attrs {
			if o.NoSpecialUse && specialUseAttrs[strings.ToLower(a)] {
				continue
			}
			attrs = append(attrs, a)
		}
		children := false
		for _, g := range c.s.folders {
			if strings.HasPrefix(g.Name, f.Name+string(o.Delim)) {
				children = true
			}
		}
		if children {
			attrs = append(attrs, `\HasChildren`)
		} else {
			attrs = append(attrs, `\HasNoChildren`)
		}
		r := row{line: fmt.Sprintf("* %s (%s) %s %s", cmd.Name, strings.Join(attrs, " "), quote(string(o.Delim)), quote(f.Name))}
		if status.list != nil {
			r.status = statusLine(f, status)
		}
		rows = append(rows, r)
	}
	c.s.mu.Unlock()
	for _, r := range rows {
		c.Printf("%s\r\n", r.line)
		if r.status != "" {
			c.Printf("%s\r\n", r.status)
		}
	}
	c.ok(cmd.Tag, cmd.Name+" completed")
	return nil
}

// matchPattern matches an IMAP LIST pattern: * anything, % anything but the
// delimiter; INBOX in any case.
func matchPattern(pat, name string, delim rune) bool {
	if strings.EqualFold(name, "INBOX") && strings.EqualFold(pat, "INBOX") {
		return true
	}
	if pat == "" {
		return name == ""
	}
	switch pat[0] {
	case '*':
		for i := 0; i <= len(name); i++ {
			if matchPattern(pat[1:], name[i:], delim) {
				return true
			}
		}
		return false
	case '%':
		for i := 0; i <= len(name); i++ {
			if matchPattern(pat[1:], name[i:], delim) {
				return true
			}
			if i < len(name) && rune(name[i]) == delim {
				return false
			}
		}
		return false
	}
	return name != "" && name[0] == pat[0] && matchPattern(pat[1:], name[1:], delim)
}

// numSet is a parsed sequence set; star stands for the largest number.
type numSet [][2]uint32

func parseNumSet(s string, star uint32) (numSet, error) {
	var out numSet
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := setNum(lo, star)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = setNum(hi, star); err != nil {
				return nil, err
			}
		}
		if a > b {
			a, b = b, a
		}
		out = append(out, [2]uint32{a, b})
	}
	return out, nil
}

func setNum(s string, star uint32) (uint32, error) {
	if s == "*" {
		return star, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad number %q in a sequence set", s)
	}
	return uint32(n), nil
}

func (ns numSet) has(n uint32) bool {
	for _, r := range ns {
		if n >= r[0] && n <= r[1] {
			return true
		}
	}
	return false
}

// fetchItem is one item a FETCH asks for.
type fetchItem struct {
	name    string // UID, FLAGS, INTERNALDATE, RFC822.SIZE, BODY
	section string // for BODY: the section as echoed back ("", "HEADER.FIELDS (A B)", "HEADER", "TEXT")
	fields  []string
	not     bool // HEADER.FIELDS.NOT
}

func parseFetchItems(t htok) []fetchItem {
	var toks []htok
	if t.list != nil {
		toks = t.list
	} else {
		toks = []htok{t}
	}
	var out []fetchItem
	for _, tk := range toks {
		up := strings.ToUpper(tk.text)
		switch up {
		case "ALL", "FAST", "FULL":
			out = append(out, fetchItem{name: "FLAGS"}, fetchItem{name: "INTERNALDATE"}, fetchItem{name: "RFC822.SIZE"})
			continue
		case "RFC822":
			out = append(out, fetchItem{name: "BODY", section: ""})
			continue
		}
		if strings.HasPrefix(up, "BODY[") || strings.HasPrefix(up, "BODY.PEEK[") || strings.HasPrefix(up, "BINARY.PEEK[") || strings.HasPrefix(up, "BINARY[") {
			open := strings.IndexByte(tk.text, '[')
			end := strings.LastIndexByte(tk.text, ']')
			if end < open {
				end = len(tk.text)
			}
			sec := tk.text[open+1 : end]
			it := fetchItem{name: "BODY", section: sec}
			if strings.HasPrefix(up, "BINARY") {
				it.name = "BINARY"
			}
			usec := strings.ToUpper(sec)
			if strings.HasPrefix(usec, "HEADER.FIELDS") {
				it.not = strings.HasPrefix(usec, "HEADER.FIELDS.NOT")
				if a, b := strings.IndexByte(sec, '('), strings.IndexByte(sec, ')'); a >= 0 && b > a {
					for _, f := range strings.Fields(sec[a+1 : b]) {
						it.fields = append(it.fields, strings.Trim(f, `"`))
					}
				}
			}
			out = append(out, it)
			continue
		}
		out = append(out, fetchItem{name: up})
	}
	return out
}

func (it fetchItem) isBody() bool {
	return (it.name == "BODY" || it.name == "BINARY") && it.section == ""
}

// faults are the FETCH faults that apply to the selected folder.
func (c *HostileConn) faults() HostileFaults {
	f := c.s.opts.Faults
	folder := f.Folder
	if folder == "" {
		folder = "INBOX"
	}
	if c.sel == nil || c.sel.Name != folder && !(strings.EqualFold(folder, "INBOX") && strings.EqualFold(c.sel.Name, "INBOX")) {
		return HostileFaults{Exists: f.Exists, UIDValidityChange: f.UIDValidityChange}
	}
	return f
}

func (c *HostileConn) fetch(cmd HostileCommand, args []htok) error {
	f := c.faults()
	if len(args) < 2 {
		c.bad(cmd.Tag, "FETCH wants a set and items")
		return nil
	}
	byUID := cmd.Name == "UID FETCH"
	items := parseFetchItems(args[1])
	wantsBody := slices.ContainsFunc(items, fetchItem.isBody)
	meta := !wantsBody && slices.ContainsFunc(items, func(it fetchItem) bool { return it.name == "RFC822.SIZE" }) &&
		!slices.ContainsFunc(items, func(it fetchItem) bool { return it.name == "BODY" })

	c.s.mu.Lock()
	msgs := slices.Clone(c.sel.Messages)
	var star uint32
	if byUID {
		for _, m := range msgs {
			star = maxU(star, m.UID)
		}
	} else {
		star = uint32(len(msgs))
	}
	c.s.mu.Unlock()
	set, err := parseNumSet(args[0].text, star)
	if err != nil {
		c.bad(cmd.Tag, err.Error())
		return nil
	}
	refused := false
	sent := 0
	for i, m := range msgs {
		seq := uint32(i + 1)
		if byUID && !set.has(m.UID) || !byUID && !set.has(seq) {
			continue
		}
		if wantsBody && m.UID == f.OmitUID {
			continue
		}
		if wantsBody && m.UID == f.RefuseUID {
			refused = true
			continue
		}
		if wantsBody && sent == 1 {
			if f.ByeMidFetch >= c.N {
				c.Printf("* BYE Server shutting down\r\n")
				return errHangUp
			}
			if f.Garbage != nil {
				_, _ = c.Write(f.Garbage)
				c.Printf("\r\n")
			}
		}
		if err := c.fetchOne(seq, m, items, byUID); err != nil {
			return err
		}
		sent++
	}
	if refused {
		c.no(cmd.Tag, "Some messages could not be FETCHed (Failure)")
		return nil
	}
	if meta && f.ExpungeUID != 0 {
		c.s.mu.Lock()
		c.sel.Messages = slices.DeleteFunc(c.sel.Messages, func(m HostileMessage) bool { return m.UID == f.ExpungeUID })
		c.s.mu.Unlock()
	}
	if meta && f.UIDValidityChange {
		c.s.mu.Lock()
		if !c.s.bumped {
			c.s.bumped = true
			for _, fo := range c.s.folders {
				fo.UIDValidity++
				for i := range fo.Messages {
					fo.Messages[i].UID += 1000
				}
			}
		}
		c.s.mu.Unlock()
	}
	c.ok(cmd.Tag, "FETCH completed")
	return nil
}

func (c *HostileConn) fetchOne(seq uint32, m HostileMessage, items []fetchItem, byUID bool) error {
	var parts []string
	hasUID := false
	for _, it := range items {
		if it.name == "UID" {
			hasUID = true
		}
	}
	if byUID && !hasUID {
		parts = append(parts, fmt.Sprintf("UID %d", m.UID))
	}
	c.Printf("* %d FETCH (", seq)
	if len(parts) > 0 {
		c.Printf("%s", parts[0])
	}
	first := len(parts) == 0
	sep := func() {
		if !first {
			c.Printf(" ")
		}
		first = false
	}
	for _, it := range items {
		switch it.name {
		case "UID":
			sep()
			c.Printf("UID %d", m.UID)
		case "FLAGS":
			sep()
			c.Printf("FLAGS (%s)", strings.Join(m.Flags, " "))
		case "INTERNALDATE":
			sep()
			c.Printf("INTERNALDATE %s", quote(m.Date.Format("02-Jan-2006 15:04:05 -0700")))
		case "RFC822.SIZE":
			sep()
			c.Printf("RFC822.SIZE %d", m.declared())
		case "BODY", "BINARY":
			sep()
			if it.isBody() {
				if err := c.bodyLiteral(m, it.name); err != nil {
					return err
				}
				continue
			}
			c.Printf("%s[%s] ", it.name, it.section)
			part := sectionOf(m.Body, it)
			c.Printf("{%d}\r\n", len(part))
			_, _ = c.Write(part)
		}
	}
	c.Printf(")\r\n")
	return c.err
}

// bodyLiteral writes BODY[] of m, faults included.
func (c *HostileConn) bodyLiteral(m HostileMessage, name string) error {
	f := c.faults()
	if m.UID == f.NilBodyUID {
		c.Printf("%s[] NIL", name)
		return nil
	}
	size := m.Size()
	c.Printf("%s[] {%d}\r\n", name, size)
	if m.UID == f.ShortLiteralUID {
		half := size / 2
		c.writeBody(m, half)
		if err := c.Flush(); err != nil {
			return err
		}
		if f.ShortLiteralClose {
			return errHangUp
		}
		// Stall: say nothing more until the client hangs up.
		_, err := io.Copy(io.Discard, c.nc)
		if err == nil {
			err = io.EOF
		}
		return err
	}
	if f.Drip > 0 && (f.DripUID == 0 || f.DripUID == m.UID) {
		if err := c.Flush(); err != nil {
			return err
		}
		dw := &dripWriter{w: c.nc, every: f.Drip, n: max(f.DripBytes, 1)}
		saved := c.w
		c.w = bufio.NewWriterSize(dw, 1)
		c.writeBody(m, size)
		err := c.Flush()
		c.w = saved
		return err
	}
	c.writeBody(m, size)
	return nil
}

// writeBody writes the first n bytes of m's wire form: Body, then Pad
// bytes of filler text lines.
func (c *HostileConn) writeBody(m HostileMessage, n int64) {
	b := m.Body
	if int64(len(b)) > n {
		b = b[:n]
	}
	_, _ = c.Write(b)
	c.fill(n-int64(len(b)), 'x')
}

var fillLines = func() map[byte][]byte {
	out := map[byte][]byte{}
	for _, ch := range []byte("gLx") {
		line := bytes.Repeat([]byte{ch}, 1022)
		if ch == 'x' {
			line = append(line, '\r', '\n')
		} else {
			line = append(line, ch, ch)
		}
		out[ch] = bytes.Repeat(line, 64)
	}
	return out
}()

// fill writes n filler bytes made of ch (text lines of 1 KiB for 'x').
func (c *HostileConn) fill(n int64, ch byte) {
	chunk := fillLines[ch]
	for n > 0 && c.err == nil {
		k := min(n, int64(len(chunk)))
		_, _ = c.Write(chunk[:k])
		n -= k
	}
}

// dripWriter writes n bytes every every.
type dripWriter struct {
	w     io.Writer
	every time.Duration
	n     int
}

func (d *dripWriter) Write(b []byte) (int, error) {
	for i := 0; i < len(b); i += d.n {
		chunk := b[i:min(i+d.n, len(b))]
		if _, err := d.w.Write(chunk); err != nil {
			return i, err
		}
		time.Sleep(d.every)
	}
	return len(b), nil
}

// sectionOf returns a header section of raw.
func sectionOf(raw []byte, it fetchItem) []byte {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	hdr, text := raw, []byte(nil)
	if end >= 0 {
		hdr, text = raw[:end+2], raw[end+4:]
	}
	usec := strings.ToUpper(it.section)
	switch {
	case usec == "TEXT":
		return text
	case usec == "HEADER":
		return append(slices.Clone(hdr), '\r', '\n')
	case strings.HasPrefix(usec, "HEADER.FIELDS"):
		var out []byte
		keep := false
		for _, line := range bytes.SplitAfter(hdr, []byte("\r\n")) {
			if len(line) == 0 {
				continue
			}
			if line[0] != ' ' && line[0] != '\t' {
				name, _, _ := bytes.Cut(line, []byte(":"))
				in := slices.ContainsFunc(it.fields, func(f string) bool { return strings.EqualFold(f, string(bytes.TrimSpace(name))) })
				keep = in != it.not
			}
			if keep {
				out = append(out, line...)
			}
		}
		return append(out, '\r', '\n')
	}
	return raw
}

func (c *HostileConn) search(cmd HostileCommand, args []htok) {
	byUID := cmd.Name == "UID SEARCH"
	c.s.mu.Lock()
	msgs := slices.Clone(c.sel.Messages)
	c.s.mu.Unlock()
	var star uint32
	for _, m := range msgs {
		star = maxU(star, m.UID)
	}
	// Understood: ALL, UID <set>, <seq set>; anything else matches all.
	var uidSet, seqSet numSet
	for i := 0; i < len(args); i++ {
		a := strings.ToUpper(args[i].text)
		switch {
		case a == "UID" && i+1 < len(args):
			s, err := parseNumSet(args[i+1].text, star)
			if err != nil {
				c.bad(cmd.Tag, err.Error())
				return
			}
			uidSet = s
			i++
		case a != "" && (a[0] >= '0' && a[0] <= '9' || a[0] == '*'):
			s, err := parseNumSet(a, uint32(len(msgs)))
			if err == nil {
				seqSet = s
			}
		}
	}
	var out []string
	for i, m := range msgs {
		if uidSet != nil && !uidSet.has(m.UID) || seqSet != nil && !seqSet.has(uint32(i+1)) {
			continue
		}
		if byUID {
			out = append(out, strconv.FormatUint(uint64(m.UID), 10))
		} else {
			out = append(out, strconv.Itoa(i+1))
		}
	}
	if len(out) > 0 {
		c.Printf("* SEARCH %s\r\n", strings.Join(out, " "))
	} else {
		c.Printf("* SEARCH\r\n")
	}
	c.ok(cmd.Tag, "SEARCH completed")
}

// quote is an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// htok is one argument of a command: an atom or string (text), or a
// parenthesised list.
type htok struct {
	text string
	list []htok // non-nil for a list (possibly empty)
}

func (t htok) flat() []string {
	if t.list == nil {
		return []string{t.text}
	}
	var out []string
	for _, x := range t.list {
		out = append(out, x.flat()...)
	}
	return out
}

func (t htok) String() string {
	if t.list == nil {
		return t.text
	}
	parts := make([]string, len(t.list))
	for i, x := range t.list {
		parts[i] = x.String()
	}
	return "(" + strings.Join(parts, " ") + ")"
}

// maxCommand bounds what the server reads of one command.
const maxCommand = 1 << 20

// readCommand reads one command, literals included (answering the
// synchronising ones with a continuation).
func (c *HostileConn) readCommand(r *bufio.Reader) (HostileCommand, []htok, error) {
	p := &cmdParser{r: r, c: c, budget: maxCommand}
	toks, err := p.tokens(0)
	if err != nil {
		return HostileCommand{}, nil, err
	}
	cmd := HostileCommand{Conn: c.N}
	if len(toks) > 0 {
		cmd.Tag = toks[0].text
	}
	rest := toks
	if len(rest) > 0 {
		rest = rest[1:]
	}
	if len(rest) > 0 {
		cmd.Name = strings.ToUpper(rest[0].text)
		rest = rest[1:]
		if cmd.Name == "UID" && len(rest) > 0 {
			cmd.Name += " " + strings.ToUpper(rest[0].text)
			rest = rest[1:]
		}
	}
	strs := make([]string, len(rest))
	for i, t := range rest {
		strs[i] = t.String()
	}
	cmd.Args = strings.Join(strs, " ")
	return cmd, rest, nil
}

type cmdParser struct {
	r      *bufio.Reader
	c      *HostileConn
	budget int
}

func (p *cmdParser) byte() (byte, error) {
	if p.budget--; p.budget < 0 {
		return 0, errors.New("command too long")
	}
	return p.r.ReadByte()
}

// tokens reads tokens up to the end of the line (depth 0) or the closing
// parenthesis.
func (p *cmdParser) tokens(depth int) ([]htok, error) {
	var out []htok
	for {
		b, err := p.byte()
		if err != nil {
			return nil, err
		}
		switch b {
		case ' ':
		case '\r':
		case '\n':
			if depth > 0 {
				return nil, errors.New("unbalanced parentheses")
			}
			return out, nil
		case '(':
			l, err := p.tokens(depth + 1)
			if err != nil {
				return nil, err
			}
			if l == nil {
				l = []htok{}
			}
			out = append(out, htok{list: l})
		case ')':
			if depth == 0 {
				return nil, errors.New("unbalanced parentheses")
			}
			return out, nil
		case '"':
			s, err := p.quoted()
			if err != nil {
				return nil, err
			}
			out = append(out, htok{text: s})
		case '{':
			s, err := p.literal()
			if err != nil {
				return nil, err
			}
			out = append(out, htok{text: s})
		default:
			s, err := p.atom(b)
			if err != nil {
				return nil, err
			}
			out = append(out, htok{text: s})
			if err := p.r.UnreadByte(); err != nil {
				return nil, err
			}
			p.budget++
		}
	}
}

func (p *cmdParser) quoted() (string, error) {
	var sb strings.Builder
	for {
		b, err := p.byte()
		if err != nil {
			return "", err
		}
		switch b {
		case '"':
			return sb.String(), nil
		case '\\':
			if b, err = p.byte(); err != nil {
				return "", err
			}
		case '\r', '\n':
			return "", errors.New("line end in a quoted string")
		}
		sb.WriteByte(b)
	}
}

func (p *cmdParser) literal() (string, error) {
	var num strings.Builder
	plus := false
	for {
		b, err := p.byte()
		if err != nil {
			return "", err
		}
		if b == '}' {
			break
		}
		if b == '+' {
			plus = true
			continue
		}
		num.WriteByte(b)
	}
	if b, err := p.byte(); err != nil || b != '\r' {
		return "", errors.New("literal without CRLF")
	}
	if b, err := p.byte(); err != nil || b != '\n' {
		return "", errors.New("literal without CRLF")
	}
	n, err := strconv.Atoi(num.String())
	if err != nil || n < 0 || n > p.budget {
		return "", fmt.Errorf("literal of %q bytes refused", num.String())
	}
	if !plus {
		p.c.Printf("+ Ready for literal data\r\n")
		if err := p.c.Flush(); err != nil {
			return "", err
		}
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(p.r, buf); err != nil {
		return "", err
	}
	p.budget -= n
	return string(buf), nil
}

// atom reads an atom that starts with first, brackets included
// ("BODY.PEEK[HEADER.FIELDS (A B)]"); it stops before the byte that ends it,
// which the caller unreads.
func (p *cmdParser) atom(first byte) (string, error) {
	var sb strings.Builder
	b := first
	depth := 0
	for {
		switch {
		case b == '[':
			depth++
		case b == ']':
			depth--
		case depth <= 0 && (b == ' ' || b == '(' || b == ')' || b == '\r' || b == '\n'):
			return sb.String(), nil
		case b == '\r' || b == '\n':
			return sb.String(), nil
		}
		sb.WriteByte(b)
		var err error
		if b, err = p.byte(); err != nil {
			return "", err
		}
	}
}

func readLine(r *bufio.Reader, max int) (string, error) {
	var sb strings.Builder
	for {
		b, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if b == '\n' {
			return strings.TrimSuffix(sb.String(), "\r"), nil
		}
		if sb.Len() >= max {
			return "", errors.New("line too long")
		}
		sb.WriteByte(b)
	}
}

// MessageFlags converts imap flags to the strings a HostileMessage holds.
func MessageFlags(fl []imap.Flag) []string {
	out := make([]string, len(fl))
	for i, f := range fl {
		out[i] = string(f)
	}
	return out
}

// HostileMessages turns corpus messages into HostileMessages, UIDs from 1.
func HostileMessages(msgs ...Msg) []HostileMessage {
	out := make([]HostileMessage, len(msgs))
	for i, m := range msgs {
		out[i] = HostileMessage{UID: uint32(i + 1), Flags: MessageFlags(m.Flags), Date: m.Date, Body: m.Raw}
	}
	return out
}

// Dial returns a go-imap client logged in to the server (over TLS when the
// server is TLS), closed with the test. A failure is t.Fatal.
func (s *Hostile) Dial(t testing.TB) *imapclient.Client {
	t.Helper()
	var c *imapclient.Client
	var err error
	if s.opts.TLS {
		c, err = imapclient.DialTLS(s.Addr(), &imapclient.Options{TLSConfig: &tls.Config{RootCAs: s.CAPool(), MinVersion: tls.VersionTLS12}})
	} else {
		c, err = imapclient.DialInsecure(s.Addr(), nil)
	}
	if err != nil {
		t.Fatalf("dial hostile server: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Login(s.opts.User, s.opts.Password).Wait(); err != nil {
		t.Fatalf("log in to hostile server: %v", err)
	}
	return c
}
