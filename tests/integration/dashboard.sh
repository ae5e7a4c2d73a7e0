#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The dashboard of envdrift serve (issue 13, section 4; RELIABILITY T-1): a real
# server on a free loopback port over a store whose host names, file names and
# config values are hostile, driven with curl: every page's status and headers
# (CSP without inline script or style), hostile names only ever escaped, the
# counts shown equal to 'diff --format json', the verdict cache, the filters
# as GET forms, 404s, and the token rules of the API's reads.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=dashboard_fixture.sh
. "$(dirname "$0")/dashboard_fixture.sh"

command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; T_DONE=1; exit 0; }
trap 'rc=$?; stop_server; (exit $rc); t_cleanup' EXIT

make_fixture
start_server --policy "$POLICY" --pair production:staging --pair production:qa --stale 36h

# page_ok PATH DESC: 200, HTML, the strict headers, nothing inline, nothing hostile raw.
page_ok() {
	get "$1"
	is "$CODE" 200 "$2: 200"
	local problems
	problems=$(python3 - "$TMP/.head" "$TMP/.body" <<'PY'
import re, sys
head = open(sys.argv[1], encoding="latin-1").read().replace("\r", "")
body = open(sys.argv[2], "rb").read().decode("utf-8")
h = {}
for line in head.split("\n")[1:]:
    if ":" in line:
        k, v = line.split(":", 1)
        h[k.strip().lower()] = v.strip()
p = []
want = {"content-type": "text/html; charset=utf-8", "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer", "x-frame-options": "DENY"}
for k, v in want.items():
    if h.get(k) != v: p.append("%s: %r" % (k, h.get(k)))
csp = h.get("content-security-policy", "")
if not csp.startswith("default-src 'self'") or "unsafe" in csp: p.append("CSP %r" % csp)
if re.search(r"<script(?![^>]*\ssrc=\"/static/app\.js\")", body): p.append("an inline <script>")
if "<style" in body or re.search(r"\sstyle=", body): p.append("inline style")
if re.search(r"\son[a-z]+=\"", body): p.append("an event handler attribute")
for raw in ["<script>alert", "<img src=x", "<svg onload", "</textarea><", "<b>plain", "<b>names",
            "\u202e"]:
    if raw in body: p.append("raw %r" % raw)
if re.search(r'(?<!&quot;)"onerror=', body): p.append('raw "onerror=')
print("; ".join(p))
PY
)
	is "$problems" "" "$2: headers strict, nothing inline, hostile text escaped"
}

# kept_verdicts REF CAND: how many verdicts of the pair the store keeps (serve's verdict cache).
kept_verdicts() {
	sqlite3 "$DB" "SELECT count(*) FROM verdict_cache WHERE ref = '$1' AND cand = '$2'"
}
# wait_kept REF CAND N: until the store keeps N verdicts of the pair (the worker's, within ~10 s).
wait_kept() {
	local i
	for i in $(seq 100); do
		[ "$(kept_verdicts "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
# computed BY: how many verdicts /metrics says BY (worker, request) computed.
computed() {
	curl -sS --max-time 30 "$U/metrics" | sed -n "s/^envdrift_verdicts_computed_total{by=\"$1\"} //p"
}

# --- the verdicts: computed by the worker, kept in the store ---
ok "the worker computes the first verdict and keeps it in the store, before any view" \
	wait_kept production staging 1
ok "  and one of each --pair" wait_kept production qa 1

# --- every page ---
page_ok / "overview"
contains "$BODY" 'web&lt;script&gt;alert(4)&lt;/script&gt;&quot;onerror=alert(5)' \
	"overview: the hostile staging host name shown escaped"
contains "$BODY" 'qa&lt;/textarea&gt;&lt;img src=x onerror=alert(6)&gt;' \
	"overview: a host name with </textarea> shown escaped"
like "$BODY" 'data-ref="production" data-cand="staging" data-verdict="[a-z]*" data-cached="1"' \
	"overview: a verdict per pair, and the first view finds it kept (it runs no diff)"
like "$BODY" 'data-ref="production" data-cand="qa"' "overview: the second --pair"
like "$BODY" 'class="fresh">fresh<' "overview: fresh hosts say so"
OVERVIEW=$BODY

# the counts shown are the CLI's
ed --db "$DB" diff production staging --format json --policy "$POLICY"
echo "$OUT" >"$TMP/cli.json"
want=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]
print("drift=%d blocking=%d warn=%d info=%d ignored=%d" % (s["added"]+s["removed"]+s["changed"], s["blocking"], s["warn"], s["info"], s["ignored"]))' "$TMP/cli.json")
got=$(python3 -c 'import re,sys
m = re.search(r"data-cand=\"staging\" data-verdict=\"[a-z]*\" data-cached=\"\d\" data-drift=\"(\d+)\" data-blocking=\"(\d+)\" data-warn=\"(\d+)\" data-info=\"(\d+)\" data-ignored=\"(\d+)\"", sys.stdin.read())
print("drift=%s blocking=%s warn=%s info=%s ignored=%s" % m.groups() if m else "none")' <<<"$OVERVIEW")
is "$got" "$want" "overview: production -> staging counts equal diff --format json's"
ed --db "$DB" gate --policy "$POLICY" --max-age 36h
verdict=$(sed -n 's/.*data-cand="staging" data-verdict="\([a-z]*\)".*/\1/p' <<<"$OVERVIEW")
case $RC in
0) is "$verdict" pass "overview: the verdict is the gate's (pass)" ;;
1) is "$verdict" block "overview: the verdict is the gate's (blocking drift)" ;;
*) is "$verdict" cannot "overview: the verdict is the gate's (cannot vouch)" ;;
esac

