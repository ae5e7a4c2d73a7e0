#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 'meson install' of this build into a DESTDIR: the files land where Debian
# expects them under the build's prefix (binary, man pages, completion,
# profiles, policies, samples, units with the installed binary's path), the
# man pages render without warnings and hold every option --help lists, and
# the bash completion offers commands, options, --format values and the
# store's environments. The .deb gets the same checks (package.sh).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=install_lib.sh
. "$(dirname "$0")/install_lib.sh"

: "${BUILDDIR:?meson sets BUILDDIR}"
prefix=$(meson introspect --buildoptions "$BUILDDIR" |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
unitdir=$(meson introspect --buildoptions "$BUILDDIR" |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "systemdunitdir"))')
[ -n "$unitdir" ] || unitdir=$prefix/lib/systemd/system
DEST=$TMP/dest
run env DESTDIR="$DEST" meson install -C "$BUILDDIR" --no-rebuild --quiet
exits 0 "DESTDIR=... meson install"
is "$(find "$DEST" ! -type d ! -path "$DEST$prefix/*")" "" "  nothing is written outside DESTDIR$prefix"
check_tree "$DEST" "$prefix" "$unitdir"

# --- the completion, as bash calls it ---
DB=$TMP/comp.db
mkdir -p "$TMP/host/etc"
ed --db "$DB" init
for e in production staging; do
	ed --db "$DB" collect --env "$e" --root "$TMP/host" --packages none
done
exits 0 "a store with the environments production and staging"
# comp WORD...: what the completion offers for the last word, one a line.
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _envdrift; printf "%s\n" "${COMPREPLY[@]}"' \
		comp "$DEST$prefix/share/bash-completion/completions/envdrift" "$ENVDRIFT" "$@" | sort
}
is "$(comp "")" "$("$ENVDRIFT" complete | sort)" "completion: the commands"
contains "$(comp "")" "gate" "  gate among them"
is "$(comp g)" "gate" "  'g' completes to gate"
is "$(comp --v)" "--version" "  '--v' to --version"
is "$(comp diff --f)" "--format" "completion: a command's options (diff --f)"
is "$(comp diff --format "")" "$(printf '%s\n' html json junit markdown sarif text)" \
	"  --format values of diff"
is "$(comp snapshots --format "")" "$(printf '%s\n' json text)" "  --format values of snapshots"
is "$(comp report --format=m)" "markdown" "  --format=m of report"
is "$(comp collect --pack)" "--packages" "  collect --pack"
is "$(comp token "")" "$(printf '%s\n' add list revoke)" "  token's verbs"
is "$(comp token add x --role p)" "push" "  token add --role p"
is "$(comp --db "$DB" diff "")" "$(printf '%s\n' production staging)" \
	"completion: the store's environments (diff REFERENCE)"
is "$(comp --db "$DB" gate --staging st)" "staging" "  gate --staging st"
is "$(comp --db "$DB" snapshots --env p)" "production" "  snapshots --env p"
is "$(comp --db "$TMP/none.db" diff "")" "" "  no store: no environment, and no error on the terminal"
ok "  and no store was created by asking" test ! -e "$TMP/none.db"
is "$(comp help co)" "collect" "completion: help COMMAND"
touch "$TMP/host/pol.ini"
is "$(cd "$TMP/host" && comp diff a b --policy po)" "pol.ini" "completion: --policy FILE completes files"
is "$(comp diff --bogus "")" "" "completion: nothing after an unknown option"
done_testing
