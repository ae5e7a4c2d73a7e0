/* SPDX-License-Identifier: MIT */
/*
 * The SARIF 2.1.0 report, for code scanning (GitHub, GitLab, Azure DevOps):
 * one run, one rule per kind and change, one result per listed drift entry.
 *
 * Locations: file drift points at the path on the host, config drift at its
 * file (the key up to the '#' of its JSON pointer), both as a relative URI
 * without the leading '/' under the base id HOSTROOT (file:///), so a consumer
 * that resolves bases gets file:///etc/nginx/nginx.conf and code scanning,
 * which takes URIs as repository paths, shows etc/nginx/nginx.conf. Items that
 * are not files (packages, schemas, system facts) get KIND/KEY under the base
 * id ITEMS, which has no URI: code scanning refuses a result without a
 * physical location. Every byte outside [A-Za-z0-9-._~/] is percent-encoded.
 * The region is always line 1: drift is about the whole item, and code
 * scanning places a result without a region nowhere.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed/diff.h"
#include "report_common.h"

/* --- shown text: the same rules in every report file --- */

static int add_shown(struct ed_buf *b, const char *s, size_t len)
{
	return ed_buf_add_shown(b, s, len, false);
}

static int add_shown_s(struct ed_buf *b, const char *s)
{
	return add_shown(b, s ? s : "", s ? strlen(s) : 0);
}

/* --- JSON values --- */

/* A JSON string of the shown form of s (NULL: JSON null). */
static json_t *jshown(const char *s, size_t len)
{
	struct ed_buf b = ED_BUF_INIT;
	json_t *j = NULL;
	if (add_shown(&b, s, len) == 0)
		j = json_stringn(ed_buf_str(&b), b.len);
	ed_buf_release(&b);
	return j;
}

static json_t *jshown_s(const char *s)
{
	return s ? jshown(s, strlen(s)) : json_null();
}

/*
 * A message object {"text": ...} with a copy of the text. A plain-text SARIF
 * message reads "[text](target)" as an embedded link: literal brackets are
 * escaped with a backslash (SARIF 2.1.0, 3.11.6).
 */
static json_t *jmessage(const struct ed_buf *text)
{
	struct ed_buf b = ED_BUF_INIT;
	json_t *j = NULL;
	int r = 0;
	for (size_t i = 0; i < text->len && !r; i++)
		r = ((text->p[i] == '[' || text->p[i] == ']') && ed_buf_addc(&b, '\\')) ||
		    ed_buf_addc(&b, text->p[i]);
	if (!r)
		j = json_pack("{s:s%}", "text", ed_buf_str(&b), b.len);
	ed_buf_release(&b);
	return j;
}

/* --- locations --- */

static bool is_file_kind(const char *kind)
{
	return strcmp(kind, ED_KIND_FILE) == 0 || strcmp(kind, ED_KIND_CONFIG) == 0;
}

/* Appends s[0..len) percent-encoded, keeping [A-Za-z0-9-._~/]. */
static int add_uri_part(struct ed_buf *b, const char *s, size_t len)
{
	static const char keep[] = "-._~/";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || (c && strchr(keep, c));
		if (plain ? ed_buf_addc(b, (char)c) : ed_buf_addf(b, "%%%02X", c))
			return -1;
	}
	return 0;
}

/* Length of the file part of a config key: up to the '#' that starts its JSON pointer. */
static size_t config_path_len(const char *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (key[i] == '#' && (i + 1 == len || key[i + 1] == '/'))
			return i;
	return len;
}