get /
like "$BODY" 'data-cand="staging" data-verdict="[a-z]*" data-cached="1"' \
	"overview: the second view takes the verdict from the cache (no diff)"
is "$(computed request)" 0 "/metrics: no verdict was computed by a request (a view or a scrape)"
workers=$(computed worker)
is "$workers" 2 "/metrics: the worker computed the two pairs' verdicts, once each"
# a new snapshot from the command line is a new basis: the worker computes it within a second
ed --db "$DB" collect --env staging --host "$H_STAGING" --root "$TMP/root-s" --packages none
ok "a new staging snapshot (collect): the worker keeps a second verdict of the pair" \
	wait_kept production staging 2
get /
like "$BODY" 'data-cand="staging" data-verdict="[a-z]*" data-cached="1"' \
	"overview: the new snapshot's verdict comes kept"
is "$(computed request)" 0 "  still no verdict computed by a request"
is "$(computed worker)" $((workers + 1)) "  the worker computed one more (the staging pair's), not qa's again"
# a recorded run of the gate is a new basis too (its hosts are part of the verdict)
ed --db "$DB" gate --policy "$POLICY" --max-age 36h --record
ok "a recorded gate run: the worker keeps a third verdict of the pair" wait_kept production staging 3

page_ok "/diff?ref=production&cand=staging" "pair page"
ed --db "$DB" diff production staging --format json --policy "$POLICY"
echo "$OUT" >"$TMP/cli.json"
n_all=$(python3 -c 'import json,sys; print(len([e for e in json.load(open(sys.argv[1]))["drift"] if not e.get("ignored")]))' "$TMP/cli.json")
like "$BODY" "<span id=\"shown\">$n_all of $n_all shown</span>" "pair page: every entry of the CLI's listed"
is "$(grep -c '<tr class="item' "$TMP/.body")" "$n_all" "pair page: one row per entry"
contains "$BODY" '/etc/app/&lt;img src=x onerror=alert(3)&gt;.conf' "pair page: a hostile file name escaped"
contains "$BODY" '<span class="add">+name = &lt;script&gt;alert(1)&lt;/script&gt;&quot;onerror=alert(2) &lt;/textarea&gt;\xe2\x80\xae</span>' \
	"pair page: a hostile config value in the unified diff, escaped"
contains "$BODY" '<form id="filters" method="get" action="/diff">' "pair page: the filters are a GET form"
contains "$BODY" 'show=ignored' "pair page: a link to the expected differences"

page_ok "/diff?ref=production&cand=staging&kind=file&sev=warn&sev=block&q=a.conf" "pair page, filtered"
n=$(python3 -c 'import json,sys; print(len([e for e in json.load(open(sys.argv[1]))["drift"] if not e.get("ignored") and e["kind"]=="file" and e.get("severity","block") in ("warn","block") and "a.conf" in e["key"].lower()]))' "$TMP/cli.json")
like "$BODY" "<span id=\"shown\">$n of $n_all shown</span>" "pair page: kind, severity and text filters ($n rows)"
is "$(grep -c '<tr class="item' "$TMP/.body")" "$n" "pair page, filtered: the rows the filters select"
contains "$BODY" 'name="q" placeholder="key or value" autocomplete="off" value="a.conf"' \
	"pair page, filtered: the search box keeps the text"

page_ok "/diff?ref=production&cand=staging&show=ignored" "pair page with expected differences"
like "$BODY" 'data-sev="ignored"' "show=ignored: the expected difference is listed"
contains "$BODY" 'ignored: each host &lt;b&gt;names&lt;/b&gt; itself <span class="expires">(expires 2099-12-31)</span>' \
	"show=ignored: with its reason, escaped, and its expiry"

get "/diff?ref=production&cand=nowhere"
is "$CODE" 404 "pair page: an unknown environment is 404"
like "$BODY" 'id="error"' "pair page: the error as a page"

page_ok "/host/staging/$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$H_STAGING")" "host page"
like "$BODY" '<tr class="snapshot">' "host page: its snapshots"
like "$BODY" 'changes since @' "host page: a link to what changed between two snapshots"
contains "$BODY" '/etc/app/\xe2\x80\xaefdp.exe' "host page: an RTL file name shown as \\xe2\\x80\\xae"
get "/host/staging/$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$H_STAGING")?prefix=/etc/app/a"
is "$(grep -c '<tr class="item' "$TMP/.body")" 1 "host page: items by key prefix"
get "/host/staging/nobody"
is "$CODE" 404 "host page: an unknown host is 404"
get "/host/staging"
is "$CODE" 404 "host page: no host is 404"
get "/host/production/web1?after=!!"
is "$CODE" 400 "host page: a bad cursor is 400"

