/* SPDX-License-Identifier: MIT */
/*
 * The HTML report: one self-contained page (inline CSS and JS, a CSP that
 * forbids loading anything) with the summary, filters by kind and severity, a
 * search box, and unified diffs of files whose content both sides kept.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/diff.h"
#include "report_common.h"

/* --- shown text: the same rules in every report file --- */

static int add_shown_t(struct ed_buf *b, const char *s, size_t len, bool tabs)
{
	return ed_buf_add_shown(b, s, len, tabs);
}

/* --- HTML output --- */

struct ctx {
	FILE *out;
	const struct ed_drift *d;
	const struct ed_render_opts *opts;
	struct ed_drift_reader r; /* d's entries, with their kept texts */
	struct ed_buf t; /* scratch for shown text */
	bool oom;
};

/* Writes shown text HTML-escaped (fit for text and quoted attribute values). */
static void put_esc(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(s[i], out); break;
		}
	}
}

/* Writes raw bytes (a key, a value, a line of a file) shown and escaped. */
static void put_raw_t(struct ctx *c, const char *s, size_t len, bool tabs)
{
	ed_buf_reset(&c->t);
	if (add_shown_t(&c->t, s, len, tabs)) {
		c->oom = true;
		return;
	}
	put_esc(c->out, c->t.p ? c->t.p : "", c->t.len);
}

static void put_raw(struct ctx *c, const char *s, size_t len)
{
	put_raw_t(c, s, len, false);
}

