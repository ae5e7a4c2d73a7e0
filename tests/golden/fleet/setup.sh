#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fleet's hosts, under WORK_DIR/hosts/HOST. Run as setup.sh PRODUCTION STAGING WORK_DIR.
set -eu
H=$3/hosts
for h in web-1 web-2 web-3 db-1 web-a web-b cache-1; do
	mkdir -p "$H/$h/etc/app"
	printf 'workers = 4\n' >"$H/$h/etc/app/app.conf"
	printf 'listen 80;\n' >"$H/$h/etc/app/nginx.conf"
done
printf 'workers = 8\n' >"$H/web-2/etc/app/app.conf"       # production's snowflake
printf 'debug = yes\n' >"$H/web-2/etc/app/extra.conf"      # only on the snowflake
printf 'listen 8080;\n' >"$H/web-a/etc/app/nginx.conf"     # staging's web role drifts,
printf 'listen 8080;\n' >"$H/web-b/etc/app/nginx.conf"     # on both of its hosts
printf 'maxmemory 2gb\n' >"$H/cache-1/etc/app/cache.conf"  # a role staging alone has
