package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trasloco/trasloco/internal/transfer"
)

// endpointFlags are the flags of one side (--src-… or --dst-…).
type endpointFlags struct {
	side         string
	host         string
	user         string
	authUser     string
	passwordEnv  string
	passwordFile string
	tls          string
}

func (e *endpointFlags) register(fs *flag.FlagSet, prefix, side string) {
	e.side = side
	fs.StringVar(&e.host, prefix, "", side+" server as HOST[:PORT]")
	fs.StringVar(&e.user, prefix+"-user", "", side+" mailbox user")
	fs.StringVar(&e.authUser, prefix+"-auth-user", "", "master user who logs in on behalf of --"+prefix+"-user")
	fs.StringVar(&e.passwordEnv, prefix+"-password-env", "", "environment variable holding the "+side+" password")
	fs.StringVar(&e.passwordFile, prefix+"-password-file", "", "file holding the "+side+" password")
	fs.StringVar(&e.tls, prefix+"-tls", "", "implicit|starttls|none (default: the preset's)")
}

// endpoint builds the transfer endpoint, reading the password from the
// environment or a file: never from argv.
func (e *endpointFlags) endpoint(prefix string, getenv func(string) string) (transfer.Endpoint, error) {
	var ep transfer.Endpoint
	if e.user == "" {
		return ep, fmt.Errorf("--%s-user is required", prefix)
	}
	mode, err := transfer.ParseTLSMode(e.tls)
	if err != nil {
		return ep, fmt.Errorf("--%s-tls: %w", prefix, err)
	}
	var pw string
	switch {
	case e.passwordEnv != "" && e.passwordFile != "":
		return ep, fmt.Errorf("give only one of --%s-password-env and --%s-password-file", prefix, prefix)
	case e.passwordEnv != "":
		pw = getenv(e.passwordEnv)
		if pw == "" {
			return ep, fmt.Errorf("--%s-password-env: environment variable %s is empty or not set", prefix, e.passwordEnv)
		}
	case e.passwordFile != "":
		b, err := os.ReadFile(e.passwordFile)
		if err != nil {
			return ep, fmt.Errorf("--%s-password-file: %w", prefix, err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	default:
		return ep, fmt.Errorf("--%s-password-env or --%s-password-file is required", prefix, prefix)
	}
	return transfer.Endpoint{Host: e.host, User: e.user, AuthUser: e.authUser, Password: pw, TLS: mode}, nil
}

func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid size %q: use e.g. 30MB", s)
	}
	return int64(n * float64(mult)), nil
}

// loadCAs reads the certificates of --ca-file, to be trusted beside the
// system's roots (Endpoint.ExtraRootCAs): the system's are parsed only
// if a server's certificate is not signed by these.
func loadCAs(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("no PEM certificate in %s", path)
	}
	return pool, nil
}

