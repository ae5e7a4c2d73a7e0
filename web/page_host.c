/* SPDX-License-Identifier: MIT */
/*
 * The host page, /host/ENV/HOST: its snapshots, and the items of one of them
 * (the latest complete one, or ?snapshot=ID) a page at a time, searchable by
 * key prefix (ed/browse.h, as /api/v1/snapshots/ID/items); and the paged
 * list of every snapshot, /snapshots, with links to compare two of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/browse.h"
#include "pages.h"

#define ITEMS_PAGE 100
#define SNAPSHOTS_PAGE 50

static void snapshot_cells(struct ed_page *p, const struct ed_browse_snapshot *s)
{
	ed_pg_raw(p, "<td>");
	ed_pg_str(p, s->r.status);
	ed_pg_raw(p, "</td><td>");
	ed_pg_str(p, s->r.started_at ? s->r.started_at : "-");
	ed_pg_raw(p, "</td><td>");
	ed_pg_str(p, s->r.finished_at ? s->r.finished_at : "-");
	ed_pg_fmt(p, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>", (long long)s->r.items,
	       (long long)s->r.warnings);
}

/* --- /host/ENV/HOST --- */

struct host_snaps {
	struct ed_page *p;
	int64_t chosen;  /* the snapshot asked for, 0: the latest complete one */
	int64_t shown;   /* the one whose items are shown */
	int64_t prev;    /* the one before, for "changes" */
	size_t n;
};

static enum ed_code each_snap(void *ctx, const struct ed_browse_snapshot *s, struct ed_err *err)
{
	(void)err;
	struct host_snaps *h = ctx;
	struct ed_page *p = h->p;
	bool complete = s->r.status && strcmp(s->r.status, "complete") == 0;
	h->n++;
	ed_pg_fmt(p, "<tr class=\"snapshot\"><td><a href=\"?snapshot=%lld\">@%lld</a></td>",
	       (long long)s->r.id, (long long)s->r.id);
	snapshot_cells(p, s);
	ed_pg_raw(p, "<td>");
	if (complete && h->prev)
		ed_pg_fmt(p, "<a href=\"/diff?ref=%%40%lld&amp;cand=%%40%lld\">changes since @%lld</a>",
		       (long long)h->prev, (long long)s->r.id, (long long)h->prev);
	ed_pg_raw(p, "</td></tr>\n");
	if (complete) {
		if (!h->chosen || h->chosen == s->r.id)
			h->shown = s->r.id;
		h->prev = s->r.id;
	}
	return ED_OK;
}

struct items {
	struct ed_page *p;
	size_t n, limit;
	struct ed_buf last_kind, last_key;
};

static enum ed_code each_item(void *ctx, const struct ed_browse_item *it, struct ed_err *err)
{
	struct items *k = ctx;
	struct ed_page *p = k->p;
	if (k->n++ == k->limit)
		return ED_OK;
	ed_pg_raw(p, "<tr class=\"item\"><td>");
	ed_pg_str(p, it->kind);
	ed_pg_raw(p, "</td><td><code>");
	ed_pg_text(p, it->key, it->key_len);
	ed_pg_raw(p, "</code></td><td>");
	if (it->value) {
		ed_pg_raw(p, "<code>");
		ed_pg_text(p, it->value, it->value_len);
		ed_pg_raw(p, "</code>");
	}
	if (it->ftype) {
		ed_pg_raw(p, " ");
		ed_pg_str(p, it->ftype);
	}
	if (it->mode >= 0)
		ed_pg_fmt(p, " %04llo", it->mode);
	if (it->owner) {
		ed_pg_raw(p, " ");
		ed_pg_str(p, it->owner);
		ed_pg_raw(p, ":");
		ed_pg_str(p, it->group);
	}
	if (it->target) {
		ed_pg_raw(p, " &#8594; ");
		ed_pg_str(p, it->target);
	}
	if (it->size >= 0)
		ed_pg_fmt(p, " %lld bytes", it->size);
	if (it->error) {
		ed_pg_raw(p, " <span class=\"stale\">error: ");
		ed_pg_str(p, it->error);
		ed_pg_raw(p, "</span>");
	}
	ed_pg_raw(p, "</td><td><code>");
	for (size_t i = 0; it->fp && i < it->fp_len && i < 6; i++)
		ed_pg_fmt(p, "%02x", it->fp[i]);
	ed_pg_raw(p, "</code></td></tr>\n");
	ed_buf_reset(&k->last_kind);
	ed_buf_reset(&k->last_key);
	if (ed_buf_adds(&k->last_kind, it->kind ? it->kind : "") ||
	    ed_buf_add(&k->last_key, it->key ? it->key : "", it->key_len))
		return ed_err_set(err, ED_NOMEM, "out of memory");
	return ED_OK;
}

