#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures (or reconfigures) and compiles envdrift.
# usage: scripts/build.sh [BUILDDIR] [extra meson setup args...]
#   BUILDDIR defaults to build/ in the repository; a relative BUILDDIR is taken from the
#   repository root. Extra args (e.g. -Db_sanitize=address,undefined) are passed to meson setup;
#   given for an existing build directory, they reconfigure it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

builddir=${1:-build}
[ $# -gt 0 ] && shift

say() { printf 'build: %s\n' "$*"; }

setup_out=$(mktemp)
trap 'rm -f "$setup_out"' EXIT

if [ -f "$builddir/meson-private/coredata.dat" ]; then
	if [ $# -gt 0 ]; then
		say "reconfiguring $builddir ($*)"
		if ! meson setup --reconfigure "$builddir" "$@" >"$setup_out" 2>&1; then
			cat "$setup_out" >&2
			say "meson setup --reconfigure failed" >&2
			exit 2
		fi
	fi
else
	say "configuring $builddir${*:+ ($*)}"
	if ! meson setup "$builddir" "$@" >"$setup_out" 2>&1; then
		cat "$setup_out" >&2
		say "meson setup failed" >&2
		exit 2
	fi
fi

say "compiling $builddir"
if ! meson compile -C "$builddir" >"$setup_out" 2>&1; then
	cat "$setup_out" >&2
	say "compilation failed" >&2
	exit 2
fi
say "built $builddir/envdrift"