static void put_raw_s(struct ctx *c, const char *s)
{
	put_raw(c, s ? s : "", s ? strlen(s) : 0);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* --- kept content: the unified diff (report_udiff.c) --- */

static int put_udiff_line(void *arg, enum ed_udiff_kind kind, const char *s, size_t len)
{
	struct ctx *c = arg;
	switch (kind) {
	case ED_UDIFF_NOTE:
		fputs("<p class=\"note\">", c->out);
		put_raw(c, s, len);
		fputs("</p>", c->out);
		break;
	case ED_UDIFF_BEGIN:
		fprintf(c->out, "<details class=\"diff\" open><summary>unified diff (%zu %s)</summary>"
				"<pre>", len, plural(len, "line", "lines"));
		break;
	case ED_UDIFF_HEAD:
		fputs("<span class=\"head\">", c->out);
		put_raw(c, s, len);
		fputs("</span>\n", c->out);
		break;
	case ED_UDIFF_HUNK:
		fputs("<span class=\"hunk\">", c->out);
		put_raw(c, s, len);
		fputs("</span>\n", c->out);
		break;
	case ED_UDIFF_CTX:
	case ED_UDIFF_DEL:
	case ED_UDIFF_ADD:
		fprintf(c->out, "<span class=\"%s\">%c",
			kind == ED_UDIFF_CTX ? "ctx" : kind == ED_UDIFF_DEL ? "del" : "add",
			kind == ED_UDIFF_CTX ? ' ' : kind == ED_UDIFF_DEL ? '-' : '+');
		put_raw_t(c, s, len, true);
		fputs("</span>\n", c->out);
		break;
	case ED_UDIFF_NOEOL:
		fputs("<span class=\"eol\">", c->out);
		put_raw(c, s, len);
		fputs("</span>\n", c->out);
		break;
	case ED_UDIFF_END:
		fputs("</pre></details>", c->out);
		break;
	}
	return c->oom;
}

/*
 * For a file whose content changed, with the kept texts attached
 * (ed_drift_attach_kept()): a unified diff of them, or a note why not.
 */
static void put_file_diff(struct ctx *c, const struct ed_drift_entry *e)
{
	if (ed_kept_udiff(c->d, e, put_udiff_line, c))
		c->oom = true;
}

/* --- the page --- */

const char ed_report_html_css[] =
	":root{--fg:#1f2328;--bg:#fff;--mute:#656d76;--line:#d0d7de;--head:#f6f8fa;"
	"--block:#cf222e;--warn:#9a6700;--info:#0969da;--ign:#8c959f;"
	"--add:#dafbe1;--del:#ffebe9;--hunk:#ddf4ff}\n"
	"@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--mute:#8d96a0;"
	"--line:#30363d;--head:#161b22;--block:#ff7b72;--warn:#d29922;--info:#58a6ff;"
	"--ign:#6e7681;--add:#12261e;--del:#25171c;--hunk:#121d2f}}\n"
	"body{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);"
	"margin:0 auto;padding:1em 2em;max-width:1400px}\n"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .5em}\n"
	"table{border-collapse:collapse;margin:.4em 0}\n"
	"th,td{border:1px solid var(--line);padding:.25em .6em;text-align:left;vertical-align:top}\n"
	"th{background:var(--head)}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	"tfoot td{font-weight:600}\n"
	"code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
	"code{overflow-wrap:anywhere}\n"
	".sides{color:var(--mute);margin:.2em 0}.note{color:var(--mute);margin:.3em 0}\n"
	".sev{font-weight:600;text-transform:uppercase;font-size:.8em}\n"
	".sev-block .sev{color:var(--block)}.sev-warn .sev{color:var(--warn)}"
	".sev-info .sev{color:var(--info)}.sev-ignored{color:var(--ign)}\n"
	"#filters{display:flex;flex-wrap:wrap;gap:.6em 1.6em;align-items:center;"
	"padding:.6em .8em;background:var(--head);border:1px solid var(--line);border-radius:6px}\n"
	"#filters fieldset{border:0;margin:0;padding:0}#filters legend{float:left;"
	"margin-right:.5em;font-weight:600}\n"
	"#filters label{margin-right:.7em;white-space:nowrap}#q{width:18em}\n"
	"#shown{color:var(--mute)}\n"
	"#items{width:100%}#items td:nth-last-child(2){max-width:40em}\n"
	"#items td:last-child{max-width:22em;color:var(--mute);font-size:.92em}\n"
	"details.diff{margin-top:.3em}details.diff summary{cursor:pointer;color:var(--mute)}\n"
	"pre{margin:.3em 0;padding:.4em 0;overflow-x:auto;border:1px solid var(--line);"
	"border-radius:4px;background:var(--bg);tab-size:4;white-space:normal}\n"
	/* One block per line; the newlines between them collapse, so none doubles a line. */
	"pre span{display:block;padding:0 .6em;white-space:pre}\n"
	"pre .add{background:var(--add)}pre .del{background:var(--del)}"
	"pre .hunk{background:var(--hunk);color:var(--mute)}pre .head{font-weight:600}"
	"pre .eol{color:var(--mute)}\n";

/*
 * Filters and search. The page reads its state from location.hash too, so a
 * filtered view can be linked and tests can drive it:
 *   #kind=file,config&sev=block,warn&q=nginx
 * Each row's data-visible says whether it is shown; body[data-ready] that this ran.
 */
