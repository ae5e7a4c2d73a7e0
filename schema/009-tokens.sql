-- SPDX-License-Identifier: MIT
-- envdrift store, version 9: the tokens of 'envdrift serve' (envdrift token add/list/revoke).
-- A token itself is never stored: only its HMAC-SHA256 with the store's key (the key file
-- beside the store), truncated to 16 bytes, so a copy of the store lets no one in.

CREATE TABLE tokens (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  role       TEXT NOT NULL CHECK (role IN ('read', 'push', 'admin')),
  envs       TEXT,                     -- a JSON array of the environments it may push; NULL: any
  mac        BLOB NOT NULL,            -- HMAC-SHA256(store key, token), 16 bytes
  created_at TEXT NOT NULL,            -- ISO 8601 UTC
  revoked_at TEXT                      -- set by 'token revoke': refused from then on
);
