package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/trasloco/trasloco/internal/transfer"
)

// The several-mailboxes scenario copies its mailboxes, by default, in one
// trasloco process, as production does: one `trasloco worker` process runs
// the copies of many mailboxes at once (internal/jobs), each a transfer.Run.
// The benchmark re-executes itself with -engine-child (a hidden flag): that
// child reads workerSpec on standard input, runs every copy concurrently
// with the transfer engine configured as `trasloco copy` configures it, and
// writes one workerResult per copy as JSON on standard output. Its peak RSS
// is the process's, for all the mailboxes together.

// workerSpec is what the child copies.
type workerSpec struct {
	Src       string      `json:"src"`                   // source host:port (its plain port)
	SrcCAFile string      `json:"src_ca_file,omitempty"` // set: STARTTLS to the source, verified with this PEM CA
	Dst       string      `json:"dst"`                   // destination host:port, plain IMAP
	Master    string      `json:"master"`
	DstConns  int         `json:"dst_conns"`
	InFlight  int64       `json:"in_flight"`
	Jobs      []workerJob `json:"jobs"`
}

type workerJob struct {
	SrcUser string `json:"src_user"`
	DstUser string `json:"dst_user"`
}

// workerResult is one copy's summary, as `trasloco copy --json` prints it.
type workerResult struct {
	DstUser      string `json:"dst_user"`
	Copied       int    `json:"copied"`
	AlreadyThere int    `json:"already_there"`
	TooLarge     int    `json:"too_large"`
	Failed       int    `json:"failed"`
	Error        string `json:"error,omitempty"`
}

// engineChild is the -engine-child mode. Passwords come in the environment:
// BENCH_DST_PASSWORD, and BENCH_SRC_PASSWORD_<n> for job n.
func engineChild() error {
	var spec workerSpec
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		return fmt.Errorf("read the job list: %w", err)
	}
	srcTLS, srcRoots := transfer.TLSNone, (*x509.CertPool)(nil)
	if spec.SrcCAFile != "" {
		pem, err := os.ReadFile(spec.SrcCAFile)
		if err != nil {
			return fmt.Errorf("read the source's CA: %w", err)
		}
		srcRoots = x509.NewCertPool()
		if !srcRoots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate in %s", spec.SrcCAFile)
		}
		srcTLS = transfer.TLSStartTLS
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	results := make([]workerResult, len(spec.Jobs))
	var wg sync.WaitGroup
	for i, j := range spec.Jobs {
		wg.Go(func() {
			job := transfer.Job{Preset: transfer.PresetStandardNoSSL, DestConns: spec.DstConns, InFlightBytes: spec.InFlight,
				Source: transfer.Endpoint{Host: spec.Src, User: j.SrcUser, Password: os.Getenv(fmt.Sprintf("BENCH_SRC_PASSWORD_%d", i)),
					TLS: srcTLS, RootCAs: srcRoots},
				Dest: transfer.Endpoint{Host: spec.Dst, User: j.DstUser, AuthUser: spec.Master,
					Password: os.Getenv("BENCH_DST_PASSWORD"), TLS: transfer.TLSNone},
				Reporter: slogReporter{log.With("mailbox", j.DstUser)}}
			res, err := transfer.Run(context.Background(), job)
			results[i] = workerResult{DstUser: j.DstUser, Copied: res.Copied, AlreadyThere: res.AlreadyThere, TooLarge: res.TooLarge, Failed: res.Failed}
			if err != nil {
				results[i].Error = err.Error()
			}
		})
	}
	wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(results)
}

// slogReporter logs warnings and errors of a copy on standard error.
type slogReporter struct{ log *slog.Logger }

func (r slogReporter) Log(e transfer.LogEntry) {
	if e.Level >= slog.LevelWarn {
		r.log.Log(context.Background(), e.Level, e.Message, "folder", e.Folder)
	}
}

func (slogReporter) Progress(transfer.Progress) {}

// batchCommand is the one process that copies every job with the engine.
func (traslocoTool) batchCommand(ctx context.Context, env *benchEnv, srcs []sourceMailbox, jobs []copyJob) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the benchmark's own binary: %w", err)
	}
	spec := workerSpec{Src: env.Src.PlainAddr(), Dst: env.Dst.PlainAddr(), Master: env.Dst.MasterUser(), DstConns: env.DstConns, InFlight: env.InFlight}
	if env.SrcStartTLS {
		spec.SrcCAFile = env.Src.CAFile()
	}
	cmd := exec.CommandContext(ctx, self, "-engine-child")
	cmd.Env = append(os.Environ(), "BENCH_DST_PASSWORD="+env.Dst.MasterPassword())
	for i, j := range jobs {
		spec.Jobs = append(spec.Jobs, workerJob{SrcUser: srcs[i].User, DstUser: j.DstUser})
		cmd.Env = append(cmd.Env, fmt.Sprintf("BENCH_SRC_PASSWORD_%d=%s", i, srcs[i].Pass))
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd.Stdin = strings.NewReader(string(b))
	return cmd, nil
}

// checkBatch reads the child's summaries: every copy must be complete.
func checkBatch(stdout []byte) error {
	var rs []workerResult
	if err := json.Unmarshal(stdout, &rs); err != nil {
		return fmt.Errorf("trasloco engine: read JSON summaries: %w", err)
	}
	var errs []error
	for _, r := range rs {
		if r.Error != "" || r.Failed > 0 {
			errs = append(errs, fmt.Errorf("trasloco engine, %s: %d failed: %s", r.DstUser, r.Failed, r.Error))
		}
	}
	return errors.Join(errs...)
}
