#!/bin/sh
# Starts the shop service, or runs one maintenance task: run.sh [serve|backup]
set -eu
. /etc/app/app.conf
case "${1:-serve}" in
	serve)  exec /opt/app/bin/shop --config "$APP_CONFIG" ;;
	backup) exec sqlite3 "$APP_DB" ".backup '$APP_DATA/backup/app-$(date +%F).db'" ;;
	*)      echo "usage: $0 [serve|backup]" >&2; exit 2 ;;
esac
