-- SPDX-License-Identifier: MIT
-- envdrift store, version 3: kept content of text files, once per distinct fingerprint.

-- The text of files a profile keeps (secrets already replaced by a marker),
-- so reports can show a unified diff. Keyed by the file item's fingerprint.
-- encoding 'none' (data empty) records content that was considered and not
-- kept: binary, over the size cap, or holding a secret that could not be located.
CREATE TABLE contents (
  fingerprint BLOB PRIMARY KEY,          -- the file item's fingerprint
  size        INTEGER NOT NULL,          -- bytes of the kept text (0 for 'none')
  encoding    TEXT NOT NULL CHECK (encoding IN ('zlib', 'none')),
  data        BLOB NOT NULL
) WITHOUT ROWID;
