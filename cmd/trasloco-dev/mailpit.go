package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trasloco/trasloco/internal/testenv"
)

// mailpit is the SMTP catcher of the development environment: the Mailpit
// binary internal/testenv builds (through the Go module proxy), run on
// fixed ports with its database under the state directory, so the mail
// of earlier sessions is still there.
type mailpit struct {
	smtpAddr, httpAddr string
	logPath            string
	cmd                *exec.Cmd
	done               chan struct{}
	werr               error
}

// startMailpit starts Mailpit in dir and waits until /readyz answers.
func startMailpit(ctx context.Context, dir string, smtpPort, httpPort int) (*mailpit, error) {
	bin, err := testenv.MailpitBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	mp := &mailpit{
		smtpAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(smtpPort)),
		httpAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort)),
		logPath:  filepath.Join(dir, "mailpit.log"),
		done:     make(chan struct{}),
	}
	out, err := os.OpenFile(mp.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	defer out.Close() // the child holds its own descriptor
	start, _ := out.Seek(0, io.SeekEnd)
	mp.cmd = exec.Command(bin,
		"--smtp", mp.smtpAddr,
		"--listen", mp.httpAddr,
		"--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check",
		"--smtp-disable-rdns",
		"--smtp-auth-accept-any",
		"--smtp-auth-allow-insecure",
		"--quiet",
	)
	mp.cmd.Dir = dir
	// Mailpit also reads MP_* variables; give it none of the caller's.
	mp.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir, "TZ=UTC"}
	mp.cmd.Stdout, mp.cmd.Stderr = out, out
	mp.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := mp.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	go func() {
		mp.werr = mp.cmd.Wait()
		close(mp.done)
	}()
	if err := mp.waitReady(ctx); err != nil {
		mp.Stop()
		b, _ := os.ReadFile(mp.logPath)
		if int64(len(b)) > start {
			b = b[start:]
		}
		return nil, fmt.Errorf("start mailpit: %w\n--- %s ---\n%s", err, mp.logPath, strings.TrimSpace(string(b)))
	}
	return mp, nil
}

func (mp *mailpit) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-mp.done:
			return fmt.Errorf("mailpit exited during start-up: %v", mp.werr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if last = mp.probe(client); last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mailpit not ready after 30s: %w", last)
}

// probe checks /readyz and the SMTP greeting once.
func (mp *mailpit) probe(client *http.Client) error {
	resp, err := client.Get(mp.URL() + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	conn, err := net.DialTimeout("tcp", mp.smtpAddr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "220") {
		return fmt.Errorf("SMTP greeting %q: %v", strings.TrimSpace(line), err)
	}
	return nil
}

// URL is the base URL of the web server (REST API under /api/v1).
func (mp *mailpit) URL() string { return "http://" + mp.httpAddr }

// SMTPURL is the SMTP listener as TRASLOCO_SMTP_URL takes it.
func (mp *mailpit) SMTPURL() string { return "smtp://" + mp.smtpAddr }

// Stop ends Mailpit (SIGTERM, SIGKILL after 10 s) and waits for it.
func (mp *mailpit) Stop() error {
	select {
	case <-mp.done:
		return nil
	default:
	}
	_ = mp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-mp.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-mp.cmd.Process.Pid, syscall.SIGKILL)
		<-mp.done
		return fmt.Errorf("stop mailpit: no exit 10s after SIGTERM, killed")
	}
}
