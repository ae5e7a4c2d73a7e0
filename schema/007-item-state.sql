-- SPDX-License-Identifier: MIT
-- envdrift store, version 7: items.state, what the differ compares about an item, in 16
-- bytes, right after the key, so that a diff reads three columns at the head of each row
-- instead of eleven.
--
-- state: byte 0 holds flags (1 = a secret, 2 = holds a value to share, 4 = could not be
-- read); bytes 1-15 a digest of fingerprint, ftype, mode, owner, grp, target and error. Two
-- items with the same kind, key and state do not drift; NULL (a row written by hand) means
-- "compare the columns". ed_item_state() exists only inside envdrift, while it migrates.
--
-- The table is rebuilt (SQLite appends added columns at the end of every row); items_v,
-- the only view over it, is made again unchanged.
DROP VIEW items_v;
CREATE TABLE items_new (
  snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,             -- file, config, package, schema, system
  key         TEXT NOT NULL,
  state       BLOB,                      -- 16 bytes: what the differ compares (above)
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
INSERT INTO items_new
  SELECT snapshot_id, kind, key,
         ed_item_state(fingerprint, ftype, mode, owner, grp, target, error, attrs, size),
         fingerprint, value, ftype, mode, owner, grp, target, size, mtime_ns, ctime_ns, ino, dev,
         error, attrs
  FROM items ORDER BY snapshot_id, kind, key;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
CREATE VIEW items_v AS
  SELECT i.snapshot_id, s.env, s.host, i.kind, i.key,
         lower(hex(i.fingerprint)) AS fingerprint, i.value
  FROM items AS i JOIN snapshots AS s ON s.id = i.snapshot_id;
