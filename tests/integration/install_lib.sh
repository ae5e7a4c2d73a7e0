# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The checks of an installed envdrift, shared by install.sh (a DESTDIR 'meson
# install' of this build) and package.sh (the .deb, unpacked): source after lib.sh.
#
# check_tree ROOT PREFIX UNITDIR: ROOT holds the files as installed under
# PREFIX (/usr/local, /usr), the units under UNITDIR.

# The text of each man page as 'man --warnings' rendered it in 80 columns, by page.
declare -A MAN_TEXT

check_tree() {
	local root=$1 prefix=$2 unitdir=$3 bin page cmd o f missing
	bin=$root$prefix/bin/envdrift
	local mandir=$root$prefix/share/man
	ok "the binary is installed as $prefix/bin/envdrift" test -x "$bin"
	run "$bin" --version
	exits 0 "the installed binary's --version exits 0"
	like "$(head -1 <<<"$OUT")" '^envdrift [0-9]+\.[0-9]+\.[0-9]+$' "  its first line is 'envdrift VERSION'"
	is "$(sed -n 2p <<<"$OUT")" "formats: envdrift.snapshot/1 envdrift.diff/1" "  its second line names the formats"

	# --- man pages: one per command and format, each renders without a warning ---
	local pages=(man1/envdrift.1 man5/envdrift-profile.5 man5/envdrift-policy.5
		man5/envdrift-snapshot.5 man5/envdrift-inventory.5)
	local commands
	commands=$("$bin" complete | grep -vx help)
	for cmd in $commands; do pages+=("man1/envdrift-$cmd.1"); done
	missing=""
	for page in "${pages[@]}"; do
		f=$(ls "$mandir/$page" "$mandir/$page.gz" 2>/dev/null | head -1)
		[ -n "$f" ] || { missing="$missing $page"; continue; }
		run env MANWIDTH=80 man --warnings -l "$f"
		MAN_TEXT[$page]=$OUT
		[ "$RC" = 0 ] && [ -z "$ERR" ] && [ -n "$OUT" ] || missing="$missing $page(rc $RC: $(head -c 300 <<<"$ERR"))"
	done
	is "$missing" "" "${#pages[@]} man pages (envdrift(1), a page per command, 4 formats) installed and rendered by 'man --warnings' in 80 columns without a warning"

	# --- every option that --help lists is in the man page of its command ---
	local main_text
	main_text=${MAN_TEXT[man1/envdrift.1]:-}
	# options(TEXT): the long options TEXT names, sorted.
	options() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
	missing=""
	for cmd in $commands; do
		missing+=$(comm -23 <("$bin" "$cmd" --help | grep -E '^  (-[a-zA-Z], )?--[a-z]' | options) \
			<(options <<<"${MAN_TEXT[man1/envdrift-$cmd.1]:-}") | sed "s/^/ $cmd:/" | tr -d '\n')
	done
	missing+=$(comm -23 <("$bin" --help | grep -E '^  --[a-z]' | options) <(options <<<"$main_text") |
		sed 's/^/ envdrift:/' | tr -d '\n')
	is "$missing" "" "every option of every command's --help is in its man page"
	local n_help
	n_help=$(for cmd in $commands; do "$bin" "$cmd" --help; done | grep -cE '^  (-[a-zA-Z], )?--[a-z]')
	ok "  ($n_help option lines checked)" test "$n_help" -gt 50
	missing=""
	for cmd in $commands; do
		grep -qF "envdrift-$cmd(1)" <<<"$main_text" || missing="$missing $cmd"
	done
	is "$missing" "" "envdrift(1) names the page of every command"

	# --- the bash completion ---
	local comp=$root$prefix/share/bash-completion/completions/envdrift
	ok "the bash completion is installed" test -f "$comp"
	ok "  bash -n accepts it" bash -n "$comp"

	# --- the units: systemd-analyze verify, and the binary's installed path ---
	local units=("$root$unitdir"/envdrift-*)
	is "${#units[@]}" 6 "6 systemd units installed in $unitdir"
	is "$(grep -ho '/[^ ]*bin/envdrift\b' "${units[@]}" | sort -u)" \
		"$prefix/bin/envdrift" "  every unit runs $prefix/bin/envdrift, where the binary is installed"
	if command -v systemd-analyze >/dev/null; then
		# This machine has no envdrift at $prefix/bin: the copies run the installed one.
		mkdir -p "$TMP/verify"
		for f in "${units[@]}"; do
			sed "s#$prefix/bin/envdrift#$bin#g" "$f" >"$TMP/verify/$(basename "$f")"
		done
		# MANPATH: the man pages their Documentation= names are the installed ones.
		run env MANPATH="$mandir" systemd-analyze verify "$TMP"/verify/envdrift-*.service \
			"$TMP"/verify/envdrift-*.timer
		exits 0 "  systemd-analyze verify: every installed unit and timer (and the man pages they name)"
		is "$ERR" "" "  and it says nothing about them"
	else
		skip "systemd-analyze verify" "systemd-analyze not installed"
		skip "systemd-analyze verify: silence" "systemd-analyze not installed"
	fi

	# --- data and samples ---
	for f in share/envdrift/profiles/default.ini share/envdrift/profiles/example.ini \
		share/envdrift/policies/default.ini share/envdrift/policies/example.ini; do
		ok "$prefix/$f is installed" test -s "$root$prefix/$f"
	done
	local etc=$root$prefix/etc
	[ "$prefix" = /usr ] && etc=$root/etc
	run "$bin" policy check "$etc/envdrift/policy.ini"
	is "$RC" 0 "the sample policy.ini is installed and valid (policy check)"
	like "$OUT" "valid: " "  policy check says so"
	mkdir -p "$TMP/sample-root/etc"
	run "$bin" --db "$TMP/sample.db" init
	run "$bin" --db "$TMP/sample.db" collect --env sample --root "$TMP/sample-root" \
		--profile "$etc/envdrift/profile.ini" --packages none
	exits 0 "the sample profile.ini is installed and collects"
	ok "the settings of the units are installed as /etc/default/envdrift" test -s "$etc/default/envdrift"
}