/* locations: [{physicalLocation, logicalLocations}] for one item. */
static json_t *jlocations(const char *kind, const char *key, size_t key_len)
{
	struct ed_buf uri = ED_BUF_INIT;
	const char *base = "ITEMS";
	int r = 0;
	if (is_file_kind(kind)) {
		size_t n = strcmp(kind, ED_KIND_CONFIG) == 0 ? config_path_len(key, key_len) : key_len;
		size_t skip = 0;
		while (skip < n && key[skip] == '/')
			skip++;
		base = "HOSTROOT";
		r = add_uri_part(&uri, key + skip, n - skip);
		if (!r && uri.len == 0)
			r = ed_buf_addc(&uri, '.'); /* the root folder itself */
	} else {
		r = add_uri_part(&uri, kind, strlen(kind)) || ed_buf_addc(&uri, '/') ||
		    add_uri_part(&uri, key, key_len);
	}
	json_t *loc = NULL;
	if (!r)
		loc = json_pack("[{s:{s:{s:s%, s:s}, s:{s:i}}, s:[{s:o, s:s}]}]",
				"physicalLocation", "artifactLocation", "uri", ed_buf_str(&uri),
				uri.len, "uriBaseId", base, "region", "startLine", 1,
				"logicalLocations", "fullyQualifiedName", jshown(key, key_len),
				"kind", "resource");
	ed_buf_release(&uri);
	return loc;
}

/* --- rules --- */

static const char *kind_noun(const char *kind)
{
	if (strcmp(kind, ED_KIND_FILE) == 0)
		return "A file, folder or link";
	if (strcmp(kind, ED_KIND_CONFIG) == 0)
		return "A configuration value";
	if (strcmp(kind, ED_KIND_PACKAGE) == 0)
		return "An installed package";
	if (strcmp(kind, ED_KIND_SCHEMA) == 0)
		return "A database schema object";
	if (strcmp(kind, ED_KIND_SYSTEM) == 0)
		return "A system fact";
	if (strcmp(kind, ED_KIND_ACCOUNT) == 0)
		return "A user or group account";
	if (strcmp(kind, "role") == 0)
		return "A role (the hosts collected with --role)";
	return "An item";
}

/* "file-changed": ASCII letters, digits and '-' only, whatever the kind holds. */
static int add_rule_id(struct ed_buf *b, const char *kind, const char *change)
{
	for (const char *p = kind; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (ed_buf_addc(b, ok ? c : '_'))
			return -1;
	}
	return ed_buf_addf(b, "-%s", change);
}

/* "FileChanged" */
static int add_rule_name(struct ed_buf *b, const char *id)
{
	bool up = true;
	for (const char *p = id; *p; p++) {
		if (*p == '-' || *p == '_') {
			up = true;
			continue;
		}
		char c = *p;
		if (up && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		up = false;
		if (ed_buf_addc(b, c))
			return -1;
	}
	return 0;
}

static json_t *jrule(const char *id, const char *kind, const char *change)
{
	struct ed_buf name = ED_BUF_INIT, text = ED_BUF_INIT, help = ED_BUF_INIT;
	json_t *rule = NULL;
	int r = add_rule_name(&name, id);
	if (strcmp(change, "snowflake") == 0) {
		r = r || ed_buf_adds(&text, "A host disagrees with the majority of its role") ||
		    ed_buf_adds(&help, "Within one environment, the hosts of one role should agree. "
				       "This host's item differs from what most hosts of its role "
				       "hold; the majority value is what the other environment is "
				       "compared against.");
	} else {
		const char *where = strcmp(change, "added") == 0     ? "exists only in the candidate"
				    : strcmp(change, "removed") == 0 ? "exists only in the reference"
								     : "differs between the environments";
		r = r || ed_buf_addf(&text, "%s %s", kind_noun(kind), where) ||
		    ed_buf_addf(&help,
				"%s %s environment. The severity comes from the policy: the "
				"built-in default policy, and the file given with --policy on top "
				"of it; the result's properties name the rule that decided it.",
				kind_noun(kind),
				strcmp(change, "added") == 0
					? "exists in the candidate and not in the reference"
				: strcmp(change, "removed") == 0
					? "exists in the reference and is missing from the candidate"
					: "differs between the reference and the candidate");
	}
	if (!r)
		rule = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:[s, s]}}", "id", id,
				 "name", ed_buf_str(&name), "shortDescription", "text",
				 ed_buf_str(&text), "help", "text", ed_buf_str(&help),
				 "defaultConfiguration", "level", "error", "properties", "tags",
				 "drift", kind);
	ed_buf_release(&name);
	ed_buf_release(&text);
	ed_buf_release(&help);
	return rule;
}