func runCopy(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("trasloco copy", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var src, dst endpointFlags
	preset := fs.String("preset", "standard-ssl", "source server type: standard-ssl|standard-nossl|gmail|exchange|office365")
	src.register(fs, "src", "source")
	dst.register(fs, "dst", "destination")
	insecure := fs.Bool("insecure-skip-verify", false, "accept TLS certificates that cannot be verified (both sides)")
	caFile := fs.String("ca-file", "", "extra PEM CA certificates to trust (both sides)")
	maxSize := fs.String("max-size", "30MB", "skip messages larger than this")
	checkpoint := fs.String("checkpoint", "", "JSON file that remembers what was copied (resume, second pass)")
	dryRun := fs.Bool("dry-run", false, "plan and count, write nothing")
	asJSON := fs.Bool("json", false, "print a JSON summary of the counters on stdout")
	verify := fs.Bool("verify", false, "after the copy, verify every folder at the destination (exit 1 when something is missing or twice)")
	conns := fs.Int("dst-conns", 2, "destination connections: one for folders and lookups, the others append (pipelined when the server has LITERAL+)")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	usageErr := func(err error) int {
		fmt.Fprintf(env.Stderr, "trasloco copy: %v\n", err)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if _, _, err := applyCopyGC(env.Getenv); err != nil {
		return usageErr(err)
	}
	p, err := transfer.ParsePreset(*preset)
	if err != nil {
		return usageErr(fmt.Errorf("--preset: %w", err))
	}
	if src.host == "" && p.Defaults().Host == "" {
		return usageErr(errors.New("--src is required"))
	}
	if dst.host == "" {
		return usageErr(errors.New("--dst is required"))
	}
	job := transfer.Job{Preset: p, DryRun: *dryRun, DestConns: *conns, Verify: *verify}
	if job.Source, err = src.endpoint("src", env.Getenv); err != nil {
		return usageErr(err)
	}
	job.Source.MasterForm = transfer.MasterFormFor(p) // Exchange's DOMAIN\admin\user
	if job.Dest, err = dst.endpoint("dst", env.Getenv); err != nil {
		return usageErr(err)
	}
	if job.MaxMessageSize, err = parseSize(*maxSize); err != nil {
		return usageErr(fmt.Errorf("--max-size: %w", err))
	}
	cas, err := loadCAs(*caFile)
	if err != nil {
		return usageErr(fmt.Errorf("--ca-file: %w", err))
	}
	for _, e := range []*transfer.Endpoint{&job.Source, &job.Dest} {
		e.ExtraRootCAs = cas
		e.InsecureSkipVerify = *insecure
	}
	if *checkpoint != "" {
		cp, err := transfer.OpenFileCheckpoints(*checkpoint)
		if err != nil {
			return usageErr(fmt.Errorf("--checkpoint: %w", err))
		}
		job.Checkpoints = cp
	}
	rep := &cliReporter{w: env.Stderr, tty: isTerminal(env.Stderr)}
	job.Reporter = rep
	start := time.Now()
	res, err := transfer.Run(ctx, job)
	rep.endLine()
	elapsed := time.Since(start)

	if *asJSON {
		out := struct {
			transfer.Result
			Seconds float64 `json:"seconds"`
			Error   string  `json:"error,omitempty"`
		}{Result: res, Seconds: elapsed.Seconds()}
		if err != nil {
			out.Error = err.Error()
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		fmt.Fprintf(env.Stdout, "folders %d (excluded %d), messages found %d, copied %d, already there %d, too large %d, failed %d, flags updated %d, %.1f MB in %s\n",
			res.Folders, res.ExcludedFolders, res.Found, res.Copied, res.AlreadyThere, res.TooLarge, res.Failed, res.FlagsUpdated,
			float64(res.Bytes)/(1<<20), elapsed.Round(time.Millisecond))
		if *dryRun {
			fmt.Fprintf(env.Stdout, "dry run: %d messages would be copied\n", res.ToCopy)
		}
		if v := res.Verification; v != nil {
			fmt.Fprintln(env.Stdout, verdictLine(v))
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "trasloco copy: %v\n", err)
		if _, ok := transfer.IsConnError(err); ok {
			return ExitUsage
		}
		return ExitPartial
	}
	if !res.Complete() || res.Verification != nil && !res.Verification.OK() {
		return ExitPartial
	}
	return ExitOK
}

// verdictLine sums the verification of every folder in one line.
func verdictLine(v *transfer.Verification) string {
	var verified, expected, missing, twice, deleted int
	for _, c := range v.Folders {
		verified += c.Verified
		expected += c.Expected
		missing += len(c.Missing)
		twice += len(c.Duplicates) - c.Removed
		deleted += c.DeletedByCustomer
	}
	return fmt.Sprintf("verified: %d of %d present, %d missing, %d twice, %d deleted at the destination since an earlier run, %d folders not verified",
		verified, expected, missing, twice, deleted, len(v.Unverified))
}

// cliReporter writes the log to stderr and, on a terminal, a progress line.
type cliReporter struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	progress bool
}

func (r *cliReporter) Log(e transfer.LogEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearLocked()
	folder := ""
	if e.Folder != "" {
		folder = " [" + e.Folder + "]"
	}
	fmt.Fprintf(r.w, "%s %-5s%s %s\n", e.Time.Format("15:04:05"), e.Level.String(), folder, e.Message)
}

func (r *cliReporter) Progress(p transfer.Progress) {
	if !r.tty {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "\r\033[K%d/%d messages, %.1f MB — %s", p.Done, p.Total, float64(p.Bytes)/(1<<20), p.Folder)
	r.progress = true
}

func (r *cliReporter) clearLocked() {
	if r.progress {
		fmt.Fprint(r.w, "\r\033[K")
		r.progress = false
	}
}

func (r *cliReporter) endLine() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearLocked()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