enum MHD_Result ed_page_host(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st,
			  const char *rest)
{
	char env[256], host[256];
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest || !slash[1] || (size_t)(slash - rest) >= sizeof(env) ||
	    strlen(slash + 1) >= sizeof(host))
		return ed_pg_error(c, r, 404, "no such page: /host/ENVIRONMENT/HOST");
	snprintf(env, sizeof(env), "%.*s", (int)(slash - rest), rest);
	snprintf(host, sizeof(host), "%s", slash + 1);
	const char *ss = ed_pg_arg(c, "snapshot"), *prefix = ed_pg_arg(c, "prefix"),
		   *after = ed_pg_arg(c, "after");
	long long chosen = 0;
	if (ss && *ss && !ed_web_parse_num(ss[0] == '@' ? ss + 1 : ss, 1, INT64_MAX, &chosen))
		return ed_pg_error(c, r, 400, "snapshot: expected a snapshot id");
	struct ed_err err = {0};
	struct ed_buf raw = ED_BUF_INIT;
	struct ed_page p = ED_PAGE_INIT;
	struct items k = {.p = &p, .limit = ITEMS_PAGE, .last_kind = ED_BUF_INIT,
			  .last_key = ED_BUF_INIT};
	enum MHD_Result ret;

	ed_pg_begin(&p, host, env);
	ed_pg_raw(&p, "<main>\n<h1>");
	ed_pg_str(&p, host);
	ed_pg_raw(&p, " <span class=\"note\">in ");
	ed_pg_str(&p, env);
	ed_pg_raw(&p, "</span></h1>\n<h2>Snapshots</h2>\n<table id=\"snapshots\"><thead><tr>"
		   "<th>snapshot</th><th>status</th><th>started</th><th>finished</th><th>items</th>"
		   "<th>warnings</th><th></th></tr></thead><tbody>\n");
	struct host_snaps h = {.p = &p, .chosen = chosen};
	struct ed_snapshot_filter f = {.env = env, .host = host};
	if (ed_store_browse_snapshots(st, &f, each_snap, &h, &err)) {
		ret = ed_pg_fail(c, r, &err);
		goto out;
	}
	if (!h.n) {
		char msg[700];
		snprintf(msg, sizeof(msg), "no snapshot of host %s in environment %s", host, env);
		ret = ed_pg_error(c, r, 404, msg);
		goto out;
	}
	ed_pg_raw(&p, "</tbody></table>\n");
	if (!h.shown) {
		ed_pg_raw(&p, chosen ? "<p class=\"note\">That snapshot is not a complete one of this "
				    "host.</p>\n"
				  : "<p class=\"note\">No complete snapshot yet.</p>\n");
		goto page_end;
	}
	ed_pg_fmt(&p, "<h2>Items of @%lld</h2>\n<form class=\"inline\" id=\"item-search\" "
		   "method=\"get\" action=\"", (long long)h.shown);
	ed_pg_host_href(&p, env, host);
	ed_pg_fmt(&p, "\"><input type=\"hidden\" name=\"snapshot\" value=\"%lld\">"
		   "<label>key starts with <input type=\"search\" name=\"prefix\" id=\"prefix\" "
		   "value=\"", (long long)h.shown);
	ed_pg_str(&p, prefix ? prefix : "");
	ed_pg_raw(&p, "\"></label><button type=\"submit\">search</button></form>\n");
	struct ed_item_filter itf = {.prefix = prefix && *prefix ? prefix : NULL,
				     .prefix_len = prefix ? strlen(prefix) : 0,
				     .limit = ITEMS_PAGE + 1};
	size_t kind_len = 0;
	if (after && *after) {
		if (!ed_web_cursor_decode(after, &raw, &kind_len)) {
			ret = ed_pg_error(c, r, 400, "after: not a cursor this page made");
			goto out;
		}
		itf.after_kind = raw.p;
		itf.after_key = raw.p + kind_len + 1;
		itf.after_key_len = raw.len - kind_len - 1;
	}
	ed_pg_raw(&p, "<table id=\"items\"><thead><tr><th>kind</th><th>key</th><th>value</th>"
		   "<th>fingerprint</th></tr></thead><tbody>\n");
	if (ed_store_browse_items(st, h.shown, &itf, each_item, &k, &err)) {
		ret = ed_pg_fail(c, r, &err);
		goto out;
	}
	ed_pg_raw(&p, "</tbody></table>\n");
	ed_pg_fmt(&p, "<p class=\"note\" id=\"items-count\">%zu %s on this page.</p>\n",
	       k.n > k.limit ? k.limit : k.n, k.n == 1 ? "item" : "items");
	if (k.n > k.limit) {
		char *cur = ed_web_cursor_encode(&k.last_kind, &k.last_key);
		if (!cur)
			p.oom = true;
		ed_pg_raw(&p, "<p class=\"pager\"><a id=\"next\" href=\"");
		ed_pg_host_href(&p, env, host);
		ed_pg_fmt(&p, "?snapshot=%lld&amp;prefix=", (long long)h.shown);
		ed_pg_url(&p, prefix ? prefix : "");
		ed_pg_raw(&p, "&amp;after=");
		ed_pg_url(&p, cur);
		ed_pg_raw(&p, "\">next page</a></p>\n");
		free(cur);
	}