/* Index of the rule id in rules (adding it in order of first use); -1 on no memory. */
static json_int_t rule_index(json_t *rules, const char *kind, const char *change)
{
	struct ed_buf id = ED_BUF_INIT;
	json_int_t idx = -1;
	if (add_rule_id(&id, kind, change))
		goto out;
	size_t i;
	json_t *r;
	json_array_foreach(rules, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "id")), ed_buf_str(&id)) == 0) {
			idx = (json_int_t)i;
			goto out;
		}
	}
	if (json_array_append_new(rules, jrule(ed_buf_str(&id), kind, change)) == 0)
		idx = (json_int_t)json_array_size(rules) - 1;
out:
	ed_buf_release(&id);
	return idx;
}

/* --- results --- */

static const char *level_of(const char *severity)
{
	if (severity && strcmp(severity, "warn") == 0)
		return "warning";
	if (severity && strcmp(severity, "info") == 0)
		return "note";
	return "error";
}

/* XXH3-128 of kind NUL key NUL role: stable across runs, so alerts are tracked. */
static json_t *jfingerprint(const char *kind, const char *key, size_t key_len, const char *role)
{
	struct ed_buf b = ED_BUF_INIT;
	json_t *j = NULL;
	char hex[2 * ED_FP_LEN + 1];
	if (ed_buf_adds(&b, kind) == 0 && ed_buf_add(&b, "", 1) == 0 &&
	    ed_buf_add(&b, key, key_len) == 0 && ed_buf_add(&b, "", 1) == 0 &&
	    ed_buf_adds(&b, role ? role : "") == 0) {
		struct ed_fp fp;
		ed_fp_of(b.p, b.len, &fp);
		ed_fp_hex(&fp, hex);
		j = json_pack("{s:s}", "envdriftItem/v1", hex);
	}
	ed_buf_release(&b);
	return j;
}

static json_t *jresult(const struct ed_drift_entry *e, json_t *rules)
{
	struct ed_buf text = ED_BUF_INIT, what = ED_BUF_INIT;
	json_t *res = NULL, *props = NULL, *fields = NULL;
	const char *change = ed_change_name(e->change);
	const char *dir = ed_direction_name(e->direction);
	bool escaped = false;
	json_int_t idx = rule_index(rules, e->kind, change);
	if (idx < 0 || ed_drift_describe(e, &what))
		goto out;
	if (ed_buf_addf(&text, "%s ", change) || add_shown(&text, e->key, e->key_len) ||
	    (what.len && (ed_buf_adds(&text, ": ") || add_shown(&text, what.p, what.len))) ||
	    (e->role && *e->role && (ed_buf_adds(&text, " [role ") || add_shown_s(&text, e->role) ||
				     ed_buf_addc(&text, ']'))))
		goto out;

	props = json_pack("{s:o, s:o, s:s}", "kind", jshown_s(e->kind), "key",
			  ed_json_bytes(e->key, e->key_len, &escaped), "change", change);
	if (!props)
		goto out;
	int r = 0;
	if (escaped)
		r |= json_object_set_new(props, "key_escaped", json_true());
	if (e->change == ED_CHANGED) {
		fields = json_array();
		for (unsigned bit = 1; bit && bit <= ED_F_LAST; bit <<= 1)
			if (e->fields & bit)
				r |= json_array_append_new(fields, json_string(ed_field_name(bit)));
		r |= json_object_set_new(props, "fields", fields);
	}
	r |= json_object_set_new(props, "severity", json_string(e->severity ? e->severity : "block"));
	r |= json_object_set_new(props, "rule", jshown_s(e->rule));
	if (dir)
		r |= json_object_set_new(props, "direction", json_string(dir));
	if (e->role)
		r |= json_object_set_new(props, "role", jshown_s(e->role));
	if (e->ignored)
		r |= json_object_set_new(props, "ignored", json_true());
	if (r)
		goto out;

	res = json_pack("{s:s, s:I, s:s, s:o, s:o, s:o}", "ruleId",
			json_string_value(json_object_get(json_array_get(rules, (size_t)idx), "id")),
			"ruleIndex", idx, "level", level_of(e->severity), "message", jmessage(&text),
			"locations", jlocations(e->kind, e->key, e->key_len), "partialFingerprints",
			jfingerprint(e->kind, e->key, e->key_len, e->role));
	if (!res)
		goto out;
	if (e->ignored &&
	    json_object_set_new(res, "suppressions",
				json_pack("[{s:s, s:s, s:o}]", "kind", "external", "status",
					  "accepted", "justification",
					  jshown_s(e->reason ? e->reason : "expected difference")))) {
		json_decref(res);
		res = NULL;
		goto out;
	}
	if (json_object_set(res, "properties", props)) {
		json_decref(res);
		res = NULL;
	}
out:
	json_decref(props);
	ed_buf_release(&text);
	ed_buf_release(&what);
	return res;
}

