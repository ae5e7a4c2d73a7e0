-- SPDX-License-Identifier: MIT
-- envdrift store, version 10: the verdicts 'envdrift serve' shows on its overview and in
-- /metrics, kept so that a page view or a scrape never runs a diff, across restarts too.
-- A row is valid for exactly one basis: the snapshot ids of both sides, the last recorded run
-- of the pair and the policy's digest. A new snapshot, run or policy is a new basis, so a row
-- is never stale; the server keeps the newest few per pair and deletes the rest.
-- This table is a cache, not a contract: query runs_v and drift_v for verdicts of record.

CREATE TABLE verdict_cache (
  ref         TEXT NOT NULL,              -- the pair as the overview names it (an env or @ID)
  cand        TEXT NOT NULL,
  basis       TEXT NOT NULL,              -- 'REF_IDS|CAND_IDS|run:RUN_ID|POLICY_SHA256'
  state       TEXT NOT NULL CHECK (state IN ('pass', 'fail', 'cannot-vouch')),
  reason      TEXT NOT NULL DEFAULT '',   -- why it cannot vouch
  compared    INTEGER NOT NULL,           -- 1: both sides were compared, the counts are theirs
  drift       INTEGER NOT NULL,
  blocking    INTEGER NOT NULL,
  warnings    INTEGER NOT NULL,
  infos       INTEGER NOT NULL,
  ignored     INTEGER NOT NULL,
  computed_at TEXT NOT NULL,              -- ISO 8601 UTC
  PRIMARY KEY (ref, cand, basis)
) WITHOUT ROWID;
