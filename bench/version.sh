#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# RELIABILITY P-2: ed_version_cmp() against each manager's own comparison on N
# random version pairs per manager (default 100,000), printing the disagreements:
#   dpkg  vs python3-apt's apt_pkg.version_compare (dpkg's algorithm, in-process),
#         then 2,000 hostile pairs vs `dpkg --compare-versions` itself (syntax errors too)
#   rpm   vs rpm's own rpm.ver() comparison (rpmverCmp), run by rpm's Lua in batches
#   pypi  vs python3-packaging's Version, when installed
#   npm   vs Debian's node-semver, when installed
# Run on demand: bash bench/version.sh [N] [SEED]. Uses the unit test's hidden
# mode (TEST_VERSION, default build/tests/test_version; built here with cc
# when missing). Calls /usr/bin/python3 by path: a pyenv python has no apt_pkg.
# Exits 1 when there is any disagreement.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000}
seed=${2:-20260101}
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/envdrift-bench-version.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

tv=${TEST_VERSION:-$here/build/tests/test_version}
if [ ! -x "$tv" ]; then
	tv=$work/test_version
	cc -std=c17 -O2 -D_GNU_SOURCE -I"$here/include" -I"$here/tests/unit" \
		"$here/differ/version.c" "$here/tests/unit/test_version.c" \
		$(pkg-config --cflags --libs rpm) -o "$tv"
fi
"$py" -c 'import apt_pkg' 2>/dev/null || { echo "version: $py has no apt_pkg (apt-get install python3-apt)" >&2; exit 2; }
command -v rpm >/dev/null || { echo "version: rpm is not installed" >&2; exit 2; }

# ---- pair generators: "MANAGER<TAB>A<TAB>B" lines ----
cat >"$work/gen.py" <<'EOF'
import random, sys

manager, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
R = random.Random(f"{manager}:{seed}")
DIG, LET = "0123456789", "abcdefgxyzABCXYZ"

def body(n, punct):
    out = []
    for _ in range(n):
        r = R.random()
        out.append(R.choice(DIG) if r < 0.5 else R.choice(LET) if r < 0.75 else R.choice(punct))
    return "".join(out)

def mutate(s, alphabet):
    s = list(s)
    what = R.randrange(5)
    i = R.randrange(len(s) + 1)
    if what == 0 and s:
        s[min(i, len(s) - 1)] = R.choice(alphabet)
    elif what == 1:
        s.insert(i, R.choice(alphabet))
    elif what == 2 and len(s) > 1:
        del s[min(i, len(s) - 1)]
    elif what == 3:
        digits = [k for k, c in enumerate(s) if c.isdigit()]
        if digits:
            k = R.choice(digits)
            s[k] = str((int(s[k]) + 1) % 10)
    else:
        s += list(R.choice(["~", "~rc1", "^1", ".0", "a", "+b1", "-1", ".1", "0"]))
    return "".join(s)

def dpkg_ok(v):
    """dpkg's syntax errors (not its warnings), so apt_pkg is a fair oracle."""
    if not v or " " in v or "\t" in v:
        return False
    if ":" in v:
        e, rest = v.split(":", 1)
        if not e.isdigit() or int(e) > 2**31 - 1 or not rest:
            return False
        v = rest
    if "-" in v:
        up, rev = v.rsplit("-", 1)
        if not rev:
            return False
        v = up
    return bool(v)

def dpkg_gen():
    v = R.choice(DIG) + body(R.randrange(0, 10), ".+~:^-")
    if ":" in v or R.random() < 0.3:
        v = f"{R.choice([0, 1, 2, 10, 2147483647])}:{v}"
    if R.random() < 0.5:
        v += "-" + body(R.randrange(1, 6), ".+~^")
    return v

def rpm_gen():
    v = body(R.randrange(1, 12), "~^:-.+_")
    if R.random() < 0.3:
        v = f"{R.randrange(0, 12)}:{v}"
    return v