const char ed_report_html_js[] =
	"(function () {\n"
	"  'use strict';\n"
	"  var box = document.getElementById('filters');\n"
	"  if (!box) { document.body.setAttribute('data-ready', '1'); return; }\n"
	"  var rows = Array.prototype.slice.call(document.querySelectorAll('#items tr.item'));\n"
	"  var checks = Array.prototype.slice.call(box.querySelectorAll('input[type=checkbox]'));\n"
	"  var q = document.getElementById('q'), shown = document.getElementById('shown');\n"
	"  rows.forEach(function (r) {\n"
	"    r.searchText = (r.getAttribute('data-text') || '').toLowerCase();\n"
	"  });\n"
	"  function on(name) {\n"
	"    var s = {};\n"
	"    checks.forEach(function (c) { if (c.name === name && c.checked) s[c.value] = true; });\n"
	"    return s;\n"
	"  }\n"
	"  function apply() {\n"
	"    var kinds = on('kind'), sevs = on('sev'), text = q.value.toLowerCase(), n = 0;\n"
	"    rows.forEach(function (r) {\n"
	"      var v = !!(kinds[r.getAttribute('data-kind')] && sevs[r.getAttribute('data-sev')] &&\n"
	"                 (!text || r.searchText.indexOf(text) >= 0));\n"
	"      r.hidden = !v;\n"
	"      r.setAttribute('data-visible', v ? '1' : '0');\n"
	"      if (v) n++;\n"
	"    });\n"
	"    shown.textContent = n + ' of ' + rows.length + ' shown';\n"
	"  }\n"
	"  function fromHash() {\n"
	"    var h = location.hash.replace(/^#/, '');\n"
	"    if (!h) return;\n"
	"    h.split('&').forEach(function (part) {\n"
	"      var i = part.indexOf('='), k, v;\n"
	"      if (i < 0) return;\n"
	"      try {\n"
	"        k = decodeURIComponent(part.slice(0, i));\n"
	"        v = decodeURIComponent(part.slice(i + 1));\n"
	"      } catch (e) {\n"
	"        return;\n"
	"      }\n"
	"      if (k === 'q') { q.value = v; return; }\n"
	"      if (k !== 'kind' && k !== 'sev') return;\n"
	"      var want = {};\n"
	"      v.split(',').forEach(function (x) { want[x] = true; });\n"
	"      checks.forEach(function (c) { if (c.name === k) c.checked = !!want[c.value]; });\n"
	"    });\n"
	"  }\n"
	"  checks.forEach(function (c) { c.addEventListener('change', apply); });\n"
	"  q.addEventListener('input', apply);\n"
	"  window.addEventListener('hashchange', function () { fromHash(); apply(); });\n"
	"  box.hidden = false;\n"
	"  fromHash();\n"
	"  apply();\n"
	"  document.body.setAttribute('data-ready', '1');\n"
	"})();\n";

/* ed_side_roles() into the page: names escaped. */
static void html_put(void *ctx, const char *s, bool foreign)
{
	struct ctx *c = ctx;
	if (foreign)
		put_raw_s(c, s);
	else
		fputs(s, c->out);
}

static void put_side(struct ctx *c, const char *label, const struct ed_snapref *one,
		     const struct ed_snapref *v, size_t n)
{
	if (!n) {
		v = one;
		n = 1;
	}
	fprintf(c->out, "<p class=\"sides\">%s: <strong>", label);
	put_raw_s(c, v[0].env);
	fputs("</strong>", c->out);
	if (n > 1 && !c->opts->hosts) {
		fputc(' ', c->out);
		if (ed_side_roles(v, n, html_put, c))
			c->oom = true;
		fputs("</p>\n", c->out);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		fprintf(c->out, "%s @%lld ", i ? "," : "", (long long)v[i].id);
		put_raw_s(c, v[i].host);
		fputs(" (", c->out);
		put_raw_s(c, v[i].started_at);
		fputc(')', c->out);
	}
	fputs("</p>\n", c->out);
}

static void put_summary(struct ctx *c, const struct ed_kstat *ks, size_t nk, const struct ed_kstat *tot)
{
	fputs("<h2>Summary</h2>\n<table id=\"summary\"><thead><tr><th>kind</th><th>added</th>"
	      "<th>removed</th><th>changed</th><th>blocking</th><th>warnings</th><th>info</th>"
	      "<th>ignored</th></tr></thead>\n<tbody>\n", c->out);
	for (size_t k = 0; k <= nk; k++) {
		const struct ed_kstat *s = k < nk ? &ks[k] : tot;
		if (k == nk)
			fputs("</tbody>\n<tfoot>", c->out);
		fputs("<tr><td>", c->out);
		if (k < nk)
			put_raw_s(c, s->kind);
		else
			fputs("total", c->out);
		fprintf(c->out, "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
				"<td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
				"<td class=\"n\">%zu</td><td class=\"n\">%zu</td></tr>\n",
			s->added, s->removed, s->changed, s->blocking, s->warnings, s->infos,
			s->ignored);
	}
	fputs("</tfoot></table>\n", c->out);
}

