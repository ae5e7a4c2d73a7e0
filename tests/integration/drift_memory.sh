#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The drift's memory is bounded (issue 14): a diff of 200,000 drifted entries
# writes them out to a spill file past 16,384, so its peak resident memory
# stays under a bound that holding every entry (about 600 bytes each, 150 MiB
# here) far exceeds, in the formats that read the entries several times too.
# Under AddressSanitizer resident memory measures the sanitizer: the bound is
# skipped there, the outputs (of fewer entries) are still checked.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

sanitized=""
ldd "$ENVDRIFT" 2>/dev/null | grep -q libasan && sanitized=1
DB=$TMP/store.db
init_store "$DB"
# Under the sanitizers, where the bound is not checked, enough to spill (and seconds, not minutes).
N=200000
[ -n "$sanitized" ] && N=30000
BOUND_MIB=48
# Two documents of N file items; every item's fingerprint differs between them.
python3 - "$N" "$TMP" <<'PY'
import sys
n, tmp = int(sys.argv[1]), sys.argv[2]
for side, (env, host) in enumerate((("production", "p1"), ("staging", "s1"))):
    with open("%s/doc%d.json" % (tmp, side), "w") as f:
        f.write('{"format":"envdrift.snapshot/1","id":"00000000-0000-4000-8000-00000000000%d",'
                '"env":"%s","host":"%s","started_at":"2026-01-01T00:00:00Z","collector":'
                '{"version":"test","host":"t","root":"/"},"items":[\n' % (side, env, host))
        f.write(",\n".join(
            '{"kind":"file","key":"/srv/d%03d/f%06d","fingerprint":"%032x","value":'
            '"file 0644 root:root 10","ftype":"file","mode":420,"owner":"root","group":"root",'
            '"size":10,"mtime_ns":0,"ctime_ns":0,"ino":%d,"dev":1}'
            % (i // 1000, i, i + side * n, i + 1) for i in range(n)))
        f.write('\n],"warnings":[],"contents":[],"finished_at":"2026-01-01T00:00:01Z"}\n')
PY
ed --db "$DB" ingest "$TMP/doc0.json" "$TMP/doc1.json"
exits 0 "two documents of $N items ingested"
rm -f "$TMP/doc0.json" "$TMP/doc1.json"

# Runs envdrift with "$@", its output to $TMP/out, its standard error to
# $TMP/err; prints its exit status and its peak resident memory in KiB.
peak() {
	python3 - "$ENVDRIFT" "$@" <<'PY'
import resource, subprocess, sys, os
tmp = os.environ["TMP"]
with open(tmp + "/out", "wb") as out, open(tmp + "/err", "wb") as err:
    rc = subprocess.run(sys.argv[1:], stdout=out, stderr=err).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

for f in text html; do
	read -r rc kib < <(TMP=$TMP peak --db "$DB" diff @1 @2 --format "$f")
	san_check "$(cat "$TMP/err")" "diff --format $f"
	is "$rc" 1 "diff --format $f of $N drifted entries: drift, exit 1"
	if [ -n "$sanitized" ]; then
		skip "diff --format $f: peak memory under $BOUND_MIB MiB" \
			"AddressSanitizer: resident memory is the sanitizer's (shadow, quarantine)"
	else
		ok "diff --format $f: peak memory $((kib / 1024)) MiB, under $BOUND_MIB MiB" \
			[ "$kib" -lt $((BOUND_MIB * 1024)) ]
	fi
	case $f in
	text)
		like "$(head -n 3 "$TMP/out")" "^$N differences: 0 added, 0 removed, $N changed" \
			"  the text report counts every entry"
		is "$(grep -c '^  changed ' "$TMP/out")" "$N" "  and lists every one"
		is "$(grep '^  changed ' "$TMP/out" | awk '{print $3}' | LC_ALL=C sort -c && echo sorted)" \
			"sorted" "  in key order"
		;;
	html)
		is "$(grep -c '<tr class="item ' "$TMP/out")" "$N" "  the HTML report has a row for every entry"
		;;
	esac
done
done_testing
