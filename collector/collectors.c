/* SPDX-License-Identifier: MIT */
/*
 * The collectors as a table: which of them a profile asks for (the plan), in
 * which order they run against a source into a sink, and the digest of how a
 * snapshot was collected.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed/collect.h"
#include "ed/config.h"
#include "ed/hash.h"
#include "ed/pgschema.h"
#include "ed/pkg.h"
#include "ed/profile.h"
#include "ed/account.h"
#include "ed/system.h"

static bool has_type(struct ed_source *src, const char *path, enum ed_ftype type)
{
	struct ed_stat sb;
	struct ed_err ignored;
	return src->ops->stat(src, path, &sb, &ignored) == ED_OK && sb.type == type;
}

/* ---- files and system facts: always run ---- */

static enum ed_code files_collect(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				  struct ed_err *err)
{
	(void)s;
	const struct ed_files_opts fopts = {
		.secrets = c->secrets,
		.profile = c->profile,
		.baseline = c->baseline,
		.threads = c->profile->threads,
		.progress = c->progress,
		.delta = c->delta,
		.stats = c->stats,
	};
	enum ed_code rc = ED_OK;
	for (size_t i = 0; !rc && i < c->profile->paths.n; i++)
		rc = ed_files_collect(c->src, c->profile->paths.v[i], &fopts, c->sink, err);
	if (!rc && c->progress)
		fputs("\r\033[K", stderr);
	return rc;
}

static enum ed_code system_collect(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				   struct ed_err *err)
{
	(void)s;
	return ed_system_collect(c->src, &c->profile->sysctl, c->sink, err);
}

static enum ed_code accounts_collect(const struct ed_collect_ctx *c,
				     const struct ed_collect_step *s, struct ed_err *err)
{
	(void)s;
	return ed_accounts_collect(c->src, c->sink, err);
}

/* ---- package managers: present() is what --packages auto asks ---- */

static bool dpkg_present(const struct ed_collect_ctx *c)
{
	return has_type(c->src, "/var/lib/dpkg/status", ED_FT_REG);
}

static enum ed_code dpkg_collect(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				 struct ed_err *err)
{
	(void)s;
	return ed_dpkg_collect(c->src, c->sink, err);
}

static bool rpm_present(const struct ed_collect_ctx *c)
{
	return has_type(c->src, "/var/lib/rpm", ED_FT_DIR) ||
	       has_type(c->src, "/usr/lib/sysimage/rpm", ED_FT_DIR);
}

static enum ed_code rpm_collect(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				struct ed_err *err)
{
	struct ed_err rerr = {0};
	enum ed_code rc = ed_rpm_collect(c->src, c->sink, &rerr);
	if (rc == ED_NOTFOUND && !s->named)
		return ED_OK; /* an empty rpm folder, as Debian's rpm package leaves */
	if (rc == ED_UNSUPPORTED && !s->named) {
		/* An rpm database, but no rpm program to read it with here. */
		ed_sink_warn(c->sink, "%s", rerr.msg);
		return ED_OK;
	}
	if (rc)
		*err = rerr;
	return rc;
}

static bool apk_present(const struct ed_collect_ctx *c)
{
	return has_type(c->src, ED_APK_DB_PATH, ED_FT_REG);
}

static enum ed_code apk_collect(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				struct ed_err *err)
{
	(void)s;
	return ed_apk_collect(c->src, c->sink, err);
}

/* Python packages are searched for in the usual places: always worth a look. */
static bool pypi_present(const struct ed_collect_ctx *c)
{
	(void)c;
	return true;
}

static enum ed_code pypi_collect(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				 struct ed_err *err)
{
	const struct ed_strlist *dirs = &c->profile->python_paths;
	enum ed_code rc = ed_pypi_collect(c->src, (const char *const *)dirs->v, dirs->n, c->sink, err);
	/* auto: a host without Python packages simply has none. */
	if (rc == ED_NOTFOUND && !s->named && !dirs->n)
		rc = ED_OK;
	return rc;
}

/* npm has no database of its own: auto reads it only where the profile points. */
static bool npm_present(const struct ed_collect_ctx *c)
{
	return c->profile->npm_paths.n > 0;
}

