#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile names and content that git cannot hold: a newline, a <script>, an
# invalid UTF-8 byte, '|', a backtick, an ANSI escape, a right-to-left
# override, ']]>', Markdown and SARIF specials. Every report must show them
# inert and stay well-formed. Run as setup.sh PRODUCTION STAGING.
set -eu
P=$1 S=$2
mkdir -p "$P/etc/odd" "$S/etc/odd"

# Only in staging: one file per hostile name.
mkdir -p "$S/etc/odd/<script>alert(1)<"
: >"$S/etc/odd/<script>alert(1)</script>.conf"
: >"$S/etc/odd/new
line.conf"
: >"$S/etc/odd/caf"$'\xe9'"-"$'\xff'".conf"
: >"$S/etc/odd/pipe|in|name.conf"
: >"$S/etc/odd/tick\`s.conf"
: >"$S/etc/odd/"$'\x1b'"[31mred.conf"
: >"$S/etc/odd/evil"$'\xe2\x80\xae'"fdp.conf"
: >"$S/etc/odd/]]>&amp;\"q'.conf"
: >"$S/etc/odd/*b*_i_[l](j)~~s~~\$x\$@admin#1.conf"

# In both, different: a kept text whose lines are hostile too.
printf 'title = ok\nbody = </pre></td><script>alert(1)</script>\ntab\tseparated\nesc = \033[31mred\033[0m\nsame = 1\n' \
	>"$P/etc/odd/page.conf"
printf 'title = changed | `x` *y*\nbody = <img src=x onerror=alert(1)>\ntab\tseparated\nesc = \033[32mgreen\033[0m\nbad = \xff\xfe\r\nsame = 1' \
	>"$S/etc/odd/page.conf"

# A JSON config whose keys and values are hostile: config drift with values shown.
printf '{"a|b": "<script>alert(1)</script>", "m`d": "*b* $x$ @admin", "new\\nline": 1}\n' \
	>"$P/etc/odd/app.json"
printf '{"a|b": "</td></tr><b>x</b>", "m`d": "_i_ [l](j) ~~s~~", "new\\nline": 2}\n' \
	>"$S/etc/odd/app.json"
