-- SPDX-License-Identifier: MIT
-- envdrift store, version 8: delta snapshots. An incremental collection that finds little
-- changed stores only what differs from a full snapshot of the same host, its base, instead
-- of rewriting every item.

-- NULL: a full snapshot, whose items are its own rows. Otherwise the id of a full snapshot
-- (base_id NULL) of the same env and host: the snapshot's items are its base's, each
-- replaced by a row of its own with the same kind and key, less the keys it removes with a
-- tombstone. A base is never a delta itself, so an item is at most two lookups away.
ALTER TABLE snapshots ADD COLUMN base_id INTEGER REFERENCES snapshots (id);

-- What was asked for (profile, paths, source, envdrift version), as a digest: a delta is
-- written only on a previous snapshot collected the same way. NULL: not a collection.
ALTER TABLE snapshots ADD COLUMN collect_sig TEXT;

-- A tombstone is a row whose state is the single byte X'FF' (a real state has 16 bytes):
-- the key is not an item of the snapshot. Its fingerprint is X'' and its other columns NULL.

-- items_v resolves a delta snapshot's items, so sqlite3 users see every snapshot whole.
-- Views gain columns at the end only: the file metadata and the rest follow value.
DROP VIEW items_v;
CREATE VIEW items_v AS
  SELECT s.id AS snapshot_id, s.env, s.host, i.kind, i.key,
         lower(hex(i.fingerprint)) AS fingerprint, i.value,
         i.ftype, i.mode, i.owner, i.grp, i.target, i.size, i.mtime_ns, i.ctime_ns, i.ino,
         i.dev, i.error, i.attrs
  FROM snapshots AS s JOIN items AS i ON i.snapshot_id IN (s.id, s.base_id)
  WHERE i.state IS NOT X'FF'
    AND (i.snapshot_id = s.id
         OR NOT EXISTS (SELECT 1 FROM items AS d
                        WHERE d.snapshot_id = s.id AND d.kind = i.kind AND d.key = i.key));
