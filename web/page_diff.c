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

enum MHD_Result ed_page_diff(struct MHD_Connection *c, struct ed_req *r, struct ed_store *st)
{
	struct ed_web *w = r->w;
	const char *ref = ed_pg_arg(c, "ref"), *cand = ed_pg_arg(c, "cand"), *show = ed_pg_arg(c, "show");
	const char *q = ed_pg_arg(c, "q");
	if (!ref || !*ref)
		ref = "production";
	if (!cand || !*cand)
		cand = "staging";
	bool ignored = show && strcmp(show, "ignored") == 0;
	const char *kinds[MAX_FILTERS], *sevs[MAX_FILTERS];
	size_t nkinds = ed_pg_args(c, "kind", kinds, MAX_FILTERS);
	size_t nsevs = ed_pg_args(c, "sev", sevs, MAX_FILTERS);
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
		ret = ed_pg_fail(c, r, &err);
		goto done;
	}
	d.policy = w->o->policy ? w->o->policy : "built-in default";
	if (!(out = open_memstream(&body, &len))) {
		ret = ed_pg_error(c, r, 500, "out of memory");
		goto done;
	}
	enum ed_code rc = ed_diff_render(out, st, &ed_report_html, &d, &ro, &err);
	if (fclose(out) != 0 && !rc)
		rc = ed_err_set(&err, ED_NOMEM, "out of memory rendering the drift");
	if (rc) {
		ret = ed_pg_fail(c, r, &err);
		goto done;
	}
	struct ed_page p = ED_PAGE_INIT;
	ed_pg_begin(&p, cand, NULL);
	ed_pg_raw(&p, "<div class=\"pair-nav\"><a href=\"");
	ed_pg_diff_href(&p, ref, cand);
	if (!ignored)
		ed_pg_raw(&p, "&amp;show=ignored");
	ed_pg_raw(&p, ignored ? "\" id=\"toggle-ignored\">hide expected differences</a>"
			   : "\" id=\"toggle-ignored\">show expected differences</a>");
	ed_pg_raw(&p, "<a href=\"/history?ref=");
	ed_pg_url(&p, ref);
	ed_pg_raw(&p, "&amp;cand=");
	ed_pg_url(&p, cand);
	ed_pg_raw(&p, "\">history of this pair</a><a href=\"/api/v1/diff?ref=");
	ed_pg_url(&p, ref);
	ed_pg_raw(&p, "&amp;cand=");
	ed_pg_url(&p, cand);
	ed_pg_raw(&p, "\">as JSON</a></div>\n");
	if (ed_buf_add(&p.b, body ? body : "", len))
		p.oom = true;
	ed_pg_end(&p);
	ret = ed_pg_send(c, r, &p, 200);
done:
	free(body);
	ed_drift_release(&d);
	ed_policy_release(&pol);
	return ret;
}