static json_t *jsnowflake(const struct ed_snowflake *f, json_t *rules)
{
	struct ed_buf text = ED_BUF_INIT;
	json_t *res = NULL;
	const char *kind = f->kind ? f->kind : "item";
	const char *key = f->key ? f->key : "";
	json_int_t idx = rule_index(rules, "role", "snowflake");
	bool escaped;
	if (idx < 0 || ed_buf_adds(&text, "host ") || add_shown_s(&text, f->host) ||
	    ed_buf_adds(&text, " of ") || add_shown_s(&text, f->env) ||
	    ed_buf_adds(&text, " (role ") ||
	    add_shown_s(&text, f->role && *f->role ? f->role : "(none)") ||
	    ed_buf_adds(&text, ") disagrees with its role on ") || add_shown_s(&text, key) ||
	    ed_buf_adds(&text, ": ") || add_shown_s(&text, f->value ? f->value : "(absent or secret)") ||
	    ed_buf_adds(&text, ", majority ") ||
	    add_shown_s(&text, f->majority_value ? f->majority_value : "(absent or secret)"))
		goto out;
	res = json_pack("{s:s, s:I, s:s, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o, s:o}}", "ruleId",
			json_string_value(json_object_get(json_array_get(rules, (size_t)idx), "id")),
			"ruleIndex", idx, "level", "warning", "message", jmessage(&text), "locations",
			jlocations(kind, key, strlen(key)), "partialFingerprints",
			jfingerprint(kind, key, strlen(key), f->host), "properties", "env",
			jshown_s(f->env), "role", jshown_s(f->role), "host", jshown_s(f->host), "kind",
			jshown_s(kind), "key", ed_json_bytes(key, strlen(key), &escaped));
out:
	ed_buf_release(&text);
	return res;
}

/* One side: {"env", "snapshots": [ids], "hosts": [...], "started_at": [...]}. */
static json_t *jside(const struct ed_snapref *one, const struct ed_snapref *v, size_t n)
{
	if (!n) {
		v = one;
		n = 1;
	}
	json_t *ids = json_array(), *hosts = json_array(), *times = json_array();
	int r = !ids || !hosts || !times;
	for (size_t i = 0; i < n && !r; i++)
		r = json_array_append_new(ids, json_integer(v[i].id)) ||
		    json_array_append_new(hosts, jshown_s(v[i].host)) ||
		    json_array_append_new(times, jshown_s(v[i].started_at));
	if (r) {
		json_decref(ids);
		json_decref(hosts);
		json_decref(times);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o, s:o}", "env", jshown_s(v[0].env), "snapshots", ids,
			 "hosts", hosts, "started_at", times);
}

