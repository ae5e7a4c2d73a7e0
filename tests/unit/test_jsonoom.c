/* SPDX-License-Identifier: MIT */
/*
 * A document read with every one of its allocations failing in turn, one at
 * a time: jansson 2.14's reader wrote past a string it had allocated when an
 * allocation failed in the middle of that string (common/snapdoc_codec.c's
 * reserve is the answer). Each read ends with the document whole or with
 * ED_NOMEM, never a crash. The allocator is this program's own malloc, over
 * glibc's, so the sanitizers' builds skip it (theirs is the allocator).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ed/buf.h"
#include "ed/snapdoc.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
int main(void)
{
	printf("1..0 # SKIP AddressSanitizer's allocator cannot be replaced\n");
	return 0;
}
#else

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static long countdown = -1; /* allocations to let through before one fails; -1: none fails */
static bool failed;         /* the armed failure happened */

static bool fail_now(void)
{
	if (countdown < 0)
		return false;
	if (countdown-- > 0)
		return false;
	failed = true;
	errno = ENOMEM;
	return true;
}

void *malloc(size_t n)
{
	return fail_now() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

int main(void)
{
	ed_snapdoc_global_init();
	/*
	 * Items the fast path leaves to jansson: strings with escapes, long
	 * enough that the lexer grows the text it saves many times.
	 */
	struct ed_buf doc = ED_BUF_INIT;
	ed_buf_adds(&doc, "{\"format\":\"envdrift.snapshot/1\","
			  "\"id\":\"6f1d2b8e-55a4-4c1e-9d0b-3a2f4e5d6c7b\",\"env\":\"production\","
			  "\"host\":\"web1\",\"started_at\":\"2026-01-01T00:00:00Z\","
			  "\"finished_at\":\"2026-01-01T00:00:01Z\","
			  "\"collector\":{\"version\":\"t\",\"host\":\"t\",\"root\":\"/\"},\"items\":[");
	for (int i = 0; i < 3; i++) {
		ed_buf_addf(&doc, "%s{\"kind\":\"config\",\"key\":\"/etc/app.conf#/k%d\",\"fingerprint\":"
				  "\"%032x\",\"value\":\"",
			    i ? "," : "", i, i + 1);
		for (int k = 0; k < 300 * (i + 1); k++)
			ed_buf_adds(&doc, k % 7 ? "ab\\u00e9" : "\\\"q\\\"");
		ed_buf_adds(&doc, "\"}");
	}
	ed_buf_adds(&doc, "],\"warnings\":[],\"contents\":[]}");
	int fd = memfd_create("doc", 0);
	ok(fd >= 0 && write(fd, doc.p, doc.len) == (ssize_t)doc.len, "a document of 3 escaped items");

	struct ed_err err;
	struct ed_snapdoc *d = NULL;
	ok(lseek(fd, 0, SEEK_SET) == 0 && ed_snapdoc_read_fd(fd, "doc", &d, &err) == ED_OK &&
		   ed_snapdoc_info(d)->nitems == 3,
	   "it reads whole without a failure");
	ed_snapdoc_free(d);

	long runs = 0, whole = 0, nomem = 0, other = 0;
	char first_other[1400] = "";
	for (long k = 0;; k++) {
		d = NULL;
		memset(&err, 0, sizeof(err));
		if (lseek(fd, 0, SEEK_SET) != 0)
			break;
		failed = false;
		countdown = k;
		enum ed_code rc = ed_snapdoc_read_fd(fd, "doc", &d, &err);
		countdown = -1;
		if (!failed) { /* every allocation of the read passed: all were tried */
			ed_snapdoc_free(d);
			break;
		}
		runs++;
		if (rc == ED_OK && ed_snapdoc_info(d)->nitems == 3)
			whole++;
		else if (rc == ED_NOMEM)
			nomem++;
		else if (!other++)
			snprintf(first_other, sizeof(first_other), "allocation %ld: %s: %s", k,
				 ed_code_str(rc), err.msg);
		ed_snapdoc_free(d);
	}
	printf("# %ld allocations failed in turn: %ld reads whole, %ld out of memory\n", runs, whole,
	       nomem);
	ok(runs > 50, "the read allocates, and each of its allocations was failed once (%ld)", runs);
	ok(nomem > 0, "some failures are said as ED_NOMEM");
	ok(other == 0, "every read ended whole or out of memory, none crashed %s", first_other);
	close(fd);
	ed_buf_release(&doc);
	return tap_done();
}
#endif