def pypi_gen():
    def cased(s):
        return "".join(c.upper() if R.random() < 0.2 else c for c in s)
    def sep():
        return R.choice(["", "", ".", "-", "_"])
    def num():
        return R.choice(["", str(R.randrange(0, 30)), "0" + str(R.randrange(0, 9))])
    v = R.choice(["", "", "", "v", "V"])
    if R.random() < 0.15:
        v += f"{R.randrange(0, 3)}!"
    v += ".".join(str(R.randrange(0, 12)) for _ in range(R.randrange(1, 5)))
    if R.random() < 0.4:
        v += sep() + cased(R.choice(["a", "alpha", "b", "beta", "c", "rc", "pre", "preview"])) + sep() + num()
    r = R.random()
    if r < 0.15:
        v += "-" + str(R.randrange(0, 9))
    elif r < 0.4:
        v += sep() + cased(R.choice(["post", "rev", "r"])) + sep() + num()
    if R.random() < 0.3:
        v += sep() + cased("dev") + sep() + num()
    if R.random() < 0.2:
        v += "+" + R.choice(["-", ".", "_"]).join(
            body(R.randrange(1, 4), "0") for _ in range(R.randrange(1, 4)))
    if R.random() < 0.05:
        v = R.choice([" ", "\x0b", ""]) + v + R.choice([" ", "\x0c", ""])
    return v

def npm_gen():
    def n():
        r = R.random()
        return "0" + str(R.randrange(0, 9)) if r < 0.03 else str(R.randrange(0, 10**6)) if r < 0.2 else str(R.randrange(0, 12))
    v = R.choice(["", "", "", "v"]) + f"{n()}.{n()}.{n()}"
    if R.random() < 0.5:
        ids = [R.choice(["alpha", "beta", "rc", "0", "1", "2", "10", "x-y", "-", "0a", "Rc", str(R.randrange(0, 100))])
               for _ in range(R.randrange(1, 4))]
        v += "-" + ".".join(ids)
    if R.random() < 0.2:
        v += "+" + ".".join(body(R.randrange(1, 5), "-") for _ in range(R.randrange(1, 3)))
    return v

gens = {
    "dpkg": (dpkg_gen, DIG + LET + ".+~:^-"),
    "rpm": (rpm_gen, DIG + LET + "~^:-.+_"),
    "pypi": (pypi_gen, DIG + "abcdeprvAP.-_+! "),
    "npm": (npm_gen, DIG + "abxAB.-+v "),
}
gen, alphabet = gens[manager]
out = sys.stdout
for _ in range(count):
    while True:
        a = gen()
        b = mutate(a, alphabet) if R.random() < 0.6 else gen()
        if manager != "dpkg" or (dpkg_ok(a) and dpkg_ok(b)):
            break
    assert a and b and not any(c in a + b for c in "\t\n")
    out.write(f"{manager}\t{a}\t{b}\n")
EOF

# ---- oracles: one result per line, -1/0/1 or x ----
cat >"$work/oracle_apt.py" <<'EOF'
import sys, apt_pkg
apt_pkg.init_system()
for line in open(sys.argv[1], encoding="utf-8", newline="\n"):
    _, a, b = line.rstrip("\n").split("\t")
    r = apt_pkg.version_compare(a, b)
    print((r > 0) - (r < 0))
EOF
cat >"$work/oracle_pypi.py" <<'EOF'
import sys
from packaging.version import Version, InvalidVersion
for line in open(sys.argv[1], encoding="utf-8", newline="\n"):
    _, a, b = line[:-1].split("\t")
    try:
        va, vb = Version(a), Version(b)
        print((va > vb) - (va < vb))
    except InvalidVersion:
        print("x")
