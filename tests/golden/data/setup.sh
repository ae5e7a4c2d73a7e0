#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The golden "data" case (issue 15): one SQLite database a side, generated
# deterministically, whose data shapes differ: staging holds 1/50 of the
# customers, a phone column that is mostly NULL, a status column with more
# values, and an audit table the policy ignores. Run by golden.sh as:
# setup.sh PRODUCTION_ROOT STAGING_ROOT
set -eu
P=$1 S=$2
mkdir -p "$P/etc" "$S/etc" "$P/var/lib/shop" "$S/var/lib/shop"
# db FILE CUSTOMERS PHONE_NULL_PERCENT STATUSES AUDIT_ROWS
db() {
	sqlite3 "$1" <<SQL
CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT NOT NULL, phone TEXT, status TEXT NOT NULL);
CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE empty (id INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO customer SELECT i, 'user' || i || '@example.com',
	CASE WHEN i % 100 < $3 THEN NULL ELSE '+1555' || printf('%07d', i) END,
	'status' || (i % $4) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $5)
INSERT INTO audit_log SELECT i, 1700000000 + i FROM n;
SQL
}
db "$P/var/lib/shop/shop.db" 5000 2 3 4000
db "$S/var/lib/shop/shop.db" 100 90 12 3
