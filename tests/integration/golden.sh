#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Golden tests: every report format pinned byte for byte.
#
# Each folder tests/golden/<case>/ holds the inputs (see tests/golden/build-case.sh:
# production/ and staging/ trees, setup.sh, profile.ini, policy.ini) and the
# expected output of `envdrift diff production staging --format F` for every format:
#   expected.txt expected.json expected.junit.xml expected.sarif expected.md expected.html
# and optionally `exit` (the expected exit status of diff; default 1) and
# `canaries` (strings, one a line, that no output may contain: secrets).
# A case with a policy.ini runs diff with --policy policy.ini (from the case's
# work folder, so the path in the reports is that) and pins the output with
# --show-ignored too: expected.show-ignored.txt and so on.
#
# Before comparing, the volatile parts of an output are replaced with
# placeholders, here and only here (sed):
#   - each snapshot's started_at, as read from the store  -> @STARTED@
#   - the temporary folder of the run                     -> @TMP@
#   - "owner": "NAME" / "group": "NAME" (JSON: who ran the test) -> @OWNER@ / @GROUP@
#   - the ids in a file's value summary, "file 0644 UID:GID ..." -> @UID@:@GID@
# Snapshot ids (@1 production, @2 staging), host names and secrets' keyed
# fingerprints (a fixed store key) are the same in every run.
#
# To accept new output after a deliberate change: GOLDEN_UPDATE=1 meson test golden
# (or GOLDEN_UPDATE=1 bash tests/integration/golden.sh), then review `git diff tests/golden`.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

GOLDEN=$SRCDIR/tests/golden
FORMATS="text json junit sarif markdown html"
declare -A EXT_OF=([text]=txt [json]=json [junit]=junit.xml [sarif]=sarif [markdown]=md [html]=html)

# normalize DB < raw > normalized
normalize() {
	local script=$TMP/.sed started
	: >"$script"
	while IFS= read -r started; do
		[ -n "$started" ] && printf 's/%s/@STARTED@/g\n' "$started" >>"$script"
	done < <(q "$1" "SELECT DISTINCT started_at FROM snapshots_v")
	printf 's|%s|@TMP@|g\n' "$TMP" >>"$script"
	printf 's/"owner":\\( \\{0,1\\}\\)"[^"]*"/"owner":\\1"@OWNER@"/g\n' >>"$script"
	printf 's/"group":\\( \\{0,1\\}\\)"[^"]*"/"group":\\1"@GROUP@"/g\n' >>"$script"
	# A file's value summary ("file 0644 UID:GID SIZE ..."), as fleets show snowflakes.
	printf 's/ \\([0-7]\\{4\\}\\) %s:%s / \\1 @UID@:@GID@ /g\n' "$(id -u)" "$(id -g)" >>"$script"
	sed -f "$script"
}

check_junit() { # FILE [JSON_REPORT]: well-formed, counts agree with the testcases, failures = blocking
	python3 - "$@" <<'PY'
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
cases = root.findall("./testsuite/testcase")
fails = root.findall("./testsuite/testcase/failure")
assert int(root.get("tests")) == len(cases), ("tests", root.get("tests"), len(cases))
assert int(root.get("failures")) == len(fails), ("failures", root.get("failures"), len(fails))
assert int(root.get("skipped")) == len(root.findall("./testsuite/testcase/skipped"))
if len(sys.argv) > 2:
    summary = json.load(open(sys.argv[2]))["summary"]
    assert len(fails) == summary["blocking"], ("failures vs blocking", len(fails), summary["blocking"])
names = {s.get("name") for s in root.findall("testsuite")}
assert {"config", "file", "package", "schema", "system"} <= names, names
for s in root.findall("testsuite"):
    assert int(s.get("tests")) == len(s.findall("testcase")), s.get("name")
    assert int(s.get("failures")) == len(s.findall("testcase/failure")), s.get("name")
    props = {p.get("name"): p.get("value") for p in s.findall("properties/property")}
    for k in ("reference.env", "reference.snapshots", "candidate.env", "candidate.snapshots", "ignored"):
        assert k in props, (s.get("name"), k)
    assert s.findall("testcase"), s.get("name") + " has no testcase"
PY
}

