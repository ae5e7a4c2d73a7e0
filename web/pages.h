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

struct ed_page {
	struct ed_buf b;
	struct ed_buf t; /* scratch */
	bool oom;
};
#define ED_PAGE_INIT {.b = ED_BUF_INIT, .t = ED_BUF_INIT}

/* Markup of our own (never a value from the store or the request). */
void ed_pg_raw(struct ed_page *p, const char *html);
void ed_pg_fmt(struct ed_page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A value: shown and HTML-escaped (fit for text and quoted attributes). */
void ed_pg_text(struct ed_page *p, const char *s, size_t len);
void ed_pg_str(struct ed_page *p, const char *s);
/* A value in a URL: every byte but A-Z a-z 0-9 - . _ ~ percent-encoded. */
void ed_pg_url(struct ed_page *p, const char *s);
/* A link to the pair page /diff?ref=REF&cand=CAND (the href's value, no quotes). */
void ed_pg_diff_href(struct ed_page *p, const char *ref, const char *cand);
/* A link to the host page /host/ENV/HOST. */
void ed_pg_host_href(struct ed_page *p, const char *env, const char *host);
/* "3h 12m" of seconds. */
void ed_pg_age(struct ed_page *p, long long s);

/* The document up to <main> (title is a value), and after it. */
void ed_pg_begin(struct ed_page *p, const char *title, const char *title2);
void ed_pg_end(struct ed_page *p);
/* Sends the page (status), or 500 when it ran out of memory. */
enum MHD_Result ed_pg_send(struct MHD_Connection *c, struct ed_req *r, struct ed_page *p,
			unsigned status);
/* A whole page saying msg (a value) with status. */
enum MHD_Result ed_pg_error(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			 const char *msg);
/* An error of the store or the differ as a page: the status its code calls for. */
enum MHD_Result ed_pg_fail(struct MHD_Connection *c, struct ed_req *r, const struct ed_err *err);

/* A GET argument, NULL when absent. */
const char *ed_pg_arg(struct MHD_Connection *c, const char *name);
/* Every value of GET argument name, at most cap, into v; their number. */
size_t ed_pg_args(struct MHD_Connection *c, const char *name, const char **v, size_t cap);

/* The pages: each queues its response. */
enum MHD_Result ed_page_overview(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st);
enum MHD_Result ed_page_diff(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st);
enum MHD_Result ed_page_host(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st,
			  const char *rest);
enum MHD_Result ed_page_snapshots(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st);
enum MHD_Result ed_page_history(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st);

/* The static files (static.c, from web/static/ at build time). */
extern const char ed_web_dashboard_css[];
extern const char ed_web_favicon_svg[];

#endif
