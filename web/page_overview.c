/* SPDX-License-Identifier: MIT */
/*
 * The overview, /: one verdict per pair of environments (cached: verdicts.c),
 * then every environment with its hosts and the age of each host's last
 * complete snapshot, stale ones marked (serve --stale, 36 h by default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed/browse.h"
#include "ed/isotime.h"
#include "pages.h"

struct hosts {
	struct ed_page *p;
	struct ed_buf env;
	bool open;      /* a table is open */
	time_t now;
	long long stale;
	size_t nenvs, nhosts, nstale;
};

static enum ed_code each_host(void *ctx, const struct ed_browse_snapshot *s, struct ed_err *err)
{
	(void)err;
	struct hosts *h = ctx;
	struct ed_page *p = h->p;
	if (!h->open || strcmp(ed_buf_str(&h->env), s->r.env) != 0) {
		if (h->open)
			ed_pg_raw(p, "</tbody></table>\n</section>\n");
		ed_buf_reset(&h->env);
		if (ed_buf_adds(&h->env, s->r.env))
			p->oom = true;
		ed_pg_raw(p, "<section class=\"env\" data-env=\"");
		ed_pg_str(p, s->r.env);
		ed_pg_raw(p, "\">\n<h2>");
		ed_pg_str(p, s->r.env);
		ed_pg_raw(p, "</h2>\n<table class=\"hosts\"><thead><tr><th>host</th><th>role</th>"
			  "<th>last complete snapshot</th><th>finished</th><th>age</th>"
			  "<th>status</th><th>items</th><th>warnings</th></tr></thead><tbody>\n");
		h->open = true;
		h->nenvs++;
	}
	const char *at = s->r.finished_at ? s->r.finished_at : s->r.started_at;
	time_t t = 0;
	bool known = at && ed_isotime_parse(at, strlen(at), &t);
	long long age = known ? (long long)(h->now - t) : -1;
	bool stale = !known || age > h->stale;
	h->nhosts++;
	h->nstale += stale;
	ed_pg_raw(p, "<tr class=\"host\"><td><a href=\"");
	ed_pg_host_href(p, s->r.env, s->r.host);
	ed_pg_raw(p, "\">");
	ed_pg_str(p, s->r.host);
	ed_pg_raw(p, "</a></td><td>");
	ed_pg_str(p, s->role && *s->role ? s->role : "-");
	ed_pg_fmt(p, "</td><td>@%lld</td><td>", (long long)s->r.id);
	ed_pg_str(p, at ? at : "-");
	ed_pg_raw(p, "</td><td class=\"n\">");
	if (known)
		ed_pg_age(p, age);
	else
		ed_pg_raw(p, "?");
	ed_pg_fmt(p, "</td><td class=\"%s\">%s</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
		  "</tr>\n", stale ? "stale" : "fresh", stale ? "stale" : "fresh",
	       (long long)s->r.items, (long long)s->r.warnings);
	return ED_OK;
}