static json_t *jinvocation(const struct ed_drift *d)
{
	json_t *inv = json_pack("{s:b}", "executionSuccessful", 1);
	if (!inv || !d->nexpired)
		return inv;
	json_t *notes = json_array();
	int r = !notes || json_object_set_new(inv, "toolConfigurationNotifications", notes);
	for (size_t i = 0; i < d->nexpired && !r; i++) {
		const struct ed_expired_rule *x = &d->expired[i];
		struct ed_buf text = ED_BUF_INIT;
		r = ed_buf_adds(&text, "policy rule '") || add_shown_s(&text, x->text) ||
		    ed_buf_adds(&text, "' expired on ") || add_shown_s(&text, x->expires) ||
		    ed_buf_adds(&text, " and no longer applies") ||
		    (x->reason && (ed_buf_adds(&text, " (") || add_shown_s(&text, x->reason) ||
				   ed_buf_addc(&text, ')')));
		if (!r)
			r = json_array_append_new(
				notes, json_pack("{s:s, s:o, s:{s:s}, s:{s:o, s:o, s:o}}", "level",
						 "warning", "message", jmessage(&text), "descriptor",
						 "id", "expired-rule", "properties", "rule",
						 jshown_s(x->text), "expires", jshown_s(x->expires),
						 "reason", jshown_s(x->reason)));
		ed_buf_release(&text);
	}
	if (r) {
		json_decref(inv);
		return NULL;
	}
	return inv;
}

/* How the document is dumped, and each result in it. */
#define SARIF_DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/*
 * The results stand in the document for this string until it is written:
 * jansson writes it "\u0001..." and a shown text never holds a control byte.
 */
#define RESULTS_MARK "\001envdrift-results\001"

/* Writes s[0..n) with indent after each newline; false on failure. */
static bool put_indented(FILE *out, const char *s, size_t n, const char *indent, size_t ni)
{
	for (const char *nl; n && (nl = memchr(s, '\n', n));) {
		size_t k = (size_t)(nl - s) + 1;
		if (fwrite(s, 1, k, out) != k || (ni && fwrite(indent, 1, ni, out) != ni))
			return false;
		s += k;
		n -= k;
	}
	return !n || fwrite(s, 1, n, out) == n;
}

/*
 * The results, one at a time (memory does not grow with the report), where
 * the mark stands in doc's text: the bytes json_dumpf() of the whole
 * document would write. Returns 0, -1 out of memory, -2 write error.
 */
static int put_results(FILE *out, const char *doc, const struct ed_drift *d,
		       struct ed_drift_reader *r, const struct ed_render_opts *opts, json_t *rules)
{
	const char *mark = strstr(doc, "\"\\u0001envdrift-results\\u0001\"");
	if (!mark)
		return -1;
	const char *line = mark;
	while (line > doc && line[-1] != '\n')
		line--;
	const char *indent = line;
	size_t ni = (size_t)(mark - line);
	if (fwrite(doc, 1, (size_t)(mark - doc), out) != (size_t)(mark - doc))
		return -2;
	char *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	bool first = true;
	for (size_t i = 0; i < d->n + d->nsnowflakes && !rc; i++) {
		json_t *res;
		if (i < d->n) {
			const struct ed_drift_entry *e = ed_drift_at(r, i);
			if (e->ignored && !opts->show_ignored)
				continue;
			res = jresult(e, rules);
		} else {
			res = jsnowflake(&d->snowflakes[i - d->n], rules);
		}
		size_t n = res ? json_dumpb(res, buf, cap, SARIF_DUMP_FLAGS) : 0;
		if (n > cap) {
			char *p = realloc(buf, 2 * n);
			if (p) {
				buf = p;
				cap = 2 * n;
				n = json_dumpb(res, buf, cap, SARIF_DUMP_FLAGS);
			} else {
				n = 0;
			}
		}
		json_decref(res);
		if (!n || n > cap)
			rc = -1;
		else if ((!first && (fputs(",\n", out) == EOF || fwrite(indent, 1, ni, out) != ni)) ||
			 !put_indented(out, buf, n, indent, ni))
			rc = -2;
		first = false;
	}
	free(buf);
	const char *rest = mark + strlen("\"\\u0001envdrift-results\\u0001\"");
	if (!rc && fputs(rest, out) == EOF)
		rc = -2;
	return rc;
}