page_end:
	ed_pg_raw(&p, "</main>\n");
	ed_pg_end(&p);
	ret = ed_pg_send(c, r, &p, 200);
out:
	ed_buf_release(&p.b);
	ed_buf_release(&p.t);
	ed_buf_release(&raw);
	ed_buf_release(&k.last_kind);
	ed_buf_release(&k.last_key);
	return ret;
}

/* --- /snapshots --- */

struct all {
	struct ed_page *p;
	size_t n, limit;
	int64_t last;
	/* each host's last complete snapshot seen on this page: "ENV\nHOST" */
	char (*keys)[520];
	int64_t *ids;
	size_t nkeys;
};

static enum ed_code each_any(void *ctx, const struct ed_browse_snapshot *s, struct ed_err *err)
{
	(void)err;
	struct all *a = ctx;
	struct ed_page *p = a->p;
	if (a->n++ == a->limit)
		return ED_OK;
	a->last = s->r.id;
	ed_pg_fmt(p, "<tr class=\"snapshot\"><td>@%lld</td><td>", (long long)s->r.id);
	ed_pg_str(p, s->r.env);
	ed_pg_raw(p, "</td><td><a href=\"");
	ed_pg_host_href(p, s->r.env, s->r.host);
	ed_pg_raw(p, "\">");
	ed_pg_str(p, s->r.host);
	ed_pg_raw(p, "</a></td>");
	snapshot_cells(p, s);
	ed_pg_raw(p, "<td>");
	char key[520];
	snprintf(key, sizeof(key), "%s\n%s", s->r.env, s->r.host);
	size_t i = 0;
	while (i < a->nkeys && strcmp(a->keys[i], key) != 0)
		i++;
	bool complete = s->r.status && strcmp(s->r.status, "complete") == 0;
	if (complete && i < a->nkeys)
		ed_pg_fmt(p, "<a class=\"vs-prev\" href=\"/diff?ref=%%40%lld&amp;cand=%%40%lld\">"
			  "changes since @%lld</a>", (long long)a->ids[i], (long long)s->r.id,
		       (long long)a->ids[i]);
	if (complete && i == a->nkeys && a->nkeys < a->limit) {
		memcpy(a->keys[i], key, sizeof(key));
		a->nkeys++;
	}
	if (complete && i < a->nkeys)
		a->ids[i] = s->r.id;
	ed_pg_raw(p, "</td></tr>\n");
	return ED_OK;
}

enum MHD_Result ed_page_snapshots(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st)
{
	const char *as = ed_pg_arg(c, "after");
	long long after = 0;
	if (as && *as && !ed_web_parse_num(as, 0, INT64_MAX, &after))
		return ed_pg_error(c, r, 400, "after: expected a snapshot id");
	struct ed_page p = ED_PAGE_INIT;
	struct ed_err err = {0};
	ed_pg_begin(&p, "snapshots", NULL);
	ed_pg_raw(&p, "<main>\n<h1>Snapshots</h1>\n<form class=\"inline\" id=\"compare\" method=\"get\" "
		   "action=\"/diff\"><label>reference <input name=\"ref\" placeholder=\"@ID or "
		   "environment\" required></label><label>candidate <input name=\"cand\" "
		   "placeholder=\"@ID or environment\" required></label><button type=\"submit\">"
		   "compare</button></form>\n<table id=\"snapshots\"><thead><tr><th>snapshot</th>"
		   "<th>environment</th><th>host</th><th>status</th><th>started</th>"
		   "<th>finished</th><th>items</th><th>warnings</th><th></th></tr></thead><tbody>\n");
	struct all a = {.p = &p, .limit = SNAPSHOTS_PAGE,
			.keys = calloc(SNAPSHOTS_PAGE, sizeof(*a.keys)),
			.ids = calloc(SNAPSHOTS_PAGE, sizeof(*a.ids))};
	struct ed_snapshot_filter f = {.after = after, .limit = SNAPSHOTS_PAGE + 1};
	if (!a.keys || !a.ids)
		ed_err_set(&err, ED_NOMEM, "out of memory");
	if (err.code || ed_store_browse_snapshots(st, &f, each_any, &a, &err)) {
		free(a.keys);
		free(a.ids);
		ed_buf_release(&p.b);
		ed_buf_release(&p.t);
		return ed_pg_fail(c, r, &err);
	}
	free(a.keys);
	free(a.ids);
	ed_pg_raw(&p, "</tbody></table>\n");
	if (a.n > a.limit)
		ed_pg_fmt(&p, "<p class=\"pager\"><a id=\"next\" href=\"/snapshots?after=%lld\">next "
			   "page</a></p>\n", (long long)a.last);
	ed_pg_raw(&p, "</main>\n");
	ed_pg_end(&p);
	return ed_pg_send(c, r, &p, 200);
}