static enum ed_code npm_collect(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				struct ed_err *err)
{
	(void)s;
	const struct ed_strlist *paths = &c->profile->npm_paths;
	return ed_npm_collect(c->src, (const char *const *)paths->v, paths->n, c->sink, err);
}

/* ---- database schemas: one step per --schema ---- */

static enum ed_code sqlite_target(const char *arg, const char *target, char **label,
				  struct ed_err *err)
{
	if (target[0] != '/')
		return ed_err_set(err, ED_USAGE,
				  "--schema %s: FILE must be an absolute path on the host", arg);
	if (!*label) {
		/* The base name without its extension. */
		const char *base = strrchr(target, '/') + 1;
		const char *dot = strrchr(base, '.');
		*label = ed_strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
		if (!*label)
			return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	return ED_OK;
}

static enum ed_code sqlite_collect(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				   struct ed_err *err)
{
	uint64_t sample = c->profile->data_shape ? c->profile->data_sample_rows : 0;
	return ed_schema_sqlite_collect_data(c->src, s->label, s->target, c->secrets, sample,
					     &c->profile->sensitive, c->sink, err);
}

static enum ed_code postgres_target(const char *arg, const char *target, char **label,
				    struct ed_err *err)
{
	if (*label)
		return ED_OK;
	struct ed_buf db = ED_BUF_INIT;
	struct ed_err derr = {0};
	if (ed_pg_conninfo_dbname(target, &db, &derr)) {
		/* Never echo a password= of the connection string. */
		struct ed_buf safe = ED_BUF_INIT;
		ed_pg_conninfo_redact(target, &safe);
		ed_buf_release(&db);
		ed_err_set(err, ED_USAGE, "--schema postgres:%s: %s: name it NAME=postgres:CONNINFO",
			   ed_buf_str(&safe), derr.msg);
		ed_buf_release(&safe);
		return ED_USAGE;
	}
	*label = ed_buf_detach(&db);
	if (!*label)
		return ed_err_set(err, ED_USAGE,
				  "--schema %s: no dbname= in CONNINFO: name it as NAME=postgres:...", arg);
	return ED_OK;
}

static enum ed_code postgres_collect(const struct ed_collect_ctx *c,
				     const struct ed_collect_step *s, struct ed_err *err)
{
	/* The shape in the same psql and transaction as the catalog: bench/data.sh. */
	enum ed_code rc =
		c->profile->data_shape
			? ed_schema_postgres_collect_shape(c->src, s->label, s->target, c->secrets,
							   c->profile->data_exact_count, c->sink,
							   err)
			: ed_schema_postgres_collect(c->src, s->label, s->target, c->secrets,
						     c->sink, err);
	if (!rc && c->profile->sensitive.n)
		rc = ed_rows_postgres_collect(c->src, s->label, s->target,
					      (const char *const *)c->profile->sensitive.v,
					      c->profile->sensitive.n,
					      c->secrets ? c->secrets->key : NULL, c->sink, err);
	return rc;
}

/* In the order they run; package managers and engines in the order messages list them. */
static const struct ed_collector_ops collectors[] = {
	{"files", ED_COLLECTOR_FILES, NULL, files_collect, NULL},
	{"system", ED_COLLECTOR_SYSTEM, NULL, system_collect, NULL},
	{"accounts", ED_COLLECTOR_SYSTEM, NULL, accounts_collect, NULL},
	{"dpkg", ED_COLLECTOR_PACKAGES, dpkg_present, dpkg_collect, NULL},
	{"rpm", ED_COLLECTOR_PACKAGES, rpm_present, rpm_collect, NULL},
	{"apk", ED_COLLECTOR_PACKAGES, apk_present, apk_collect, NULL},
	{"pypi", ED_COLLECTOR_PACKAGES, pypi_present, pypi_collect, NULL},
	{"npm", ED_COLLECTOR_PACKAGES, npm_present, npm_collect, NULL},
	{"sqlite", ED_COLLECTOR_SCHEMA, NULL, sqlite_collect, sqlite_target},
	{"postgres", ED_COLLECTOR_SCHEMA, NULL, postgres_collect, postgres_target},
};
#define NCOLLECTORS (sizeof(collectors) / sizeof(collectors[0]))

const struct ed_collector_ops *ed_collector_find(enum ed_collector_kind kind, const char *name,
						 size_t len)
{
	for (size_t i = 0; i < NCOLLECTORS; i++)
		if (collectors[i].kind == kind && strlen(collectors[i].name) == len &&
		    memcmp(collectors[i].name, name, len) == 0)
			return &collectors[i];
	return NULL;
}

const char *ed_collector_names(enum ed_collector_kind kind, char out[ED_COLLECTOR_NAMES_MAX])
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		if (collectors[i].kind != kind)
			continue;
		int n = snprintf(out + at, ED_COLLECTOR_NAMES_MAX - at, "%s%s", at ? ", " : "",
				 collectors[i].name);
		if (n < 0 || (size_t)n >= ED_COLLECTOR_NAMES_MAX - at) {
			/* The table is static: its names fit (test_collectors checks them). */
			assert(!"ED_COLLECTOR_NAMES_MAX holds the names of every kind");
			break;
		}
		at += (size_t)n;
	}
	return out;
}

