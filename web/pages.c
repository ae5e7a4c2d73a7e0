/* SPDX-License-Identifier: MIT */
/*
 * The dashboard: server-rendered HTML pages over the store (overview, pair,
 * host, history, snapshots), read as the JSON API reads (a pooled read-only
 * connection, the same token rules), and their two static files. Pages need
 * no script: filters are GET forms; /static/app.js (the HTML report's
 * script) only filters as you type. Nothing inline: the CSP of every
 * response (server.c) is default-src 'self'.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/diff.h"
#include "pages.h"

/* --- building a page --- */

void ed_pg_raw(struct ed_page *p, const char *html)
{
	if (ed_buf_adds(&p->b, html))
		p->oom = true;
}

void ed_pg_fmt(struct ed_page *p, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp) || ed_buf_add(&p->b, tmp, (size_t)n))
		p->oom = true;
}

void ed_pg_text(struct ed_page *p, const char *s, size_t len)
{
	ed_buf_reset(&p->t);
	if (ed_buf_add_shown(&p->t, s ? s : "", s ? len : 0, false)) {
		p->oom = true;
		return;
	}
	int bad = 0;
	for (size_t i = 0; i < p->t.len && !bad; i++) {
		char ch = p->t.p[i];
		bad = ch == '&'	   ? ed_buf_adds(&p->b, "&amp;")
		      : ch == '<'  ? ed_buf_adds(&p->b, "&lt;")
		      : ch == '>'  ? ed_buf_adds(&p->b, "&gt;")
		      : ch == '"'  ? ed_buf_adds(&p->b, "&quot;")
		      : ch == '\'' ? ed_buf_adds(&p->b, "&#39;")
				   : ed_buf_addc(&p->b, ch);
	}
	if (bad)
		p->oom = true;
}

void ed_pg_str(struct ed_page *p, const char *s)
{
	ed_pg_text(p, s, s ? strlen(s) : 0);
}

void ed_pg_url(struct ed_page *p, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *u = (const unsigned char *)(s ? s : ""); *u && !p->oom; u++) {
		bool plain = (*u >= 'A' && *u <= 'Z') || (*u >= 'a' && *u <= 'z') ||
			     (*u >= '0' && *u <= '9') || *u == '-' || *u == '.' || *u == '_' ||
			     *u == '~';
		char esc[3] = {'%', hex[*u >> 4], hex[*u & 15]};
		if (plain ? ed_buf_addc(&p->b, (char)*u) : ed_buf_add(&p->b, esc, 3))
			p->oom = true;
	}
}

void ed_pg_diff_href(struct ed_page *p, const char *ref, const char *cand)
{
	ed_pg_raw(p, "/diff?ref=");
	ed_pg_url(p, ref);
	ed_pg_raw(p, "&amp;cand=");
	ed_pg_url(p, cand);
}

void ed_pg_host_href(struct ed_page *p, const char *env, const char *host)
{
	ed_pg_raw(p, "/host/");
	ed_pg_url(p, env);
	ed_pg_raw(p, "/");
	ed_pg_url(p, host);
}

