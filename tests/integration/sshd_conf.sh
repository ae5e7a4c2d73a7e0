# SPDX-License-Identifier: MIT
# Sourced by the SSH tests and bench/fleet.sh: the configuration of a test sshd.
#
# sshd_conf PORT DIR NAME [LINE...]: an sshd_config, on stdout, for a server on
# 127.0.0.1:PORT with host key DIR/host, its users' keys in DIR/authorized_keys
# and its pid in DIR/NAME.pid; each LINE is added as it is.
sshd_conf() {
	local port=$1 dir=$2 name=$3
	shift 3
	cat <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/$name.pid
StrictModes no
UsePAM no
PasswordAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
MaxStartups 100
CONF
	[ $# = 0 ] || printf '%s\n' "$@"
}