/* ---- the plan ---- */

/* Appends a step; ED_NOMEM. label is taken over (freed on failure too). */
static enum ed_code add_step(struct ed_collect_plan *plan, const struct ed_collector_ops *ops,
			     bool named, char *label, const char *target, struct ed_err *err)
{
	struct ed_collect_step *v = realloc(plan->steps, (plan->n + 1) * sizeof(*v));
	if (!v) {
		free(label);
		return ed_err_set(err, ED_NOMEM, "out of memory");
	}
	plan->steps = v;
	v[plan->n++] = (struct ed_collect_step){ops, named, label, target};
	return ED_OK;
}

/* Refuses a package manager envdrift does not know, before anything is stored. */
static enum ed_code check_packages(const struct ed_strlist *l, struct ed_err *err)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *m = l->v[i];
		if (strcmp(m, "auto") && strcmp(m, "none") &&
		    !ed_collector_find(ED_COLLECTOR_PACKAGES, m, strlen(m))) {
			char known[ED_COLLECTOR_NAMES_MAX];
			return ed_err_set(err, ED_USAGE,
					  "--packages: unknown manager '%s' (known: auto, none, %s)", m,
					  ed_collector_names(ED_COLLECTOR_PACKAGES, known));
		}
	}
	if (ed_strlist_has(l, "none") && l->n > 1)
		return ed_err_set(err, ED_USAGE, "--packages: 'none' cannot be combined with others");
	return ED_OK;
}

bool ed_collect_schema_split(const char *arg, struct ed_schema_arg *out)
{
	const char *colon = strchr(arg, ':');
	const char *eq = strchr(arg, '=');
	const char *spec = arg;
	if (eq && colon && eq < colon)
		spec = eq + 1;
	else
		eq = NULL;
	colon = strchr(spec, ':');
	if (!colon || colon == spec || !colon[1])
		return false;
	*out = (struct ed_schema_arg){.name = eq ? arg : NULL,
				      .name_len = eq ? (size_t)(eq - arg) : 0,
				      .engine = spec,
				      .engine_len = (size_t)(colon - spec),
				      .target = colon + 1};
	return true;
}