page_ok "/history?ref=production&cand=staging" "history page"
is "$(grep -o '<g class="day"' "$TMP/.body" | wc -l)" 3 "history: an SVG bar per day (3 days)"
like "$BODY" '<td>2026-01-01</td><td class="n">8</td><td class="n">3</td>' "history: the table of the backdated day"

page_ok /snapshots "snapshots page"
is "$(grep -c '<tr class="snapshot">' "$TMP/.body")" 4 "snapshots: every snapshot listed"
like "$BODY" 'href="/diff\?ref=%40[0-9]*&amp;cand=%40[0-9]*"' "snapshots: links to /diff?ref=@A&cand=@B"
get "/snapshots?after=x"
is "$CODE" 400 "snapshots: a bad after is 400"

get /static/app.css
is "$CODE" 200 "app.css served"
like "$(cat "$TMP/.head")" 'Content-Type: text/css' "app.css: text/css"
get /static/app.js
is "$CODE" 200 "app.js served"
like "$(cat "$TMP/.head")" 'Content-Type: text/javascript' "app.js: text/javascript"
get /nowhere
is "$CODE" 404 "an unknown page is 404"
like "$(cat "$TMP/.head")" 'Content-Type: text/html' "... as a page"
get / -I
is "$CODE" 200 "HEAD / is 200"
get / -X DELETE
is "$CODE" 405 "DELETE / is 405"

# --- malformed requests (RELIABILITY H-2): 4xx, no file read ---
get /static/../../../../etc/passwd --path-as-is
is "$CODE" 404 "a .. path under /static is 404 (the files are compiled in)"
unlike "$BODY" 'root:' "... and reads no file"
get "/host/a%00b/c"
like "$CODE" '^4' "a NUL in the path: 4xx"
get "/diff?ref=production&cand=staging&q=$(head -c 20000 /dev/zero | tr '\0' a)"
like "$CODE" '^(200|4..)$' "a 20 kB query: answered ($CODE)"
get "/diff?ref=%ff%fe&cand=staging"
is "$CODE" 404 "invalid UTF-8 in ref: 404, as a page"
contains "$BODY" '\xff\xfe' "... its bytes shown escaped"
get /host/production/web1 -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' a)"
like "$CODE" '^4' "oversize headers: 4xx ($CODE)"
kill -0 "$SPID" && pass "the server is still up" || fail "the server is still up"

# --- the verdicts survive a restart ---
stop_server
server_clean "first server"
start_server --policy "$POLICY" --pair production:staging --pair production:qa --stale 36h
get /
like "$BODY" 'data-cand="staging" data-verdict="[a-z]*" data-cached="1"' \
	"restarted: the overview's verdict comes from the store"
is "$(computed worker)/$(computed request)" 0/0 "restarted: no verdict computed again, by anyone"
sqlite3 "$DB" "DELETE FROM verdict_cache"
get /
like "$BODY" 'data-cand="staging" data-verdict="[a-z]*" data-cached=' \
	"a view that comes before the worker still gets a verdict"
ok "  and the store keeps it again" wait_kept production staging 1
stop_server
server_clean "restarted server"

# --- stale hosts: --stale ---
start_server --policy "$POLICY" --stale 1s
sleep 1.2
get /
is "$CODE" 200 "--stale 1s: the overview"
like "$BODY" '<td class="stale">stale</td>' "--stale 1s: hosts whose last snapshot is older are marked stale"
like "$BODY" 'data-cand="staging" data-verdict="cannot"' "--stale 1s: a pair with a stale side cannot be vouched for"
ed --db "$DB" serve --listen 127.0.0.1:0 --pair nocolon
is "$RC" 2 "--pair without REF:CAND is refused"

# --- tokens: the rules of the API's reads ---
ed --db "$DB" token add reader --role read
READ=$OUT
ed --db "$DB" token add pusher --role push
PUSHT=$OUT
for path in / "/diff?ref=production&cand=staging" /snapshots /history /host/production/web1; do
	get "$path"
	is "$CODE" 401 "with a read token in the store, $path without a token is 401"
done
like "$(cat "$TMP/.head")" 'WWW-Authenticate: Bearer' "401 names the scheme"
get / -H "Authorization: Bearer $READ"
is "$CODE" 200 "a read token reads the overview"
get / -H "Authorization: Bearer $PUSHT"
is "$CODE" 403 "a push token may not read the overview"
get / -H "Authorization: Bearer wrong"
is "$CODE" 401 "a wrong token is 401"
get /static/app.css
is "$CODE" 200 "the static files need no token"

stop_server
server_clean "second server"
done_testing