static void put_expired(struct ctx *c)
{
	const struct ed_drift *d = c->d;
	fprintf(c->out, "<h2>Expired policy rules</h2>\n<p class=\"note\">%zu %s expired and no "
			"longer %s: the drift they covered is reported again.</p>\n"
			"<table id=\"expired\"><thead><tr><th>rule</th><th>expired</th>"
			"<th>reason</th></tr></thead><tbody>\n",
		d->nexpired, plural(d->nexpired, "rule has", "rules have"),
		plural(d->nexpired, "applies", "apply"));
	for (size_t i = 0; i < d->nexpired; i++) {
		fputs("<tr><td><code>", c->out);
		put_raw_s(c, d->expired[i].text);
		fputs("</code></td><td>", c->out);
		put_raw_s(c, d->expired[i].expires);
		fputs("</td><td>", c->out);
		put_raw_s(c, d->expired[i].reason ? d->expired[i].reason : "-");
		fputs("</td></tr>\n", c->out);
	}
	fputs("</tbody></table>\n", c->out);
}

static void put_snowflakes(struct ctx *c)
{
	const struct ed_drift *d = c->d;
	fprintf(c->out, "<h2>Snowflakes</h2>\n<p class=\"note\">%zu host %s that %s with the "
			"majority of %s role; the majority is what the environments are compared "
			"by.</p>\n<table id=\"snowflakes\"><thead><tr><th>environment</th><th>role</th>"
			"<th>host</th><th>kind</th><th>key</th><th>its value</th>"
			"<th>majority value</th></tr></thead><tbody>\n",
		d->nsnowflakes, plural(d->nsnowflakes, "item", "items"),
		plural(d->nsnowflakes, "disagrees", "disagree"),
		plural(d->nsnowflakes, "its", "their"));
	for (size_t i = 0; i < d->nsnowflakes; i++) {
		const struct ed_snowflake *f = &d->snowflakes[i];
		fputs("<tr><td>", c->out);
		put_raw_s(c, f->env);
		fputs("</td><td>", c->out);
		put_raw_s(c, f->role && *f->role ? f->role : "-");
		fputs("</td><td>", c->out);
		put_raw_s(c, f->host);
		fputs("</td><td>", c->out);
		put_raw_s(c, f->kind);
		fputs("</td><td><code>", c->out);
		put_raw_s(c, f->key);
		fputs("</code></td><td>", c->out);
		if (f->value) {
			fputs("<code>", c->out);
			put_raw_s(c, f->value);
			fputs("</code>", c->out);
		} else {
			fputs("(absent or secret)", c->out);
		}
		fputs("</td><td>", c->out);
		if (f->majority_value) {
			fputs("<code>", c->out);
			put_raw_s(c, f->majority_value);
			fputs("</code>", c->out);
		} else {
			fputs("(absent or secret)", c->out);
		}
		fputs("</td></tr>\n", c->out);
	}
	fputs("</tbody></table>\n", c->out);
}

/* Whether value is one of v[0..n) (none: every value is). */
static bool selected(const char *const *v, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && value && strcmp(v[i], value) == 0)
			return true;
	return n == 0;
}

/* Whether needle occurs in hay[0..len), ASCII case ignored. */
static bool holds(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n <= len && i <= len - n; i++) {
		size_t k = 0;
		while (k < n && tolower((unsigned char)hay[i + k]) == tolower((unsigned char)needle[k]))
			k++;
		if (k == n)
			return true;
	}
	return false;
}

