#!/usr/bin/env bash
# Installs, from Debian's packages, what the tests and benchmarks need:
# Dovecot (IMAP server, run by internal/testenv as our own processes, never
# as the system service), isync (mbsync, for the benchmark) and PostgreSQL's
# server binaries, and Chromium (the browser tests drive it through
# chromedp); and it builds Mailpit (the SMTP catcher of the email
# tests) from source through the Go module proxy. Idempotent and quick when
# everything is present: apt-get and go install run only when something is
# missing.
#
#   deploy/scripts/deps.sh              # Dovecot, isync, PostgreSQL, Chromium, Mailpit
#   WITH_CHROMIUM=0 deploy/scripts/deps.sh   # all but Chromium (the browser tests then fail in CI)
#   DRY_RUN=1 deploy/scripts/deps.sh         # print what would be installed
set -euo pipefail

missing=()

# need PACKAGE TEST...: PACKAGE is missing when the command TEST fails.
need() {
	local pkg=$1
	shift
	if ! "$@" >/dev/null 2>&1; then
		missing+=("$pkg")
	fi
}

has_cmd() { command -v "$1" || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
has_initdb() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
# pg_trgm (migration 100's index for Migrazioni's search) is in Debian's
# postgresql-NN package; elsewhere it is PostgreSQL's contrib.
has_pg_trgm() { compgen -G '/usr/share/postgresql/*/extension/pg_trgm.control' >/dev/null; }

need dovecot-imapd has_cmd dovecot
need dovecot-imapd test -e /usr/lib/dovecot/imap
need isync has_cmd mbsync
need postgresql has_initdb
need postgresql has_pg_trgm
if [ "${WITH_CHROMIUM:-1}" = 1 ]; then
	need chromium has_cmd chromium
fi

# Mailpit goes where internal/testenv's MailpitBinary looks for it
# (os.UserCacheDir()/trasloco-testenv/mailpit-<version>), so the first email
# test does not spend a minute building it. Keep the version in step with
# MailpitVersion in internal/testenv/mailpit.go.
mailpit_version=v1.33.1
mailpit_dir="${XDG_CACHE_HOME:-$HOME/.cache}/trasloco-testenv/mailpit-$mailpit_version"
if [ ! -x "$mailpit_dir/mailpit" ]; then
	echo "deps: building mailpit $mailpit_version into $mailpit_dir (a minute or two, once)"
	if [ "${DRY_RUN:-0}" != 1 ]; then
		mkdir -p "$mailpit_dir"
		build=$(mktemp -d "$mailpit_dir/build-XXXXXX")
		# Outside any module; installed into a temporary GOBIN and renamed, so
		# a build that dies half-way leaves no half-written binary.
		(cd "$build" && GOBIN="$build" GOWORK=off "${GO:-go}" install "github.com/axllent/mailpit@$mailpit_version")
		mv -f "$build/mailpit" "$mailpit_dir/mailpit"
		rm -rf "$build"
	fi
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: everything present"
	exit 0
fi

# Deduplicate, keeping order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: missing ${missing[*]}; run as root or install sudo" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
run=("${sudo[@]}")
if [ "${DRY_RUN:-0}" = 1 ]; then
	run=(echo "${sudo[@]}")
fi
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${run[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