static enum ed_code render_sarif(FILE *out, const struct ed_drift *d,
				 const struct ed_render_opts *opts, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	json_t *rules = json_array(), *results = json_array(), *doc = NULL, *driver = NULL;
	struct ed_buf cat = ED_BUF_INIT;
	struct ed_drift_reader rd;
	ed_drift_reader_init(&rd, d, false);
	char *text = NULL;
	size_t nresults = 0;
	if (!rules || !results)
		goto nomem;
	/*
	 * The rules come before the results in the document, in the order the
	 * results first use them: a pass over the entries finds them, the results
	 * follow, written one at a time.
	 */
	for (size_t i = 0; i < d->n; i++) {
		const struct ed_drift_entry *e = ed_drift_at(&rd, i);
		if (e->ignored && !opts->show_ignored)
			continue;
		if (rule_index(rules, e->kind, ed_change_name(e->change)) < 0)
			goto nomem;
		nresults++;
	}
	if (d->nsnowflakes && rule_index(rules, "role", "snowflake") < 0)
		goto nomem;
	nresults += d->nsnowflakes;
	if (nresults && json_array_append_new(results, json_string(RESULTS_MARK)))
		goto nomem;
	/* The category code scanning keeps results apart by: one per pair of environments. */
	if (ed_buf_adds(&cat, "envdrift/") || add_uri_part(&cat, d->ref.env, strlen(d->ref.env)) ||
	    ed_buf_adds(&cat, "..") || add_uri_part(&cat, d->cand.env, strlen(d->cand.env)) ||
	    ed_buf_addc(&cat, '/'))
		goto nomem;
	driver = json_pack("{s:s, s:s, s:s, s:O}", "name", "envdrift", "version", ENVDRIFT_VERSION,
			   "semanticVersion", ENVDRIFT_VERSION, "rules", rules);
	if (!driver || (*ENVDRIFT_HOMEPAGE && json_object_set_new(driver, "informationUri",
								   json_string(ENVDRIFT_HOMEPAGE))))
		goto nomem;
	doc = json_pack(
		"{s:s, s:s, s:[{s:{s:O}, s:{s:s}, s:{s:{s:s, s:{s:s}}, s:{s:{s:s}}}, s:[o], "
		"s:o, s:{s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}}]}",
		"$schema", "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
		"tool", "driver", driver,
		"automationDetails", "id", ed_buf_str(&cat),
		"originalUriBaseIds",
		"HOSTROOT", "uri", "file:///", "description", "text",
		"The root of the host: file and config drift point at the path on the host.",
		"ITEMS", "description", "text",
		"Items that are not files (packages, schemas, system facts), as KIND/KEY: no such "
		"file exists.",
		"invocations", jinvocation(d), "results", json_incref(results), "properties",
		"reference", jside(&d->ref, d->refs, d->nrefs), "candidate",
		jside(&d->cand, d->cands, d->ncands), "policy", jshown_s(d->policy), "summary",
		"added", (json_int_t)d->added, "removed", (json_int_t)d->removed, "changed",
		(json_int_t)d->changed, "ignored", (json_int_t)d->ignored, "blocking",
		(json_int_t)d->blocking, "warnings", (json_int_t)d->warnings, "infos",
		(json_int_t)d->infos);
	/*
	 * Into a buffer sized first: json_dumps() grows its own, and jansson 2.14
	 * drops an object's key when that fails, yet reports success.
	 */
	size_t len = doc ? json_dumpb(doc, NULL, 0, SARIF_DUMP_FLAGS) : 0;
	if (!len || !(text = malloc(len + 1)) || json_dumpb(doc, text, len, SARIF_DUMP_FLAGS) != len)
		goto nomem;
	text[len] = '\0';
	if ((rc = ed_drift_reader_failed(&rd, err)))
		goto out;
	int r = nresults ? put_results(out, text, d, &rd, opts, rules)
			 : fputs(text, out) == EOF ? -2 : 0;
	if ((rc = ed_drift_reader_failed(&rd, err)))
		goto out;
	if (r == -1)
		goto nomem;
	if (r || fputc('\n', out) == EOF || ferror(out))
		rc = ed_err_set(err, ED_IO, "cannot write the report");
	goto out;
nomem:
	rc = ed_err_set(err, ED_NOMEM, "out of memory writing the report");
out:
	ed_drift_reader_release(&rd);
	free(text);
	ed_buf_release(&cat);
	json_decref(rules);
	json_decref(results);
	json_decref(driver);
	json_decref(doc);
	return rc;
}

const struct ed_report_ops ed_report_sarif = {.name = "sarif", .render = render_sarif};
