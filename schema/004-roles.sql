-- SPDX-License-Identifier: MIT
-- envdrift store, version 4: the role of a host within its environment (fleets).

ALTER TABLE snapshots ADD COLUMN role TEXT NOT NULL DEFAULT '';

-- Views gain columns at the end only.
DROP VIEW snapshots_v;
CREATE VIEW snapshots_v AS
  SELECT id, env, host, started_at, finished_at, status, item_count AS items, role
  FROM snapshots;

DROP VIEW latest_v;
CREATE VIEW latest_v AS
  SELECT s.env, s.host, s.id AS snapshot_id, s.role
  FROM snapshots AS s
  WHERE s.status = 'complete'
    AND s.id = (SELECT max(t.id) FROM snapshots AS t
                WHERE t.env = s.env AND t.host = s.host AND t.status = 'complete');
