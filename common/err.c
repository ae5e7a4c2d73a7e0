/* SPDX-License-Identifier: MIT */
/* Error struct helpers, and the one way foreign text reaches a terminal or a log. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"

#include "ed/err.h"

enum ed_code ed_err_set(struct ed_err *err, enum ed_code code, const char *fmt, ...)
{
	if (err) {
		va_list ap, aq;
		va_start(ap, fmt);
		va_copy(aq, ap);
		char *full = NULL;
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		if (n < 0) {
			err->msg[0] = '\0';
		} else if ((size_t)n >= sizeof(err->msg)) {
			/*
			 * Too long (a path 10,000 folders deep): cut in the middle,
			 * marked, so the end (the reason) stays. Only the start when
			 * there is no memory for the whole.
			 */
			size_t len = (size_t)n, keep = sizeof(err->msg) / 2 - 16;
			if (len < ((size_t)1 << 20) && (full = malloc(len + 1)) &&
			    vsnprintf(full, len + 1, fmt, aq) == n) {
				while (keep > 0 && ((unsigned char)full[keep] & 0xc0) == 0x80)
					keep--;
				size_t tail = len - (sizeof(err->msg) / 2 - 16);
				while (tail < len && ((unsigned char)full[tail] & 0xc0) == 0x80)
					tail++;
				snprintf(err->msg, sizeof(err->msg), "%.*s ... %s", (int)keep, full,
					 full + tail);
			} else {
				snprintf(err->msg + sizeof(err->msg) - 5, 5, "...");
			}
		}
		va_end(aq);
		va_end(ap);
		free(full);
		err->code = code;
	}
	return code;
}

const char *ed_code_str(enum ed_code code)
{
	switch (code) {
#define ED_CODE_STR(name, num, msg) \
	case name:                  \
		return msg;
		ED_CODES(ED_CODE_STR)
#undef ED_CODE_STR
	}
	return "unknown error";
}

/* n, moved back to the start of the UTF-8 sequence it falls in (at most 3 bytes). */
static size_t seq_start(const char *s, size_t n)
{
	for (int i = 0; i < 3 && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; i++)
		n--;
	return n;
}

int ed_term_add(struct ed_buf *out, const char *s, size_t len)
{
	if (len <= ED_TERM_MAX)
		return ed_buf_add_shown(out, s, len, false);
	size_t head = seq_start(s, ED_TERM_MAX / 2);
	size_t tail = len - seq_start(s, len - ED_TERM_MAX / 2);
	if (ed_buf_add_shown(out, s, head, false) ||
	    ed_buf_addf(out, " ... %zu bytes cut ... ", len - head - tail) ||
	    ed_buf_add_shown(out, s + len - tail, tail, false))
		return -1;
	return 0;
}

/* Beyond this, only the start of a message is formatted: memory stays bounded. */
#define FORMAT_MAX (1u << 20)

int ed_term_vprintf(FILE *f, const char *fmt, va_list ap)
{
	char small[ED_TERM_MAX + 1];
	char *text = small;
	struct ed_buf out = ED_BUF_INIT;
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n;
	int rc = -1;
	if (n < 0)
		goto out;
	if (len >= sizeof(small)) {
		text = len < FORMAT_MAX ? malloc(len + 1) : NULL;
		if (text)
			vsnprintf(text, len + 1, fmt, aq);
		else {
			/* Too long to hold (or no memory): its start, marked as cut. */
			text = small;
			len = sizeof(small) - 1;
		}
	}
	bool cut = (size_t)n > len;
	bool nl = !cut && len && text[len - 1] == '\n';
	if (ed_term_add(&out, text, len - nl) || (cut && ed_buf_adds(&out, " ... (cut)")) ||
	    (nl && ed_buf_addc(&out, '\n'))) {
		/* No memory: still the message, every byte but printable ASCII as \xHH; -1. */
		for (size_t i = 0; i < len - nl && i < ED_TERM_MAX; i++) {
			unsigned char c = (unsigned char)text[i];
			if (c >= 0x20 && c < 0x7f && c != '\\')
				fputc(c, f);
			else
				fprintf(f, "\\x%02x", c);
		}
		if (nl)
			fputc('\n', f);
		goto out;
	}
	rc = fwrite(out.p, 1, out.len, f) == out.len ? 0 : -1;
out:
	va_end(aq);
	if (text != small)
		free(text);
	ed_buf_release(&out);
	return rc;
}

int ed_term_printf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ed_term_vprintf(f, fmt, ap);
	va_end(ap);
	return rc;
}

/* The command being run, named in every message; NULL before one is known. */
static const char *command;

void ed_err_set_command(const char *name)
{
	command = name;
}

/* "envdrift CMD: " (or "envdrift: " before a command is known), then kind. */
static void lead(FILE *f, const char *kind)
{
	fprintf(f, "envdrift%s%s: %s", command ? " " : "", command ? command : "", kind);
}

static void vsay(const char *kind, const char *fmt, va_list ap)
{
	flockfile(stderr);
	lead(stderr, kind);
	ed_term_vprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void ed_say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

void ed_note(const char *msg)
{
	/* A collection's "info: ..." note is said as one, not as a warning. */
	if (strncmp(msg, "info: ", 6) == 0)
		ed_info("%s", msg + 6);
	else
		ed_warn("%s", msg);
}

void ed_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("info: ", fmt, ap);
	va_end(ap);
}

void ed_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("warning: ", fmt, ap);
	va_end(ap);
}

void ed_err_print(const struct ed_err *err)
{
	ed_say("%s", err->msg[0] ? err->msg : ed_code_str(err->code));
}
