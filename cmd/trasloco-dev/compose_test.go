package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/trasloco/trasloco/internal/config"
)

// composeFile is the part of docker-compose.yml the test reads.
type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Context    string
			Dockerfile string
			Target     string
		}
		Command         []string
		Environment     map[string]string
		StopGracePeriod string                                `yaml:"stop_grace_period"`
		DependsOn       map[string]struct{ Condition string } `yaml:"depends_on"`
		Volumes         []string
		Networks        map[string]struct{ Aliases []string }
	}
	Networks map[string]struct {
		IPAM struct {
			Config []struct{ Subnet string }
		} `yaml:"ipam"`
	}
	Volumes map[string]any
}

// composeEnv is what .env holds, as docker-compose.yml's head says.
var composeEnv = map[string]string{
	"TRASLOCO_SECRET_KEY":           "8XVVkc6S8N6Ef7J3f3Bq3m0yGJ0iUVl5yV0m1cT8vJk=",
	"TRASLOCO_DEST_MASTER_PASSWORD": "0123456789abcdef0123456789abcdef",
	"POSTGRES_PASSWORD":             "fedcba9876543210fedcba9876543210",
}

var interpolation = regexp.MustCompile(`\$\{([A-Z_]+)(?::[?-][^}]*)?\}`)

// readCompose reads docker-compose.yml as `docker compose` would with
// composeEnv in .env: ${VAR:?…} and ${VAR:-…} resolved.
func readCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	require.NoError(t, err)
	text := interpolation.ReplaceAllStringFunc(string(raw), func(m string) string {
		name := interpolation.FindStringSubmatch(m)[1]
		v, ok := composeEnv[name]
		require.True(t, ok, "docker-compose.yml uses %s, which .env does not set", name)
		return v
	})
	var c composeFile
	require.NoError(t, yaml.Unmarshal([]byte(text), &c))
	return c
}

// TestComposeFile checks what can be checked of docker-compose.yml without
// Docker: it parses; serve and worker get a configuration trasloco accepts,
// with every variable make dev sets; the demo is make dev's; every service,
// volume and build target it names exists.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	c := readCompose(t)
	for _, name := range []string{"postgres", "dovecot", "oldserver", "mailpit", "migrate", "demo", "serve", "worker"} {
		require.Contains(t, c.Services, name)
	}
	for name, svc := range c.Services {
		for dep := range svc.DependsOn {
			require.Contains(t, c.Services, dep, "%s depends on it", name)
		}
		for _, v := range svc.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				require.Contains(t, c.Volumes, src, "%s mounts it", name)
			}
		}
		if svc.Build != nil {
			dockerfile := svc.Build.Dockerfile
			if dockerfile == "" {
				dockerfile = "Dockerfile"
			}
			text := readFile(filepath.Join("..", "..", svc.Build.Context, dockerfile))
			require.NotEmpty(t, text, "%s builds %s", name, dockerfile)
			if svc.Build.Target != "" {
				require.Regexp(t, `(?m)^FROM .+ AS `+svc.Build.Target+`$`, text, "%s builds target %s", name, svc.Build.Target)
			}
		}
	}

	dev := devSettings(servers{})
	subnet := c.Networks["default"].IPAM.Config[0].Subnet
	for _, name := range []string{"serve", "worker"} {
		svc := c.Services[name]
		require.Equal(t, []string{name}, svc.Command)
		env := svc.Environment
		for k := range dev {
			if k != config.EnvListen || name == "serve" {
				require.Contains(t, env, k, "%s: make dev sets it", name)
			}
		}
		cfg, err := config.Load(func(k string) string { return env[k] })
		require.NoError(t, err, name)
		require.Equal(t, "dovecot:993", cfg.Dest.Addr)
		require.Equal(t, subnet, env[config.EnvAllowRemoteNets], "the demo's old server is in the compose network")
		grace, err := time.ParseDuration(svc.StopGracePeriod)
		require.NoError(t, err)
		require.GreaterOrEqual(t, grace, 55*time.Second, "graceful shutdown takes up to about 50 s")
	}
	require.Equal(t, "0.0.0.0:8080", c.Services["serve"].Environment[config.EnvListen])
	require.Equal(t, []string{"migrate"}, c.Services["migrate"].Command)

	// The demo: the old server the CSV names is the old server's alias,
	// and the master user is the same on both sides.
	demo := c.Services["demo"]
	require.Contains(t, demo.Command, "-old-server="+composeOldServer)
	host, _, _ := strings.Cut(composeOldServer, ":")
	require.True(t, slices.Contains(c.Services["oldserver"].Networks["default"].Aliases, host))
	dst := c.Services["dovecot"].Environment
	serve := c.Services["serve"].Environment
	require.Equal(t, "destination", dst["DOVECOT_ROLE"])
	require.Equal(t, "old-server", c.Services["oldserver"].Environment["DOVECOT_ROLE"])
	require.Equal(t, serve[config.EnvDestMasterUser], dst[config.EnvDestMasterUser])
	require.Equal(t, serve[config.EnvDestMasterPassword], dst[config.EnvDestMasterPassword])
}

// TestDockerfile checks that the image builds the binaries with the Go
// version go.mod asks for.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	text := readFile(filepath.Join("..", "..", "Dockerfile"))
	mod := readFile(filepath.Join("..", "..", "go.mod"))
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(mod)
	require.NotNil(t, goVersion)
	require.Contains(t, text, "FROM golang:"+goVersion[1]+"-")
	require.Contains(t, text, "./cmd/trasloco ")
	require.Contains(t, text, "./cmd/trasloco-dev")
	require.Contains(t, text, "CGO_ENABLED=0")
	require.Regexp(t, `(?m)^FROM \S+ AS trasloco$`, text[strings.LastIndex(text, "\nFROM "):], "the last stage, the default target, is trasloco")
}
