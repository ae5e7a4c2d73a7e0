#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The HTML report in a real browser (headless Chromium): its script runs, the
# filters by kind and severity and the search box hide the right rows, hostile
# names stay text, and its Content-Security-Policy stops even injected markup
# from loading anything. A screenshot is left for people to look at when
# HTML_SCREENSHOT is set (a path).
#
# The page applies a filter from its URL fragment on load, so the test drives
# it without a WebDriver: report.html#kind=file,config&sev=block&q=nginx; each
# row then says data-visible="1" or "0" in the DOM that --dump-dom prints.
CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROMIUM" ]; then
	echo "1..0 # SKIP chromium not installed"
	exit 0
fi
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

GOLDEN=$SRCDIR/tests/golden

# chrome ARGS... URL: headless, offline-minded, a fresh profile each time.
chrome() {
	local profile
	profile=$(mktemp -d "$TMP/chrome.XXXXXX")
	timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-default-apps --disable-extensions --mute-audio \
		--user-data-dir="$profile" "$@" 2>>"$TMP/chrome.log"
}

# dom FRAGMENT: the page's DOM after its script ran, with #FRAGMENT applied.
dom() { chrome --dump-dom "file://$TMP/report.html#$1" >"$TMP/dom.html"; }

# visible: "N:key1|key2..." for the rows shown in $TMP/dom.html, plus checks that
# the script ran (body[data-ready=1], the counter agrees, filters not hidden).
visible() {
	python3 - "$TMP/dom.html" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.ready, self.shown, self.in_shown, self.code, self.cur = [], None, "", False, False, None
        self.filters_hidden = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body": self.ready = a.get("data-ready")
        if a.get("id") == "filters": self.filters_hidden = "hidden" in a
        if a.get("id") == "shown": self.in_shown = True
        if tag == "tr" and "item" in (a.get("class") or "").split():
            self.cur = [a.get("data-visible"), "hidden" in a, ""]
            self.rows.append(self.cur)
        if tag == "code" and self.cur is not None and not self.cur[2]: self.code = True
    def handle_endtag(self, tag):
        if tag == "code": self.code = False
        if tag == "span": self.in_shown = False
    def handle_data(self, d):
        if self.in_shown: self.shown += d
        if self.code: self.cur[2] += d
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
problems = []
if p.ready != "1": problems.append("script did not run (data-ready=%s)" % p.ready)
if p.filters_hidden is not False: problems.append("filters still hidden")
vis = [r for r in p.rows if r[0] == "1"]
for r in p.rows:
    if (r[0] == "1") == r[1]: problems.append("row %s: data-visible=%s but hidden=%s" % (r[2], r[0], r[1]))
if p.shown.strip() != "%d of %d shown" % (len(vis), len(p.rows)):
    problems.append("counter says %r" % p.shown)
print("%d:%s%s" % (len(vis), "|".join(r[2] for r in vis), "".join(" PROBLEM: " + x for x in problems)))
PY
}

# expect FRAGMENT PYTHON_FILTER DESC: the rows shown are those of the JSON report
# that the filter (a Python expression over e, one drift entry) keeps.
expect() {
	local want got
	want=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
keep = [e["key"] for e in d["drift"] if eval(sys.argv[2])]
print("%d:%s" % (len(keep), "|".join(keep)))' "$TMP/report.json" "$2")
	dom "$1"
	got=$(visible)
	is "$got" "$want" "$3"
}

W=$TMP/typical
if ! bash "$GOLDEN/build-case.sh" "$ENVDRIFT" "$GOLDEN/typical" "$W" 2>"$TMP/.build.err"; then
	echo "Bail out! cannot build the typical golden case: $(cat "$TMP/.build.err")"
	exit 2
fi
# report FORMAT: the typical case's report, judged by its policy, ignored drift listed.
report() {
	(cd "$W" && "$ENVDRIFT" --db store.db diff production staging --policy policy.ini \
		--show-ignored --format "$1") >"$TMP/.out" 2>"$TMP/.err"
	RC=$?
	OUT=$(cat "$TMP/.out")
	san_check "$(cat "$TMP/.err")" "diff --format $1"
}
report html
exits 1 "diff --format html exits 1 on drift"
printf '%s\n' "$OUT" >"$TMP/report.html"
report json
printf '%s\n' "$OUT" >"$TMP/report.json"

# In the page, an ignored row's severity is "ignored", whatever the policy's level.
sev='("ignored" if e.get("ignored") else e["severity"])'
expect "" 'True' "no fragment: every row is shown, the script ran, the counter agrees"
expect "kind=file" 'e["kind"] == "file"' "kind=file shows the file drift only"
expect "kind=file&q=nginx" 'e["kind"] == "file" and "nginx" in e["key"]' \
	"kind=file and a search for nginx: one row"
expect "q=DPKG%3AOPENSSL" '"dpkg:openssl" in e["key"]' "search ignores case and reads %-escapes"
expect "kind=config,package&sev=block" "e['kind'] in ('config', 'package') and $sev == 'block'" \
	"two kinds and one severity"
