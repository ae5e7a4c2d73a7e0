/* SPDX-License-Identifier: MIT */
/*
 * The comparison: both snapshots' items are read in primary-key order
 * (snapshot_id, kind, key) by two feeds (differ/feed.c) and merged in one
 * pass. No join, no sort; memory grows with the drift up to ED_DRIFT_SPILL_AT
 * entries, past which they go to a spill file (spill.c). The feeds
 * carry kind, key and items.state; an item's other columns are read by
 * primary key only when the states do not settle equality, or for a report.
 */
#include <stdlib.h>
#include <string.h>

#include "ed/buf.h"
#include "ed/diff.h"
#include "ed/policy.h"
#include "feed.h"

/* Hosts of one role compared with a reading thread each; more read on the main thread. */
#define MAX_THREADED_FEEDS 8
/*
 * Pending entries settled this many at a time: their sides moved in, the
 * feeds' requests freed. Memory then grows with the drift by its entries
 * only, not also by a request per side.
 */
#define SETTLE_EVERY 4096

static const char *const field_names[] = {
	"content", "type", "mode", "owner", "group", "target", "value", "version", "definition", "error",
	"rows", "null_frac", "distinct", "stats", "overlap",
};

const char *ed_field_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (bit == 1u << i)
			return field_names[i];
	return "?";
}

/* Compares the (kind, key) of two rows exactly as SQLite's BINARY collation orders them. */
static int cmp_bytes(const void *a, size_t na, const void *b, size_t nb)
{
	size_t n = na < nb ? na : nb;
	int c = n ? memcmp(a, b, n) : 0;
	return c ? c : (na > nb) - (na < nb);
}

static int cmp_rows(const struct ed_row *a, const struct ed_row *b)
{
	return cmp_bytes(a->kind, a->kindkey_len, b->kind, b->kindkey_len);
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * What differs between two items of one kind and key; 0 when nothing does.
 * Data shapes differ only beyond the tolerances of tol (NULL: the built-in ones).
 * Sensitive rows are a finding between two environments only (across), when
 * the candidate holds more of the reference's rows than [data] overlap
 * allows, even with equal fingerprints (a copy); between snapshots of one
 * environment their change is no drift.
 */
static unsigned compare_sides(const struct ed_policy *tol, bool across, const char *kind,
			      const char *key, const struct ed_side *a, const struct ed_side *b)
{
	unsigned f = 0;
	if (strcmp(kind, ED_KIND_ROWS) == 0)
		return across ? ed_rows_compare(tol, key, a->value, b->value) : 0;
	bool fp_differs = memcmp(a->fp.b, b->fp.b, ED_FP_LEN) != 0;
	if (a->error || b->error) {
		/* One side could not be read: its fingerprint means nothing. */
		if (!str_eq(a->error, b->error))
			f |= ED_F_ERROR;
		fp_differs = false;
	}
	if (strcmp(kind, ED_KIND_FILE) == 0) {
		enum ed_ftype ta = a->ftype, tb = b->ftype;
		if (ta != tb)
			f |= ED_F_TYPE;
		if (a->mode != b->mode)
			f |= ED_F_MODE;
		if (!str_eq(a->owner, b->owner))
			f |= ED_F_OWNER;
		if (!str_eq(a->group, b->group))
			f |= ED_F_GROUP;
		if (!str_eq(a->target, b->target))
			f |= ED_F_TARGET;
		/* A link's fingerprint is its target's: report the target, not "content". */
		if (fp_differs && ta == tb && ta != ED_FT_LINK)
			f |= ED_F_CONTENT;
		if (ta != tb)
			f &= ~(unsigned)ED_F_CONTENT;
	} else if (fp_differs) {
		if (strcmp(kind, ED_KIND_CONFIG) == 0 || strcmp(kind, ED_KIND_SYSTEM) == 0 ||
		    strcmp(kind, ED_KIND_ACCOUNT) == 0)
			f |= ED_F_VALUE;
		else if (strcmp(kind, ED_KIND_PACKAGE) == 0)
			f |= ED_F_VERSION;
		else if (strcmp(kind, ED_KIND_SCHEMA) == 0)
			f |= ED_F_DEFINITION;
		else if (strcmp(kind, ED_KIND_DATA) == 0)
			f |= ed_data_compare(tol, key, a->value, b->value);
		else
			f |= ED_F_CONTENT;
	}
	return f;
}

/* A deep copy of one side. */
static bool side_copy(struct ed_side *dst, const struct ed_side *src)
{
	bool oom = false;
	*dst = *src;
	dst->owner = ed_strdup_opt(src->owner, &oom);
	dst->group = ed_strdup_opt(src->group, &oom);
	dst->target = ed_strdup_opt(src->target, &oom);
	dst->error = ed_strdup_opt(src->error, &oom);
	dst->value = ed_strdup_opt(src->value, &oom);
	dst->attrs = ed_strdup_opt(src->attrs, &oom);
	return !oom;
}

bool ed_side_secret(const struct ed_side *s)
{
	return s->present && ed_attrs_secret(s->attrs);
}

/* One host's feed within a side. */
struct member {
	struct ed_feed *f;
	const struct ed_row *r; /* its current row; NULL past the last */
	int64_t snap;
	int64_t base;          /* a delta snapshot's base, else 0 */
	const char *host;
	bool have_cols;         /* cols holds r's other columns */
	struct ed_side cols;
	uint8_t flags;          /* ED_STATE_* of cols */
};

static enum ed_code member_next(struct member *x, struct ed_err *err)
{
	enum ed_code rc = ed_feed_next(x->f, err);
	x->r = ed_feed_row(x->f);
	if (x->have_cols)
		ed_side_release(&x->cols);
	x->have_cols = false;
	return rc;
}

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
	char *data_db;   /* the database ("ENGINE:NAME") of the last data item passed, or NULL */
	size_t data_db_len;
	size_t shaped[2]; /* tables, columns of a database whose shape the other side lacks */
};

