/* SPDX-License-Identifier: MIT */
/*
 * The comparison: both snapshots' items are read in primary-key order
 * (snapshot_id, kind, key) by two cursors and merged in one pass. No join,
 * no sort, memory proportional to the drift only.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/diff.h"
#include "ed/policy.h"

static const char *const field_names[] = {
	"content", "type", "mode", "owner", "group", "target", "value", "version", "definition", "error",
};

const char *ed_field_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (bit == 1u << i)
			return field_names[i];
	return "?";
}

/*
 * The merge reads only what decides equality; what a report shows besides
 * (value, size, attrs) is looked up by primary key for drifted items only.
 */
#define COLS                                                                             \
	"kind, key, fingerprint, ftype, mode, owner, grp, target, error, "                \
	"instr(attrs, '\"secret\":true') > 0, " /* 9: a secret */                          \
	"ftype IS NULL OR (ftype = 'file' AND size > 0)" /* 10: holds a value to share */
#define DETAIL "SELECT value, size, attrs FROM items WHERE snapshot_id = ? AND kind = ? AND key = ?"

/* A cursor over one snapshot's items, in key order. */
struct cursor {
	sqlite3_stmt *st;
	bool row; /* positioned on a row */
};

static enum ed_code cursor_next(struct ed_store *store, struct cursor *c, struct ed_err *err)
{
	int r = sqlite3_step(c->st);
	if (r == SQLITE_ROW) {
		c->row = true;
		return ED_OK;
	}
	c->row = false;
	if (r != SQLITE_DONE)
		return ed_store_fail(store, "reading items", err);
	return ED_OK;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Compares the (kind, key) of two rows exactly as SQLite's BINARY collation orders them. */
static int cmp_bytes(const void *a, int na, const void *b, int nb)
{
	int n = na < nb ? na : nb;
	int c = n ? memcmp(a, b, (size_t)n) : 0;
	return c ? c : (na > nb) - (na < nb);
}

static int cmp_rows(sqlite3_stmt *a, sqlite3_stmt *b)
{
	const void *ka = sqlite3_column_text(a, 0), *kb = sqlite3_column_text(b, 0);
	int c = cmp_bytes(ka, sqlite3_column_bytes(a, 0), kb, sqlite3_column_bytes(b, 0));
	if (c)
		return c;
	const void *pa = sqlite3_column_text(a, 1), *pb = sqlite3_column_text(b, 1);
	return cmp_bytes(pa, sqlite3_column_bytes(a, 1), pb, sqlite3_column_bytes(b, 1));
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static const void *fp_of(sqlite3_stmt *s)
{
	static const unsigned char zero[ED_FP_LEN];
	return sqlite3_column_bytes(s, 2) == ED_FP_LEN ? sqlite3_column_blob(s, 2) : zero;
}

/* What differs between two rows with the same (kind, key); 0 when nothing does. */
static unsigned compare_rows(sqlite3_stmt *a, sqlite3_stmt *b)
{
	const char *kind = col_text(a, 0);
	unsigned f = 0;
	bool fp_differs = memcmp(fp_of(a), fp_of(b), ED_FP_LEN) != 0;
	const char *ea = col_text(a, 8), *eb = col_text(b, 8);
	if (ea || eb) {
		/* One side could not be read: its fingerprint means nothing. */
		if (!str_eq(ea, eb))
			f |= ED_F_ERROR;
		fp_differs = false;
	}
	if (strcmp(kind, ED_KIND_FILE) == 0) {
		enum ed_ftype ta = ed_ftype_parse(col_text(a, 3)), tb = ed_ftype_parse(col_text(b, 3));
		if (ta != tb)
			f |= ED_F_TYPE;
		if (sqlite3_column_int(a, 4) != sqlite3_column_int(b, 4))
			f |= ED_F_MODE;
		if (!str_eq(col_text(a, 5), col_text(b, 5)))
			f |= ED_F_OWNER;
		if (!str_eq(col_text(a, 6), col_text(b, 6)))
			f |= ED_F_GROUP;
		if (!str_eq(col_text(a, 7), col_text(b, 7)))
			f |= ED_F_TARGET;
		/* A link's fingerprint is its target's: report the target, not "content". */
		if (fp_differs && ta == tb && ta != ED_FT_LINK)
			f |= ED_F_CONTENT;
		if (ta != tb)
			f &= ~(unsigned)ED_F_CONTENT;
	} else if (fp_differs) {
		if (strcmp(kind, ED_KIND_CONFIG) == 0 || strcmp(kind, ED_KIND_SYSTEM) == 0)
			f |= ED_F_VALUE;
		else if (strcmp(kind, ED_KIND_PACKAGE) == 0)
			f |= ED_F_VERSION;
		else if (strcmp(kind, ED_KIND_SCHEMA) == 0)
			f |= ED_F_DEFINITION;
		else
			f |= ED_F_CONTENT;
	}
	return f;
}

static char *dup_col(sqlite3_stmt *s, int i, bool *oom)
{
	const char *v = col_text(s, i);
	if (!v)
		return NULL;
	char *d = ed_strndup(v, (size_t)sqlite3_column_bytes(s, i));
	if (!d)
		*oom = true;
	return d;
}

/* Copies one side from the merge row s and its details row d (value, size, attrs). */
static bool side_fill(struct ed_side *side, sqlite3_stmt *s, sqlite3_stmt *d)
{
	bool oom = false;
	side->present = true;
	memcpy(side->fp.b, fp_of(s), ED_FP_LEN);
	side->ftype = ed_ftype_parse(col_text(s, 3));
	side->mode = (uint32_t)sqlite3_column_int(s, 4);
	side->owner = dup_col(s, 5, &oom);
	side->group = dup_col(s, 6, &oom);
	side->target = dup_col(s, 7, &oom);
	side->error = dup_col(s, 8, &oom);
	side->value = dup_col(d, 0, &oom);
	side->size = sqlite3_column_int64(d, 1);
	side->attrs = dup_col(d, 2, &oom);
	return !oom;
}

/* Positions d on the details of the merge row s of snapshot id. */
static enum ed_code details(struct ed_store *st, sqlite3_stmt *d, int64_t id, sqlite3_stmt *s,
			    struct ed_err *err)
{
	sqlite3_reset(d);
	if (sqlite3_bind_int64(d, 1, id) != SQLITE_OK ||
	    sqlite3_bind_text(d, 2, col_text(s, 0), sqlite3_column_bytes(s, 0), SQLITE_TRANSIENT) ||
	    sqlite3_bind_text(d, 3, col_text(s, 1), sqlite3_column_bytes(s, 1), SQLITE_TRANSIENT))
		return ed_store_fail(st, "reading item details", err);
	if (sqlite3_step(d) != SQLITE_ROW)
		return ed_store_fail(st, "reading item details", err);
	return ED_OK;
}

static void side_release(struct ed_side *s)
{
	free(s->value);
	free(s->attrs);
	free(s->error);
	free(s->owner);
	free(s->group);
	free(s->target);
}

/* Appends an entry for the current row(s); ref or cand may be NULL. */
/* One host's cursor within a side. */
struct member {
	struct cursor c;
	int64_t snap;
	const char *host;
};

/*
 * One side of a comparison: the hosts of one role in one environment. With
 * several hosts it yields, key by key, the row the majority of them agree
 * on, and records the hosts that disagree as snowflakes.
 */
struct side {
	struct member *m;
	size_t n;
	const char *env;
	const char *role;
	bool have;     /* positioned on a majority row */
	size_t rep;    /* the member whose row represents the majority */
	size_t *at;    /* members positioned on the current key */
	size_t nat;
	size_t *group; /* scratch: group number of each member in at[] */
};

struct merge {
	struct ed_store *st;
	struct ed_drift *d;
	sqlite3_stmt *detail; /* value, size, attrs of one item */
	const struct ed_policy *policy; /* asked about equal pairs, or NULL */
	bool plain;           /* the policy may demand that items that are not secret differ */
};

static enum ed_code grow_entries(struct ed_drift *d, struct ed_err *err)
{
	if (d->n < d->cap)
		return ED_OK;
	size_t ncap = d->cap ? d->cap * 2 : 64;
	struct ed_drift_entry *v = realloc(d->v, ncap * sizeof(*v));
	if (!v)
		return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
	d->v = v;
	d->cap = ncap;
	return ED_OK;
}

static void count_change(struct ed_drift *d, enum ed_change change)
{
	switch (change) {
	case ED_ADDED: d->added++; break;
	case ED_REMOVED: d->removed++; break;
	case ED_CHANGED: d->changed++; break;
	}
	d->blocking++;
}

/* Appends an entry for the current row(s); ref or cand may be NULL. */
static enum ed_code add_entry(struct merge *m, const char *role, enum ed_change change,
			      unsigned fields, struct member *ref, struct member *cand,
			      struct ed_err *err)
{
	struct ed_drift *d = m->d;
	enum ed_code rc;
	if ((rc = grow_entries(d, err)))
		return rc;
	sqlite3_stmt *any = ref ? ref->c.st : cand->c.st;
	struct ed_drift_entry *e = &d->v[d->n];
	memset(e, 0, sizeof(*e));
	d->n++; /* counted now so that release frees a half-filled entry */
	bool oom = false;
	e->kind = dup_col(any, 0, &oom);
	e->key_len = (size_t)sqlite3_column_bytes(any, 1);
	e->key = dup_col(any, 1, &oom);
	e->change = change;
	e->fields = fields;
	/* Without a policy every difference blocks. */
	e->severity = "block";
	e->rule = strdup("no policy: all drift blocks");
	e->role = role && *role ? strdup(role) : NULL;
	if (oom || !e->kind || !e->key || !e->rule || (role && *role && !e->role))
		return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
	if (ref) {
		if ((rc = details(m->st, m->detail, ref->snap, ref->c.st, err)))
			return rc;
		if (!side_fill(&e->ref, ref->c.st, m->detail))
			return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
	}
	if (cand) {
		if ((rc = details(m->st, m->detail, cand->snap, cand->c.st, err)))
			return rc;
		if (!side_fill(&e->cand, cand->c.st, m->detail))
			return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
	}
	count_change(d, change);
	return ED_OK;
}

/*
 * An equal pair that the policy says must differ (staging holding
 * production's secret) is drift of its own: changed, without fields. Items
 * that hold nothing to share (directories, links, empty files) and items
 * that could not be read are never reported.
 */
static enum ed_code check_must_differ(struct merge *m, const char *role, struct member *a,
				      struct member *b, struct ed_err *err)
{
	sqlite3_stmt *x = a->c.st, *y = b->c.st;
	bool secret = sqlite3_column_int(x, 9) || sqlite3_column_int(y, 9);
	if (!m->policy || !(secret || m->plain) || col_text(x, 8) || col_text(y, 8) ||
	    !sqlite3_column_int(x, 10) || !sqlite3_column_int(y, 10))
		return ED_OK;
	if (!ed_policy_must_differ(m->policy, col_text(x, 0), col_text(x, 1),
				   (size_t)sqlite3_column_bytes(x, 1), secret))
		return ED_OK;
	return add_entry(m, role, ED_CHANGED, 0, a, b, err);
}

/* Records member x of side sd as disagreeing with the majority (rep, or absent). */
static enum ed_code add_snowflake(struct merge *m, struct side *sd, struct member *x,
				  struct member *rep, struct ed_err *err)
{
	struct ed_drift *d = m->d;
	if (d->nsnowflakes % 64 == 0) {
		struct ed_snowflake *v = realloc(d->snowflakes, (d->nsnowflakes + 64) * sizeof(*v));
		if (!v)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		d->snowflakes = v;
	}
	struct ed_snowflake *f = &d->snowflakes[d->nsnowflakes++];
	memset(f, 0, sizeof(*f));
	bool oom = false;
	sqlite3_stmt *any = x->c.row ? x->c.st : rep->c.st;
	f->env = strdup(sd->env);
	f->role = strdup(sd->role);
	f->host = strdup(x->host);
	f->kind = dup_col(any, 0, &oom);
	f->key = dup_col(any, 1, &oom);
	if (!f->env || !f->role || !f->host || oom)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	/* The shown value of each side: NULL when absent or a secret. */
	struct member *who[2] = {x, rep};
	char **val[2] = {&f->value, &f->majority_value};
	for (int i = 0; i < 2; i++) {
		struct member *w = who[i];
		if (!w || !w->c.row || cmp_rows(w->c.st, any) != 0)
			continue;
		enum ed_code rc = details(m->st, m->detail, w->snap, w->c.st, err);
		if (rc)
			return rc;
		const char *attrs = col_text(m->detail, 2);
		if (attrs && strstr(attrs, "\"secret\":true"))
			continue;
		*val[i] = dup_col(m->detail, 0, &oom);
		if (oom)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		/* A file's summary does not show its content: add the fingerprint's start. */
		if (*val[i] && strcmp(f->kind, ED_KIND_FILE) == 0 &&
		    sqlite3_column_bytes(w->c.st, 2) == ED_FP_LEN) {
			struct ed_fp fp;
			char hex[2 * ED_FP_LEN + 1];
			memcpy(fp.b, sqlite3_column_blob(w->c.st, 2), ED_FP_LEN);
			ed_fp_hex(&fp, hex);
			struct ed_buf b = ED_BUF_INIT;
			if (ed_buf_adds(&b, *val[i]) || ed_buf_addf(&b, " content %.12s", hex)) {
				ed_buf_release(&b);
				return ed_err_set(err, ED_NOMEM, "out of memory");
			}
			free(*val[i]);
			*val[i] = ed_buf_detach(&b);
		}
	}
	return ED_OK;
}

/*
 * Positions side sd on the next key its majority holds: among the members
 * on the smallest key, the largest group of equal rows wins (ties go to the
 * group holding the first host by name; hosts lacking the key form a group
 * too, which wins only when strictly largest). Disagreeing hosts are
 * snowflakes.
 */
static enum ed_code side_fill_next(struct merge *m, struct side *sd, struct ed_err *err)
{
	enum ed_code rc;
	for (;;) {
		sd->have = false;
		sd->nat = 0;
		size_t min = SIZE_MAX;
		for (size_t i = 0; i < sd->n; i++) {
			if (!sd->m[i].c.row)
				continue;
			int c = min == SIZE_MAX ? -1 : cmp_rows(sd->m[i].c.st, sd->m[min].c.st);
			if (c < 0) {
				min = i;
				sd->nat = 0;
			}
			if (c <= 0)
				sd->at[sd->nat++] = i;
		}
		if (min == SIZE_MAX)
			return ED_OK;
		if (sd->n == 1) {
			sd->have = true;
			sd->rep = min;
			return ED_OK;
		}
		/* Group the members on this key by equal rows. */
		size_t ngroups = 0, best = 0, best_count = 0;
		for (size_t i = 0; i < sd->nat; i++) {
			size_t g = ngroups;
			for (size_t j = 0; j < i; j++)
				if (compare_rows(sd->m[sd->at[j]].c.st, sd->m[sd->at[i]].c.st) == 0) {
					g = sd->group[j];
					break;
				}
			sd->group[i] = g;
			if (g == ngroups)
				ngroups++;
		}
		for (size_t g = 0; g < ngroups; g++) {
			size_t count = 0;
			for (size_t i = 0; i < sd->nat; i++)
				count += sd->group[i] == g;
			if (count > best_count) {
				best = g;
				best_count = count;
			}
		}
		size_t absent = sd->n - sd->nat;
		bool present = best_count >= absent;
		size_t rep = SIZE_MAX;
		for (size_t i = 0; i < sd->nat && present; i++)
			if (sd->group[i] == best) {
				rep = sd->at[i];
				break;
			}
		struct member *repm = present ? &sd->m[rep] : &sd->m[sd->at[0]];
		/* Snowflakes: members on the key outside the majority, and members lacking it. */
		for (size_t i = 0; i < sd->n; i++) {
			bool on = false, agrees = false;
			for (size_t j = 0; j < sd->nat; j++)
				if (sd->at[j] == i) {
					on = true;
					agrees = present && sd->group[j] == best;
				}
			if (present ? agrees : !on)
				continue;
			struct member *x = &sd->m[i];
			struct cursor saved = x->c;
			if (!on)
				x->c.row = false; /* its cursor is on a later key: absent here */
			rc = add_snowflake(m, sd, x, present ? repm : NULL, err);
			x->c = saved;
			if (rc)
				return rc;
		}
		if (present) {
			sd->have = true;
			sd->rep = rep;
			return ED_OK;
		}
		/* The majority lacks this key: move on without it. */
		for (size_t j = 0; j < sd->nat; j++)
			if ((rc = cursor_next(m->st, &sd->m[sd->at[j]].c, err)))
				return rc;
	}
}

/* Moves every member on the current key forward, then finds the next majority row. */
static enum ed_code side_advance(struct merge *m, struct side *sd, struct ed_err *err)
{
	enum ed_code rc;
	for (size_t j = 0; j < sd->nat; j++)
		if ((rc = cursor_next(m->st, &sd->m[sd->at[j]].c, err)))
			return rc;
	return side_fill_next(m, sd, err);
}

static void side_close(struct side *sd)
{
	for (size_t i = 0; i < sd->n; i++)
		sqlite3_finalize(sd->m[i].c.st);
	free(sd->m);
	free(sd->at);
	free(sd->group);
	memset(sd, 0, sizeof(*sd));
}

static enum ed_code side_open(struct merge *m, struct side *sd, const struct ed_snapref *refs,
			      size_t n, const char *env, const char *role, struct ed_err *err)
{
	static const char sql[] = "SELECT " COLS " FROM items WHERE snapshot_id = ? "
				  "ORDER BY kind, key";
	sqlite3 *db = ed_store_db(m->st);
	memset(sd, 0, sizeof(*sd));
	sd->env = env;
	sd->role = role;
	sd->m = calloc(n, sizeof(*sd->m));
	sd->at = calloc(n, sizeof(*sd->at));
	sd->group = calloc(n, sizeof(*sd->group));
	if (!sd->m || !sd->at || !sd->group)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct member *x = &sd->m[sd->n];
		if (sqlite3_prepare_v2(db, sql, -1, &x->c.st, NULL) != SQLITE_OK)
			return ed_store_fail(m->st, "reading items", err);
		sd->n++;
		x->snap = refs[i].id;
		x->host = refs[i].host;
		sqlite3_bind_int64(x->c.st, 1, x->snap);
		enum ed_code rc = cursor_next(m->st, &x->c, err);
		if (rc)
			return rc;
	}
	return side_fill_next(m, sd, err);
}

/* Compares the hosts of one role: one merge pass over two majority streams. */
static enum ed_code merge_role(struct merge *m, const char *role, const struct ed_snapref *refs,
			       size_t nrefs, const struct ed_snapref *cands, size_t ncands,
			       struct ed_err *err)
{
	struct side a, b;
	enum ed_code rc = side_open(m, &a, refs, nrefs, refs[0].env, role, err);
	if (!rc)
		rc = side_open(m, &b, cands, ncands, cands[0].env, role, err);
	while (!rc && (a.have || b.have)) {
		struct member *ra = a.have ? &a.m[a.rep] : NULL, *rb = b.have ? &b.m[b.rep] : NULL;
		int c = !ra ? 1 : !rb ? -1 : cmp_rows(ra->c.st, rb->c.st);
		m->d->compared++;
		if (c < 0) {
			rc = add_entry(m, role, ED_REMOVED, 0, ra, NULL, err);
			if (!rc)
				rc = side_advance(m, &a, err);
		} else if (c > 0) {
			rc = add_entry(m, role, ED_ADDED, 0, NULL, rb, err);
			if (!rc)
				rc = side_advance(m, &b, err);
		} else {
			unsigned f = compare_rows(ra->c.st, rb->c.st);
			if (f)
				rc = add_entry(m, role, ED_CHANGED, f, ra, rb, err);
			else
				rc = check_must_differ(m, role, ra, rb, err);
			if (!rc)
				rc = side_advance(m, &a, err);
			if (!rc)
				rc = side_advance(m, &b, err);
		}
	}
	side_close(&a);
	side_close(&b);
	return rc;
}

/* A role present on one side only: drift in its own right. */
static enum ed_code add_role_entry(struct merge *m, const char *role, enum ed_change change,
				   const struct ed_snapref *hosts, size_t n, struct ed_err *err)
{
	struct ed_drift *d = m->d;
	enum ed_code rc = grow_entries(d, err);
	if (rc)
		return rc;
	struct ed_drift_entry *e = &d->v[d->n];
	memset(e, 0, sizeof(*e));
	d->n++;
	struct ed_buf v = ED_BUF_INIT;
	int bad = ed_buf_addf(&v, "%zu host%s:", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && !bad; i++)
		bad = ed_buf_addf(&v, " %s", hosts[i].host);
	struct ed_side *s = change == ED_ADDED ? &e->cand : &e->ref;
	s->present = true;
	s->value = ed_buf_detach(&v);
	e->kind = strdup("role");
	e->key = strdup(*role ? role : "(no role)");
	e->key_len = e->key ? strlen(e->key) : 0;
	e->change = change;
	e->severity = "block";
	e->rule = strdup("no policy: all drift blocks");
	e->role = *role ? strdup(role) : NULL;
	if (bad || !s->value || !e->kind || !e->key || !e->rule || (*role && !e->role))
		return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
	count_change(d, change);
	return ED_OK;
}

static size_t role_span(const struct ed_snapref *v, size_t n, size_t from)
{
	size_t to = from;
	while (to < n && strcmp(v[to].role, v[from].role) == 0)
		to++;
	return to;
}

enum ed_code ed_diff_sides(struct ed_store *st, const struct ed_snapref *refs, size_t nrefs,
			   const struct ed_snapref *cands, size_t ncands,
			   const struct ed_policy *policy, struct ed_drift *out, struct ed_err *err)
{
	sqlite3 *db = ed_store_db(st);
	struct merge m = {.st = st, .d = out, .policy = policy,
			  .plain = ed_policy_must_differ_plain(policy)};
	enum ed_code rc = ED_OK;

	memset(out, 0, sizeof(*out));
	out->ref = refs[0];
	out->cand = cands[0];
	out->refs = malloc(nrefs * sizeof(*refs));
	out->cands = malloc(ncands * sizeof(*cands));
	if (!out->refs || !out->cands)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	memcpy(out->refs, refs, nrefs * sizeof(*refs));
	memcpy(out->cands, cands, ncands * sizeof(*cands));
	out->nrefs = nrefs;
	out->ncands = ncands;
	/* Every cursor reads inside one transaction: one consistent view of the store. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return ed_store_fail(st, "starting to read", err);
	if (sqlite3_prepare_v2(db, DETAIL, -1, &m.detail, NULL) != SQLITE_OK) {
		rc = ed_store_fail(st, "reading items", err);
		goto out;
	}
	/* Both lists are sorted by role then host: walk the roles in order. */
	size_t i = 0, j = 0;
	while (!rc && (i < nrefs || j < ncands)) {
		int c = i == nrefs ? 1 : j == ncands ? -1 : strcmp(refs[i].role, cands[j].role);
		size_t ie = i < nrefs ? role_span(refs, nrefs, i) : i;
		size_t je = j < ncands ? role_span(cands, ncands, j) : j;
		if (c < 0) {
			rc = add_role_entry(&m, refs[i].role, ED_REMOVED, refs + i, ie - i, err);
			i = ie;
		} else if (c > 0) {
			rc = add_role_entry(&m, cands[j].role, ED_ADDED, cands + j, je - j, err);
			j = je;
		} else {
			rc = merge_role(&m, refs[i].role, refs + i, ie - i, cands + j, je - j, err);
			i = ie;
			j = je;
		}
	}
out:
	sqlite3_finalize(m.detail);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

enum ed_code ed_diff_snapshots(struct ed_store *st, const struct ed_snapref *ref,
			       const struct ed_snapref *cand, const struct ed_policy *policy,
			       struct ed_drift *out, struct ed_err *err)
{
	/* Two single snapshots compare whatever their roles: one role, no snowflakes. */
	struct ed_snapref a = *ref, b = *cand;
	a.role[0] = b.role[0] = '\0';
	enum ed_code rc = ed_diff_sides(st, &a, 1, &b, 1, policy, out, err);
	if (out->refs) {
		out->ref = out->refs[0] = *ref;
		out->cand = out->cands[0] = *cand;
	}
	return rc;
}

void ed_drift_release(struct ed_drift *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].kind);
		free(d->v[i].key);
		free(d->v[i].rule);
		free(d->v[i].reason);
		free(d->v[i].role);
		side_release(&d->v[i].ref);
		side_release(&d->v[i].cand);
	}
	free(d->v);
	for (size_t i = 0; i < d->nexpired; i++) {
		free(d->expired[i].text);
		free(d->expired[i].expires);
		free(d->expired[i].reason);
	}
	free(d->expired);
	for (size_t i = 0; i < d->nsnowflakes; i++) {
		struct ed_snowflake *f = &d->snowflakes[i];
		free(f->env);
		free(f->role);
		free(f->host);
		free(f->kind);
		free(f->key);
		free(f->value);
		free(f->majority_value);
	}
	free(d->snowflakes);
	free(d->refs);
	free(d->cands);
	memset(d, 0, sizeof(*d));
}

const char *ed_direction_name(enum ed_direction dir)
{
	switch (dir) {
	case ED_DIR_AHEAD: return "ahead";
	case ED_DIR_BEHIND: return "behind";
	case ED_DIR_REBUILD: return "rebuild";
	case ED_DIR_NONE: break;
	}
	return NULL;
}

static const struct ed_report_ops *const reports[] = {
	&ed_report_text,  &ed_report_json,     &ed_report_junit,
	&ed_report_sarif, &ed_report_markdown, &ed_report_html,
};

const struct ed_report_ops *ed_report_find(const char *name)
{
	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		if (strcmp(reports[i]->name, name) == 0)
			return reports[i];
	return NULL;
}

const char *ed_report_names(void)
{
	return "text, json, junit, sarif, markdown, html";
}