/* "[NAME=]ENGINE:TARGET" into a step of the engine's collector. */
static enum ed_code plan_schema(struct ed_collect_plan *plan, const char *arg, struct ed_err *err)
{
	struct ed_schema_arg sa;
	if (!ed_collect_schema_split(arg, &sa))
		return ed_err_set(err, ED_USAGE,
				  "--schema %s: expected [NAME=]ENGINE:TARGET, e.g. app=sqlite:/var/lib/app.db",
				  arg);
	const struct ed_collector_ops *ops =
		ed_collector_find(ED_COLLECTOR_SCHEMA, sa.engine, sa.engine_len);
	if (!ops) {
		char known[ED_COLLECTOR_NAMES_MAX];
		return ed_err_set(err, ED_USAGE, "--schema %s: unknown engine '%.*s' (known: %s)", arg,
				  (int)sa.engine_len, sa.engine,
				  ed_collector_names(ED_COLLECTOR_SCHEMA, known));
	}
	char *label = sa.name ? ed_strndup(sa.name, sa.name_len) : NULL;
	if (sa.name && !label)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	enum ed_code rc = ops->target(arg, sa.target, &label, err);
	if (rc) {
		free(label);
		return rc;
	}
	if (!label[0] || strpbrk(label, "/:")) {
		ed_err_set(err, ED_USAGE,
			   "--schema %s: the name '%s' must be non-empty, without '/' or ':'", arg,
			   label);
		free(label);
		return ED_USAGE;
	}
	return add_step(plan, ops, true, label, sa.target, err);
}

enum ed_code ed_collect_plan_init(const struct ed_profile *p, struct ed_collect_plan *plan,
				  struct ed_err *err)
{
	const struct ed_strlist *managers = &p->packages;
	bool any = ed_strlist_has(managers, "auto");
	enum ed_code rc = check_packages(managers, err);
	*plan = (struct ed_collect_plan){0};
	for (size_t i = 0; !rc && i < NCOLLECTORS; i++) {
		const struct ed_collector_ops *ops = &collectors[i];
		bool named = ops->kind == ED_COLLECTOR_PACKAGES && ed_strlist_has(managers, ops->name);
		if (ops->kind == ED_COLLECTOR_FILES || ops->kind == ED_COLLECTOR_SYSTEM || named ||
		    (ops->kind == ED_COLLECTOR_PACKAGES && any))
			rc = add_step(plan, ops, named, NULL, NULL, err);
	}
	for (size_t i = 0; !rc && i < p->schemas.n; i++)
		rc = plan_schema(plan, p->schemas.v[i], err);
	if (rc)
		ed_collect_plan_release(plan);
	return rc;
}

void ed_collect_plan_release(struct ed_collect_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		free(plan->steps[i].label);
	free(plan->steps);
	*plan = (struct ed_collect_plan){0};
}

/* A sink that counts what a package manager's collector sends on. */
struct counting {
	struct ed_sink sink;
	struct ed_sink *next;
	int64_t items, warnings;
};

static enum ed_code counting_emit(struct ed_sink *sink, const struct ed_item *it,
				  struct ed_err *err)
{
	struct counting *k = sink->ctx;
	k->items++;
	return k->next->emit(k->next, it, err);
}

static void counting_warn(struct ed_sink *sink, const char *msg)
{
	struct counting *k = sink->ctx;
	k->warnings++;
	k->next->warn(k->next, msg);
}

static enum ed_code counting_content(struct ed_sink *sink, const struct ed_fp *fp,
				     const char *data, size_t len, struct ed_err *err)
{
	struct counting *k = sink->ctx;
	return k->next->content ? k->next->content(k->next, fp, data, len, err) : ED_OK;
}

/* The previous snapshot's packages of manager (items keyed "MANAGER:..."); -1: unknown. */
static int64_t previous_packages(const struct ed_baseline *b, const char *manager)
{
	char prefix[64];
	if (!b || !b->count || snprintf(prefix, sizeof(prefix), "%s:", manager) >= (int)sizeof(prefix))
		return -1;
	struct ed_baseline_reader *r = b->open(b);
	if (!r)
		return -1;
	int64_t n = b->count(r, ED_KIND_PACKAGE, prefix);
	b->close(r);
	return n;
}

/*
 * A package manager that printed junk with exit status 0 parses into a few
 * packages and many warnings: a complete snapshot would drop the rest
 * silently. Fewer than half the previous snapshot's packages, with
 * warnings, fails the collection unless the loss is accepted.
 */
