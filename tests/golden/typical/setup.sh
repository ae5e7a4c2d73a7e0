#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Adds to the copied trees what files in git cannot hold: modes, symlinks,
# SQLite databases. Run by golden.sh as: setup.sh PRODUCTION_ROOT STAGING_ROOT
set -eu
P=$1 S=$2
chmod 755 "$P/etc/app/run.sh"
chmod 644 "$S/etc/app/run.sh"
ln -s releases/v41 "$P/etc/app/current"
ln -s releases/v42 "$S/etc/app/current"
ln -s /usr/share/zoneinfo/Europe/Paris "$P/etc/localtime"
ln -s /usr/share/zoneinfo/Europe/Paris "$S/etc/localtime"
mkdir -p "$P/var/lib/app" "$S/var/lib/app"
sqlite3 "$P/var/lib/app/app.db" <<'SQL'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), total REAL);
CREATE INDEX orders_user ON orders (user_id);
SQL
sqlite3 "$S/var/lib/app/app.db" <<'SQL'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, created_at TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), total REAL);
CREATE UNIQUE INDEX users_email ON users (email);
SQL