EOF
cat >"$work/oracle_npm.js" <<'EOF'
const semver = require('semver');
const lines = require('fs').readFileSync(process.argv[2], 'utf8').split('\n');
const out = [];
for (const line of lines) {
  if (!line) continue;
  const [, a, b] = line.split('\t');
  try { out.push(String(semver.compare(a, b))); } catch (e) { out.push('x'); }
}
process.stdout.write(out.join('\n') + '\n');
EOF
cat >"$work/oracle_dpkg.py" <<'EOF'
import subprocess, sys
def run(a, op, b):
    return subprocess.run(["dpkg", "--compare-versions", "--", a, op, b],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
for line in open(sys.argv[1], encoding="utf-8", newline="\n"):
    _, a, b = line.rstrip("\n").split("\t")
    rc = run(a, "lt", b)
    if rc == 0:
        print(-1)
    elif rc == 2:
        print("x")
    else:
        print(1 if run(a, "gt", b) == 0 else 0)
EOF
cat >"$work/hostile.py" <<'EOF'
import random, sys
R = random.Random(int(sys.argv[2]))
alphabet = "0123456789" * 2 + "aZ" + ".+~:^-_ @"
n = 0
while n < int(sys.argv[1]):
    a = "".join(R.choice(alphabet) for _ in range(R.randrange(1, 9)))
    b = "".join(R.choice(alphabet) for _ in range(R.randrange(1, 9)))
    # dpkg reads "" and "<unknown>" as "no version"; never generated here.
    print(f"dpkg\t{a}\t{b}")
    n += 1
EOF

# Compares our results with an oracle's; prints "DISAGREEMENTS REJECTED" and the first examples.
cat >"$work/score.py" <<'EOF'
import sys
pairs = open(sys.argv[1], encoding="utf-8", newline="\n").read().split("\n")[:-1]
ours = open(sys.argv[2]).read().split()
theirs = open(sys.argv[3]).read().split()
assert len(pairs) == len(ours) == len(theirs), (len(pairs), len(ours), len(theirs))
bad, rejected = [], 0
for p, o, t in zip(pairs, ours, theirs):
    if o == "x" and t == "x":
        rejected += 1
    if o != t:
        bad.append((p, o, t))
print(len(bad), rejected)
for p, o, t in bad[:10]:
    print(f"    {p!r}: ours {o}, theirs {t}", file=sys.stderr)
EOF

total=0
report() { # NAME PAIRS-FILE THEIRS-FILE LABEL
	local res
	"$tv" --pairs "$2" >"$work/$1.ours"
	res=$("$py" "$work/score.py" "$2" "$work/$1.ours" "$3")
	set -- "$1" "$2" "$3" "$4" $res
	printf '%-6s %7d pairs vs %-34s %d disagreements (%d rejected by both)\n' \
		"${1%%_*}" "$(wc -l <"$2")" "$4" "$5" "$6"
	total=$((total + $5))
}

start=$(date +%s%N)
echo "P-2 version ordering: $n random pairs per manager, seed $seed"

"$py" "$work/gen.py" dpkg "$n" "$seed" >"$work/dpkg.pairs"
"$py" "$work/oracle_apt.py" "$work/dpkg.pairs" >"$work/dpkg.theirs"
report dpkg "$work/dpkg.pairs" "$work/dpkg.theirs" "apt_pkg.version_compare"

"$py" "$work/hostile.py" 2000 "$seed" >"$work/dpkg_hostile.pairs"
"$py" "$work/oracle_dpkg.py" "$work/dpkg_hostile.pairs" >"$work/dpkg_hostile.theirs"
report dpkg_hostile "$work/dpkg_hostile.pairs" "$work/dpkg_hostile.theirs" "dpkg --compare-versions (hostile)"

"$py" "$work/gen.py" rpm "$n" "$seed" >"$work/rpm.pairs"
: >"$work/rpm.theirs"
split -l 25000 -d "$work/rpm.pairs" "$work/rpm.batch."
batches=0
for f in "$work"/rpm.batch.*; do
	cut -f2,3 "$f" >"$f.ab"
	rpm --eval "%{lua: for line in io.lines('$f.ab') do
		local t = string.find(line, '\\t', 1, true)
		local va, vb = rpm.ver(string.sub(line, 1, t - 1)), rpm.ver(string.sub(line, t + 1))
		local r = 0 if va < vb then r = -1 elseif vb < va then r = 1 end
		io.write(r, '\\n') end }" >>"$work/rpm.theirs"
	batches=$((batches + 1))
done
report rpm "$work/rpm.pairs" "$work/rpm.theirs" "rpm.ver() ($batches rpm runs)"

if "$py" -c 'import packaging' 2>/dev/null; then
	"$py" "$work/gen.py" pypi "$n" "$seed" >"$work/pypi.pairs"
	"$py" "$work/oracle_pypi.py" "$work/pypi.pairs" >"$work/pypi.theirs"
	report pypi "$work/pypi.pairs" "$work/pypi.theirs" \
		"packaging $("$py" -c 'import packaging; print(packaging.__version__)') Version"
else
	echo "pypi   skipped: python3-packaging is not installed"
fi

if NODE_PATH=/usr/share/nodejs node -e 'require("semver")' 2>/dev/null; then
	"$py" "$work/gen.py" npm "$n" "$seed" >"$work/npm.pairs"
	NODE_PATH=/usr/share/nodejs node "$work/oracle_npm.js" "$work/npm.pairs" >"$work/npm.theirs"
	report npm "$work/npm.pairs" "$work/npm.theirs" \
		"node-semver $(NODE_PATH=/usr/share/nodejs node -p 'require("semver/package.json").version') compare"
else
	echo "npm    skipped: node-semver is not installed"
fi

printf 'total: %d disagreements, %d s\n' "$total" $((($(date +%s%N) - start) / 1000000000))
[ "$total" -eq 0 ]
