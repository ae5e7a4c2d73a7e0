/* SPDX-License-Identifier: MIT */
/*
 * Agent mode (collect --ssh --remote): what travels over the standard input
 * of the envdrift run on the host, and where that envdrift keeps its state.
 * Private to cmd/.
 *
 * The framing (docs/inventory.md, AGENT MODE): with `--key -`, the first
 * line is the store's key as 64 lower-case hex digits and a "\n"; with
 * `--profile -`, the rest of standard input, to its end, is the profile's
 * text. Nothing else: the key is read into memory, never written anywhere,
 * and wiped once the collection is over.
 */
#ifndef ED_CMD_AGENT_H
#define ED_CMD_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/hash.h"

/* The largest profile sent or read this way (as collect reads a --profile file). */
#define AGENT_PROFILE_MAX (4u * 1024 * 1024)

/*
 * The framing of key (when not NULL) and profile (when not NULL) into *out,
 * malloc'd at its exact size (never reallocated, so no stray copy of the
 * key is left in freed memory), *len bytes. Returns 0, or -1 out of memory.
 * The caller wipes (explicit_bzero) and frees *out.
 */
int agent_frame(const uint8_t *key, const struct ed_str *profile, char **out, size_t *len);

/*
 * Reads standard input as framed above: the key into key when want_key,
 * then the profile's text into profile when want_profile. Errors name
 * standard input and what is wrong (ED_PARSE), ED_TOOBIG past
 * AGENT_PROFILE_MAX, ED_IO. Every copy of the key read is wiped.
 */
enum ed_code agent_stdin_read(bool want_key, uint8_t key[ED_KEY_LEN], bool want_profile,
			      struct ed_buf *profile, struct ed_err *err);

/*
 * The default --state file (`--state auto`) of env/host collected for the
 * store whose key is key, into out: /var/lib/envdrift/state/ when root,
 * else $XDG_CACHE_HOME/envdrift/ (default ~/.cache/envdrift/), created mode
 * 0700; the file is named by a keyed digest of env and host, so each store
 * (each key) and each host name keeps its own, and the name tells nothing.
 * ED_IO naming the folder when it cannot be made.
 */
enum ed_code agent_state_path(const char *env, const char *host, const uint8_t key[ED_KEY_LEN],
			      struct ed_buf *out, struct ed_err *err);

#endif
