package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MailpitVersion is the Mailpit release the tests catch mail with. It is
// built from source with the Go module proxy (no other network needed) and
// cached, see MailpitBinary.
const MailpitVersion = "v1.33.1"

const (
	mailpitModule = "github.com/axllent/mailpit"
	// mailpitBuildTimeout bounds a cold build (about 80 s on a CI machine:
	// downloading the modules and compiling SQLite in Go).
	mailpitBuildTimeout = 8 * time.Minute
	// mailpitWaitTimeout is how long WaitMessages waits when ctx has no
	// deadline.
	mailpitWaitTimeout = 15 * time.Second
	// mailpitPageSize is how many summaries one API request lists.
	mailpitPageSize = 500
)

// Mailpit is a running Mailpit, an SMTP server that accepts every message
// (any recipient, any or no credentials, no TLS) and shows them through a
// REST API. All methods are safe for concurrent use.
type Mailpit struct {
	dir      string
	smtpPort int
	httpPort int
	api      string // http://127.0.0.1:port/api/v1
	client   *http.Client

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	werr error         // exit status, valid once done is closed

	stopOnce sync.Once
	stopErr  error
}

// MailpitAddress is a name and address as Mailpit's API returns them.
type MailpitAddress struct {
	Name    string
	Address string
}

// MailpitMessage is a message caught by Mailpit. Lists (Messages, Search)
// fill the summary fields; Message and WaitMessages also fill Date, Text,
// HTML and Headers.
type MailpitMessage struct {
	// ID is Mailpit's database ID, for Message.
	ID string
	// MessageID is the Message-ID header without the angle brackets.
	MessageID string
	From      *MailpitAddress
	To        []MailpitAddress
	Cc        []MailpitAddress
	Bcc       []MailpitAddress
	ReplyTo   []MailpitAddress
	Subject   string
	// Username is the name the client authenticated with, if it did.
	Username string
	// Created is when Mailpit received the message.
	Created time.Time
	// Snippet is the start of the text, up to 250 characters.
	Snippet string
	// Size is the size of the whole message in bytes.
	Size uint64

	// Date is the Date header (or the time received when it has none).
	Date time.Time
	// Text and HTML are the decoded text/plain and text/html bodies.
	Text string
	HTML string
	// Headers are the message's headers, keys in canonical form
	// (Headers.Get("Message-Id")).
	Headers mail.Header
}

// sharedMailpit is the server SharedMailpit starts once per test binary.
var sharedMailpit struct {
	once sync.Once
	mp   *Mailpit
	err  error
}

// SharedMailpit returns the test binary's Mailpit, starting it on first use
// (the first use on a machine also builds it, see MailpitBinary). Main stops
// it when the tests are done. Tests run in parallel against it: have each
// send to its own recipients (UniqueUser) and find its mail with
// WaitMessages(ctx, t, "to:"+addr, n). A Mailpit that cannot start fails the
// test: it never skips.
func SharedMailpit(t testing.TB) *Mailpit {
	t.Helper()
	s := &sharedMailpit
	s.once.Do(func() {
		dir, err := os.MkdirTemp("", "trasloco-mailpit-")
		if err != nil {
			s.err = fmt.Errorf("create shared mailpit directory: %w", err)
			return
		}
		s.mp, s.err = StartMailpit(dir)
		if s.err != nil {
			_ = os.RemoveAll(dir)
			return
		}
		addSharedCleanup(func() error {
			err := s.mp.Stop()
			return errors.Join(err, os.RemoveAll(dir))
		})
	})
	if s.err != nil {
		t.Fatalf("start Mailpit: %v", s.err)
	}
	return s.mp
}

// MailpitBinary returns the path of the Mailpit binary, building it on
// first use with
//
//	GOBIN=<cache>/mailpit-v1.33.1 go install github.com/axllent/mailpit@v1.33.1
//
// where <cache> is os.UserCacheDir()/trasloco-testenv (normally
// ~/.cache/trasloco-testenv; deploy/scripts/deps.sh builds the same binary
// there ahead of the tests). Concurrent test binaries wait for one build
// (a file lock), and the binary appears by an atomic rename, so a build that
// dies half-way leaves nothing behind.
func MailpitBinary() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the cache directory for mailpit: %w", err)
	}
	dir := filepath.Join(cache, "trasloco-testenv", "mailpit-"+MailpitVersion)
	bin := filepath.Join(dir, "mailpit")
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("open mailpit build lock: %w", err)
	}
	defer lock.Close() // closing also releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock mailpit build: %w", err)
	}
	if isExecutable(bin) {
		return bin, nil // built by another test binary while we waited
	}

	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build mailpit: the go command is not in PATH: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("build mailpit: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), mailpitBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "install", mailpitModule+"@"+MailpitVersion)
	cmd.Dir = tmp // outside any module or workspace
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build mailpit (go install %s@%s): %w\n%s", mailpitModule, MailpitVersion, err, bytes.TrimSpace(out))
	}
	if err := os.Rename(filepath.Join(tmp, "mailpit"), bin); err != nil {
		return "", fmt.Errorf("build mailpit: %w", err)
	}
	return bin, nil
}