/* Whether the filters of opts (html_body) list e; what is its description. */
static bool listed(const struct ed_render_opts *o, const struct ed_drift_entry *e,
		   const struct ed_buf *what)
{
	const char *sev = e->ignored ? "ignored" : e->severity ? e->severity : "block";
	if (!selected(o->only_kinds, o->nonly_kinds, e->kind) ||
	    !selected(o->only_sevs, o->nonly_sevs, sev))
		return false;
	if (!o->query || !*o->query)
		return true;
	return holds(e->key ? e->key : "", e->key_len, o->query) ||
	       holds(what->p ? what->p : "", what->len, o->query);
}

static void put_checkbox(struct ctx *c, const char *name, const char *value, size_t count)
{
	const struct ed_render_opts *o = c->opts;
	bool on = strcmp(name, "kind") == 0 ? selected(o->only_kinds, o->nonly_kinds, value)
					    : selected(o->only_sevs, o->nonly_sevs, value);
	fprintf(c->out, "<label><input type=\"checkbox\" name=\"%s\" value=\"", name);
	put_raw_s(c, value);
	fprintf(c->out, "\"%s> ", on ? " checked" : "");
	put_raw_s(c, value);
	fprintf(c->out, " (%zu)</label>", count);
}

/* Writes e's row when the filters list it; true when they did. */
static bool put_row(struct ctx *c, const struct ed_drift_entry *e, bool role, struct ed_buf *what)
{
	const char *sev = e->ignored ? "ignored" : e->severity ? e->severity : "block";
	ed_buf_reset(what);
	if (ed_drift_describe(e, what)) {
		c->oom = true;
		return false;
	}
	if (c->opts->html_body && !listed(c->opts, e, what))
		return false;
	fprintf(c->out, "<tr class=\"item sev-%s\" data-kind=\"", sev);
	put_raw_s(c, e->kind);
	fprintf(c->out, "\" data-sev=\"%s\" data-text=\"", sev);
	put_raw(c, e->key, e->key_len);
	fputc(' ', c->out);
	put_raw(c, what->p ? what->p : "", what->len);
	fputs("\" data-visible=\"1\"><td class=\"sev\">", c->out);
	fputs(sev, c->out);
	fputs("</td>", c->out);
	if (role) {
		fputs("<td>", c->out);
		put_raw_s(c, e->role && *e->role ? e->role : "-");
		fputs("</td>", c->out);
	}
	fputs("<td>", c->out);
	put_raw_s(c, e->kind);
	fprintf(c->out, "</td><td>%s</td><td><code>", ed_change_name(e->change));
	put_raw(c, e->key, e->key_len);
	fputs("</code></td><td>", c->out);
	put_raw(c, what->p ? what->p : "", what->len);
	if (e->ignored) {
		fputs("<p class=\"note\">ignored: ", c->out);
		put_raw_s(c, e->reason ? e->reason : "expected difference");
		if (c->opts->html_body) { /* the dashboard says until when */
			fputs(e->expires[0] ? " <span class=\"expires\">(expires " : "", c->out);
			put_raw_s(c, e->expires[0] ? e->expires : "");
			fputs(e->expires[0] ? ")</span>" : " <span class=\"expires\">(no expiry)</span>",
			      c->out);
		}
		fputs("</p>", c->out);
	}
	put_file_diff(c, e);
	fputs("</td><td>", c->out);
	put_raw_s(c, e->rule);
	fputs("</td></tr>\n", c->out);
	return true;
}

