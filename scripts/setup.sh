#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages envdrift needs to build, test, package (debhelper, lintian,
# man-db) and run its demo, then
# tests/browser/node_modules (npm ci: playwright-core, pinned by its package-lock.json) for
# the dashboard's browser test.
# Idempotent: when every package is already installed it touches nothing and returns at once.
# Output: one line per phase; apt's chatter goes to $ENVDRIFT_SETUP_LOG (default /tmp/envdrift-setup.log).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
log=${ENVDRIFT_SETUP_LOG:-${TMPDIR:-/tmp}/envdrift-setup.log}

packages=(
	build-essential meson ninja-build pkg-config python3
	libsqlite3-dev sqlite3 libxxhash-dev xxhash libjansson-dev
	libssh2-1-dev libssl-dev libmicrohttpd-dev libcurl4-openssl-dev libinih-dev libyaml-dev zlib1g-dev librpm-dev
	git ca-certificates strace systemd
	rpm postgresql chromium cmark-gfm patch nodejs
	openssh-server openssh-client
	debhelper dpkg-dev fakeroot lintian man-db groff-base bash-completion
)
# sqlite3-tools carries sqldiff on bookworm; it is optional and installed only where it exists.
optional=(sqlite3-tools)

say() { printf 'setup: %s\n' "$*"; }

# tests/browser/node_modules from its lock file, unless it is there already. A failure
# (no network) is said, not fatal: the browser test then skips, saying why.
browser_deps() {
	local dir
	dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
	[ -f "$dir/node_modules/playwright-core/package.json" ] && return 0
	if ! command -v npm >/dev/null 2>&1; then
		say "no npm: the browser test will skip"
		return 0
	fi
	say "npm ci in tests/browser (log: $log)"
	if ! (cd "$dir" && npm ci --no-audit --no-fund) >>"$log" 2>&1; then
		say "npm ci failed (last lines of $log follow); the browser test will skip" >&2
		tail -n 5 "$log" >&2
	fi
}

is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# True when apt knows a candidate version for the package (needs current package lists).
has_candidate() {
	local cand
	cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
	[ -n "$cand" ] && [ "$cand" != "(none)" ]
}

missing=()
for p in "${packages[@]}"; do
	is_installed "$p" || missing+=("$p")
done
# Debian's nodejs comes without npm; NodeSource's carries its own (and conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || is_installed npm || missing+=(npm)
optional_missing=()
for p in "${optional[@]}"; do
	is_installed "$p" || optional_missing+=("$p")
done

# Fast path: all required packages present, and each missing optional one unknown to apt.
if [ ${#missing[@]} -eq 0 ]; then
	want=0
	for p in "${optional_missing[@]}"; do
		has_candidate "$p" && want=1
	done
	if [ "$want" -eq 0 ]; then
		say "all packages already installed"
		browser_deps
		exit 0
	fi
fi

if ! command -v apt-get >/dev/null 2>&1; then
	say "missing packages: ${missing[*]} ${optional_missing[*]}; no apt-get here (envdrift targets Debian 12)" >&2
	exit 2
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo -E)
	else
		say "missing packages: ${missing[*]} ${optional_missing[*]}; run this script as root" >&2
		exit 2
	fi
fi

run_logged() {
	if ! "$@" >>"$log" 2>&1; then
		say "failed: $* (last lines of $log follow)" >&2
		tail -n 20 "$log" >&2
		exit 2
	fi
}

: >"$log"
# The tests start their own PostgreSQL server in a temporary folder: installing
# the package must not create (and start) a system cluster on port 5432.
if ! is_installed postgresql; then
	run_logged "${sudo[@]}" mkdir -p /etc/postgresql-common
	if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
		echo 'create_main_cluster = false' | run_logged "${sudo[@]}" tee -a /etc/postgresql-common/createcluster.conf
	fi
fi
say "apt-get update (log: $log)"
run_logged "${sudo[@]}" apt-get update

for p in "${optional_missing[@]}"; do
	if has_candidate "$p"; then
		missing+=("$p")
	else
		say "optional package $p is not available here; skipping it"
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${#missing[@]} packages: ${missing[*]}"
	# confold: keep the createcluster.conf written above when postgresql-common brings its own.
	run_logged "${sudo[@]}" apt-get install -y --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
fi
browser_deps
say "done"
