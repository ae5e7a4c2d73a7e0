/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the snapshot document reader (parse, validate, replay into a
 * sink), read twice: with its fast path for plain items, and with jansson
 * alone. Both must agree on the verdict, the message and every byte handed
 * out (a difference aborts, which fails the corpus replay too).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/snapdoc.h"
#include "../../common/snapdoc_codec.h" /* the switch of the fast path */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rec_str(struct ed_buf *b, const char *s, size_t len)
{
	if (!s) {
		ed_buf_adds(b, "|-");
		return;
	}
	ed_buf_addf(b, "|%zu:", len);
	ed_buf_add(b, s, len);
}

static enum ed_code sink_emit(struct ed_sink *s, const struct ed_item *it, struct ed_err *e)
{
	struct ed_buf *b = s->ctx;
	(void)e;
	ed_buf_addf(b, "\nitem %s", it->kind);
	rec_str(b, it->key, it->key_len);
	ed_buf_add(b, (const char *)it->fp.b, sizeof(it->fp.b));
	const char *strs[] = {it->value, it->attrs, it->error, it->owner, it->group, it->target};
	for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
		rec_str(b, strs[k], strs[k] ? strlen(strs[k]) : 0);
	ed_buf_addf(b, "|%d|%o|%lld|%lld|%lld|%llu|%llu", (int)it->ftype, it->mode,
		    (long long)it->size, (long long)it->mtime_ns, (long long)it->ctime_ns,
		    (unsigned long long)it->ino, (unsigned long long)it->dev);
	return ED_OK;
}

static void sink_warn(struct ed_sink *s, const char *msg)
{
	struct ed_buf *b = s->ctx;
	ed_buf_adds(b, "\nwarning");
	rec_str(b, msg, strlen(msg));
}

static enum ed_code sink_content(struct ed_sink *s, const struct ed_fp *fp, const char *data,
				 size_t len, struct ed_err *e)
{
	struct ed_buf *b = s->ctx;
	(void)e;
	ed_buf_adds(b, "\ncontent");
	ed_buf_add(b, (const char *)fp->b, sizeof(fp->b));
	rec_str(b, data, len);
	return ED_OK;
}

/* The verdict, the message and everything replayed, as one text. */
static void read_doc(const uint8_t *data, size_t size, struct ed_buf *out)
{
	struct ed_sink sink = {.emit = sink_emit, .warn = sink_warn, .content = sink_content,
			       .ctx = out};
	struct ed_snapdoc *d = NULL;
	struct ed_err err = {0};
	enum ed_code rc = ed_snapdoc_parse((const char *)data, size, "fuzz.json", &d, &err);
	ed_buf_addf(out, "parse %d %s", (int)rc, rc ? err.msg : "");
	if (rc == ED_OK) {
		rc = ed_snapdoc_replay(d, &sink, &err);
		ed_buf_addf(out, "\nreplay %d %s", (int)rc, rc ? err.msg : "");
		ed_snapdoc_free(d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ed_buf fast = ED_BUF_INIT, slow = ED_BUF_INIT;
	read_doc(data, size, &fast);
	ed_snapdoc_fast_off = true;
	read_doc(data, size, &slow);
	ed_snapdoc_fast_off = false;
	/* Out of memory may strike one reading and not the other: only compare whole texts. */
	if (fast.p && slow.p && (fast.len != slow.len || memcmp(fast.p, slow.p, fast.len) != 0)) {
		fprintf(stderr, "the fast path and jansson disagree:\n--- fast\n%s\n--- jansson\n%s\n",
			fast.p, slow.p);
		abort();
	}
	ed_buf_release(&fast);
	ed_buf_release(&slow);
	return 0;
}
