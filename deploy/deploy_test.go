// Package deploy_test checks the operators' files of deploy/ as far as this
// machine can: Dovecot parses our configuration, the systemd units give
// the graceful shutdown its time, and the example environment file is a
// configuration trasloco accepts.
package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trasloco/trasloco/internal/config"
)

// doveconf returns the path of doveconf: installed by make deps with
// Dovecot, which the whole test suite needs.
func doveconf(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"doveconf", "/usr/bin/doveconf", "/usr/sbin/doveconf"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("doveconf not found: install Dovecot (make deps)")
	return ""
}

// TestDovecotConf has Dovecot parse the production snippet, on top of the
// distribution's configuration as an operator would install it, and the
// complete configurations of docker-compose.yml.
func TestDovecotConf(t *testing.T) {
	t.Parallel()
	bin := doveconf(t)
	snippet, err := filepath.Abs("dovecot/conf.d/90-trasloco.conf")
	require.NoError(t, err)

	confs := map[string]string{
		"dovecot/compose-destination.conf": "",
		"dovecot/compose-old-server.conf":  "",
	}
	if _, err := os.Stat("/etc/dovecot/dovecot.conf"); err == nil {
		top := filepath.Join(t.TempDir(), "dovecot.conf")
		require.NoError(t, os.WriteFile(top, []byte("!include /etc/dovecot/dovecot.conf\n!include "+snippet+"\n"), 0o644))
		confs[top] = snippet
	}
	for path := range confs {
		out, err := exec.Command(bin, "-n", "-c", path).CombinedOutput()
		require.NoError(t, err, "doveconf -n -c %s:\n%s", path, out)
		text := string(out)
		if !strings.Contains(path, "old-server") {
			// The master passdb must be followed by a lookup of the mailbox
			// itself, or the panel cannot tell a missing mailbox.
			require.Contains(t, text, "master = yes", path)
			require.Contains(t, text, "result_success = continue", path)
			require.Contains(t, text, "auth_master_user_separator = *", path)
			for _, use := range []string{`\Sent`, `\Drafts`, `\Archive`, `\Trash`, `\Junk`} {
				require.Contains(t, text, "special_use = "+use, path)
			}
		}
	}
}

// unit reads a systemd unit's settings, section.Key → values.
func unit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q", path, line)
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func TestSystemdUnits(t *testing.T) {
	t.Parallel()
	for file, cmd := range map[string]string{
		"systemd/trasloco.service":        "serve",
		"systemd/trasloco-worker.service": "worker",
	} {
		u := unit(t, file)
		require.Equal(t, []string{"/usr/local/bin/trasloco " + cmd}, u["Service.ExecStart"], file)
		require.Equal(t, []string{"/etc/trasloco/trasloco.env"}, u["Service.EnvironmentFile"], file)
		require.Equal(t, []string{"on-failure"}, u["Service.Restart"], file)
		require.Equal(t, []string{"2"}, u["Service.RestartPreventExitStatus"], file, "a configuration error must not loop")
		require.Equal(t, []string{"SIGTERM"}, u["Service.KillSignal"], file)
		require.Len(t, u["Service.TimeoutStopSec"], 1, file)
		stop, err := time.ParseDuration(u["Service.TimeoutStopSec"][0])
		require.NoError(t, err, file)
		// 15 s for requests, 30 s for running copies, 5 s to cancel.
		require.GreaterOrEqual(t, stop, 55*time.Second, "%s: graceful shutdown takes up to about 50 s", file)
		require.Equal(t, []string{"multi-user.target"}, u["Install.WantedBy"], file)
	}
}

// TestEnvExample loads the example configuration as serve would.
func TestEnvExample(t *testing.T) {
	t.Parallel()
	f, err := os.Open("systemd/trasloco.env.example")
	require.NoError(t, err)
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, line)
		env[k] = v
	}
	require.NoError(t, sc.Err())
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, "https", cfg.BaseURL.Scheme, "production is behind TLS")
	require.Equal(t, config.TLSImplicit, cfg.Dest.TLS)
	require.Equal(t, "127.0.0.1:8080", cfg.Listen, "behind the reverse proxy")
}
