package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/trasloco/trasloco/internal/transfer"
)

func runCheck(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("trasloco check", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var src endpointFlags
	preset := fs.String("preset", "standard-ssl", "source server type: standard-ssl|standard-nossl|gmail|exchange|office365")
	src.register(fs, "src", "source")
	insecure := fs.Bool("insecure-skip-verify", false, "accept TLS certificates that cannot be verified")
	caFile := fs.String("ca-file", "", "extra PEM CA certificates to trust")
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	usageErr := func(err error) int {
		fmt.Fprintf(env.Stderr, "trasloco check: %v\n", err)
		return ExitUsage
	}
	p, err := transfer.ParsePreset(*preset)
	if err != nil {
		return usageErr(fmt.Errorf("--preset: %w", err))
	}
	if src.host == "" && p.Defaults().Host == "" {
		return usageErr(errors.New("--src is required"))
	}
	ep, err := src.endpoint("src", env.Getenv)
	if err != nil {
		return usageErr(err)
	}
	ep.MasterForm = transfer.MasterFormFor(p) // Exchange's DOMAIN\admin\user
	if ep.ExtraRootCAs, err = loadCAs(*caFile); err != nil {
		return usageErr(fmt.Errorf("--ca-file: %w", err))
	}
	ep.InsecureSkipVerify = *insecure
	res, err := transfer.Check(ctx, p, ep, transfer.Timeouts{}, true)
	if err != nil {
		if *asJSON {
			_ = json.NewEncoder(env.Stdout).Encode(map[string]string{"error": err.Error()})
		}
		fmt.Fprintf(env.Stderr, "trasloco check: %v\n", err)
		return ExitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return ExitOK
	}
	fmt.Fprintf(env.Stdout, "login ok: %s reached at %s\n", ep, res.RemoteAddr)
	for _, n := range res.Notes {
		fmt.Fprintf(env.Stdout, "note: %s\n", n)
	}
	for _, f := range res.Folders {
		if f.Excluded != "" {
			fmt.Fprintf(env.Stdout, "  skip  %-30s (%s)\n", f.Source, f.Excluded)
			continue
		}
		fmt.Fprintf(env.Stdout, "  copy  %-30s -> %-30s %6d messages\n", f.Source, f.Dest, res.Messages[f.Source])
	}
	return ExitOK
}
