#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of collection (issue 3), run on demand: bash bench/collect.sh
#
# Builds (or reuses) a corpus: a copy of this machine's /usr/share and /usr/lib
# (about 120,000 files, 5 GB) under $BENCH_DIR (default /var/tmp/envdrift-bench),
# then, with a warm page cache (the tree is read just before each measured run),
# prints side by side:
#   full collection    vs  find | xargs -P$(nproc) xxh128sum      (goal <= 1.1)
#   full collection    vs  aide --init, p+u+g+s+m+sha256           (goal >= 25x faster)
#   incremental        vs  find -printf '%s %T@ %i\n'              (goal <= 1.5)
#   incremental        vs  aide --check                            (goal >= 30x faster)
#   peak memory (maximum resident set)                             (goal < 64 MiB)
#   ingest rate: items per second of the store during the full collection, as
#   collect's closing line reports the seconds spent in it (goal >= 300,000);
#   and, for comparison, 'envdrift ingest' of the same snapshot as a document
#
# Each collection runs twice: with the default profile (every *.json, *.yaml,
# ... of the corpus read key by key: over a million config items from data
# files such as botocore's API models) and with fingerprints only (what the
# issue's goals describe: stat, hash, record metadata, write the store). An
# unchanged re-collection writes a delta snapshot (store version 8).
# Installs aide with apt-get when it is missing (skipped if that fails).
set -euo pipefail
. "$(dirname "$0")/corpus.sh"
files=$(find "$corpus" -type f | wc -l)
bytes=$(du -sb --apparent-size "$corpus" | cut -f1)