struct merge {
	struct ed_store *st;
	struct ed_drift *d;
	struct ed_store_cols *detail; /* the other columns of one item, on the store's connection */
	const struct ed_policy *policy; /* asked about equal pairs, or NULL: none asked */
	const struct ed_policy *tol;    /* the data shapes' tolerances, or NULL: built-in */
	bool across;          /* the sides are two environments: sensitive rows are compared */
	bool plain;           /* the policy may demand that items that are not secret differ */
	struct pend *pend;    /* entries whose sides the feeds are reading */
	size_t npend, cappend;
	size_t spill_at;      /* entries past which they go to a spill file (ED_DRIFT_SPILL_AT) */
};

/* An entry of d->v whose sides arrive with the feeds' requests. */
struct pend {
	size_t entry;
	struct ed_detail *ref, *cand;
	bool compare; /* its fields are known once both sides are there; none: no drift */
};

/* The entries in d->v: those not spilled yet (d->n counts both). */
static size_t in_mem(const struct ed_drift *d)
{
	return d->n - ed_drift_spilled(d);
}

static enum ed_code grow_entries(struct ed_drift *d, struct ed_err *err)
{
	if (in_mem(d) < d->cap)
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

/* The other columns of x's current item, read once by primary key. */
static enum ed_code cols_of(struct merge *m, struct member *x, const struct ed_side **out,
			    struct ed_err *err)
{
	*out = &x->cols;
	if (x->have_cols)
		return ED_OK;
	enum ed_code rc = ed_store_cols_read(m->detail, x->snap, x->base, x->r->kind, x->r->key,
					     x->r->key_len, &x->cols, &x->flags, err);
	x->have_cols = !rc;
	return rc;
}

/* The flags of x's item (ED_STATE_*): from its state, or from its columns. */
static enum ed_code flags_of(struct merge *m, struct member *x, uint8_t *flags,
			     struct ed_err *err)
{
	if (x->r->has_state) {
		*flags = x->r->state[0];
		return ED_OK;
	}
	const struct ed_side *c;
	enum ed_code rc = cols_of(m, x, &c, err);
	*flags = rc ? 0 : x->flags;
	return rc;
}

/* What differs between the items of x and y, on the same key: 0 when nothing does. */
static enum ed_code differ_fields(struct merge *m, struct member *x, struct member *y,
				  unsigned *fields, struct ed_err *err)
{
	*fields = 0;
	if (x->r->has_state && y->r->has_state &&
	    memcmp(x->r->state, y->r->state, ED_STATE_LEN) == 0 &&
	    !(m->across && strcmp(x->r->kind, ED_KIND_ROWS) == 0))
		return ED_OK;
	const struct ed_side *a, *b;
	enum ed_code rc = cols_of(m, x, &a, err);
	if (!rc)
		rc = cols_of(m, y, &b, err);
	if (rc)
		return rc;
	char *key = ed_strndup(x->r->key, x->r->key_len); /* a feed's key ends at key_len */
	if (!key)
		return ed_err_set(err, ED_NOMEM, "out of memory comparing %s items", x->r->kind);
	*fields = compare_sides(m->tol, m->across, x->r->kind, key, a, b);
	free(key);
	return ED_OK;
}

/* Appends an entry for row any without its sides; counted later, by the caller. */
static enum ed_code new_entry(struct merge *m, const char *role, enum ed_change change,
			      unsigned fields, const struct ed_row *any,
			      struct ed_drift_entry **out, struct ed_err *err)
{
	struct ed_drift *d = m->d;
	enum ed_code rc;
	if ((rc = grow_entries(d, err)))
		return rc;
	struct ed_drift_entry *e = &d->v[in_mem(d)];
	memset(e, 0, sizeof(*e));
	d->n++; /* counted now so that release frees a half-filled entry */
	bool oom = false;
	e->kind = ed_strdup_opt(any->kind, &oom);
	e->key_len = any->key_len;
	e->key = ed_strndup(any->key, any->key_len);
	e->change = change;
	e->fields = fields;
	/* Without a policy every difference blocks. */
	e->severity = "block";
	e->rule = strdup("no policy: all drift blocks");
	e->role = role && *role ? strdup(role) : NULL;
	if (oom || !e->kind || !e->key || !e->rule || (role && *role && !e->role))
		return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
	*out = e;
	return ED_OK;
}

/* Appends an entry for the current items of ref and cand; either may be NULL. */
static enum ed_code add_entry(struct merge *m, const char *role, enum ed_change change,
			      unsigned fields, struct member *ref, struct member *cand,
			      struct ed_err *err)
{
	struct ed_drift_entry *e;
	enum ed_code rc = new_entry(m, role, change, fields, ref ? ref->r : cand->r, &e, err);
	if (rc)
		return rc;
	struct member *who[2] = {ref, cand};
	struct ed_side *sides[2] = {&e->ref, &e->cand};
	for (int i = 0; i < 2; i++) {
		const struct ed_side *c;
		if (!who[i])
			continue;
		if ((rc = cols_of(m, who[i], &c, err)))
			return rc;
		if (!side_copy(sides[i], c))
			return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
	}
	count_change(m->d, change);
	return ED_OK;
}

/*
 * The same, with the sides read by the feeds' threads and the fields
 * (with compare) worked out once they are there: see finish_pending().
 */
static enum ed_code add_pending(struct merge *m, const char *role, enum ed_change change,
				struct member *ref, struct member *cand, bool compare,
				struct ed_err *err)
{
	if (m->npend == m->cappend) {
		size_t ncap = m->cappend ? 2 * m->cappend : 256;
		struct pend *v = realloc(m->pend, ncap * sizeof(*v));
		if (!v)
			return ed_err_set(err, ED_NOMEM, "out of memory collecting drift");
		m->pend = v;
		m->cappend = ncap;
	}
	struct ed_drift_entry *e;
	enum ed_code rc = new_entry(m, role, change, 0, ref ? ref->r : cand->r, &e, err);
	if (rc)
		return rc;
	struct pend *p = &m->pend[m->npend++];
	*p = (struct pend){.entry = in_mem(m->d) - 1, .compare = compare};
	/* The entry's own strings: they stay put while d->v grows. */
	if (ref && (rc = ed_feed_request(ref->f, e->kind, e->key, e->key_len, &p->ref, err)))
		return rc;
	if (cand && (rc = ed_feed_request(cand->f, e->kind, e->key, e->key_len, &p->cand, err)))
		return rc;
	return ED_OK;
}

/*
 * Once every feed of the role is drained: moves the sides into their
 * entries, works out the fields, and drops entries whose columns turn out
 * equal (states differ, items do not: a row stored without a state).
 */
static void finish_pending(struct merge *m)
{
	struct ed_drift *d = m->d;
	if (!m->npend)
		return;
	size_t first = m->pend[0].entry, w = first, pi = 0, nv = in_mem(d);
	for (size_t i = first; i < nv; i++) {
		struct ed_drift_entry *e = &d->v[i];
		bool keep = true;
		if (pi < m->npend && m->pend[pi].entry == i) {
			struct pend *p = &m->pend[pi++];
			if (p->ref) {
				e->ref = p->ref->side;
				memset(&p->ref->side, 0, sizeof(p->ref->side));
			}
			if (p->cand) {
				e->cand = p->cand->side;
				memset(&p->cand->side, 0, sizeof(p->cand->side));
			}
			if (p->compare)
				e->fields = compare_sides(m->tol, m->across, e->kind, e->key, &e->ref, &e->cand);
			keep = !p->compare || e->fields;
			if (keep)
				count_change(d, e->change);
		}
		if (!keep) {
			ed_drift_entry_release(e);
			continue;
		}
		if (w != i)
			d->v[w] = *e;
		w++;
	}
	d->n = ed_drift_spilled(d) + w;
	m->npend = 0;
}

/*
 * Past ED_DRIFT_SPILL_AT entries, the settled ones go out to the spill file
 * every SETTLE_EVERY: memory stays that of a few thousand entries.
 */
static enum ed_code maybe_spill(struct merge *m, struct ed_err *err)
{
	struct ed_drift *d = m->d;
	if (m->npend || d->n < m->spill_at ||
	    in_mem(d) < (m->spill_at < SETTLE_EVERY ? m->spill_at : SETTLE_EVERY))
		return ED_OK;
	/*
	 * Not while the last entry is a database's shape on one side only: its
	 * counts grow as that database's items go by (data_one_side()). The
	 * next entry, of whatever key, comes after them.
	 */
	const struct ed_drift_entry *last = &d->v[in_mem(d) - 1];
	if (strcmp(last->kind, ED_KIND_DATA) == 0 && !memchr(last->key, '/', last->key_len))
		return ED_OK;
	return ed_drift_spill_entries(d, err);
}

/*
 * An equal pair that the policy says must differ (staging holding
 * production's secret) is drift of its own: changed, without fields. Items
 * that hold nothing to share (directories, links, empty files) and items
 * that could not be read are never reported.
 */
static enum ed_code check_must_differ(struct merge *m, const char *role, struct member *x,
				      struct member *y, struct ed_err *err)
{
	if (!m->policy)
		return ED_OK;
	uint8_t fx, fy;
	enum ed_code rc = flags_of(m, x, &fx, err);
	if (!rc)
		rc = flags_of(m, y, &fy, err);
	if (rc)
		return rc;
	/*
	 * A file keyed because words in it were masked that hold no secret by
	 * their look (prose, comments, lists: nsswitch.conf's "passwd: files")
	 * or a structured config, whose secret leaves are items of their own:
	 * sharing it is no shared secret.
	 */
	if (strcmp(x->r->kind, ED_KIND_FILE) == 0 && ((fx | fy) & ED_STATE_MASKED))
		return ED_OK;
	bool secret = (fx | fy) & ED_STATE_SECRET;
	if (!(secret || m->plain) || ((fx | fy) & ED_STATE_ERROR) || !(fx & ED_STATE_HOLDS) ||
	    !(fy & ED_STATE_HOLDS))
		return ED_OK;
	if (!ed_policy_must_differ(m->policy, x->r->kind, x->r->key, x->r->key_len, secret))
		return ED_OK;
	return add_entry(m, role, ED_CHANGED, 0, x, y, err);
}

/* A fact its collection could not observe (attrs "unknown": true). */
static bool unknown(const struct member *x)
{
	return x->r->has_state && (x->r->state[0] & ED_STATE_UNKNOWN);
}

/* Records member x of side sd as disagreeing with the majority (rep, or absent). */
static enum ed_code add_snowflake(struct merge *m, struct side *sd, struct member *x, bool x_on,
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
	const struct ed_row *any = x_on ? x->r : rep->r;
	f->env = strdup(sd->env);
	f->role = strdup(sd->role);
	f->host = strdup(x->host);
	f->kind = ed_strdup_opt(any->kind, &oom);
	f->key = ed_strndup(any->key, any->key_len);
	if (!f->env || !f->role || !f->host || !f->key || oom)
		return ed_err_set(err, ED_NOMEM, "out of memory");
	/* The shown value of each side: NULL when absent or a secret. */
	struct member *who[2] = {x_on ? x : NULL, rep};
	char **val[2] = {&f->value, &f->majority_value};
	for (int i = 0; i < 2; i++) {
		const struct ed_side *c;
		if (!who[i])
			continue;
		enum ed_code rc = cols_of(m, who[i], &c, err);
		if (rc)
			return rc;
		/* A secret, or a sample of keyed fingerprints: nothing a person reads. */
		if ((who[i]->flags & ED_STATE_SECRET) || strcmp(f->kind, ED_KIND_ROWS) == 0)
			continue;
		*val[i] = ed_strdup_opt(c->value, &oom);
		if (oom)
			return ed_err_set(err, ED_NOMEM, "out of memory");
		/* A file's summary does not show its content: add the fingerprint's start. */
		if (*val[i] && strcmp(f->kind, ED_KIND_FILE) == 0) {
			char hex[2 * ED_FP_LEN + 1];
			ed_fp_hex(&c->fp, hex);
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
			if (!sd->m[i].r)
				continue;
			int c = min == SIZE_MAX ? -1 : cmp_rows(sd->m[i].r, sd->m[min].r);
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
			for (size_t j = 0; j < i; j++) {
				unsigned f;
				if ((rc = differ_fields(m, &sd->m[sd->at[j]], &sd->m[sd->at[i]], &f,
							err)))
					return rc;
				if (f == 0) {
					g = sd->group[j];
					break;
				}
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
		struct member *repm = present ? &sd->m[rep] : NULL;
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
			/* A member not on the key is on a later one: absent here. */
			rc = add_snowflake(m, sd, &sd->m[i], on, repm, err);
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
			if ((rc = member_next(&sd->m[sd->at[j]], err)))
				return rc;
	}
}

/* Moves every member on the current key forward, then finds the next majority row. */
static enum ed_code side_advance(struct merge *m, struct side *sd, struct ed_err *err)
{
	enum ed_code rc;
	for (size_t j = 0; j < sd->nat; j++)
		if ((rc = member_next(&sd->m[sd->at[j]], err)))
			return rc;
	return side_fill_next(m, sd, err);
}

static void side_close(struct side *sd)
{
	for (size_t i = 0; i < sd->n; i++) {
		ed_feed_close(sd->m[i].f);
		ed_side_release(&sd->m[i].cols);
	}
	free(sd->m);
	free(sd->at);
	free(sd->group);
	free(sd->data_db);
	memset(sd, 0, sizeof(*sd));
}

static enum ed_code side_open(struct merge *m, struct side *sd, const struct ed_snapref *refs,
			      size_t n, const char *env, const char *role, bool threaded,
			      struct ed_err *err)
{
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
		enum ed_code rc = ed_feed_open(m->st, refs[i].id, refs[i].base, threaded, &x->f, err);
		if (rc)
			return rc;
		sd->n++;
		x->snap = refs[i].id;
		x->base = refs[i].base;
		x->host = refs[i].host;
		x->r = ed_feed_row(x->f);
	}
	return side_fill_next(m, sd, err);
}

/* Waits for every request of both sides' feeds, then settles the pending entries. */
static enum ed_code settle(struct merge *m, struct side *a, struct side *b, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	for (size_t i = 0; i < a->n && !rc; i++)
		rc = ed_feed_settle(a->m[i].f, err);
	for (size_t i = 0; i < b->n && !rc; i++)
		rc = ed_feed_settle(b->m[i].f, err);
	if (rc)
		return rc;
	finish_pending(m);
	for (size_t i = 0; i < a->n; i++)
		ed_feed_forget(a->m[i].f);
	for (size_t i = 0; i < b->n; i++)
		ed_feed_forget(b->m[i].f);
	return maybe_spill(m, err);
}

/*
 * The database of a data item, "ENGINE:NAME" of "ENGINE:NAME/table/S.T" or
 * ".../column/S.T.C": its length, 0 for a row that is no data item.
 */
static size_t data_db_len(const struct ed_row *r)
{
	if (!r || strcmp(r->kind, ED_KIND_DATA) != 0)
		return 0;
	for (size_t i = 0; i < r->key_len; i++)
		if (r->key[i] == '/' && ((r->key_len - i > 7 && memcmp(r->key + i, "/table/", 7) == 0) ||
					 (r->key_len - i > 8 && memcmp(r->key + i, "/column/", 8) == 0)))
			return i;
	return 0;
}

/* Remembers the database of the data item sd passes (its majority row r). */
static enum ed_code pass_data(struct side *sd, const struct ed_row *r, struct ed_err *err)
{
	size_t n = data_db_len(r);
	if (!n || (sd->data_db && sd->data_db_len == n && memcmp(sd->data_db, r->key, n) == 0))
		return ED_OK;
	char *db = ed_strndup(r->key, n);
	if (!db)
		return ed_err_set(err, ED_NOMEM, "out of memory comparing data shapes");
	free(sd->data_db);
	sd->data_db = db;
	sd->data_db_len = n;
	sd->shaped[0] = sd->shaped[1] = 0;
	return ED_OK;
}

/*
 * A data shape on one side only (x, of side xs; the other side ys stands on
 * y, or NULL). When the other side holds shapes of the same database, x's
 * table or column is on one side only, which its schema item reports: no
 * entry. When it holds none, that database's shape was not collected there
 * (no --data-shape): one entry for the database, key "ENGINE:NAME", whose
 * present side counts the tables and columns that could not be compared.
 * Keys of one database are contiguous, so the entry is the last one while
 * its items go by.
 */
static enum ed_code data_one_side(struct merge *m, const char *role, struct side *xs,
				  struct member *x, struct side *ys, struct member *y, bool in_ref,
				  struct ed_err *err)
{
	size_t n = data_db_len(x->r);
	const char *db = x->r->key;
	if (!n || (ys->data_db && ys->data_db_len == n && memcmp(ys->data_db, db, n) == 0) ||
	    (y && data_db_len(y->r) == n && memcmp(y->r->key, db, n) == 0))
		return ED_OK;
	struct ed_drift *d = m->d;
	enum ed_change change = in_ref ? ED_REMOVED : ED_ADDED;
	struct ed_drift_entry *e = in_mem(d) ? &d->v[in_mem(d) - 1] : NULL; /* never spilled: maybe_spill() */
	bool open = e && e->change == change && strcmp(e->kind, ED_KIND_DATA) == 0 &&
		    e->key_len == n && memcmp(e->key, db, n) == 0 &&
		    str_eq(e->role, role && *role ? role : NULL);
	enum ed_code rc;
	if (!open) {
		if ((rc = new_entry(m, role, change, 0, x->r, &e, err)))
			return rc;
		e->key[n] = '\0';
		e->key_len = n;
		(in_ref ? &e->ref : &e->cand)->present = true;
		count_change(d, change);
		xs->shaped[0] = xs->shaped[1] = 0;
	}
	xs->shaped[memcmp(db + n, "/table/", 7) == 0 ? 0 : 1]++;
	struct ed_side *s = in_ref ? &e->ref : &e->cand;
	struct ed_buf v = ED_BUF_INIT;
	if (ed_buf_addf(&v, "{\"tables\":%zu,\"columns\":%zu}", xs->shaped[0], xs->shaped[1])) {
		ed_buf_release(&v);
		return ed_err_set(err, ED_NOMEM, "out of memory comparing data shapes");
	}
	free(s->value);
	s->value = ed_buf_detach(&v);
	return ED_OK;
}

/* Compares the hosts of one role: one merge pass over two majority streams. */
static enum ed_code merge_role(struct merge *m, const char *role, const struct ed_snapref *refs,
			       size_t nrefs, const struct ed_snapref *cands, size_t ncands,
			       struct ed_err *err)
{
	struct side a = {0}, b = {0};
	/* A thread per host reads ahead, up to a few hosts; a bigger fleet reads inline. */
	bool threaded = nrefs + ncands <= MAX_THREADED_FEEDS;
	enum ed_code rc = side_open(m, &a, refs, nrefs, refs[0].env, role, threaded, err);
	if (!rc)
		rc = side_open(m, &b, cands, ncands, cands[0].env, role, threaded, err);
	while (!rc && (a.have || b.have)) {
		struct member *ra = a.have ? &a.m[a.rep] : NULL, *rb = b.have ? &b.m[b.rep] : NULL;
		int c = !ra ? 1 : !rb ? -1 : cmp_rows(ra->r, rb->r);
		/* A fact one side could not observe is never drift, nor counted as compared. */
		bool skip = c < 0 ? unknown(ra) : c > 0 ? unknown(rb) : unknown(ra) || unknown(rb);
		/*
		 * A data shape on one side only: see data_one_side(). Sensitive rows
		 * on one side only, between two environments, are a check that could
		 * not run (the entry not in the other side's [data] sensitive, or its
		 * table unreadable there): an entry added or removed, unless the
		 * policy ignores that entry's overlap; between snapshots of one
		 * environment, no drift.
		 */
		struct member *one = c < 0 ? ra : c > 0 ? rb : NULL;
		if (ra && c <= 0)
			rc = pass_data(&a, ra->r, err);
		if (!rc && rb && c >= 0)
			rc = pass_data(&b, rb->r, err);
		if (rc)
			break;
		if (one && !skip && strcmp(one->r->kind, ED_KIND_DATA) == 0) {
			skip = true;
			rc = data_one_side(m, role, c < 0 ? &a : &b, one, c < 0 ? &b : &a,
					   c < 0 ? rb : ra, c < 0, err);
		} else if (one && !skip && strcmp(one->r->kind, ED_KIND_ROWS) == 0) {
			skip = !m->across || !ed_rows_checked(m->tol, one->r->key, one->r->key_len);
		}
		if (rc)
			break;
		/* Two environments' samples of sensitive rows: compared even when equal (a copy). */
		bool rows = !c && m->across && strcmp(ra->r->kind, ED_KIND_ROWS) == 0;
		m->d->compared += !skip;
		if (c < 0) {
			if (!skip)
				rc = add_pending(m, role, ED_REMOVED, ra, NULL, false, err);
			if (!rc)
				rc = side_advance(m, &a, err);
		} else if (c > 0) {
			if (!skip)
				rc = add_pending(m, role, ED_ADDED, NULL, rb, false, err);
			if (!rc)
				rc = side_advance(m, &b, err);
		} else {
			unsigned f;
			if (skip) {
				/* unknown on a side: not drift */
			} else if (ra->r->has_state && rb->r->has_state) {
				/* Different states: the feeds read both sides, the fields follow. */
				if (rows || memcmp(ra->r->state, rb->r->state, ED_STATE_LEN) != 0)
					rc = add_pending(m, role, ED_CHANGED, ra, rb, true, err);
				else
					rc = check_must_differ(m, role, ra, rb, err);
			} else if (!(rc = differ_fields(m, ra, rb, &f, err))) {
				if (f)
					rc = add_entry(m, role, ED_CHANGED, f, ra, rb, err);
				else
					rc = check_must_differ(m, role, ra, rb, err);
			}
			if (!rc)
				rc = side_advance(m, &a, err);
			if (!rc)
				rc = side_advance(m, &b, err);
		}
		if (!rc && m->npend >= SETTLE_EVERY)
			rc = settle(m, &a, &b, err);
		else if (!rc && !m->npend)
			rc = maybe_spill(m, err);
	}
	for (size_t i = 0; i < a.n && !rc; i++)
		rc = ed_feed_drain(a.m[i].f, err);
	for (size_t i = 0; i < b.n && !rc; i++)
		rc = ed_feed_drain(b.m[i].f, err);
	if (!rc)
		finish_pending(m);
	m->npend = 0;
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
	struct ed_drift_entry *e = &d->v[in_mem(d)];
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

/*
 * Must-differ stops staging from holding production's secrets: it means
 * something only between two environments. Between snapshots of one
 * environment (a host's own history, an environment against itself) an equal
 * secret is the expected case.
 */
static bool across_environments(const struct ed_snapref *refs, size_t nrefs,
				const struct ed_snapref *cands, size_t ncands)
{
	for (size_t i = 0; i < nrefs; i++)
		for (size_t j = 0; j < ncands; j++)
			if (strcmp(refs[i].env, cands[j].env) == 0)
				return false;
	return true;
}

enum ed_code ed_diff_sides(struct ed_store *st, const struct ed_snapref *refs, size_t nrefs,
			   const struct ed_snapref *cands, size_t ncands,
			   const struct ed_policy *policy, struct ed_drift *out, struct ed_err *err)
{
	bool across = across_environments(refs, nrefs, cands, ncands);
	struct merge m = {.st = st, .d = out, .policy = across ? policy : NULL, .tol = policy,
			  .across = across,
			  .plain = across && ed_policy_must_differ_plain(policy)};
	enum ed_code rc = ED_OK;
	/* For the tests: ENVDRIFT_SPILL_AT=1 spills every drift, which must read the same. */
	const char *at = getenv("ENVDRIFT_SPILL_AT");
	char *end = NULL;
	unsigned long long n = at ? strtoull(at, &end, 10) : 0;
	m.spill_at = at && *at && !*end && n ? (size_t)n : ED_DRIFT_SPILL_AT;

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
	/*
	 * The details and the feeds that read on this connection share one
	 * transaction; threaded feeds read complete snapshots, which never change.
	 */
	if ((rc = ed_store_read_begin(st, err)))
		return rc;
	rc = ed_store_cols_open(st, &m.detail, err);
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
	ed_store_cols_close(m.detail);
	free(m.pend);
	ed_store_read_end(st);
	/* A spilled drift is spilled whole: its readers find every entry there. */
	if (!rc && out->spill)
		rc = ed_drift_spill_entries(out, err);
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
	for (size_t i = 0, nv = in_mem(d); i < nv; i++)
		ed_drift_entry_release(&d->v[i]);
	free(d->v);
	ed_drift_spill_free(d);
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