expect "sev=warn,info" "$sev in ('warn', 'info')" "the other severities"
expect "sev=ignored" 'e.get("ignored")' "the ignored drift, listed with --show-ignored"
expect "q=no-such-thing" 'False' "a search that matches nothing hides every row"
expect "kind=&q=%E0%A4%A" 'False' "a malformed fragment does not break the page (no kind: nothing shown)"

# The diff of nginx.conf is in the page, as text.
dom ""
contains "$(cat "$TMP/dom.html")" '<span class="add">+worker_processes 2;</span>' \
	"the unified diff of the kept nginx.conf is shown"

# Hostile names: the page's own script is the only one, no element came from a name.
W=$TMP/hostile
if bash "$GOLDEN/build-case.sh" "$ENVDRIFT" "$GOLDEN/hostile" "$W" 2>"$TMP/.build.err"; then
	ed --db "$W/store.db" diff production staging --format html
	printf '%s\n' "$OUT" >"$TMP/report.html"
	dom "q=script"
	got=$(python3 - "$TMP/dom.html" <<'PY'
import sys
from html.parser import HTMLParser
count = {}
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        count[tag] = count.get(tag, 0) + 1
        for k, v in attrs:
            if k.startswith("on"): count["on*"] = count.get("on*", 0) + 1
P().feed(open(sys.argv[1], encoding="utf-8").read())
print("script=%d img=%d b=%d on*=%d" % (count.get("script", 0), count.get("img", 0), count.get("b", 0), count.get("on*", 0)))
PY
)
	is "$got" "script=1 img=0 b=0 on*=0" "hostile names and content stay text in the DOM"
	is "$(visible)" "3:/etc/odd/app.json#/a|b|/etc/odd/<script>alert(1)<|/etc/odd/<script>alert(1)</script>.conf" \
		"searching for 'script' finds the two hostile names and the value holding a <script>"
else
	fail "build the hostile golden case" "$(cat "$TMP/.build.err")"
fi

# The CSP: a copy of the page with injected markup that would load from a local
# server. With the report's CSP nothing reaches the server; without it (the
# control) the same markup does, so the test can see a request when one happens.
cat >"$TMP/server.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[2], "a") as f:
            f.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"x")
    def log_message(self, *a):
        pass
# Threads: a connection Chromium opens ahead and leaves idle must not hold up the rest.
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
: >"$TMP/requests"
# "$T_PY", not the python3 function of lib.sh: $! must be the server itself,
# and it must not hold the test's output open.
"$T_PY" "$TMP/server.py" "$TMP/port" "$TMP/requests" </dev/null >/dev/null 2>&1 &
SERVER=$!
trap 'rc=$?; kill "$SERVER" 2>/dev/null; (exit $rc); t_cleanup' EXIT
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/port" 2>/dev/null)
if [ -n "$PORT" ]; then
	inject="<img src=\"http://127.0.0.1:$PORT/img\"><link rel=\"stylesheet\" href=\"http://127.0.0.1:$PORT/css\">"
	inject="$inject<iframe src=\"http://127.0.0.1:$PORT/frame\"></iframe>"
	inject="$inject<script>fetch('http://127.0.0.1:$PORT/fetch').catch(function(){});</script>"
	inject="$inject<div style=\"background:url(http://127.0.0.1:$PORT/bg)\">x</div>"
	# Inside the <main> of the typical report, as if a name had escaped its escaping.
	W=$TMP/typical
	report html
	printf '%s\n' "$OUT" | sed "s|<main>|<main>$inject|" >"$TMP/report.html"
	dom ""
	is "$(sort -u "$TMP/requests" | tr '\n' ' ')" "" "with the report's CSP, injected img, link, iframe, fetch and url() load nothing"
	printf '%s\n' "$OUT" | sed -e "s|<main>|<main>$inject|" -e '/Content-Security-Policy/d' >"$TMP/report.html"
	dom ""
	like "$(sort -u "$TMP/requests" | tr '\n' ' ')" '/img' "(control) without the CSP the same page does reach the server"
else
	fail "start a local HTTP server for the CSP check" "no port"
fi
kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null

# A screenshot: it renders (a PNG of some size), and people can look at it.
W=$TMP/typical
report html
printf '%s\n' "$OUT" >"$TMP/report.html"
chrome --hide-scrollbars --window-size=1400,1800 --screenshot="$TMP/report.png" "file://$TMP/report.html" >/dev/null
size=$(stat -c %s "$TMP/report.png" 2>/dev/null || echo 0)
if [ "$size" -gt 20000 ] && [ "$(head -c 8 "$TMP/report.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]; then
	pass "a screenshot renders ($size bytes)"
else
	fail "a screenshot renders" "size $size; chromium said: $(tail -5 "$TMP/chrome.log")"
fi
if [ -n "${HTML_SCREENSHOT:-}" ]; then
	cp "$TMP/report.png" "$HTML_SCREENSHOT" && diag "screenshot: $HTML_SCREENSHOT"
fi

done_testing