warm() { find "$corpus" -type f -print0 | xargs -0 -P"$cores" -n 2000 cat >/dev/null 2>&1 || true; }
# measure CMD...: warm the cache, run once, print "SECONDS MAXRSS_KB CPU_SECONDS" (user +
# system, every thread and child); stderr in $dir/err.out.
measure() {
	warm
	/usr/bin/time -f '%e %M %U %S' -o "$dir/time.out" "$@" >/dev/null 2>"$dir/err.out" || true
	read -r e m u s <"$dir/time.out"
	echo "$e $m $(python3 -c "print(f'{$u + $s:.2f}')")"
}
# The store's seconds from collect's closing line ("... rows written in 1.23 s").
store_s() { sed -n 's/.* rows written in \([0-9.]*\) s$/\1/p' "$dir/err.out" | tail -1; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

db=$dir/bench.db
rm -f "$db" "$db".*
"$ed" --db "$db" init 2>/dev/null
read -r t_full m_full _ < <(measure "$ed" --db "$db" collect --env b --host h --path "$corpus" --packages none --full)
items=$(sqlite3 "$db" "SELECT item_count FROM snapshots ORDER BY id DESC LIMIT 1")
s_full=$(store_s)
# The same tree fingerprinted only: no structured config read key by key.
printf '[formats]\n* = none\n' >"$dir/fponly.ini"
read -r t_fp m_fp c_fp < <(measure "$ed" --db "$db" collect --env b --host fp --profile "$dir/fponly.ini" --path "$corpus" --packages none --full)
items_fp=$(sqlite3 "$db" "SELECT item_count FROM snapshots ORDER BY id DESC LIMIT 1")
s_fp=$(store_s)
fp_id=$(sqlite3 "$db" "SELECT max(id) FROM snapshots")
read -r t_inc m_inc _ < <(measure "$ed" --db "$db" collect --env b --host h --path "$corpus" --packages none)
read -r t_inc_fp m_inc_fp _ < <(measure "$ed" --db "$db" collect --env b --host fp --profile "$dir/fponly.ini" --path "$corpus" --packages none)
rows_inc=$(sed -n 's/.*, \([0-9]*\) rows written in .*/\1/p' "$dir/err.out" | tail -1)
# envdrift ingest of the fingerprints-only snapshot as a document (bench/ingest.sh: 146k and 1M items, peak memory).
"$ed" --db "$db" export "@$fp_id" --out "$dir/fp.json" 2>/dev/null
rm -f "$dir/ingest.db" "$dir/ingest.db".*
"$ed" --db "$dir/ingest.db" init 2>/dev/null
cp "$db.key" "$dir/ingest.db.key"
read -r t_ingest _ _ < <(measure "$ed" --db "$dir/ingest.db" ingest "$dir/fp.json")
read -r t_xx _ c_xx < <(measure bash -c "find '$corpus' -type f -print0 | xargs -0 -P$cores -n 4000 xxh128sum")
read -r t_find _ _ < <(measure find "$corpus" -type f -printf '%s %T@ %i\n')

if ! command -v aide >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q aide >/dev/null 2>&1 || true
fi
t_aide_init=- t_aide_check=- m_aide=-
if command -v aide >/dev/null; then
	cat >"$dir/aide.conf" <<CONF
database_in=file:$dir/aide.db
database_out=file:$dir/aide.db.new
num_workers=$cores
Bench = p+u+g+s+m+sha256
$corpus Bench
CONF
	read -r t_aide_init m_aide _ < <(measure aide --config "$dir/aide.conf" --init)
	mv -f "$dir/aide.db.new" "$dir/aide.db" 2>/dev/null || true
	read -r t_aide_check _ _ < <(measure aide --config "$dir/aide.conf" --check)
fi

echo "corpus: $files files, $(python3 -c "print(f'{$bytes / 2**30:.1f}')") GiB; $cores cores; warm page cache"
echo "default profile: $items items; fingerprints only: $items_fp items"
printf '  %-46s %8s s  %6s MiB\n' "envdrift collect --full" "$t_full" "$((m_full / 1024))"
printf '  %-46s %8s s  %6s MiB\n' "envdrift collect --full, fingerprints only" "$t_fp" "$((m_fp / 1024))"
printf '  %-46s %8s s  ratio %s, fingerprints only %s (goal <= 1.1)\n' "find | xargs -P$cores xxh128sum" "$t_xx" "$(ratio "$t_full" "$t_xx")" "$(ratio "$t_fp" "$t_xx")"
if [ "$t_aide_init" != - ]; then
	printf '  %-46s %8s s  %6s MiB  envdrift %sx faster, fingerprints only %sx (goal >= 25)\n' "aide --init (sha256, $cores workers)" "$t_aide_init" "$((m_aide / 1024))" "$(ratio "$t_aide_init" "$t_full")" "$(ratio "$t_aide_init" "$t_fp")"
fi
printf '  %-46s %8s s  %6s MiB\n' "envdrift collect (incremental, unchanged)" "$t_inc" "$((m_inc / 1024))"
printf '  %-46s %8s s  %6s MiB  (%s rows written)\n' "envdrift collect (incremental), fingerprints only" "$t_inc_fp" "$((m_inc_fp / 1024))" "${rows_inc:-?}"
printf '  %-46s %8s s  ratio %s, fingerprints only %s (goal <= 1.5)\n' "find -printf '%s %T@ %i'" "$t_find" "$(ratio "$t_inc" "$t_find")" "$(ratio "$t_inc_fp" "$t_find")"
if [ "$t_aide_check" != - ]; then
	printf '  %-46s %8s s  envdrift %sx faster, fingerprints only %sx (goal >= 30)\n' "aide --check" "$t_aide_check" "$(ratio "$t_aide_check" "$t_inc")" "$(ratio "$t_aide_check" "$t_inc_fp")"
fi
# The machine's floor: CPU seconds spread over every core, the best any schedule can do.
python3 -c "print(f'  CPU seconds: fingerprints only $c_fp, xxh128sum pipeline $c_xx; on $cores cores the collection needs at least {$c_fp / $cores:.2f} s, {$c_fp / $cores / $t_xx:.2f}x the pipeline\'s time')"
python3 -c "print(f'  peak memory {max($m_full, $m_inc, $m_fp, $m_inc_fp) / 1024:.0f} MiB (goal < 64)')"
python3 -c "print(f'  ingest: the store took {$items / $s_full:,.0f} items/s in the full collection ({$items:,} items in $s_full s), {$items_fp / $s_fp:,.0f} fingerprints only (goal >= 300,000)')"
python3 -c "print(f'  envdrift ingest of a {$items_fp:,}-item document: $t_ingest s, {$items_fp / $t_ingest:,.0f} items/s')"