static void put_drift(struct ctx *c, const struct ed_kstat *ks, size_t nk, const struct ed_kstat *tot)
{
	const struct ed_drift *d = c->d;
	bool role = false;
	size_t nign = 0;
	struct ed_buf what = ED_BUF_INIT;
	struct ed_drift_reader plain;
	ed_drift_reader_init(&plain, d, false);
	for (size_t i = 0; i < d->n; i++) {
		const struct ed_drift_entry *e = ed_drift_at(&plain, i);
		if (e->ignored && !c->opts->show_ignored)
			continue;
		nign += e->ignored;
		if (e->role && *e->role)
			role = true;
	}
	const struct ed_render_opts *o = c->opts;
	fputs("<h2>Drift</h2>\n", c->out);
	if (o->html_body) {
		/* A GET form: it works without the script, which only filters as you type. */
		fputs("<form id=\"filters\" method=\"get\" action=\"", c->out);
		put_raw_s(c, o->html_form ? o->html_form : "");
		fputs("\">\n", c->out);
		for (size_t i = 0; i < o->nhtml_hidden; i++) {
			fputs("<input type=\"hidden\" name=\"", c->out);
			put_raw_s(c, o->html_hidden[2 * i]);
			fputs("\" value=\"", c->out);
			put_raw_s(c, o->html_hidden[2 * i + 1]);
			fputs("\">", c->out);
		}
		fputs("\n<fieldset><legend>kind</legend>", c->out);
	} else {
		fputs("<div id=\"filters\" hidden>\n<fieldset><legend>kind</legend>", c->out);
	}
	for (size_t k = 0; k < nk; k++)
		if (ks[k].listed)
			put_checkbox(c, "kind", ks[k].kind, ks[k].listed);
	fputs("</fieldset>\n<fieldset><legend>severity</legend>", c->out);
	put_checkbox(c, "sev", "block", tot->blocking);
	put_checkbox(c, "sev", "warn", tot->warnings);
	put_checkbox(c, "sev", "info", tot->infos);
	if (nign)
		put_checkbox(c, "sev", "ignored", nign);
	if (o->html_body) {
		fputs("</fieldset>\n<label>search <input type=\"search\" id=\"q\" name=\"q\" "
		      "placeholder=\"key or value\" autocomplete=\"off\" value=\"", c->out);
		put_raw_s(c, o->query ? o->query : "");
		fputs("\"></label>\n", c->out);
	} else {
		fputs("</fieldset>\n<label>search <input type=\"search\" id=\"q\" "
		      "placeholder=\"key or value\" autocomplete=\"off\"></label>\n", c->out);
	}
	size_t nshown = tot->listed;
	if (o->html_body) { /* what the filters list, counted first */
		nshown = 0;
		for (size_t i = 0; i < d->n && !c->oom; i++) {
			const struct ed_drift_entry *e = ed_drift_at(&plain, i);
			if (e->ignored && !o->show_ignored)
				continue;
			ed_buf_reset(&what);
			if (ed_drift_describe(e, &what))
				c->oom = true;
			else
				nshown += listed(o, e, &what);
		}
	}
	fprintf(c->out, "<span id=\"shown\">%zu of %zu shown</span>\n", nshown, tot->listed);
	fputs(o->html_body ? "<button type=\"submit\">filter</button>\n</form>\n" : "</div>\n",
	      c->out);
	fprintf(c->out, "<table id=\"items\"><thead><tr><th>severity</th>%s<th>kind</th>"
			"<th>change</th><th>key</th><th>what differs</th><th>rule</th></tr></thead>"
			"\n<tbody>\n", role ? "<th>role</th>" : "");
	size_t n = 0;
	for (size_t i = 0; i < d->n && !c->oom; i++) {
		const struct ed_drift_entry *e = ed_drift_at(&plain, i);
		/* Only an entry listed reads its kept texts. */
		if (!e->ignored || c->opts->show_ignored)
			n += put_row(c, ed_drift_at(&c->r, i), role, &what);
	}
	fputs("</tbody></table>\n", c->out);
	if (o->html_body && n != tot->listed)
		fprintf(c->out, "<p class=\"note\" id=\"filtered\">%zu of %zu listed by the "
				"filters.</p>\n", n, tot->listed);
	if (ed_drift_reader_failed(&plain, NULL) && !c->r.rc) {
		c->r.rc = plain.rc;
		c->r.err = plain.err;
	}
	ed_drift_reader_release(&plain);
	ed_buf_release(&what);
}

