/* SPDX-License-Identifier: MIT */
/*
 * What the dashboard's pages share (pages.c): a page built in memory, where
 * every value from the store is written shown (ed_buf_add_shown: controls
 * and bidirectional overrides as \xHH) and HTML-escaped, and every value in a
 * link percent-encoded; the layout around each page; GET arguments.
 */
#ifndef ED_WEB_PAGES_H
#define ED_WEB_PAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "web_int.h"

struct page {
	struct ed_buf b;
	struct ed_buf t; /* scratch */
	bool oom;
};
#define PAGE_INIT {.b = ED_BUF_INIT, .t = ED_BUF_INIT}

/* Markup of our own (never a value from the store or the request). */
void pg_raw(struct page *p, const char *html);
void pg_fmt(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A value: shown and HTML-escaped (fit for text and quoted attributes). */
void pg_text(struct page *p, const char *s, size_t len);
void pg_str(struct page *p, const char *s);
/* A value in a URL: every byte but A-Z a-z 0-9 - . _ ~ percent-encoded. */
void pg_url(struct page *p, const char *s);
/* A link to the pair page /diff?ref=REF&cand=CAND (the href's value, no quotes). */
void pg_diff_href(struct page *p, const char *ref, const char *cand);
/* A link to the host page /host/ENV/HOST. */
void pg_host_href(struct page *p, const char *env, const char *host);
/* "3h 12m" of seconds. */
void pg_age(struct page *p, long long s);

/* The document up to <main> (title is a value), and after it. */
void pg_begin(struct page *p, const char *title, const char *title2);
void pg_end(struct page *p);
/* Sends the page (status), or 500 when it ran out of memory. */
enum MHD_Result pg_send(struct MHD_Connection *c, struct ed_req *r, struct page *p,
			unsigned status);
/* A whole page saying msg (a value) with status. */
enum MHD_Result pg_error(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			 const char *msg);
/* An error of the store or the differ as a page: the status its code calls for. */
enum MHD_Result pg_fail(struct MHD_Connection *c, struct ed_req *r, const struct ed_err *err);

/* A GET argument, NULL when absent. */
const char *pg_arg(struct MHD_Connection *c, const char *name);
/* Every value of GET argument name, at most cap, into v; their number. */
size_t pg_args(struct MHD_Connection *c, const char *name, const char **v, size_t cap);

/* The pages: each queues its response. */
enum MHD_Result page_overview(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st);
enum MHD_Result page_diff(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st);
enum MHD_Result page_host(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st,
			  const char *rest);
enum MHD_Result page_snapshots(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st);
enum MHD_Result page_history(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st);

/* The static files (static.c, from web/static/ at build time). */
extern const char ed_web_dashboard_css[];
extern const char ed_web_favicon_svg[];

#endif
