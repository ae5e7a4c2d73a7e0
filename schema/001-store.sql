-- SPDX-License-Identifier: MIT
-- envdrift store, version 1: snapshots and their items.
-- Tables may change between versions; the views (002 on) are the stable surface.

PRAGMA application_id = 1162105393; -- 'EDr1': marks the file as an envdrift store

CREATE TABLE snapshots (
  id             INTEGER PRIMARY KEY,
  env            TEXT NOT NULL,
  host           TEXT NOT NULL,
  started_at     TEXT NOT NULL,          -- ISO 8601 UTC
  finished_at    TEXT,                   -- set when the status leaves 'running'
  status         TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed', 'abandoned')),
  item_count     INTEGER NOT NULL DEFAULT 0,
  root           TEXT,                   -- --root of a local collection, if any
  collector_host TEXT,                   -- machine that ran the collection
  collector_pid  INTEGER                 -- its process, to spot abandoned 'running' rows
);
CREATE INDEX snapshots_by_env ON snapshots (env, host, status, id);

-- One row per (snapshot, kind, key). The primary key is the order the differ
-- reads both sides in: a merge of two cursors, no sort, no join.
CREATE TABLE items (
  snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,             -- file, config, package, schema
  key         TEXT NOT NULL,
  fingerprint BLOB NOT NULL,             -- 16 bytes: XXH3-128, or HMAC-SHA256/128 for secrets
  value       TEXT,                      -- version, config value, definition, file summary
  ftype       TEXT,                      -- file items: file, dir, symlink, fifo, socket, char, block
  mode        INTEGER,                   -- file items: permission bits
  owner       TEXT,
  grp         TEXT,
  target      TEXT,                      -- symlink target
  size        INTEGER,
  mtime_ns    INTEGER,                   -- recorded, never compared
  ctime_ns    INTEGER,
  ino         INTEGER,
  dev         INTEGER,
  error       TEXT,                      -- why the item could not be read fully
  attrs       TEXT,                      -- extra attributes, a JSON object
  PRIMARY KEY (snapshot_id, kind, key)
) WITHOUT ROWID;
