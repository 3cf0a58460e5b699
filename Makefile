# Trasloco: everyday targets. `make test` is what CI runs (.ci/run).

GO ?= go

.PHONY: all deps dev dev-reset generate check-generate build test bench bench-quick bench-panel fmt vet

all: build

## deps: install what the tests need (Dovecot, isync, PostgreSQL) from Debian packages, if missing
deps:
	./deploy/scripts/deps.sh

## dev: try it — PostgreSQL, our Dovecot, a demo old server and Mailpit on loopback, a demo tenant, then the panel with workers; all state in .data/, Ctrl-C stops everything
# Built and run rather than go run, which ends with status 1 after Ctrl-C.
dev: deps
	$(GO) build -o bin/trasloco-dev ./cmd/trasloco-dev
	./bin/trasloco-dev

## dev-reset: stop a running make dev (if any) and remove .data/, so the next make dev starts clean
dev-reset:
	$(GO) run ./cmd/trasloco-dev -reset

## generate: regenerate templ components (generated *_templ.go are committed)
generate:
	$(GO) tool templ generate

## build: build bin/trasloco
build:
	$(GO) build -o bin/trasloco ./cmd/trasloco

## check-generate: fail when the committed templ output is not what `make generate` writes
check-generate:
	$(GO) tool templ generate
	git diff --exit-code --stat -- web/views || { echo "generated templ code is stale: run make generate and commit" >&2; exit 1; }

## test: vet and run every test against real Dovecot and PostgreSQL; fails if anything fails
test: deps check-generate
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

## bench: side-by-side copy benchmark (trasloco copy, one migration through a real trasloco worker with PostgreSQL, mbsync, doveadm backup; the servers' one-sided limits; validation scaling); take its numbers on a quiet machine
bench: deps
	$(GO) run ./cmd/trasloco-bench $(BENCH_FLAGS)

## bench-quick: the same on small corpora, a few minutes, to check the harness (its numbers mean little)
bench-quick: deps
	$(GO) run ./cmd/trasloco-bench -quick $(BENCH_FLAGS)

## bench-panel: what the panel's pages cost for a tenant of 10 migrations and one of 10,000 (a 5,000-mailbox migration)
bench-panel: deps
	$(GO) run ./cmd/trasloco-bench-panel

## fmt: format the Go sources
fmt:
	$(GO) fmt ./...

## vet: static checks
vet:
	$(GO) vet ./...