check_sarif() { # FILE [JSON_REPORT]: the structure code scanning needs
	python3 - "$@" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == "2.1.0"
assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
assert len(doc["runs"]) == 1
run = doc["runs"][0]
driver = run["tool"]["driver"]
assert driver["name"] == "envdrift"
rules = driver["rules"]
ids = [r["id"] for r in rules]
assert len(ids) == len(set(ids)), "duplicate rule ids"
for r in rules:
    assert r["shortDescription"]["text"] and r["name"]
results = run["results"]
for res in results:
    assert res["ruleId"] == ids[res["ruleIndex"]], res["ruleId"]
    assert res["level"] in ("error", "warning", "note"), res["level"]
    assert isinstance(res["message"]["text"], str) and res["message"]["text"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["region"]["startLine"] >= 1
    loc = loc["artifactLocation"]
    assert re.fullmatch(r"[A-Za-z0-9._~/%-]+", loc["uri"]), loc["uri"]
    assert not loc["uri"].startswith("/"), loc["uri"]
    assert loc["uriBaseId"] in run["originalUriBaseIds"], loc["uriBaseId"]
    assert res["partialFingerprints"]["envdriftItem/v1"]
    p = res["properties"]
    if p.get("kind") == "file":
        assert loc["uriBaseId"] == "HOSTROOT"
    if p.get("kind") == "config":
        assert "#" not in loc["uri"] and "%23" not in loc["uri"], loc["uri"]
if len(sys.argv) > 2:
    # Against the JSON report: the same entries, keys and severities.
    report = json.load(open(sys.argv[2]))
    levels = {"block": "error", "warn": "warning", "info": "note"}
    drift = report["drift"]  # ignored entries only with --show-ignored, as in SARIF
    results = [r for r in results if r["ruleId"] != "role-snowflake"]
    assert len(results) == len(drift), (len(results), len(drift))
    for res, e in zip(results, drift):
        assert res["level"] == levels[e["severity"]], (res["level"], e["severity"])
        assert res["properties"]["key"] == e["key"], (res["properties"]["key"], e["key"])
        assert bool(res.get("suppressions")) == bool(e.get("ignored")), e["key"]
    errors = sum(r["level"] == "error" and not r.get("suppressions") for r in results)
    assert errors == report["summary"]["blocking"], (errors, report["summary"])
    assert run["properties"]["summary"]["ignored"] == report["summary"]["ignored"]
PY
}

check_html() { # FILE: parses, balanced, nothing that could load anything
	python3 - "$1" <<'PY'
import sys
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()  # valid UTF-8, or this raises
assert "http://" not in text and "https://" not in text, "a URL in the page"
VOID = {"meta", "input", "br", "hr", "img", "link", "col", "wbr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.errors, self.csp, self.scripts = [], {}, [], None, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k in ("src", "href", "action", "formaction", "srcset", "poster", "data", "background") or k.startswith("on"):
                self.errors.append("attribute %s on <%s>" % (k, tag))
            if v and "url(" in v:
                self.errors.append("url( in an attribute")
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a.get("content")
        if tag == "script":
            self.scripts += 1
        if tag not in VOID:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()
p = P()
p.feed(text)
p.close()
assert not p.errors, p.errors[:5]
assert not p.stack, "unclosed: %s" % p.stack
assert p.csp and "default-src 'none'" in p.csp, p.csp
assert p.scripts == 1, "scripts: %d" % p.scripts
for tag in ("link", "img", "iframe", "object", "embed", "form", "base"):
    assert tag not in p.tags, "<%s> in the page" % tag
assert "url(" not in text.split("<style>")[1].split("</style>")[0], "url( in the style"
PY
}

check_markdown() { # FILE: every table row has as many cells as its header (cmark-gfm renders it)
	python3 - "$1" <<'PY'
import subprocess, sys
from html.parser import HTMLParser
html = subprocess.run(["cmark-gfm", "--extension", "table", "--unsafe", sys.argv[1]],
                      check=True, capture_output=True).stdout.decode()
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.cur, self.tables = [], None, 0
    def handle_starttag(self, tag, attrs):
        if tag == "table": self.tables += 1; self.rows.append([])
        if tag == "tr": self.cur = 0
        if tag in ("td", "th"): self.cur += 1
        if tag in ("script", "img", "iframe"): raise SystemExit("<%s> in the rendered comment" % tag)
    def handle_endtag(self, tag):
        if tag == "tr": self.rows[-1].append(self.cur)
p = P()
p.feed(html)
assert p.tables >= 1
for t in p.rows:
    assert len(set(t)) == 1, "rows with different cell counts: %s" % t
PY
}

ed --db "$TMP/none.db" diff a b --format nosuch
contains "$ERR" "text, json, junit, sarif, markdown, html" "an unknown --format lists every format"

for case_dir in "$GOLDEN"/*/; do
	case_dir=${case_dir%/}
	name=$(basename "$case_dir")
	# A case has inputs; tests/golden/synthetic/ is golden_render's (tests/golden/render.c).
	[ -d "$case_dir/production" ] || [ -d "$case_dir/staging" ] || [ -f "$case_dir/setup.sh" ] ||
		[ -f "$case_dir/hosts" ] || continue
	W=$TMP/$name
	if ! bash "$GOLDEN/build-case.sh" "$ENVDRIFT" "$case_dir" "$W" 2>"$TMP/.build.err"; then
		fail "$name: build the store" "$(cat "$TMP/.build.err")"
		continue
	fi
	pass "$name: build the store"
	DB=$W/store.db
	want_exit=1
	[ -f "$case_dir/exit" ] && want_exit=$(cat "$case_dir/exit")
	args=() variants=("")
	if [ -f "$W/policy.ini" ]; then
		args=(--policy policy.ini)
		variants=("" .show-ignored)
	fi
	for v in "${variants[@]}"; do
		extra=()
		[ -n "$v" ] && extra=(--show-ignored)
		for f in $FORMATS; do
			file=expected$v.${EXT_OF[$f]}
			expected=$case_dir/$file
			got=$W/got.$file
			raw=$W/raw$v.$f
			(cd "$W" && timeout 60 "$ENVDRIFT" --db store.db diff production staging --format "$f" \
				"${args[@]}" "${extra[@]}") >"$raw" 2>"$W/err.$f"
			rc=$?
			san_check "$(cat "$W/err.$f")" "diff --format $f ($name$v)"
			normalize "$DB" <"$raw" >"$got"
			if [ "$rc" != "$want_exit" ]; then
				fail "$name: diff --format $f${extra[*]:+ ${extra[*]}} exits $want_exit" "exit $rc: $(head -c 500 "$W/err.$f")"
				continue
			fi
			if [ -n "${GOLDEN_UPDATE:-}" ]; then
				cp "$got" "$expected"
				pass "$name: $f # updated ${expected#"$SRCDIR"/}"
			elif [ ! -f "$expected" ]; then
				fail "$name: $f matches $file" "no $expected: run with GOLDEN_UPDATE=1 and review it"
			elif cmp -s "$got" "$expected"; then
				pass "$name: $f matches $file"
			else
				fail "$name: $f matches $file" "$(diff -u "$expected" "$got" | head -40)"
			fi
			# The same drift written out to a spill file entry by entry reads the same.
			(cd "$W" && ENVDRIFT_SPILL_AT=1 timeout 60 "$ENVDRIFT" --db store.db diff production \
				staging --format "$f" "${args[@]}" "${extra[@]}") >"$raw.spilled" 2>"$W/err.$f"
			rc=$?
			san_check "$(cat "$W/err.$f")" "diff --format $f, spilled ($name$v)"
			if [ "$rc" = "$want_exit" ] && cmp -s "$raw" "$raw.spilled"; then
				pass "$name: $f spilled to a file gives the same bytes"
			else
				fail "$name: $f spilled to a file gives the same bytes" \
					"exit $rc: $(head -c 300 "$W/err.$f"; diff "$raw" "$raw.spilled" | head -20)"
			fi
		done
	done

	# Well-formed, whatever the golden files say.
	for v in "${variants[@]}"; do
		ok "$name$v: json parses" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/raw$v.json"
		if err=$(check_junit "$W/raw$v.junit" "$W/raw$v.json" 2>&1); then pass "$name$v: junit is well-formed XML, counts agree, failures = blocking"
		else fail "$name$v: junit is well-formed XML, counts agree, failures = blocking" "$err"; fi
		if err=$(check_sarif "$W/raw$v.sarif" "$W/raw$v.json" 2>&1); then pass "$name$v: sarif has the structure code scanning needs, agrees with json"
		else fail "$name$v: sarif has the structure code scanning needs, agrees with json" "$err"; fi
		if err=$(check_html "$W/raw$v.html" 2>&1); then pass "$name$v: html parses, balanced, no URL, CSP, nothing to load"
		else fail "$name$v: html parses, balanced, no URL, CSP, nothing to load" "$err"; fi
		if ! command -v cmark-gfm >/dev/null; then
			skip "$name$v: markdown tables keep their columns" "cmark-gfm not installed"
		elif err=$(check_markdown "$W/raw$v.markdown" 2>&1); then pass "$name$v: markdown tables keep their columns"
		else fail "$name$v: markdown tables keep their columns" "$err"; fi
	done
	# Every format shows control bytes as \xHH (JSON as \u00HH): none raw but tab and newline.
	ctl=$(cat "$W"/raw.* | LC_ALL=C grep -c -a -P '[\x00-\x08\x0b-\x1f\x7f]')
	is "$ctl" 0 "$name: no output holds a raw control character"
	if [ -f "$case_dir/canaries" ]; then
		leaks=""
		while IFS= read -r canary; do
			[ -n "$canary" ] && grep -a -l -F -- "$canary" "$W"/raw.* >/dev/null && leaks="$leaks $canary"
		done <"$case_dir/canaries"
		is "$leaks" "" "$name: no secret appears in any format"
	fi
done

# The synthetic goldens (policy and fleet fields, written by golden_render) are well-formed too.
S=$GOLDEN/synthetic
for v in "" .show-ignored; do
	if err=$(check_junit "$S/expected$v.junit.xml" 2>&1); then pass "synthetic$v: junit is well-formed XML, counts agree"
	else fail "synthetic$v: junit is well-formed XML, counts agree" "$err"; fi
	if err=$(check_sarif "$S/expected$v.sarif" 2>&1); then pass "synthetic$v: sarif has the structure code scanning needs"
	else fail "synthetic$v: sarif has the structure code scanning needs" "$err"; fi
	if err=$(check_html "$S/expected$v.html" 2>&1); then pass "synthetic$v: html parses, balanced, no URL, CSP, nothing to load"
	else fail "synthetic$v: html parses, balanced, no URL, CSP, nothing to load" "$err"; fi
	if ! command -v cmark-gfm >/dev/null; then
		skip "synthetic$v: markdown tables keep their columns" "cmark-gfm not installed"
	elif err=$(check_markdown "$S/expected$v.md" 2>&1); then pass "synthetic$v: markdown tables keep their columns"
	else fail "synthetic$v: markdown tables keep their columns" "$err"; fi
done
python3 - "$S/expected.sarif" "$S/expected.show-ignored.sarif" >"$TMP/.syn" 2>&1 <<'PY'
import json, sys
plain, shown = (json.load(open(f))["runs"][0] for f in sys.argv[1:])
summary = plain["properties"]["summary"]
levels = [r["level"] for r in plain["results"] if r["ruleId"] != "role-snowflake"]
assert levels.count("error") == summary["blocking"], (levels, summary)
assert levels.count("warning") == summary["warnings"], (levels, summary)
assert levels.count("note") == summary["infos"], (levels, summary)
sup = [r for r in shown["results"] if r.get("suppressions")]
assert len(sup) == 2 and all(r["suppressions"][0]["justification"] for r in sup), sup
assert not any(r.get("suppressions") for r in plain["results"])
notes = plain["invocations"][0]["toolConfigurationNotifications"]
assert len(notes) == 1 and "expired" in notes[0]["message"]["text"], notes
assert sum(r["ruleId"] == "role-snowflake" for r in plain["results"]) == 2
assert plain["properties"]["summary"]["ignored"] == 2
PY
if [ $? = 0 ]; then pass "synthetic: sarif levels follow severities, ignored drift is suppressed, an expired rule is a notification"
else fail "synthetic: sarif levels follow severities, ignored drift is suppressed, an expired rule is a notification" "$(cat "$TMP/.syn")"; fi

# The HTML report's unified diffs are correct diffs: for random pairs of texts,
# patch(1) turns the reference into the candidate with the diff shown, and the
# diff has as few changed lines as `diff --minimal`.
W=$TMP/diffs
mkdir -p "$W/production/etc/d" "$W/staging/etc/d"
python3 - "$W" <<'PY'
import random, sys
w = sys.argv[1]
rnd = random.Random(20240501)
words = ["alpha", "beta", "gamma", "delta", "", "}", "{", "x = 1", "x = 2", "\tindented"]
for i in range(40):
    n = rnd.randint(0, 60)
    a = [rnd.choice(words) for _ in range(n)]
    b = list(a)
    for _ in range(rnd.randint(1, 8)):
        op = rnd.random()
        pos = rnd.randint(0, len(b))
        if op < 0.4 and b:
            del b[min(pos, len(b) - 1)]
        elif op < 0.8:
            b.insert(pos, rnd.choice(words))
        elif b:
            b[min(pos, len(b) - 1)] = rnd.choice(words)
    ea = "\n" if rnd.random() < 0.9 or not a else ""
    eb = "\n" if rnd.random() < 0.9 or not b else ""
    open("%s/production/etc/d/f%02d.conf" % (w, i), "w").write("\n".join(a) + (ea if a else ""))
    open("%s/staging/etc/d/f%02d.conf" % (w, i), "w").write("\n".join(b) + (eb if b else ""))
# Past the limits: 6000 lines; 1200 lines that all differ (more than 1000 changed lines).
open(w + "/production/etc/d/long.conf", "w").write("".join("line %d\n" % i for i in range(6000)))
open(w + "/staging/etc/d/long.conf", "w").write("".join("line %d\n" % i for i in range(1, 6001)))
open(w + "/production/etc/d/toolong.conf", "w").write("".join("a %d\n" % i for i in range(1200)))
open(w + "/staging/etc/d/toolong.conf", "w").write("".join("b %d\n" % i for i in range(1200)))
# At the limit: 5000 lines each, a few changes far apart, still diffed.
edge = ["row %d" % i for i in range(5000)]
open(w + "/production/etc/d/edge.conf", "w").write("\n".join(edge) + "\n")
edge[10], edge[2500], edge[4999] = "changed", "changed too", "last"
open(w + "/staging/etc/d/edge.conf", "w").write("\n".join(edge) + "\n")
PY
mkdir -p "$W/case"
printf '[collect]\npath = /etc\npackages = none\nthreads = 1\n[content]\nkeep = /etc/d/*\nmax_size = 1M\n' >"$W/case/profile.ini"
cp -R "$W/production" "$W/staging" "$W/case/"
if bash "$GOLDEN/build-case.sh" "$ENVDRIFT" "$W/case" "$W/build" 2>"$TMP/.build.err"; then
	ed --db "$W/build/store.db" diff production staging --format html
	printf '%s' "$OUT" >"$W/report.html"
	python3 - "$W/report.html" "$W/build" <<'PY' >"$W/check.out" 2>&1
import html, os, re, subprocess, sys, tempfile
page = open(sys.argv[1], encoding="utf-8").read()
root = sys.argv[2]
bad, checked = [], 0
for m in re.finditer(r'<code>(/etc/d/[^<]*)</code></td><td>[^<]*(.*?)</td><td>', page, re.S):
    path, cell = m.group(1), m.group(2)
    a = open(root + "/production" + path, "rb").read()
    b = open(root + "/staging" + path, "rb").read()
    if path.endswith("long.conf"):
        if "too large to diff" not in cell:
            bad.append(path + ": no 'too large to diff'")
        continue
    pre = re.search(r"<pre>(.*?)</pre>", cell, re.S)
    if a == b:
        continue
    if not pre:
        bad.append(path + ": no diff shown")
        continue
    lines = [html.unescape(re.sub(r"<[^>]+>", "", l)) for l in pre.group(1).split("\n") if l]
    patch = "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory() as t:
        f = os.path.join(t, "f")
        open(f, "wb").write(a)
        r = subprocess.run(["patch", "-s", "-f", f], input=patch.encode(), capture_output=True)
        if r.returncode != 0 or open(f, "rb").read() != b:
            bad.append(path + ": patch does not give the candidate: " + r.stdout.decode() + r.stderr.decode())
    ours = sum(1 for l in lines[2:] if l.startswith(("+", "-")))
    gnu = subprocess.run(["diff", "--minimal", "-U0", root + "/production" + path, root + "/staging" + path],
                         capture_output=True).stdout.decode(errors="replace").split("\n")
    theirs = sum(1 for l in gnu[2:] if l.startswith(("+", "-")))
    if ours != theirs:
        bad.append("%s: %d changed lines, diff --minimal has %d" % (path, ours, theirs))
    checked += 1
print("checked", checked)
for b in bad:
    print(b)
sys.exit(1 if bad or checked < 35 else 0)
PY
	if [ $? = 0 ]; then pass "html: unified diffs apply with patch(1) and are minimal; past the limits, 'too large to diff'"
	else fail "html: unified diffs apply with patch(1) and are minimal; past the limits, 'too large to diff'" "$(head -20 "$W/check.out")"; fi
else
	fail "html diff check: build the store" "$(cat "$TMP/.build.err")"
fi

done_testing
