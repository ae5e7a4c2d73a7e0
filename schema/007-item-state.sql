-- SPDX-License-Identifier: MIT
-- envdrift store, version 7: items.state, what the differ compares about an item, in 16
-- bytes, so that a diff reads three columns per item instead of eleven.

-- Byte 0: flags (1 = a secret, 2 = holds a value to share, 4 = could not be read).
-- Bytes 1-15: a digest of fingerprint, ftype, mode, owner, grp, target and error. Two items
-- with the same kind, key and state do not drift; NULL (a row written by hand) means
-- "compare the columns". ed_item_state() exists only inside envdrift, while it migrates.
ALTER TABLE items ADD COLUMN state BLOB;
UPDATE items SET state = ed_item_state(fingerprint, ftype, mode, owner, grp, target, error,
                                       attrs, size);