// StartMailpit builds Mailpit if needed (MailpitBinary), starts it with its
// database and log (mailpit.log) in dir, created if missing, SMTP and HTTP
// on free 127.0.0.1 ports, and returns once both answer. Stop it with Stop;
// dir is left in place.
func StartMailpit(dir string) (*Mailpit, error) {
	bin, err := MailpitBinary()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	for attempt := 1; ; attempt++ {
		mp, err := startMailpit(bin, dir)
		if err == nil {
			return mp, nil
		}
		if attempt < startAttempts && errors.Is(err, errPortTaken) {
			continue
		}
		return nil, fmt.Errorf("start mailpit in %s: %w", dir, err)
	}
}

func startMailpit(bin, dir string) (*Mailpit, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	mp := &Mailpit{
		dir:      dir,
		smtpPort: ports[0],
		httpPort: ports[1],
		client:   &http.Client{Timeout: 10 * time.Second},
	}
	httpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(mp.httpPort))
	mp.api = "http://" + httpAddr + "/api/v1"

	logPath := filepath.Join(dir, "mailpit.log")
	logStart := fileSize(logPath)
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", logPath, err)
	}
	cmd := exec.Command(bin,
		"--smtp", mp.SMTPAddr(),
		"--listen", httpAddr,
		"--database", filepath.Join(dir, "mailpit.db"),
		"--max", "0", // never prune: a test's message must not vanish under it
		"--disable-version-check",
		"--smtp-disable-rdns",
		"--smtp-auth-accept-any",
		"--smtp-auth-allow-insecure",
		"--quiet",
	)
	cmd.Dir = dir
	// Mailpit also reads MP_* variables; give it none of ours.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir, "TZ=UTC"}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	out.Close() // the child holds its own descriptor
	mp.cmd = cmd
	mp.done = make(chan struct{})
	go func() {
		mp.werr = cmd.Wait()
		close(mp.done)
	}()

	if err := mp.waitReady(); err != nil {
		mp.kill()
		tail := tailFrom(logPath, logStart)
		if strings.Contains(tail, "address already in use") {
			return nil, fmt.Errorf("%w: %v\n%s", errPortTaken, err, tail)
		}
		return nil, fmt.Errorf("%w\n--- mailpit log (%s) ---\n%s", err, logPath, tail)
	}
	return mp, nil
}

// waitReady waits until /readyz answers 200 and the SMTP port greets.
func (mp *Mailpit) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-mp.done:
			return fmt.Errorf("mailpit exited during start-up: %v", mp.werr)
		default:
		}
		if lastErr = mp.probe(); lastErr == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mailpit not ready after %s: %w", startTimeout, lastErr)
}

// probe checks both listeners once.
func (mp *Mailpit) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(mp.api, "/api/v1")+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := mp.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	conn, err := net.DialTimeout("tcp", mp.SMTPAddr(), time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read SMTP greeting: %w", err)
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("unexpected SMTP greeting %q", strings.TrimSpace(line))
	}
	return nil
}

// Stop shuts Mailpit down (SIGTERM, then SIGKILL after a grace period) and
// waits for it to exit. The directory is left in place. Calling Stop again
// does nothing.
func (mp *Mailpit) Stop() error {
	mp.stopOnce.Do(func() {
		select {
		case <-mp.done:
			mp.stopErr = fmt.Errorf("stop mailpit: it had already exited: %v", mp.werr)
		default:
			_ = mp.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-mp.done:
			case <-time.After(stopTimeout):
				mp.kill()
				mp.stopErr = fmt.Errorf("stop mailpit: no exit %s after SIGTERM, killed", stopTimeout)
			}
		}
	})
	return mp.stopErr
}

// kill ends the process at once and waits for it.
func (mp *Mailpit) kill() {
	killGroup(mp.cmd.Process.Pid)
	<-mp.done
}

// Dir returns the directory holding the database and mailpit.log.
func (mp *Mailpit) Dir() string { return mp.dir }

// SMTPAddr returns "127.0.0.1:port" of the SMTP listener: no TLS, any
// recipient, any credentials or none.
func (mp *Mailpit) SMTPAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(mp.smtpPort))
}

