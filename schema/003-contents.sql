-- SPDX-License-Identifier: MIT
-- envdrift store, version 3: kept content of text files, once per distinct fingerprint.

-- The text of files a profile keeps (secrets already replaced by a marker),
-- so reports can show a unified diff. Keyed by the file item's fingerprint.
CREATE TABLE contents (
  fingerprint BLOB PRIMARY KEY,          -- the file item's fingerprint
  size        INTEGER NOT NULL,          -- bytes before compression
  encoding    TEXT NOT NULL CHECK (encoding IN ('zlib')),
  data        BLOB NOT NULL
) WITHOUT ROWID;
