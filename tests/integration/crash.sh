#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Crash consistency (RELIABILITY DB-1): kill -9 a collection at random moments.
# After each kill the store passes PRAGMA integrity_check, no snapshot that did
# not finish is visible as complete, every acknowledged snapshot (its id was
# printed) is there with its items, and the next collection succeeds.
#
# CRASH_KILLS (default 50, as RELIABILITY DB-1 asks) and CRASH_SEED (default: random) tune a run.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KILLS=${CRASH_KILLS:-50}
SEED=${CRASH_SEED:-$RANDOM}
DIRS=${CRASH_DIRS:-300}
DB=$TMP/store.db
TREE=$TMP/tree
diag "seed $SEED (rerun with CRASH_SEED=$SEED), $KILLS kills, $DIRS x 100 files"

T0=$(ms)
python3 - "$TREE" "$DIRS" <<'EOF'
import os, sys
root, dirs = sys.argv[1], int(sys.argv[2])
for d in range(dirs):
    p = os.path.join(root, "data", "d%03d" % d)
    os.makedirs(p)
    for f in range(100):
        with open(os.path.join(p, "f%03d.conf" % f), "w") as fh:
            fh.write("dir %d file %d\n" % (d, f) * (1 + f % 7))
EOF
# One item per entry, and the facts a root without /proc cannot observe, recorded as
# unknown: arch, kernel/release and the six sysctl keys of the default profile.
EXPECT_ITEMS=$(($(find "$TREE/data" | wc -l) + 8))
diag "tree of $EXPECT_ITEMS entries made in $(($(ms) - T0)) ms"
init_store "$DB"

collect_cmd=("$ENVDRIFT" --db "$DB" collect --env crash --host h1 --root "$TREE" --path /data --packages none)

# One collection to completion first: how long one takes, and a reference.
T0=$(ms)
run "${collect_cmd[@]}"
T_ONE=$(($(ms) - T0))
exits 0 "a first collection completes"
FIRST=$OUT
is "$(q "$DB" "select items from snapshots_v where id=${FIRST:-0}")" "$EXPECT_ITEMS" "  with one item per entry of the tree"
diag "one collection takes $T_ONE ms"

# Delays: 5-300 ms, from the seed.
mapfile -t DELAYS < <(python3 -c 'import random, sys; r = random.Random(int(sys.argv[1])); [print("%.3f" % (r.randint(5, 300) / 1000)) for _ in range(int(sys.argv[2]))]' "$SEED" "$KILLS")

