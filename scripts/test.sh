#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command: installs packages, builds, runs the whole meson test suite and prints the
# closing line "N passed, N failed" counted from meson-logs/testlog.json.
# usage: scripts/test.sh [--sanitize]
#   --sanitize  build into build-san/ with AddressSanitizer + UndefinedBehaviorSanitizer
# Exits non-zero when the build fails or any test fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

builddir=build
meson_args=()
case "${1:-}" in
	"") ;;
	--sanitize)
		builddir=build-san
		meson_args=("-Db_sanitize=address,undefined" -Db_lundef=false)
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		;;
	-h|--help)
		sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "test.sh: unknown option '$1' (try --sanitize)" >&2
		exit 2
		;;
esac

bash scripts/setup.sh

# A stale log from an earlier run must never be counted as this run's result.
testlog=$builddir/meson-logs/testlog.json
rm -f "$testlog"

status=0
if bash scripts/build.sh "$builddir" "${meson_args[@]}"; then
	echo "test: running meson test -C $builddir"
	meson test -C "$builddir" --print-errorlogs || status=1
else
	status=1
fi

python3 scripts/count-tests.py "$testlog" || status=1
exit "$status"
