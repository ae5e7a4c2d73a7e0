#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails when an #include crosses a layer the wrong way. The layers, from the
# ground up (docs/ARCHITECTURE.md draws them):
#   common     includes only common
#   store      common, and it alone includes <sqlite3.h>
#   collector  common
#   differ     common, store
#   web        common, store, differ
#   cmd        anything (envdrift.c too)
# A header of include/ed/ belongs to the layer named for it below; a header
# not named is an error, so a new one must be placed. A folder's private
# header ("feed.h") may be included only from its own folder.
# Speaks TAP (one line per folder); usage: tools/check-layers.sh [SRCDIR]
set -uo pipefail
src=${1:-${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}}
cd "$src" || exit 2

declare -A layer_of=(
	# common: the ground every layer stands on
	[err.h]=common [buf.h]=common [hash.h]=common [item.h]=common [ini.h]=common
	[glob.h]=common [strlist.h]=common [base64.h]=common [isotime.h]=common
	[atomic.h]=common [clock.h]=common [snapdoc.h]=common [keyfile.h]=common
	[suggest.h]=common [datashape.h]=common [rowsample.h]=common
	# store
	[store.h]=store [cursor.h]=store [snapdoc_store.h]=store [token.h]=store [browse.h]=store
	# collector
	[collect.h]=collector [config.h]=collector [pkg.h]=collector [pgschema.h]=collector
	[profile.h]=collector [source.h]=collector [ssh.h]=collector [system.h]=collector [account.h]=collector [vendor.h]=collector
	[inventory.h]=collector
	# differ
	[diff.h]=differ [policy.h]=differ [version.h]=differ [gate.h]=differ [report.h]=differ
	# web
	[web.h]=web
)
declare -A allowed=(
	[common]="common"
	[store]="common store"
	[collector]="common collector"
	[differ]="common store differ"
	[web]="common store differ web"
)

# Besides the store, only these read SQLite databases, and never the store:
# the collector of SQLite schemas opens the database being fingerprinted, and
# the SQL normaliser asks SQLite which words are keywords.
sqlite_readers=" collector/schema_sqlite.c collector/data_sqlite.c collector/sql_normalize.c "

n=0
failed=0
# check LABEL LAYER FILE...: one TAP line for the files of one layer.
check() {
	local label=$1 layer=$2 bad=() f inc h l line
	shift 2
	while IFS= read -r line; do
		f=${line%%:*}
		[[ $line =~ include[[:space:]]*([\<\"][^\>\"]*[\>\"]) ]] || continue
		inc=${BASH_REMATCH[1]}
		case $inc in
		'<sqlite3.h>')
			[ "$layer" = store ] || [[ $sqlite_readers == *" $f "* ]] ||
				bad+=("$f: includes <sqlite3.h>: only store/ talks to SQLite")
			;;
		'"ed/'*)
			h=${inc#\"ed/}
			h=${h%\"}
			l=${layer_of[$h]:-}
			if [ -z "$l" ]; then
				bad+=("$f: includes ed/$h, which has no layer in tools/check-layers.sh")
			elif [[ " ${allowed[$layer]} " != *" $l "* ]]; then
				bad+=("$f: the $layer layer includes ed/$h ($l)")
			fi
			;;
		'"'*/*)
			bad+=("$f: includes $inc, another folder's private header")
			;;
		esac
	done < <(grep -HE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$@")
	n=$((n + 1))
	if [ ${#bad[@]} -eq 0 ]; then
		echo "ok $n - $label includes only what the $layer layer may"
	else
		echo "not ok $n - $label crosses layers"
		printf '#   %s\n' "${bad[@]}"
		failed=$((failed + 1))
	fi
}

for layer in common store collector differ web; do
	[ -d "$layer" ] || continue
	mapfile -t files < <(find "$layer" -maxdepth 1 \( -name '*.c' -o -name '*.h' \) | sort)
	[ ${#files[@]} -gt 0 ] && check "$layer/" "$layer" "${files[@]}"
	headers=()
	for h in include/ed/*.h; do
		[ "${layer_of[${h##*/}]:-}" = "$layer" ] && headers+=("$h")
	done
	[ ${#headers[@]} -gt 0 ] && check "include/ed/ ($layer headers)" "$layer" "${headers[@]}"
done
for h in include/ed/*.h; do
	if [ -z "${layer_of[${h##*/}]:-}" ]; then
		n=$((n + 1))
		echo "not ok $n - $h has no layer in tools/check-layers.sh"
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
