#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian package, built as a packager builds it: a copy of the tree (every
# file git tracks or would track) under $TMP, 'dpkg-buildpackage -us -uc -b',
# lintian with no error, then the .deb unpacked with 'dpkg-deb -x' and checked
# as install.sh checks a DESTDIR install (--version, every man page through
# 'man --warnings', bash -n on the completion, systemd-analyze verify on the
# units), and its maintainer scripts: the user _envdrift, /var/lib/envdrift
# 0700, no unit enabled or started.
# Slow (a whole build, about 2 minutes): meson suite 'package', outside the
# default run; .ci/run runs it once.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=install_lib.sh
. "$(dirname "$0")/install_lib.sh"

for tool in dpkg-buildpackage dh lintian dpkg-deb man; do
	if ! command -v "$tool" >/dev/null; then
		fail "$tool is installed (scripts/setup.sh installs it)"
		done_testing
	fi
done

SRC=$TMP/src/envdrift
mkdir -p "$SRC"
(cd "$SRCDIR" && git ls-files -z -co --exclude-standard) |
	(cd "$SRCDIR" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$SRC"
ok "a copy of the tree to build from" test -f "$SRC/debian/control"
version=$(cd "$SRC" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)

# nocheck: the unit and fuzz suites that debian/rules runs have run in this
# build's own suite already, and run again here, beside the rest of a loaded
# CI, test_ssh's own 5 s deadlines failed (seen at a load average of 50).
ED_TIMEOUT=1200 run env -C "$SRC" DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b
exits 0 "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck)"
[ "$RC" = 0 ] || diag "$(tail -n 30 "$TMP/.out")" "$(tail -n 10 "$TMP/.err")"
DEB=$TMP/src/envdrift_${version}_$arch.deb
ok "  it built $(basename "$DEB")" test -s "$DEB"

# TMPDIR: lintian leaves folders of its own (mldbm-elf-*) in it.
ED_TIMEOUT=900 run env TMPDIR="$TMP" lintian --fail-on error "$TMP/src/envdrift_${version}_$arch.changes"
exits 0 "lintian: no error"
diag "lintian says:" "${OUT:-(nothing)}"
unlike "$OUT" '^E: ' "  no E: line"

ROOT=$TMP/root
run dpkg-deb -x "$DEB" "$ROOT"
exits 0 "dpkg-deb -x unpacks it"
check_tree "$ROOT" /usr /lib/systemd/system
is "$(head -1 <<<"$("$ROOT/usr/bin/envdrift" --version)")" "envdrift ${version%%-*}" \
	"the packaged binary's version is the changelog's"

# --- the maintainer scripts ---
mkdir -p "$TMP/control"
run dpkg-deb -e "$DEB" "$TMP/control"
exits 0 "dpkg-deb -e: the control files"
post=$(cat "$TMP/control/postinst" 2>/dev/null)
like "$(tr -d '\\\n' <<<"$post")" 'adduser --system --group [^;]*_envdrift' "postinst creates the system user _envdrift"
contains "$post" "chmod 0700 /var/lib/envdrift" "  and /var/lib/envdrift, 0700"
contains "$post" "chown _envdrift:_envdrift /var/lib/envdrift" "  owned by _envdrift"
# dh_installsystemd --no-enable keeps only 'enable what the admin had enabled'
# (upgrades): every enable is within the three lines after a was-enabled test.
is "$(awk '/was-enabled/ { w = NR } /deb-systemd-helper enable/ && !(w && NR - w <= 3) { print NR": "$0 }' \
	<<<"$post")" "" "  and enables no unit the admin did not enable"
unlike "$post" 'deb-systemd-invoke (start|restart)' "  and starts none"
ok "postinst passes sh -n" sh -n "$TMP/control/postinst"
postrm=$(cat "$TMP/control/postrm" 2>/dev/null)
unlike "$postrm" 'rm -r' "postrm never deletes the store, even on purge"
contains "$postrm" "rmdir --ignore-fail-on-non-empty /var/lib/envdrift" "  it removes /var/lib/envdrift on purge only when empty"
ok "postrm passes sh -n" sh -n "$TMP/control/postrm"
like "$(cat "$TMP/control/conffiles" 2>/dev/null)" '/etc/envdrift/policy.ini' \
	"the /etc samples are conffiles (an admin's edits survive upgrades)"
done_testing
