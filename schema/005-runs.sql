-- SPDX-License-Identifier: MIT
-- envdrift store, version 5: drift runs recorded by `report` and `gate --record`,
-- so the store can answer "since when has this drifted?".

CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  at            TEXT NOT NULL,            -- ISO 8601 UTC
  command       TEXT NOT NULL,            -- 'gate' or 'report'
  reference_env TEXT NOT NULL,
  candidate_env TEXT NOT NULL,
  reference_snapshots TEXT NOT NULL,      -- JSON array of snapshot ids
  candidate_snapshots TEXT NOT NULL,
  added         INTEGER NOT NULL,
  removed       INTEGER NOT NULL,
  changed       INTEGER NOT NULL,
  ignored       INTEGER NOT NULL,
  blocking      INTEGER NOT NULL,
  policy        TEXT                      -- the policy file, NULL for the built-in one
);
CREATE INDEX runs_by_pair ON runs (reference_env, candidate_env, id);

CREATE TABLE run_drift (
  run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  role     TEXT NOT NULL DEFAULT '',
  kind     TEXT NOT NULL,
  key      TEXT NOT NULL,
  change   TEXT NOT NULL,                 -- added, removed, changed
  severity TEXT NOT NULL,                 -- block, warn, info
  ignored  INTEGER NOT NULL,              -- 1: an expected difference
  since    TEXT NOT NULL,                 -- first run of the unbroken streak that includes this one
  PRIMARY KEY (run_id, role, kind, key)
) WITHOUT ROWID;

CREATE VIEW runs_v AS
  SELECT id, at, command, reference_env, candidate_env, added, removed, changed, ignored,
         blocking
  FROM runs;

CREATE VIEW drift_v AS
  SELECT r.id AS run_id, r.at, r.command, r.reference_env, r.candidate_env, d.role, d.kind,
         d.key, d.change, d.severity, d.ignored, d.since
  FROM run_drift AS d JOIN runs AS r ON r.id = d.run_id;
