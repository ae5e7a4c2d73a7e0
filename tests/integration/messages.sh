#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Messages on stderr (issue 12.9): one form, "envdrift COMMAND: message"
# ("envdrift: message" before a command is known; "envdrift COMMAND: warning:"
# for a warning), and a "did you mean" for a mistyped command, option or
# environment, with the environments the store knows.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DB=$TMP/store.db
R=$TMP/root
mkdir -p "$R/etc/app" "$R/srv"
echo host-1 >"$R/etc/hostname"
echo 'a = 1' >"$R/etc/app/app.conf"
init_store "$DB"
for env in production staging; do
	ed --db "$DB" collect --env "$env" --root "$R" --packages none
	exits 0 "collect $env"
done

# only_form CMD DESC: every line of the last stderr is "envdrift CMD: ..." or the --help hint.
only_form() {
	local bad
	bad=$(printf '%s\n' "$ERR" | grep -v -e "^envdrift $1: " -e "^Try 'envdrift $1 --help'\.\$" -e '^$')
	if [ -n "$ERR" ] && [ -z "$bad" ]; then
		pass "$2"
	else
		fail "$2" "stderr: $ERR"
	fi
}

# --- every command's errors: "envdrift COMMAND: message" ---
declare -A FAILS=(
	[init]="--db $TMP/no/such/dir/s.db init"
	[collect]="--db $DB collect --env x --root $TMP/no-such-root"
	[inventory]="--db $DB inventory $TMP/no-such.ini"
	[snapshots]="--db $TMP/absent.db snapshots"
	[diff]="--db $DB diff production nosuch"
	[gate]="--db $DB gate --staging nosuch"
	[policy]="--db $DB policy check $TMP/no-such-policy.ini"
	[report]="--db $DB report --pair production:nosuch"
	[export]="--db $DB export @999"
	[ingest]="--db $DB ingest $TMP/no-such.json"
)
for cmd in init collect inventory snapshots diff gate policy report export ingest; do
	# shellcheck disable=SC2086
	ed ${FAILS[$cmd]}
	exits 2 "$cmd: an error exits 2"
	only_form "$cmd" "  every line on stderr starts 'envdrift $cmd: '"
	unlike "$ERR" "error: " "  no 'error:' inside the prefix"
	ed --db "$DB" "$cmd" --bogus-option
	exits 2 "$cmd --bogus-option: exit 2"
	like "$(printf '%s\n' "$ERR" | head -1)" "^envdrift $cmd: unknown option '--bogus-option'\$" \
		"  'envdrift $cmd: unknown option ...', no suggestion when nothing is close"
	only_form "$cmd" "  then the hint to 'envdrift $cmd --help'"
done
ed --db "$DB" gate --staging nosuch
like "$ERR" "^envdrift gate: cannot vouch for nosuch: environment 'nosuch' has no complete snapshot" \
	"gate's 'cannot vouch' is an error line of the common form"
ed --db "$DB" --bogus-option init
exits 2 "an unknown global option: exit 2"
is "$ERR" "envdrift: unknown option '--bogus-option'
Try 'envdrift --help'." "  before the command: 'envdrift: message' and the hint"

# --- did you mean: commands ---
ed --db "$DB" dif production staging
exits 2 "dif: exit 2"
is "$ERR" "envdrift: unknown command 'dif' (did you mean 'diff'?)
Try 'envdrift --help'." "  one line with the suggestion and the hint, not the whole usage"
is "$OUT" "" "  nothing on stdout"
ed --db "$DB" gaet
is "$(printf '%s\n' "$ERR" | head -1)" "envdrift: unknown command 'gaet' (did you mean 'gate'?)" "gaet: did you mean 'gate' (a swap)"
ed --db "$DB" frobnicate
exits 2 "a command like none: exit 2"
is "$ERR" "envdrift: unknown command 'frobnicate'
Try 'envdrift --help'." "  no suggestion"
ed --db "$DB" help dif
exits 2 "help dif: exit 2, as for an unknown command"
contains "$ERR" "(did you mean 'diff'?)" "  with the suggestion"

# --- did you mean: options ---
ed --db "$DB" diff production staging --fromat json
exits 2 "diff --fromat: exit 2"
is "$(printf '%s\n' "$ERR" | head -1)" "envdrift diff: unknown option '--fromat' (did you mean '--format'?)" \
	"  did you mean '--format'"
ed --db "$DB" gate --stagign staging
is "$(printf '%s\n' "$ERR" | head -1)" "envdrift gate: unknown option '--stagign' (did you mean '--staging'?)" \
	"gate --stagign: did you mean '--staging'"
ed --db "$DB" collect --env x --pakcages none
contains "$ERR" "(did you mean '--packages'?)" "collect --pakcages: did you mean '--packages'"
ed --dbb "$DB" init
is "$(printf '%s\n' "$ERR" | head -1)" "envdrift: unknown option '--dbb' (did you mean '--db'?)" \
	"a global option too: did you mean '--db'"

# --- did you mean: environments, with the known ones listed ---
KNOWN="known environments: production, staging (did you mean 'staging'?)"
ed --db "$DB" diff production stagging
exits 2 "diff production stagging: exit 2"
is "$ERR" "envdrift diff: environment 'stagging' has no complete snapshot in store $DB; $KNOWN" \
	"  names the store, lists the known environments, suggests one"
ed --db "$DB" gate --staging stagging
exits 2 "gate --staging stagging: exit 2 (cannot vouch)"
contains "$ERR" "$KNOWN" "  lists and suggests"
ed --db "$DB" report --pair production:stagging
exits 2 "report --pair production:stagging: exit 2"
contains "$ERR" "$KNOWN" "  lists and suggests"
ed --db "$DB" export stagging
exits 2 "export stagging: exit 2"
contains "$ERR" "$KNOWN" "  lists and suggests"
ed --db "$DB" snapshots --env stagging
exits 0 "snapshots --env stagging: an empty listing, exit 0"
is "$ERR" "envdrift snapshots: warning: environment 'stagging' has no snapshot; $KNOWN" \
	"  with a warning that lists and suggests"
ed --db "$DB" diff production qa
is "$ERR" "envdrift diff: environment 'qa' has no complete snapshot in store $DB; known environments: production, staging" \
	"nothing close: the list, no suggestion"
EMPTY=$TMP/empty.db
init_store "$EMPTY"
ed --db "$EMPTY" diff production staging
contains "$ERR" "environment 'production' has no complete snapshot in store $EMPTY; no environment has one yet" \
	"an empty store says so"

# --- warnings: "envdrift COMMAND: warning: ..." ---
ed --db "$DB" collect --env production --root "$R" --packages none --path /etc --path /srv
exits 0 "collect with other settings"
OTHER=$OUT
FIRST=$(q "$DB" "select min(id) from snapshots")
ed --db "$DB" diff "@$FIRST" "@$OTHER"
like "$ERR" "^envdrift diff: warning: @$FIRST \(production/" "a warning names the command, then 'warning:'"
ed --db "$DB" init
is "$ERR" "envdrift init: store $DB is up to date (version $(q "$DB" 'pragma user_version'))" \
	"a status line has the same form"

done_testing