/* The verdict of one pair: a row of the table, its counts in data- attributes for scripts. */
static void verdict_row(struct ed_page *p, struct ed_web *w, struct ed_store *st, const char *ref,
			const char *cand, time_t now, struct ed_err *err)
{
	struct ed_web_verdict v;
	bool cached = false;
	if (ed_web_verdict(w, st, ref, cand, &v, &cached, err))
		return;
	bool stale = v.state != ED_VERDICT_CANNOT && (!v.oldest || now - v.oldest > w->o->stale_s);
	const char *cls = stale || v.state == ED_VERDICT_CANNOT ? "v-cannot"
			  : v.state == ED_VERDICT_BLOCK	       ? "v-block"
								       : "v-pass";
	const char *word = stale || v.state == ED_VERDICT_CANNOT ? "cannot vouch"
			   : v.state == ED_VERDICT_BLOCK	 ? "blocking drift"
								 : "pass";
	ed_pg_raw(p, "<tr class=\"pair\" data-ref=\"");
	ed_pg_str(p, ref);
	ed_pg_raw(p, "\" data-cand=\"");
	ed_pg_str(p, cand);
	ed_pg_fmt(p, "\" data-verdict=\"%s\" data-cached=\"%d\" data-drift=\"%zu\" "
		  "data-blocking=\"%zu\" data-warn=\"%zu\" data-info=\"%zu\" data-ignored=\"%zu\">"
		  "<td><a href=\"", cls + 2, cached, v.drift, v.blocking, v.warnings, v.infos,
	       v.ignored);
	ed_pg_diff_href(p, ref, cand);
	ed_pg_raw(p, "\">");
	ed_pg_str(p, ref);
	ed_pg_raw(p, " &#8594; ");
	ed_pg_str(p, cand);
	ed_pg_fmt(p, "</a></td><td class=\"verdict %s\">%s</td>", cls, word);
	if (v.state == ED_VERDICT_CANNOT) {
		ed_pg_raw(p, "<td colspan=\"5\" class=\"reason\">");
		ed_pg_str(p, v.reason);
		ed_pg_raw(p, "</td>");
	} else {
		ed_pg_fmt(p, "<td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
			  "<td class=\"n\">%zu</td><td class=\"n\">%zu</td>",
		       v.drift, v.blocking, v.warnings, v.infos, v.ignored);
	}
	ed_pg_raw(p, "<td>");
	if (stale)
		ed_pg_raw(p, "<span class=\"stale\">a side's snapshot is stale</span> ");
	ed_pg_raw(p, "<a href=\"/history?ref=");
	ed_pg_url(p, ref);
	ed_pg_raw(p, "&amp;cand=");
	ed_pg_url(p, cand);
	ed_pg_raw(p, "\">history</a></td></tr>\n");
}

enum MHD_Result ed_page_overview(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st)
{
	struct ed_web *w = r->w;
	struct ed_page p = ED_PAGE_INIT;
	struct ed_err err = {0};
	time_t now = time(NULL);
	ed_pg_begin(&p, "overview", NULL);
	ed_pg_raw(&p, "<main>\n<h1>Overview</h1>\n<h2>Verdicts</h2>\n<table id=\"verdicts\"><thead><tr>"
		   "<th>reference &#8594; candidate</th><th>verdict</th><th>differences</th>"
		   "<th>blocking</th><th>warnings</th><th>info</th><th>ignored</th><th></th>"
		   "</tr></thead><tbody>\n");
	for (size_t i = 0; i < ed_web_npairs(w) && !err.code; i++) {
		char ref[256], cand[256];
		if (ed_web_pair(w, i, ref, cand, sizeof(ref))) /* serve checked them */
			verdict_row(&p, w, st, ref, cand, now, &err);
	}
	ed_pg_raw(&p, "</tbody></table>\n");
	if (err.code) {
		ed_buf_release(&p.b);
		ed_buf_release(&p.t);
		return ed_pg_fail(c, r, &err);
	}
	struct hosts h = {.p = &p, .env = ED_BUF_INIT, .now = now, .stale = w->o->stale_s};
	struct ed_snapshot_filter f = {.latest = true};
	enum ed_code rc = ed_store_browse_snapshots(st, &f, each_host, &h, &err);
	ed_buf_release(&h.env);
	if (rc) {
		ed_buf_release(&p.b);
		ed_buf_release(&p.t);
		return ed_pg_fail(c, r, &err);
	}
	if (h.open)
		ed_pg_raw(&p, "</tbody></table>\n</section>\n");
	if (!h.nenvs)
		ed_pg_raw(&p, "<p class=\"note\">The store holds no complete snapshot yet.</p>\n");
	ed_pg_fmt(&p, "<p class=\"note\" id=\"hosts-summary\">%zu %s in %zu %s; %zu stale (no "
		   "complete snapshot for ",
	       h.nhosts, h.nhosts == 1 ? "host" : "hosts", h.nenvs,
	       h.nenvs == 1 ? "environment" : "environments", h.nstale);
	ed_pg_age(&p, w->o->stale_s);
	ed_pg_raw(&p, ").</p>\n</main>\n");
	ed_pg_end(&p);
	return ed_pg_send(c, r, &p, 200);
}