void ed_pg_age(struct ed_page *p, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		ed_pg_fmt(p, "%llds", s);
	else if (s < 3600)
		ed_pg_fmt(p, "%lldm", s / 60);
	else if (s < 86400)
		ed_pg_fmt(p, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		ed_pg_fmt(p, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

void ed_pg_begin(struct ed_page *p, const char *title, const char *title2)
{
	ed_pg_raw(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		  "<meta name=\"referrer\" content=\"no-referrer\">\n<title>envdrift: ");
	ed_pg_str(p, title);
	if (title2) {
		ed_pg_raw(p, " ");
		ed_pg_str(p, title2);
	}
	ed_pg_raw(p, "</title>\n<link rel=\"stylesheet\" href=\"/static/app.css\">\n"
		  "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n</head>\n"
		  "<body data-ready=\"0\">\n<nav class=\"top\"><span class=\"brand\">envdrift</span>"
		  "<a href=\"/\">overview</a><a href=\"/snapshots\">snapshots</a>"
		  "<a href=\"/history\">history</a></nav>\n");
}

void ed_pg_end(struct ed_page *p)
{
	ed_pg_raw(p, "<script src=\"/static/app.js\"></script>\n</body>\n</html>\n");
}

enum MHD_Result ed_pg_send(struct MHD_Connection *c, struct ed_req *r, struct ed_page *p,
			unsigned status)
{
	ed_buf_release(&p->t);
	if (p->oom) {
		ed_buf_release(&p->b);
		return ed_web_error(c, r, 500, "out of memory");
	}
	size_t len = p->b.len;
	return ed_web_reply(c, r, status, "text/html; charset=utf-8", ed_buf_detach(&p->b), len);
}

enum MHD_Result ed_pg_error(struct MHD_Connection *c, struct ed_req *r, unsigned status,
			 const char *msg)
{
	struct ed_page p = ED_PAGE_INIT;
	char shown[1024];
	ed_web_scrub(r->w, msg, shown, sizeof(shown));
	ed_pg_begin(&p, "error", NULL);
	ed_pg_fmt(&p, "<main>\n<h1>%u</h1>\n<p id=\"error\">", status);
	ed_pg_str(&p, shown);
	ed_pg_raw(&p, "</p>\n</main>\n");
	ed_pg_end(&p);
	return ed_pg_send(c, r, &p, status);
}

enum MHD_Result ed_pg_fail(struct MHD_Connection *c, struct ed_req *r, const struct ed_err *err)
{
	unsigned status;
	switch (err->code) {
	case ED_NOTFOUND: status = 404; break;
	case ED_PARSE:
	case ED_USAGE: status = 400; break;
	case ED_STORE: status = 503; break;
	default: status = 500; break;
	}
	return ed_pg_error(c, r, status, err->msg[0] ? err->msg : ed_code_str(err->code));
}

const char *ed_pg_arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

struct args {
	const char *name;
	const char **v;
	size_t n, cap;
};

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	(void)kind;
	struct args *a = cls;
	if (key && value && *value && strcmp(key, a->name) == 0 && a->n < a->cap)
		a->v[a->n++] = value;
	return MHD_YES;
}

size_t ed_pg_args(struct MHD_Connection *c, const char *name, const char **v, size_t cap)
{
	struct args a = {.name = name, .v = v, .cap = cap};
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, each_arg, &a);
	return a.n;
}

/* --- static files --- */

static enum MHD_Result static_file(struct MHD_Connection *c, struct ed_req *r, const char *ctype,
				   const char *a, const char *b)
{
	struct ed_buf f = ED_BUF_INIT;
	if (ed_buf_adds(&f, a) || ed_buf_addc(&f, '\n') || ed_buf_adds(&f, b)) {
		ed_buf_release(&f);
		return ed_web_error(c, r, 500, "out of memory");
	}
	size_t len = f.len;
	return ed_web_reply(c, r, 200, ctype, ed_buf_detach(&f), len);
}

/* --- routing --- */

enum MHD_Result ed_web_pages(struct MHD_Connection *c, struct ed_req *r, const char *url)
{
	struct ed_web *w = r->w;
	struct ed_err err = {0};
	if (strcmp(url, "/static/app.css") == 0)
		return static_file(c, r, "text/css; charset=utf-8", ed_report_html_css,
				   ed_web_dashboard_css);
	if (strcmp(url, "/static/app.js") == 0)
		return static_file(c, r, "text/javascript; charset=utf-8",
				   "/* envdrift dashboard: the HTML report's filters, as you type */",
				   ed_report_html_js);
	if (strcmp(url, "/static/favicon.svg") == 0 || strcmp(url, "/favicon.ico") == 0) {
		char *icon = strdup(ed_web_favicon_svg);
		return ed_web_reply(c, r, icon ? 200 : 500, "image/svg+xml", icon,
				    icon ? strlen(icon) : 0);
	}
	enum { OVERVIEW, DIFF, HOST, SNAPSHOTS, HISTORY, NONE } route = NONE;
	const char *rest = NULL;
	if (strcmp(url, "/") == 0)
		route = OVERVIEW;
	else if (strcmp(url, "/diff") == 0)
		route = DIFF;
	else if (strncmp(url, "/host/", 6) == 0)
		route = HOST, rest = url + 6;
	else if (strcmp(url, "/snapshots") == 0)
		route = SNAPSHOTS;
	else if (strcmp(url, "/history") == 0)
		route = HISTORY;
	if (route == NONE)
		return ed_pg_error(c, r, 404, "no such page");
	struct ed_store *st = ed_web_reader(w, &err);
	if (!st)
		return ed_pg_fail(c, r, &err);
	enum MHD_Result ret;
	unsigned status = ed_web_auth(w, st, c, ED_WEB_READ, NULL, NULL);
	if (status == 401)
		ret = ed_pg_error(c, r, 401, "this needs 'Authorization: Bearer TOKEN' with a valid "
					  "read token");
	else if (status == 403)
		ret = ed_pg_error(c, r, 403, "this token may not read");
	else if (status)
		ret = ed_pg_error(c, r, status, "cannot check the token");
	else if (route == OVERVIEW)
		ret = ed_page_overview(c, r, st);
	else if (route == DIFF)
		ret = ed_page_diff(c, r, st);
	else if (route == HOST)
		ret = ed_page_host(c, r, st, rest);
	else if (route == SNAPSHOTS)
		ret = ed_page_snapshots(c, r, st);
	else
		ret = ed_page_history(c, r, st);
	ed_web_reader_put(w, st);
	return ret;
}
