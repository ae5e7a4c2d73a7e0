-- SPDX-License-Identifier: MIT
-- envdrift store, version 11: the digest of the document a snapshot was ingested from
-- (XXH3-128 of its items, warnings and kept contents' fingerprints, in document order;
-- NULL for a local collection and for snapshots stored before this version). When a host's
-- next document has the same digest, nothing of it changed: ingest stores it as its
-- previous snapshot again (a delta on the same base, the previous delta's own rows and
-- warnings copied) without comparing one item.

ALTER TABLE snapshots ADD COLUMN doc_digest BLOB;