static enum ed_code run_packages(const struct ed_collect_ctx *c, const struct ed_collect_step *s,
				 struct ed_err *err)
{
	struct counting k = {.next = c->sink};
	k.sink = (struct ed_sink){.emit = counting_emit, .warn = counting_warn, .ctx = &k,
				  .content = c->sink->content ? counting_content : NULL};
	struct ed_collect_ctx kc = *c;
	kc.sink = &k.sink;
	enum ed_code rc = s->ops->collect(&kc, s, err);
	if (rc || c->accept_package_loss || !k.warnings)
		return rc;
	int64_t prev = previous_packages(c->baseline, s->ops->name);
	if (prev > 0 && k.items < (prev + 1) / 2)
		return ed_err_set(err, ED_PARSE,
				  "%s: %lld packages read with %lld warnings, fewer than half of the "
				  "previous snapshot's %lld: the package database or its tool's output "
				  "looks damaged; nothing is stored (collect --accept-package-loss "
				  "stores it all the same)",
				  s->ops->name, (long long)k.items, (long long)k.warnings,
				  (long long)prev);
	return ED_OK;
}

enum ed_code ed_collect_run(const struct ed_collect_ctx *c, const struct ed_collect_plan *plan,
			    struct ed_err *err)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct ed_collect_step *s = &plan->steps[i];
		if (!s->named && s->ops->present && !s->ops->present(c))
			continue;
		enum ed_code rc = s->ops->kind == ED_COLLECTOR_PACKAGES ? run_packages(c, s, err)
									: s->ops->collect(c, s, err);
		if (rc)
			return rc;
	}
	return ED_OK;
}

/* ---- how a snapshot was collected ---- */

/* Adds the items of l to b, each followed by a NUL, and an end mark. */
static int sig_list(struct ed_buf *b, const struct ed_strlist *l)
{
	int bad = 0;
	for (size_t i = 0; i < l->n; i++)
		bad |= ed_buf_add(b, l->v[i], strlen(l->v[i]) + 1);
	return bad | ed_buf_addc(b, '\n');
}

/* Appends the digest of b's bytes, 32 hex digits, to out. */
static void sig_digest(const struct ed_buf *b, char *out)
{
	struct ed_fp fp;
	ed_fp_of(b->p, b->len, &fp);
	ed_fp_hex(&fp, out);
}

enum ed_code ed_collect_sig(const struct ed_profile *p, const char *root,
			    char out[ED_COLLECT_SIG_SIZE], struct ed_err *err)
{
	struct ed_buf b = ED_BUF_INIT;
	/* First what decides what an item is: the same file judged the same way. */
	const struct ed_strlist *rules[] = {&p->secret_keys,  &p->secret_files, &p->secret_values,
					    &p->public_files, &p->keep_content, &p->config_trees,
					    &p->data_trees};
	int bad = ed_buf_addf(&b, "envdrift %s\nkeep_max %zu\nmax_keys %zu\nmax_file_size %llu\n",
			      ENVDRIFT_VERSION, p->keep_max, p->max_keys,
			      (unsigned long long)p->max_file_size);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		bad |= sig_list(&b, rules[i]);
	for (size_t i = 0; i < p->nformats; i++)
		bad |= ed_buf_addf(&b, "%s=%s", p->formats[i].glob,
				   ed_config_format_name(p->formats[i].format)) |
		       ed_buf_addc(&b, '\0');
	if (!bad)
		sig_digest(&b, out);
	/* Then which items there are, and where from. */
	const struct ed_strlist *what[] = {&p->paths,    &p->excludes,     &p->packages,
					   &p->schemas,  &p->sysctl,       &p->python_paths,
					   &p->npm_paths};
	bad |= ed_buf_addf(&b, "root %s\n", root ? root : "/");
	/* The data shape adds items (kind "data"): only when asked, so older signatures stay. */
	if (p->data_shape)
		bad |= ed_buf_addf(&b, "data shape exact_count %d sample_rows %llu\n",
				   p->data_exact_count, (unsigned long long)p->data_sample_rows);
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++)
		bad |= sig_list(&b, what[i]);
	/* Sensitive entries add items (kind "rows"): only when there are some. */
	if (p->sensitive.n)
		bad |= ed_buf_adds(&b, "sensitive\n") | sig_list(&b, &p->sensitive);
	if (!bad)
		sig_digest(&b, out + 32);
	ed_buf_release(&b);
	if (bad)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	return ED_OK;
}