// SMTPURL returns the SMTP listener as TRASLOCO_SMTP_URL takes it:
// "smtp://127.0.0.1:port" (plain SMTP, no STARTTLS).
func (mp *Mailpit) SMTPURL() string { return "smtp://" + mp.SMTPAddr() }

// APIURL returns the base URL of the REST API, "http://127.0.0.1:port/api/v1".
func (mp *Mailpit) APIURL() string { return mp.api }

// messagesPage is the JSON of GET /api/v1/messages and /api/v1/search.
type messagesPage struct {
	MessagesCount int              `json:"messages_count"`
	Messages      []MailpitMessage `json:"messages"`
}

// Messages lists every message Mailpit holds, newest first (summaries: no
// Text, HTML or Headers).
func (mp *Mailpit) Messages(ctx context.Context) ([]MailpitMessage, error) {
	msgs, err := mp.list(ctx, "/messages", nil)
	if err != nil {
		return nil, fmt.Errorf("list mailpit messages: %w", err)
	}
	return msgs, nil
}

// Search lists the messages matching query, newest first (summaries). The
// syntax is Mailpit's (mailpit.axllent.org/docs/usage/search-filters):
// `to:anna@acme.test` matches recipients containing that text,
// `subject:"run 1"` a phrase in the subject; terms are ANDed.
func (mp *Mailpit) Search(ctx context.Context, query string) ([]MailpitMessage, error) {
	msgs, err := mp.list(ctx, "/search", url.Values{"query": {query}})
	if err != nil {
		return nil, fmt.Errorf("search mailpit for %q: %w", query, err)
	}
	return msgs, nil
}

// list fetches every page of a message listing.
func (mp *Mailpit) list(ctx context.Context, path string, q url.Values) ([]MailpitMessage, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", strconv.Itoa(mailpitPageSize))
	all := []MailpitMessage{}
	for {
		q.Set("start", strconv.Itoa(len(all)))
		var page messagesPage
		if err := mp.do(ctx, http.MethodGet, path+"?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Messages...)
		if len(page.Messages) == 0 || len(all) >= page.MessagesCount {
			return all, nil
		}
	}
}

// Message returns one message in full: body texts and headers as well.
// Mailpit marks it read.
func (mp *Mailpit) Message(ctx context.Context, id string) (MailpitMessage, error) {
	var m MailpitMessage
	p := "/message/" + url.PathEscape(id)
	if err := mp.do(ctx, http.MethodGet, p, &m); err != nil {
		return MailpitMessage{}, fmt.Errorf("get mailpit message %s: %w", id, err)
	}
	if err := mp.do(ctx, http.MethodGet, p+"/headers", &m.Headers); err != nil {
		return MailpitMessage{}, fmt.Errorf("get headers of mailpit message %s: %w", id, err)
	}
	return m, nil
}

// DeleteAll deletes every message. Tests running in parallel share the
// server: prefer searching by a recipient of your own to deleting.
func (mp *Mailpit) DeleteAll(ctx context.Context) error {
	if err := mp.do(ctx, http.MethodDelete, "/messages", nil); err != nil {
		return fmt.Errorf("delete mailpit messages: %w", err)
	}
	return nil
}

// WaitMessages polls Search(query) until at least n messages match and
// returns all that match, in full (as Message returns them), newest first.
// It waits until ctx ends, or 15 s when ctx has no deadline, then fails the
// test naming what it found.
func (mp *Mailpit) WaitMessages(ctx context.Context, t testing.TB, query string, n int) []MailpitMessage {
	t.Helper()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, mailpitWaitTimeout)
		defer cancel()
	}
	var found []MailpitMessage
	var err error
	for {
		found, err = mp.Search(ctx, query)
		if err == nil && len(found) >= n {
			break
		}
		select {
		case <-ctx.Done():
			subjects := make([]string, len(found))
			for i, m := range found {
				subjects[i] = strconv.Quote(m.Subject)
			}
			t.Fatalf("mailpit: want %d messages matching %q, found %d [%s] (last error: %v)",
				n, query, len(found), strings.Join(subjects, ", "), err)
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
	full := make([]MailpitMessage, len(found))
	for i, s := range found {
		m, err := mp.Message(ctx, s.ID)
		if err != nil {
			t.Fatalf("mailpit: %v", err)
		}
		full[i] = m
	}
	return full
}

// do sends a request to the API and decodes a JSON answer into v (if not
// nil); any status but 200 is an error carrying the body.
func (mp *Mailpit) do(ctx context.Context, method, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, mp.api+path, nil)
	if err != nil {
		return err
	}
	resp, err := mp.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(body))
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