static enum ed_code render_html(FILE *out, const struct ed_drift *d,
				const struct ed_render_opts *opts, struct ed_err *err)
{
	struct ctx c = {.out = out, .d = d, .opts = opts, .t = ED_BUF_INIT};
	struct ed_kstat *ks = NULL;
	size_t nk = 0;
	enum ed_code rc = ed_kind_stats(d, opts->show_ignored, &ks, &nk, err);
	if (rc)
		return rc;
	ed_drift_reader_init(&c.r, d, true);
	struct ed_kstat tot = ed_kind_total(d, ks, nk);
	size_t drift = tot.added + tot.removed + tot.changed;

	if (opts->html_body)
		goto header;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; "
	      "form-action 'none'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"envdrift\">\n<title>envdrift: ", out);
	put_raw_s(&c, d->cand.env);
	fputs(" vs ", out);
	put_raw_s(&c, d->ref.env);
	fputs("</title>\n", out);
	fputs("<style>\n", out);
	fputs(ed_report_html_css, out);
	fputs("</style>\n", out);
	fputs("</head>\n<body data-ready=\"0\">\n", out);
header:
	fputs("<header>\n<h1>", out);
	if (ed_drift_same_env(d)) {
		fputs(drift ? "what changed in " : "nothing changed in ", out);
		put_raw_s(&c, d->cand.env);
	} else {
		put_raw_s(&c, d->cand.env);
		fputs(drift ? " differs from " : " mirrors ", out);
		put_raw_s(&c, d->ref.env);
	}
	fputs("</h1>\n", out);
	put_side(&c, "reference", &d->ref, d->refs, d->nrefs);
	put_side(&c, "candidate", &d->cand, d->cands, d->ncands);
	fputs("<p class=\"sides\">policy: ", out);
	if (d->policy) {
		fputs("<code>", out);
		put_raw_s(&c, d->policy);
		fputs("</code>", out);
	} else {
		fputs("none: " ED_NO_POLICY, out);
	}
	fputs("</p>\n</header>\n<main>\n", out);
	put_summary(&c, ks, nk, &tot);
	/* Where the ignored entries are listed: an option of the CLI, a link of the dashboard. */
	const char *hint = opts->html_body ? " (listed with &#8220;show expected differences&#8221;)"
					   : " (listed with --show-ignored)";
	if (drift)
		fprintf(out, "<p id=\"counts\"><strong>%zu %s, %zu blocking</strong>, %zu %s, "
			     "%zu info; %zu ignored by the policy%s.</p>\n",
			drift, plural(drift, "difference", "differences"), tot.blocking, tot.warnings,
			plural(tot.warnings, "warning", "warnings"), tot.infos, tot.ignored,
			tot.ignored && !opts->show_ignored ? hint : "");
	else
		fprintf(out, "<p id=\"counts\"><strong>No drift</strong> in %lld %s compared; %zu "
			     "ignored by the policy%s.</p>\n",
			(long long)d->compared, plural((size_t)d->compared, "item", "items"),
			tot.ignored,
			tot.ignored && !opts->show_ignored ? hint : "");
	if (d->nexpired)
		put_expired(&c);
	if (d->nsnowflakes)
		put_snowflakes(&c);
	if (tot.listed)
		put_drift(&c, ks, nk, &tot);
	fputs("</main>\n", out);
	if (!opts->html_body) {
		fputs("<script>\n", out);
		fputs(ed_report_html_js, out);
		fputs("</script>\n", out);
		fputs("</body>\n</html>\n", out);
	}

	if ((rc = ed_drift_reader_failed(&c.r, err)))
		; /* its message says what failed */
	else if (c.oom)
		rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
	else if (ferror(out))
		rc = ed_err_set(err, ED_IO, "cannot write the report");
	ed_drift_reader_release(&c.r);
	ed_buf_release(&c.t);
	ed_kind_stats_free(ks, nk);
	return rc;
}

const struct ed_report_ops ed_report_html = {.name = "html", .render = render_html,
					     .kept_content = true};
