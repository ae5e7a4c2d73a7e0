/* SPDX-License-Identifier: MIT */
/*
 * The history page, /history?ref=REF&cand=CAND: the drift of the pair's last
 * recorded run of each day (ed_store_trend: runs_v, at most 30 days) as an
 * SVG chart drawn here (no script, no inline style: classes of app.css), and
 * the same numbers as a table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"

#define W 760
#define H 240
#define LEFT 44
#define BOTTOM 36
#define TOP 14

static void chart(struct ed_page *p, const struct ed_trend_day *v, size_t n)
{
	long long max = 1;
	for (size_t i = 0; i < n; i++) {
		long long drift = v[i].added + v[i].removed + v[i].changed;
		if (drift > max)
			max = drift;
	}
	double plot_w = W - LEFT - 10, plot_h = H - TOP - BOTTOM;
	double slot = plot_w / (double)(n ? n : 1);
	double bar = slot * 0.7 > 40 ? 40 : slot * 0.7;
	ed_pg_fmt(p, "<svg id=\"chart\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
		  "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"chart-title\">"
		  "<title id=\"chart-title\">drift per day, %zu %s</title>\n", W, H, n,
	       n == 1 ? "day" : "days");
	ed_pg_fmt(p, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		  "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	       LEFT, TOP, LEFT, H - BOTTOM, LEFT, H - BOTTOM, W - 10, H - BOTTOM);
	ed_pg_fmt(p, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%lld</text>"
		  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
	       LEFT - 4, TOP + 10, max, LEFT - 4, H - BOTTOM);
	/* oldest on the left: v is newest first */
	for (size_t k = 0; k < n; k++) {
		const struct ed_trend_day *d = &v[n - 1 - k];
		long long drift = d->added + d->removed + d->changed;
		double x = LEFT + slot * (double)k + (slot - bar) / 2;
		double hd = plot_h * (double)drift / (double)max;
		double hb = plot_h * (double)d->blocking / (double)max;
		if (hb > hd)
			hb = hd;
		ed_pg_fmt(p, "<g class=\"day\" data-day=\"%.10s\" data-drift=\"%lld\" "
			  "data-blocking=\"%lld\"><rect class=\"bar-drift\" x=\"%.1f\" y=\"%.1f\" "
			  "width=\"%.1f\" height=\"%.1f\"><title>%.10s: %lld differences, %lld "
			  "blocking</title></rect>",
		       d->day, drift, (long long)d->blocking, x, H - BOTTOM - hd, bar, hd, d->day,
		       drift, (long long)d->blocking);
		ed_pg_fmt(p, "<rect class=\"bar-block\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			  "height=\"%.1f\"/>", x, H - BOTTOM - hb, bar, hb);
		if (n <= 10 || k % ((n + 9) / 10) == 0)
			ed_pg_fmt(p, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.5s</text>",
			       x + bar / 2, H - BOTTOM + 16, d->day + 5);
		ed_pg_raw(p, "</g>\n");
	}
	ed_pg_raw(p, "</svg>\n<p class=\"legend note\"><span class=\"sw-drift\">&#9632;</span> "
		  "differences <span class=\"sw-block\">&#9632;</span> blocking</p>\n");
}

enum MHD_Result ed_page_history(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st)
{
	const char *ref = ed_pg_arg(c, "ref"), *cand = ed_pg_arg(c, "cand");
	if (!ref || !*ref)
		ref = "production";
	if (!cand || !*cand)
		cand = "staging";
	struct ed_err err = {0};
	struct ed_trend_day *v = NULL;
	size_t n = 0;
	if (ed_store_trend(st, ref, cand, &v, &n, &err))
		return ed_pg_fail(c, r, &err);
	struct ed_page p = ED_PAGE_INIT;
	ed_pg_begin(&p, "history of", cand);
	ed_pg_raw(&p, "<main>\n<h1>History: ");
	ed_pg_str(&p, ref);
	ed_pg_raw(&p, " &#8594; ");
	ed_pg_str(&p, cand);
	ed_pg_raw(&p, "</h1>\n<form class=\"inline\" id=\"pair\" method=\"get\" action=\"/history\">"
		   "<label>reference <input name=\"ref\" value=\"");
	ed_pg_str(&p, ref);
	ed_pg_raw(&p, "\"></label><label>candidate <input name=\"cand\" value=\"");
	ed_pg_str(&p, cand);
	ed_pg_raw(&p, "\"></label><button type=\"submit\">show</button></form>\n<p><a href=\"");
	ed_pg_diff_href(&p, ref, cand);
	ed_pg_raw(&p, "\">the drift now</a></p>\n");
	if (!n) {
		ed_pg_raw(&p, "<p class=\"note\" id=\"no-runs\">No recorded run of this pair yet: "
			   "'envdrift gate' and 'envdrift report' record one each time.</p>\n");
	} else {
		chart(&p, v, n);
		ed_pg_raw(&p, "<table id=\"trend\"><thead><tr><th>day</th><th>differences</th>"
			   "<th>blocking</th><th>added</th><th>removed</th><th>changed</th>"
			   "<th>ignored</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < n; i++)
			ed_pg_fmt(&p, "<tr><td>%.10s</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
				   "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td "
				   "class=\"n\">%lld</td><td class=\"n\">%lld</td></tr>\n",
			       v[i].day, (long long)(v[i].added + v[i].removed + v[i].changed),
			       (long long)v[i].blocking, (long long)v[i].added,
			       (long long)v[i].removed, (long long)v[i].changed,
			       (long long)v[i].ignored);
		ed_pg_raw(&p, "</tbody></table>\n");
	}
	ed_pg_raw(&p, "</main>\n");
	ed_pg_end(&p);
	free(v);
	return ed_pg_send(c, r, &p, 200);
}
