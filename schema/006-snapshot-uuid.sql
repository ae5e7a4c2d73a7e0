-- SPDX-License-Identifier: MIT
-- envdrift store, version 6: the id of the snapshot document (push mode) a snapshot came
-- from, or was first exported as, so ingesting the same document again is recognised.

-- A UUID in its 36-character text form, lower case; NULL for a snapshot collected into the
-- store directly and never exported. Set in the same transaction that completes the snapshot.
ALTER TABLE snapshots ADD COLUMN uuid TEXT;
CREATE UNIQUE INDEX snapshots_by_uuid ON snapshots (uuid) WHERE uuid IS NOT NULL;

-- Views gain columns at the end only.
DROP VIEW snapshots_v;
CREATE VIEW snapshots_v AS
  SELECT id, env, host, started_at, finished_at, status, item_count AS items, role, uuid
  FROM snapshots;
