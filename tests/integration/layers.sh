#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The layering the architecture promises (docs/ARCHITECTURE.md): the tree
# passes tools/check-layers.sh, and the checker fails, naming the file, on
# each kind of wrong #include planted in a copy of the tree.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

run bash "$SRCDIR/tools/check-layers.sh" "$SRCDIR"
exits 0 "the tree keeps its layers"
unlike "$OUT" "not ok" "  every folder and header group passes"

# A copy of the layered folders, in which one wrong include is planted at a time.
copy=$TMP/tree
mkdir -p "$copy"
cp -r "$SRCDIR/common" "$SRCDIR/store" "$SRCDIR/collector" "$SRCDIR/differ" "$SRCDIR/include" "$copy"/
[ -d "$SRCDIR/web" ] && cp -r "$SRCDIR/web" "$copy"/
plant() { # file line -> the checker's output, the file restored afterwards
	local f=$copy/$1
	cp "$f" "$f.orig"
	printf '%s\n' "$2" >>"$f"
	run bash "$SRCDIR/tools/check-layers.sh" "$copy"
	mv "$f.orig" "$f"
}
first() { find "$copy/$1" -maxdepth 1 -name '*.c' | sort | head -1 | sed "s|^$copy/||"; }

for case in \
	"differ|#include \"ed/profile.h\"|the differ layer includes ed/profile.h (collector)" \
	"collector|#include \"ed/store.h\"|the collector layer includes ed/store.h (store)" \
	"collector|#include \"ed/diff.h\"|the collector layer includes ed/diff.h (differ)" \
	"store|#include \"ed/collect.h\"|the store layer includes ed/collect.h (collector)" \
	"store|#include \"ed/policy.h\"|the store layer includes ed/policy.h (differ)" \
	"common|#include \"ed/source.h\"|the common layer includes ed/source.h (collector)" \
	"differ|#include <sqlite3.h>|includes <sqlite3.h>: only store/ talks to SQLite" \
	"common|#include \"ed/nosuch.h\"|includes ed/nosuch.h, which has no layer" \
	"differ|#include \"../store/delta.h\"|includes \"../store/delta.h\", another folder's private header"; do
	IFS='|' read -r dir line want <<<"$case"
	f=$(first "$dir")
	plant "$f" "$line"
	exits 1 "$line in $f is caught"
	contains "$OUT" "$f: $want" "  the message names the file and the layer"
done

# A public header with no layer is caught too.
touch "$copy/include/ed/unplaced.h"
run bash "$SRCDIR/tools/check-layers.sh" "$copy"
exits 1 "a header of include/ed/ that belongs to no layer is caught"
contains "$OUT" "include/ed/unplaced.h has no layer" "  and named"

done_testing
