-- SPDX-License-Identifier: MIT
-- envdrift store, version 2: warnings kept with their snapshot, and the stable views.

ALTER TABLE snapshots ADD COLUMN warning_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE warnings (
  snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  message     TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, seq)
) WITHOUT ROWID;

-- Stable views: columns are only ever added, never renamed or removed.
CREATE VIEW snapshots_v AS
  SELECT id, env, host, started_at, finished_at, status, item_count AS items
  FROM snapshots;

CREATE VIEW latest_v AS
  SELECT env, host, max(id) AS snapshot_id
  FROM snapshots
  WHERE status = 'complete'
  GROUP BY env, host;

CREATE VIEW items_v AS
  SELECT i.snapshot_id, s.env, s.host, i.kind, i.key,
         lower(hex(i.fingerprint)) AS fingerprint, i.value
  FROM items AS i JOIN snapshots AS s ON s.id = i.snapshot_id;
