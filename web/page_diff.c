/* SPDX-License-Identifier: MIT */
/*
 * The pair page, /diff?ref=REF&cand=CAND: the drift as the HTML report
 * renders it (ed_diff_render with ed_report_html, its body only), filtered by
 * the GET form's kind, sev and q; expected differences with show=ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/diff.h"
#include "ed/policy.h"
#include "pages.h"

#define MAX_FILTERS 32

enum MHD_Result page_diff(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st)
{
	struct ed_web *w = r->w;
	const char *ref = pg_arg(c, "ref"), *cand = pg_arg(c, "cand"), *show = pg_arg(c, "show");
	const char *q = pg_arg(c, "q");
	if (!ref || !*ref)
		ref = "production";
	if (!cand || !*cand)
		cand = "staging";
	bool ignored = show && strcmp(show, "ignored") == 0;
	const char *kinds[MAX_FILTERS], *sevs[MAX_FILTERS];
	size_t nkinds = pg_args(c, "kind", kinds, MAX_FILTERS);
	size_t nsevs = pg_args(c, "sev", sevs, MAX_FILTERS);
	const char *hidden[6] = {"ref", ref, "cand", cand, "show", "ignored"};
	struct ed_render_opts ro = {.show_ignored = ignored, .html_body = true, .html_form = "/diff",
				    .html_hidden = hidden, .nhtml_hidden = ignored ? 3 : 2,
				    .only_kinds = kinds, .nonly_kinds = nkinds,
				    .only_sevs = sevs, .nonly_sevs = nsevs, .query = q};
	struct ed_err err = {0};
	struct ed_policy pol = {0};
	struct ed_drift d = {0};
	char *body = NULL;
	size_t len = 0;
	FILE *out = NULL;
	enum MHD_Result ret;
	if (ed_policy_load(w->o->policy, &pol, &err) ||
	    ed_diff_compare(st, ref, cand, &pol, &d, &err)) {
		ret = pg_fail(c, r, &err);
		goto done;
	}
	d.policy = w->o->policy ? w->o->policy : "built-in default";
	if (!(out = open_memstream(&body, &len))) {
		ret = pg_error(c, r, 500, "out of memory");
		goto done;
	}
	enum ed_code rc = ed_diff_render(out, st, &ed_report_html, &d, &ro, &err);
	if (fclose(out) != 0 && !rc)
		rc = ed_err_set(&err, ED_NOMEM, "out of memory rendering the drift");
	if (rc) {
		ret = pg_fail(c, r, &err);
		goto done;
	}
	struct page p = PAGE_INIT;
	pg_begin(&p, cand, NULL);
	pg_raw(&p, "<div class=\"pair-nav\"><a href=\"");
	pg_diff_href(&p, ref, cand);
	if (!ignored)
		pg_raw(&p, "&amp;show=ignored");
	pg_raw(&p, ignored ? "\" id=\"toggle-ignored\">hide expected differences</a>"
			   : "\" id=\"toggle-ignored\">show expected differences</a>");
	pg_raw(&p, "<a href=\"/history?ref=");
	pg_url(&p, ref);
	pg_raw(&p, "&amp;cand=");
	pg_url(&p, cand);
	pg_raw(&p, "\">history of this pair</a><a href=\"/api/v1/diff?ref=");
	pg_url(&p, ref);
	pg_raw(&p, "&amp;cand=");
	pg_url(&p, cand);
	pg_raw(&p, "\">as JSON</a></div>\n");
	if (ed_buf_add(&p.b, body ? body : "", len))
		p.oom = true;
	pg_end(&p);
	ret = pg_send(c, r, &p, 200);
done:
	free(body);
	ed_drift_release(&d);
	ed_policy_release(&pol);
	return ret;
}
