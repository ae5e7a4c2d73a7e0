# SPDX-License-Identifier: MIT
# bash completion for envdrift: commands, options, their listed values (--format, --role,
# --packages), environment names read from the store, files where a file is expected.
# Everything is asked of the binary, so the completion and the binary never disagree:
#   envdrift complete              the commands
#   envdrift CMD --complete        the command's verbs and options (cmd/opt.c)
#   envdrift [--db S] complete envs   the environments of the store

_envdrift_envs() {
	local db=$1
	"$_envdrift_bin" ${db:+--db "$db"} complete envs 2>/dev/null | LC_ALL=C sort -u
}

_envdrift() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local _envdrift_bin=${COMP_WORDS[0]} db="" cmd="" i w
	local -a args=()
	COMPREPLY=()
	# --name=value: complete the value of --name.
	if [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == --db ]]; then
			db=${COMP_WORDS[i + 1]}
			((i++))
		elif [[ $w == --db=* ]]; then
			db=${w#--db=}
		elif [[ -z $cmd && $w != -* ]]; then
			cmd=$w
		elif [[ -n $cmd && $w != -* ]]; then
			args+=("$w")
		fi
	done
	# A value that --db or a command's option expects.
	if [[ $prev == --db ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--db --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$("$_envdrift_bin" complete 2>/dev/null)" -- "$cur"))
		fi
		return
	fi
	if [[ $cmd == help ]]; then
		((${#args[@]} == 0)) &&
			COMPREPLY=($(compgen -W "$("$_envdrift_bin" complete 2>/dev/null)" -- "$cur"))
		return
	fi
	local spec kind name arg values verbs="" opts="" line
	spec=$("$_envdrift_bin" "$cmd" --complete 2>/dev/null) || return
	while IFS=$'\t' read -r kind name arg values; do
		case $kind in
		verb) verbs+=" $name" ;;
		option)
			opts+=" $name"
			if [[ $prev == "$name" && -n $arg ]]; then
				if [[ -n $values ]]; then
					COMPREPLY=($(compgen -W "$values" -- "$cur"))
				elif [[ $arg == ENV ]]; then
					COMPREPLY=($(compgen -W "$(_envdrift_envs "$db")" -- "$cur"))
				elif [[ $arg == DIR ]]; then
					COMPREPLY=($(compgen -d -- "$cur"))
				elif [[ $arg == *FILE* || $arg == PATH || $arg == STORE || $arg == P ]]; then
					COMPREPLY=($(compgen -f -- "$cur"))
				fi
				return
			fi
			;;
		esac
	done <<<"$spec"
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	if [[ -n $verbs ]] && ((${#args[@]} == 0)); then
		COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		return
	fi
	case $cmd in
	diff | export)
		COMPREPLY=($(compgen -W "$(_envdrift_envs "$db")" -- "$cur")) ;;
	*)
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}
complete -o filenames -F _envdrift envdrift