ACKED="$FIRST"        # ids printed on stdout, space-separated
bad_integrity=""
bad_complete=""
bad_acked=""
bad_views=""
bad_items=""
killed_before=0        # kills that landed before the id was printed
unacked_complete=0     # finished (committed) but killed before printing: allowed
for i in $(seq 1 "$KILLS"); do
	"${collect_cmd[@]}" >"$TMP/out.$i" 2>"$TMP/err.$i" &
	pid=$!
	sleep "${DELAYS[$((i - 1))]}"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	san_check "$(cat "$TMP/err.$i")" "collect #$i"
	# Acknowledged: a whole line with the id reached stdout.
	if grep -qE '^[0-9]+$' "$TMP/out.$i" && [ "$(tail -c 1 "$TMP/out.$i" | od -An -c | tr -d ' ')" = '\n' ]; then
		ACKED="$ACKED $(cat "$TMP/out.$i")"
	else
		killed_before=$((killed_before + 1))
		if [ "$rc" = 0 ]; then bad_acked="$bad_acked [#$i exited 0 without printing an id]"; fi
	fi

	ic=$(sqlite3 -cmd '.timeout 5000' "$DB" 'PRAGMA integrity_check' 2>&1)
	[ "$ic" = ok ] || bad_integrity="$bad_integrity [after kill #$i at ${DELAYS[$((i - 1))]} s: $ic]"

	complete=$(q "$DB" "select id from snapshots where status='complete' order by id" | tr '\n' ' ')
	for id in $complete; do
		case " $ACKED " in
		*" $id "*) ;;
		*)
			# Complete but never acknowledged: only acceptable if it really finished
			# (killed between COMMIT and printing its id).
			n=$(q "$DB" "select count(*) from items_v where snapshot_id=$id")
			fin=$(q "$DB" "select item_count || ' ' || (finished_at is not null) from snapshots where id=$id")
			if [ "$n" = "$EXPECT_ITEMS" ] && [ "$fin" = "$EXPECT_ITEMS 1" ]; then
				case " ${UNACKED_OK:-} " in *" $id "*) ;; *) UNACKED_OK="${UNACKED_OK:-} $id"; unacked_complete=$((unacked_complete + 1)) ;; esac
			else
				bad_complete="$bad_complete [@$id complete, not acknowledged, $n items, row: $fin]"
			fi
			;;
		esac
	done
	for id in $ACKED; do
		row=$(q "$DB" "select status || ' ' || items from snapshots_v where id=$id")
		n=$(q "$DB" "select count(*) from items_v where snapshot_id=$id")
		[ "$row" = "complete $EXPECT_ITEMS" ] && [ "$n" = "$EXPECT_ITEMS" ] ||
			bad_acked="$bad_acked [after kill #$i: acknowledged @$id is '$row' with $n item rows]"
	done
	v=$(q "$DB" "select count(*) from latest_v l join snapshots s on s.id = l.snapshot_id where s.status != 'complete' or s.finished_at is null")
	v2=$(q "$DB" "select count(*) from snapshots_v where status = 'complete' and (finished_at is null or items = 0)")
	latest=$(q "$DB" "select snapshot_id from latest_v where env='crash'")
	maxc=$(q "$DB" "select max(id) from snapshots where status='complete' and env='crash'")
	[ "$v" = 0 ] && [ "$v2" = 0 ] && [ "$latest" = "$maxc" ] ||
		bad_views="$bad_views [after kill #$i: latest_v->unfinished $v, complete-without-items $v2, latest $latest vs $maxc]"
	orphans=$(q "$DB" "select count(*) from items where snapshot_id in (select id from snapshots where status != 'complete')")
	[ "$orphans" = 0 ] || bad_items="$bad_items [after kill #$i: $orphans items of unfinished snapshots]"
done
diag "$killed_before of $KILLS kills landed before the id was printed; $unacked_complete finished but unacknowledged"

is "$bad_integrity" "" "PRAGMA integrity_check prints ok after each of $KILLS kills"
is "$bad_complete" "" "no snapshot is complete that did not finish"
is "$bad_acked" "" "every acknowledged snapshot is present and complete with all its items"
is "$bad_views" "" "latest_v and snapshots_v never point at an unfinished snapshot"
is "$bad_items" "" "unfinished snapshots hold no items"
ok "at least one kill landed mid-collection (else the tree is too small)" test "$killed_before" -gt 0

# The next collection succeeds and reaps the killed collectors' rows.
run "${collect_cmd[@]}"
exits 0 "a collection after the kills completes"
LAST=$OUT
is "$(q "$DB" "select status || ' ' || items from snapshots_v where id=${LAST:-0}")" "complete $EXPECT_ITEMS" "  complete, with all its items"
is "$(q "$DB" "select count(*) from snapshots where status='running'")" "0" "  no 'running' row of a killed collector is left"
is "$(q "$DB" "select count(*) from snapshots where status not in ('complete', 'abandoned')")" "0" \
	"  the killed collectors' rows are marked 'abandoned'"
is "$(q "$DB" "select count(*) from snapshots where status='abandoned' and finished_at is null")" "0" "  with a finish time"
ed --db "$DB" diff "@$FIRST" "@${LAST:-0}"
exits 0 "the first and the last snapshot of the unchanged tree show no drift"
ed --db "$DB" diff "@$FIRST" "@${LAST:-0}" --format json
is "$(printf '%s' "$OUT" | json_get 'len(d["drift"])')" "0" "  (json: empty drift list)"
is "$(sqlite3 "$DB" 'PRAGMA integrity_check')" "ok" "the store is intact at the end"

done_testing
