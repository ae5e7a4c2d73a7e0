/* SPDX-License-Identifier: MIT */
/*
 * Profiles: the built-in default, the INI parser (over common/ini.c, which
 * refuses what libinih would silently truncate), and the predicates
 * collectors ask (secret? excluded? keep? which format?).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ed/collect.h"
#include "ed/glob.h"
#include "ed/ini.h"
#include "ed/profile.h"
#include "ed/source.h"

/* libinih keeps section and key names in 50-byte buffers (MAX_SECTION, MAX_NAME). */
#define INIH_MAX_NAME 50

/* ---- lifecycle ---- */

/* The profile's lists, for release and copy (offsets into struct ed_profile). */
static const size_t list_offsets[] = {
	offsetof(struct ed_profile, paths),
	offsetof(struct ed_profile, excludes),
	offsetof(struct ed_profile, packages),
	offsetof(struct ed_profile, schemas),
	offsetof(struct ed_profile, secret_keys),
	offsetof(struct ed_profile, secret_files),
	offsetof(struct ed_profile, public_files),
	offsetof(struct ed_profile, secret_values),
	offsetof(struct ed_profile, keep_content),
	offsetof(struct ed_profile, sysctl),
	offsetof(struct ed_profile, python_paths),
	offsetof(struct ed_profile, npm_paths),
	offsetof(struct ed_profile, config_trees),
	offsetof(struct ed_profile, data_trees),
	offsetof(struct ed_profile, sensitive),
};
#define NLISTS (sizeof(list_offsets) / sizeof(list_offsets[0]))

static struct ed_strlist *list_at(struct ed_profile *p, size_t i)
{
	return (struct ed_strlist *)(void *)((char *)p + list_offsets[i]);
}

static const struct ed_strlist *clist_at(const struct ed_profile *p, size_t i)
{
	return (const struct ed_strlist *)(const void *)((const char *)p + list_offsets[i]);
}

static void release_formats(struct ed_profile *p)
{
	for (size_t i = 0; i < p->nformats; i++)
		free(p->formats[i].glob);
	free(p->formats);
	p->formats = NULL;
	p->nformats = 0;
}

void ed_profile_release(struct ed_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < NLISTS; i++)
		ed_strlist_release(list_at(p, i));
	release_formats(p);
	memset(p, 0, sizeof(*p));
}

static int add_format(struct ed_profile *p, const char *glob, enum ed_config_format f)
{
	char *g = strdup(glob);
	if (!g)
		return -1;
	struct ed_format_rule *v = realloc(p->formats, (p->nformats + 1) * sizeof(*v));
	if (!v) {
		free(g);
		return -1;
	}
	v[p->nformats].glob = g;
	v[p->nformats].format = f;
	p->nformats++;
	p->formats = v;
	return 0;
}

enum ed_code ed_profile_copy(struct ed_profile *dst, const struct ed_profile *src,
			     struct ed_err *err)
{
	struct ed_profile tmp = {0};
	tmp.keep_max = src->keep_max;
	tmp.threads = src->threads;
	tmp.max_rate = src->max_rate;
	tmp.max_file_size = src->max_file_size;
	tmp.max_keys = src->max_keys;
	tmp.data_shape = src->data_shape;
	tmp.data_exact_count = src->data_exact_count;
	tmp.data_sample_rows = src->data_sample_rows;
	for (size_t i = 0; i < NLISTS; i++) {
		const struct ed_strlist *from = clist_at(src, i);
		for (size_t j = 0; j < from->n; j++)
			if (ed_strlist_add(list_at(&tmp, i), from->v[j]))
				goto oom;
	}
	for (size_t i = 0; i < src->nformats; i++)
		if (add_format(&tmp, src->formats[i].glob, src->formats[i].format))
			goto oom;
	*dst = tmp;
	return ED_OK;
oom:
	ed_profile_release(&tmp);
	memset(dst, 0, sizeof(*dst));
	return ed_err_set(err, ED_NOMEM, "out of memory copying a profile");
}

/* ---- the built-in default (profiles/default.ini says the same; a test checks) ---- */

static const char *const default_paths[] = {"/etc", NULL};
static const char *const default_packages[] = {"auto", NULL};
static const char *const default_secret_keys[] = {
	"*password*", "*secret*", "*token*", "*key*", "*passwd*", "*credential*", "*private*",
	"*passphrase*", "*salt*", "*_auth*", "*_pat", "*pw", "*pwd",
	NULL,
};
static const char *const default_secret_files[] = {
	"*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keytab",
	"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
	"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
	"/etc/ssh/ssh_host_*_key", "/etc/ssl/private/*",
	NULL,
};
/* Public by design, whatever their names say (common-password, ssh_host_rsa_key.pub). */
static const char *const default_public_files[] = {
	"*.pub", "authorized_keys", "authorized_keys2", "known_hosts", "ssh_known_hosts",
	"/etc/pam.d/*",
	NULL,
};
/* Where configuration lives: its structured files are read key by key. */
static const char *const default_config_trees[] = {"/etc", "/usr/local/etc", NULL};
/* Where it does not, wherever they are: data and code that happen to be JSON or YAML. */
static const char *const default_data_trees[] = {
	"node_modules", "site-packages", "dist-packages", "vendor", ".git", NULL,
};
/* Backups that editors, shadow tools and package managers leave beside a file. */
static const char *const default_excludes[] = {
	"*-", "*~", "*.dpkg-old", "*.dpkg-dist", "*.dpkg-new", "*.dpkg-bak", "*.ucf-*",
	"*.rpmsave", "*.rpmnew", "*.apk-new",
	NULL,
};
static const char *const default_keep[] = {
	"/etc/*.conf", "/etc/*.cfg", "/etc/*.ini", "/etc/*.json", "/etc/*.yaml", "/etc/*.yml",
	"/etc/*.toml", "/etc/*.properties",
	"/etc/default/*", "/etc/sysconfig/*", "/etc/systemd/*", "/etc/nginx/*", "/etc/apache2/*",
	"/etc/hosts", "/etc/fstab", "/etc/crontab", "/etc/cron.d/*", "/etc/environment",
	"/etc/ssh/*_config",
	NULL,
};
static const char *const default_sysctl[] = {
	"net.core.somaxconn", "vm.swappiness", "vm.overcommit_memory", "fs.file-max",
	"kernel.pid_max", "net.ipv4.ip_local_port_range",
	NULL,
};

static int add_all(struct ed_strlist *l, const char *const *v)
{
	for (; *v; v++)
		if (ed_strlist_add(l, *v))
			return -1;
	return 0;
}

enum ed_code ed_profile_default(struct ed_profile *p, struct ed_err *err)
{
	struct ed_profile tmp = {0};
	if (add_all(&tmp.paths, default_paths) || add_all(&tmp.excludes, default_excludes) ||
	    add_all(&tmp.config_trees, default_config_trees) ||
	    add_all(&tmp.data_trees, default_data_trees) ||
	    add_all(&tmp.packages, default_packages) ||
	    add_all(&tmp.secret_keys, default_secret_keys) ||
	    add_all(&tmp.secret_files, default_secret_files) ||
	    add_all(&tmp.public_files, default_public_files) ||
	    add_all(&tmp.keep_content, default_keep) || add_all(&tmp.sysctl, default_sysctl)) {
		ed_profile_release(&tmp);
		return ed_err_set(err, ED_NOMEM, "out of memory building the default profile");
	}
	tmp.keep_max = ED_PROFILE_KEEP_MAX_DEFAULT;
	tmp.max_file_size = ED_PROFILE_MAX_FILE_SIZE_DEFAULT;
	tmp.max_keys = ED_PROFILE_MAX_KEYS_DEFAULT;
	tmp.data_sample_rows = ED_PROFILE_SAMPLE_ROWS_DEFAULT;
	tmp.threads = 0;
	ed_profile_release(p);
	*p = tmp;
	return ED_OK;
}

/* ---- predicates ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static bool any_matches(const struct ed_strlist *globs, const char *path, bool casefold)
{
	for (size_t i = 0; i < globs->n; i++)
		if (ed_glob_path_matches(globs->v[i], path, casefold))
			return true;
	return false;
}

bool ed_profile_config_tree(const struct ed_profile *p, const char *path)
{
	char prefix[4096];
	size_t n = strlen(path);
	if (n >= sizeof(prefix))
		return false;
	memcpy(prefix, path, n + 1);
	/* Below a data tree (node_modules, .git...): never, whatever holds it. */
	for (char *c = prefix + 1, *slash; (slash = strchr(c, '/')); c = slash + 1) {
		*slash = '\0';
		bool data = false;
		for (size_t i = 0; i < p->data_trees.n && !data; i++)
			data = fnmatch(p->data_trees.v[i], c, FNM_PERIOD) == 0;
		*slash = '/';
		if (data)
			return false;
	}
	/* The path itself or a folder above it is a config tree. */
	for (size_t end = n; end > 0; end--) {
		if (end < n && prefix[end] != '/')
			continue;
		char save = prefix[end];
		prefix[end] = '\0';
		bool tree = any_matches(&p->config_trees, prefix, false);
		prefix[end] = save;
		if (tree)
			return true;
	}
	return false;
}

/* The first glob of l that matches path (a '/' glob the whole path, others the base name). */
static const char *first_match(const struct ed_strlist *l, const char *path, bool slash)
{
	for (size_t i = 0; i < l->n; i++)
		if ((strchr(l->v[i], '/') != NULL) == slash && ed_glob_path_matches(l->v[i], path, true))
			return l->v[i];
	return NULL;
}

enum ed_secret_name ed_profile_secret_name(const struct ed_profile *p, const char *path,
					   const char **glob)
{
	const char *g;
	*glob = NULL;
	if ((g = first_match(&p->public_files, path, true)) ||
	    (g = first_match(&p->public_files, path, false))) {
		*glob = g;
		return ED_SECRET_NAME_PUBLIC;
	}
	if ((g = first_match(&p->secret_files, path, true))) {
		*glob = g;
		return ED_SECRET_NAME_PATH;
	}
	if ((g = first_match(&p->secret_files, path, false))) {
		*glob = g;
		return ED_SECRET_NAME_GLOB;
	}
	/*
	 * Key patterns name secret files only where configuration lives (not
	 * passwd.1.gz), and not the world-readable account lists read as
	 * account items (the passwords are in /etc/shadow, a secret file).
	 */
	if (!ed_profile_config_tree(p, path) || strcmp(path, "/etc/passwd") == 0)
		return ED_SECRET_NAME_NO;
	const char *base = base_name(path);
	size_t len = strlen(base);
	for (size_t i = 0; i < p->secret_keys.n; i++)
		if (ed_glob_match_ci(p->secret_keys.v[i], base, len)) {
			*glob = p->secret_keys.v[i];
			return ED_SECRET_NAME_KEY;
		}
	return ED_SECRET_NAME_NO;
}

bool ed_profile_secret_file(const struct ed_profile *p, const char *path)
{
	const char *g;
	return ed_profile_secret_name(p, path, &g) >= ED_SECRET_NAME_PATH;
}

bool ed_profile_excluded(const struct ed_profile *p, const char *path)
{
	return any_matches(&p->excludes, path, false);
}

bool ed_profile_keep(const struct ed_profile *p, const char *path)
{
	return any_matches(&p->keep_content, path, false) && !ed_profile_secret_file(p, path);
}

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* A *.conf directly in a sysctl.d folder that sysctl --system reads. */
static bool sysctl_file(const char *path)
{
	static const char *const sysctl_dirs[] = {
		"/etc/sysctl.d/*.conf", "/run/sysctl.d/*.conf", "/usr/lib/sysctl.d/*.conf",
		"/lib/sysctl.d/*.conf",
	};
	for (size_t i = 0; i < sizeof(sysctl_dirs) / sizeof(sysctl_dirs[0]); i++)
		if (fnmatch(sysctl_dirs[i], path, FNM_PATHNAME) == 0)
			return true;
	return false;
}

/* The format a file's name says. */
static enum ed_config_format by_name(const char *path)
{
	const char *base = base_name(path);
	if (ends_with_ci(base, ".json"))
		return ED_CFG_JSON;
	if (ends_with_ci(base, ".yaml") || ends_with_ci(base, ".yml"))
		return ED_CFG_YAML;
	if (ends_with_ci(base, ".ini"))
		return ED_CFG_INI;
	if (ends_with_ci(base, ".env") || ends_with_ci(base, ".properties") ||
	    strcmp(base, "sysctl.conf") == 0 || sysctl_file(path))
		return ED_CFG_KEYVALUE;
	if (strcmp(base, "sshd_config") == 0 || strcmp(base, "ssh_config") == 0 ||
	    fnmatch("*/sshd_config.d/*.conf", path, 0) == 0 ||
	    fnmatch("*/ssh_config.d/*.conf", path, 0) == 0)
		return ED_CFG_KEYWORD;
	return ED_CFG_NONE;
}

enum ed_config_format ed_profile_format(const struct ed_profile *p, const char *path)
{
	/* Explicit rules win, wherever the file is. */
	for (size_t i = 0; i < p->nformats; i++)
		if (ed_glob_path_matches(p->formats[i].glob, path, false))
			return p->formats[i].format;

	enum ed_config_format f = by_name(path);
	/*
	 * By name only where configuration lives: not botocore's models or
	 * node_modules. The sysctl folders are configuration wherever they are.
	 */
	if (f != ED_CFG_NONE && !sysctl_file(path) && !ed_profile_config_tree(p, path))
		return ED_CFG_NONE;
	return f;
}

/* ---- sysctl keys ---- */

enum ed_code ed_profile_sysctl_key(const char *key, struct ed_buf *canon, struct ed_buf *relpath,
				   struct ed_err *err)
{
	size_t len = strlen(key);
	if (len == 0)
		return ed_err_set(err, ED_PARSE, "empty sysctl key");
	if (len > 255)
		return ed_err_set(err, ED_PARSE, "sysctl key '%.40s...' is longer than 255 bytes", key);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c <= 0x20 || c >= 0x7f || strchr("=*?[]\\\"'", c))
			return ed_err_set(err, ED_PARSE,
					  "sysctl key '%s' has a character that is not allowed "
					  "(printable ASCII without spaces, quotes, '=', '\\' or glob characters)",
					  key);
	}
	/* sysctl(8): the first separator tells which of '.' and '/' separates components. */
	size_t first = strcspn(key, "./");
	char sep = key[first] == '/' ? '/' : '.';
	char lit = sep == '/' ? '.' : '/';
	struct ed_buf c = ED_BUF_INIT, r = ED_BUF_INIT;
	enum ed_code rc = ED_OK;
	const char *p = key;
	for (;;) {
		const char *end = strchr(p, sep);
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == lit) || (n == 2 && p[0] == lit && p[1] == lit)) {
			rc = ed_err_set(err, ED_PARSE,
					"sysctl key '%s' has an empty, '.' or '..' component", key);
			goto out;
		}
		if (c.len && ed_buf_addc(&c, '.'))
			goto oom;
		if (r.len && ed_buf_addc(&r, '/'))
			goto oom;
		for (size_t i = 0; i < n; i++) {
			/* In canon a literal dot is '/'; in the path it is '.'. */
			char ch = p[i] == lit ? '.' : p[i];
			if (ed_buf_addc(&r, ch) || ed_buf_addc(&c, ch == '.' ? '/' : ch))
				goto oom;
		}
		if (!end)
			break;
		p = end + 1;
	}
	size_t old = canon ? canon->len : 0;
	if (canon && ed_buf_add(canon, c.p, c.len))
		goto oom;
	if (relpath && ed_buf_add(relpath, r.p, r.len)) {
		if (canon) {
			canon->len = old; /* leave canon as it was */
			canon->p[old] = '\0';
		}
		goto oom;
	}
	goto out;
oom:
	rc = ed_err_set(err, ED_NOMEM, "out of memory checking sysctl key '%s'", key);
out:
	ed_buf_release(&c);
	ed_buf_release(&r);
	return rc;
}

/* ---- the parser ---- */

enum vtype {
	V_PATHS,     /* absolute paths, whitespace-separated */
	V_GLOBS,     /* path globs */
	V_NAMEGLOBS, /* globs over one key name: no '/' */
	V_PREFIXES,  /* literal token prefixes: 3 bytes or more, no glob characters */
	V_PACKAGES,
	V_SCHEMA,    /* one "[NAME=]ENGINE:TARGET" per line */
	V_SYSCTL,
	V_SIZE,      /* scalar: bytes with K/M suffix */
	V_COUNT,     /* scalar: non-negative integer */
	V_RATE,      /* scalar: bytes per second with K/M/G suffix, 0 = no cap */
	V_BYTES,     /* scalar: bytes with K/M/G/T suffix, 0 = no limit */
	V_KEYS,      /* scalar: a number of config leaves, 1 to ED_PROFILE_MAX_KEYS_LIMIT */
	V_YESNO,     /* scalar: yes or no */
	V_ROWS,      /* scalar: a number of rows, 1 to ED_PROFILE_SAMPLE_ROWS_LIMIT */
	V_SENSITIVE, /* SCHEMA.TABLE(COLUMN,...) entries */
};

enum field {
	F_PATHS, F_EXCLUDES, F_PACKAGES, F_SCHEMAS, F_THREADS, F_MAX_RATE, F_MAX_FILE_SIZE,
	F_SECRET_KEYS, F_SECRET_FILES, F_SECRET_VALUES, F_PUBLIC_FILES,
	F_KEEP, F_KEEP_MAX,
	F_FORMATS, F_CONFIG_TREES, F_DATA_TREES, F_MAX_KEYS,
	F_SYSCTL,
	F_PYTHON,
	F_NPM,
	F_DATA_SHAPE, F_DATA_EXACT, F_DATA_SAMPLE, F_SENSITIVE,
	NFIELDS
};

struct keydef {
	const char *section;
	const char *key;
	enum field field;
	enum vtype type;
};

static const struct keydef keydefs[] = {
	{"collect", "path", F_PATHS, V_PATHS},
	{"collect", "exclude", F_EXCLUDES, V_GLOBS},
	{"collect", "packages", F_PACKAGES, V_PACKAGES},
	{"collect", "schema", F_SCHEMAS, V_SCHEMA},
	{"collect", "threads", F_THREADS, V_COUNT},
	{"collect", "max_rate", F_MAX_RATE, V_RATE},
	{"secrets", "keys", F_SECRET_KEYS, V_NAMEGLOBS},
	{"secrets", "files", F_SECRET_FILES, V_GLOBS},
	{"secrets", "values", F_SECRET_VALUES, V_PREFIXES},
	{"secrets", "public", F_PUBLIC_FILES, V_GLOBS},
	{"content", "keep", F_KEEP, V_GLOBS},
	{"content", "max_size", F_KEEP_MAX, V_SIZE},
	{"system", "sysctl", F_SYSCTL, V_SYSCTL},
	{"python", "site_packages", F_PYTHON, V_PATHS},
	{"npm", "paths", F_NPM, V_PATHS},
	{"limits", "max_file_size", F_MAX_FILE_SIZE, V_BYTES},
	{"formats", "config_trees", F_CONFIG_TREES, V_GLOBS},
	{"formats", "data_trees", F_DATA_TREES, V_NAMEGLOBS},
	{"formats", "max_keys", F_MAX_KEYS, V_KEYS},
	{"data", "shape", F_DATA_SHAPE, V_YESNO},
	{"data", "exact_count", F_DATA_EXACT, V_YESNO},
	{"data", "sample_rows", F_DATA_SAMPLE, V_ROWS},
	{"data", "sensitive", F_SENSITIVE, V_SENSITIVE},
};
#define NKEYDEFS (sizeof(keydefs) / sizeof(keydefs[0]))

static const char *const sections[] = {"collect", "secrets", "content", "formats", "system",
				       "python", "npm", "limits", "data"};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

struct parse {
	struct ed_ini ini;      /* the reader: origin, the current line, the first error */
	struct ed_profile *p;   /* the copy being filled */
	char section[INIH_MAX_NAME * 4]; /* the current section, as we saw it */
	char key[ED_PROFILE_MAX_LINE + 1]; /* the key indented lines continue */
	int set_line[NFIELDS];  /* line where this file first set the field, or 0 */
	enum field field;       /* the list the current key feeds */
};

/* Records the first error as "ORIGIN:LINE: message"; returns 0 for libinih. */
#define fail(ps, ...) ed_ini_fail(&(ps)->ini, __VA_ARGS__)

static int nomem(struct parse *ps)
{
	return fail(ps, ED_NOMEM, "out of memory");
}

static bool known_section(const char *name, size_t n)
{
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strlen(sections[i]) == n && memcmp(sections[i], name, n) == 0)
			return true;
	return false;
}

/*
 * Checks a section header (which libinih accepts with trailing junk and never
 * reports when it has no keys) and makes it current; ed_ini_parse() has
 * checked the line's length and bytes. Returns false after recording an error.
 */
static bool check_line(struct ed_ini *ini, const struct ed_ini_line *l, const char **feed)
{
	struct parse *ps = ini->ctx;
	const char *s = l->p;
	size_t n = l->len;
	(void)feed;
	if (l->kind != ED_INI_SECTION)
		return true;
	const char *close = memchr(s, ']', n);
	if (!close)
		return fail(ps, ED_PARSE, "section header without ']'");
	size_t nlen = (size_t)(close - s - 1);
	if (!known_section(s + 1, nlen))
		return fail(ps, ED_PARSE,
			    "unknown section [%.*s] (known: collect, secrets, content, formats, "
			    "system, python, npm, limits, data)",
			    (int)(nlen > 60 ? 60 : nlen), s + 1);
	const char *rest = close + 1, *end = s + n;
	while (rest < end && ed_ini_blank(*rest))
		rest++;
	if (rest < end && *rest != ';' && *rest != '#')
		return fail(ps, ED_PARSE, "unexpected text after [%.*s]", (int)nlen, s + 1);
	memcpy(ps->section, s + 1, nlen);
	ps->section[nlen] = '\0';
	return true;
}

/* libinih strips "  ; comment" from a key's first line but not from continuations. */
static void strip_comment(char *v)
{
	size_t n = ed_ini_find(v, strlen(v), NULL);
	while (n && ed_ini_blank(v[n - 1]))
		n--;
	v[n] = '\0';
}

static bool is_known_key(const char *section, const char *key, size_t n)
{
	for (size_t i = 0; i < NKEYDEFS; i++)
		if (strcmp(keydefs[i].section, section) == 0 && strlen(keydefs[i].key) == n &&
		    memcmp(keydefs[i].key, key, n) == 0)
			return true;
	return false;
}

/*
 * Splits a list value into items separated by blanks; an item may be written
 * in double quotes to hold blanks. Calls one() per item; stops at its first
 * failure (which has recorded an error) and returns false.
 */
static bool each_item(struct parse *ps, char *v, bool (*one)(struct parse *, const char *))
{
	char *p = v;
	for (;;) {
		while (ed_ini_blank(*p))
			p++;
		if (!*p)
			return true;
		char *item, *end;
		if (*p == '"') {
			item = p + 1;
			end = strchr(item, '"');
			if (!end)
				return fail(ps, ED_PARSE, "'%s': unterminated quote", ps->key);
			if (end == item)
				return fail(ps, ED_PARSE, "'%s': empty quoted item", ps->key);
			if (end[1] && !ed_ini_blank(end[1]))
				return fail(ps, ED_PARSE,
					    "'%s': text right after a closing quote", ps->key);
		} else {
			item = p;
			end = item;
			while (*end && !ed_ini_blank(*end)) {
				if (*end == '"')
					return fail(ps, ED_PARSE,
						    "'%s': quote inside an item (quote the whole item)",
						    ps->key);
				end++;
			}
		}
		char save = *end;
		*end = '\0';
		bool good = one(ps, item);
		*end = save;
		if (!good)
			return false;
		p = save == '"' ? end + 1 : end;
	}
}

static struct ed_strlist *field_list(struct ed_profile *p, enum field f)
{
	switch (f) {
	case F_PATHS: return &p->paths;
	case F_EXCLUDES: return &p->excludes;
	case F_PACKAGES: return &p->packages;
	case F_SCHEMAS: return &p->schemas;
	case F_SECRET_KEYS: return &p->secret_keys;
	case F_SECRET_FILES: return &p->secret_files;
	case F_SECRET_VALUES: return &p->secret_values;
	case F_PUBLIC_FILES: return &p->public_files;
	case F_KEEP: return &p->keep_content;
	case F_SYSCTL: return &p->sysctl;
	case F_PYTHON: return &p->python_paths;
	case F_NPM: return &p->npm_paths;
	case F_CONFIG_TREES: return &p->config_trees;
	case F_DATA_TREES: return &p->data_trees;
	case F_SENSITIVE: return &p->sensitive;
	default: return NULL;
	}
}

static bool add_unique(struct parse *ps, enum field f, const char *s)
{
	struct ed_strlist *l = field_list(ps->p, f);
	if (ed_strlist_has(l, s))
		return true;
	if (l->n >= ED_PROFILE_MAX_ITEMS)
		return fail(ps, ED_PARSE, "'%s' has more than %d items", ps->key,
			    ED_PROFILE_MAX_ITEMS);
	if (ed_strlist_add(l, s))
		return nomem(ps);
	return true;
}

static bool item_path(struct parse *ps, const char *s)
{
	if (s[0] != '/')
		return fail(ps, ED_PARSE, "'%s' needs absolute paths: '%s' is relative", ps->key, s);
	struct ed_buf b = ED_BUF_INIT;
	if (ed_path_normalize(s, &b))
		return nomem(ps);
	bool good = add_unique(ps, ps->field, b.p);
	ed_buf_release(&b);
	return good;
}

static bool item_glob(struct parse *ps, const char *s)
{
	if (strchr(s, '/') && s[0] != '/' && s[0] != '*')
		return fail(ps, ED_PARSE,
			    "'%s': glob '%s' has a '/', so it matches whole paths: "
			    "start it with '/' or '*'",
			    ps->key, s);
	return add_unique(ps, ps->field, s);
}

static bool item_nameglob(struct parse *ps, const char *s)
{
	if (strchr(s, '/'))
		return fail(ps, ED_PARSE,
			    "'%s': glob '%s' has a '/', but it matches one key name, not a path",
			    ps->key, s);
	return add_unique(ps, ps->field, s);
}

static bool item_prefix(struct parse *ps, const char *s)
{
	if (strlen(s) < 3 || strpbrk(s, "*?[]"))
		return fail(ps, ED_PARSE,
			    "'%s': '%s' is not a token prefix (3 bytes or more, no glob characters)",
			    ps->key, s);
	return add_unique(ps, ps->field, s);
}

static bool item_package(struct parse *ps, const char *s)
{
	char known[ED_COLLECTOR_NAMES_MAX];
	/* "dpkg,rpm" as the command line writes it, or "dpkg rpm". */
	const char *comma = strchr(s, ',');
	if (comma) {
		char part[64];
		for (const char *p = s;; p = comma + 1) {
			comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			if (n == 0 || n >= sizeof(part))
				return fail(ps, ED_PARSE, "'packages': '%s' is not a list of package "
					    "managers (write dpkg,rpm or dpkg rpm)", s);
			memcpy(part, p, n);
			part[n] = '\0';
			if (!item_package(ps, part))
				return false;
			if (!comma)
				return true;
		}
	}
	if (strcmp(s, "auto") && strcmp(s, "none") &&
	    !ed_collector_find(ED_COLLECTOR_PACKAGES, s, strlen(s)))
		return fail(ps, ED_PARSE, "'packages': unknown package manager '%s' (auto, none, %s)",
			    s, ed_collector_names(ED_COLLECTOR_PACKAGES, known));
	if (!add_unique(ps, F_PACKAGES, s))
		return false;
	const struct ed_strlist *l = &ps->p->packages;
	if (l->n > 1 && (ed_strlist_has(l, "auto") || ed_strlist_has(l, "none")))
		return fail(ps, ED_PARSE,
			    "'packages': '%s' cannot be combined with other package managers",
			    ed_strlist_has(l, "auto") ? "auto" : "none");
	return true;
}

static bool item_sysctl(struct parse *ps, const char *s)
{
	struct ed_buf canon = ED_BUF_INIT;
	struct ed_err e;
	enum ed_code rc = ed_profile_sysctl_key(s, &canon, NULL, &e);
	if (rc) {
		ed_buf_release(&canon);
		return fail(ps, rc, "'sysctl': %s", e.msg);
	}
	bool good = add_unique(ps, F_SYSCTL, canon.p);
	ed_buf_release(&canon);
	return good;
}

/* One identifier of a sensitive entry, from s (n bytes) into out. */
static bool ident(const char *what, const char *s, size_t n, char out[ED_SENSITIVE_MAX_IDENT + 1],
		  struct ed_err *err)
{
	if (n == 0)
		return !ed_err_set(err, ED_PARSE, "the %s name is empty", what);
	if (n > ED_SENSITIVE_MAX_IDENT)
		return !ed_err_set(err, ED_PARSE, "the %s name is longer than %d bytes", what,
				   ED_SENSITIVE_MAX_IDENT);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalpha(c) || c == '_' || (i && (isdigit(c) || c == '$'))))
			return !ed_err_set(err, ED_PARSE,
					   "the %s name '%.*s' is not a plain identifier (letters, "
					   "digits, '_', '$'; not starting with a digit)",
					   what, (int)n, s);
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

enum ed_code ed_sensitive_parse(const char *entry, struct ed_sensitive *out, struct ed_err *err)
{
	memset(out, 0, sizeof(*out));
	const char *dot = strchr(entry, '.'), *open = strchr(entry, '(');
	size_t len = strlen(entry);
	if (!open || !dot || dot > open || len < 2 || entry[len - 1] != ')')
		return ed_err_set(err, ED_PARSE, "write SCHEMA.TABLE(COLUMN,...), e.g. "
				  "public.customer(email) or main.customer(email,phone)");
	if (!ident("schema", entry, (size_t)(dot - entry), out->schema, err) ||
	    !ident("table", dot + 1, (size_t)(open - dot - 1), out->table, err))
		return err->code;
	const char *p = open + 1, *end = entry + len - 1;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		if (out->ncols == ED_SENSITIVE_MAX_COLS)
			return ed_err_set(err, ED_PARSE, "more than %d columns",
					  ED_SENSITIVE_MAX_COLS);
		if (!ident("column", p, (size_t)(stop - p), out->cols[out->ncols], err))
			return err->code;
		for (size_t i = 0; i < out->ncols; i++)
			if (strcmp(out->cols[i], out->cols[out->ncols]) == 0)
				return ed_err_set(err, ED_PARSE, "column '%s' is named twice",
						  out->cols[i]);
		out->ncols++;
		if (!comma)
			return ED_OK;
		p = comma + 1;
	}
}

/* "SCHEMA.TABLE(COLUMN,...)": a table whose rows are fingerprinted. */
static bool item_sensitive(struct parse *ps, const char *s)
{
	struct ed_sensitive sv;
	struct ed_err e;
	if (ed_sensitive_parse(s, &sv, &e))
		return fail(ps, ED_PARSE, "'sensitive': '%s': %s", s, e.msg);
	return add_unique(ps, F_SENSITIVE, s);
}

/* "[NAME=]ENGINE:TARGET", checked as `collect --schema` checks it. */
static bool item_schema(struct parse *ps, const char *s)
{
	struct ed_schema_arg sa;
	if (!ed_collect_schema_split(s, &sa))
		return fail(ps, ED_PARSE,
			    "'schema': '%s' is not [NAME=]ENGINE:TARGET "
			    "(e.g. app=sqlite:/var/lib/app.db)",
			    s);
	if (sa.name && (!sa.name_len || memchr(sa.name, '/', sa.name_len)))
		return fail(ps, ED_PARSE, "'schema': the name in '%s' must be non-empty, without '/'",
			    s);
	const struct ed_collector_ops *ops =
		ed_collector_find(ED_COLLECTOR_SCHEMA, sa.engine, sa.engine_len);
	char known[ED_COLLECTOR_NAMES_MAX];
	if (!ops)
		return fail(ps, ED_PARSE, "'schema': unknown engine '%.*s' in '%s' (%s)",
			    (int)sa.engine_len, sa.engine, s,
			    ed_collector_names(ED_COLLECTOR_SCHEMA, known));
	if (strcmp(ops->name, "sqlite") == 0 && sa.target[0] != '/')
		return fail(ps, ED_PARSE, "'schema': the sqlite file in '%s' must be an absolute path",
			    s);
	return add_unique(ps, F_SCHEMAS, s);
}

static bool parse_size(const char *v, size_t *out)
{
	if (!isdigit((unsigned char)*v))
		return false;
	uint64_t n = 0;
	const char *p = v;
	while (isdigit((unsigned char)*p)) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return false;
		p++;
	}
	uint64_t mult = 1;
	if (*p == 'K' || *p == 'k')
		mult = 1024, p++;
	else if (*p == 'M' || *p == 'm')
		mult = 1024 * 1024, p++;
	if (*p)
		return false;
	n *= mult;
	if (n > ED_PROFILE_KEEP_MAX_LIMIT)
		return false;
	*out = (size_t)n;
	return true;
}

/*
 * "N", "NK", "NM", "NG" (and "NT" when top is 'T'), binary multiples, up to
 * 2^40 bytes. Returns false for anything else.
 */
static bool parse_bytes(const char *v, char top, uint64_t *out)
{
	static const char units[] = "KMGT";
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	unsigned long long mult = 1;
	const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	if (u && *u && u <= strchr(units, top)) {
		mult = 1ULL << (10 * (u - units + 1));
		end++;
	}
	if (!isdigit((unsigned char)*v) || *end || errno || n > (1ULL << 40) / mult)
		return false;
	*out = n * mult;
	return true;
}

static int handle_scalar(struct parse *ps, const struct keydef *kd, const char *v, bool cont)
{
	if (cont)
		return fail(ps, ED_PARSE,
			    "'%s' takes one value, but this indented line continues it", kd->key);
	if (!*v)
		return fail(ps, ED_PARSE, "'%s' needs a value", kd->key);
	if (ps->set_line[kd->field])
		return fail(ps, ED_PARSE, "'%s' is already set on line %d", kd->key,
			    ps->set_line[kd->field]);
	ps->set_line[kd->field] = ps->ini.cur.lineno;
	if (kd->type == V_RATE) {
		if (!parse_bytes(v, 'G', &ps->p->max_rate))
			return fail(ps, ED_PARSE,
				    "'%s': '%s' is not a rate in bytes per second (a number, "
				    "optionally followed by K, M or G; 0: no cap)",
				    kd->key, v);
		return 1;
	}
	if (kd->type == V_KEYS || kd->type == V_ROWS) {
		bool keys = kd->type == V_KEYS;
		unsigned long long top = keys ? ED_PROFILE_MAX_KEYS_LIMIT : ED_PROFILE_SAMPLE_ROWS_LIMIT;
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || errno || n < 1 || n > top)
			return fail(ps, ED_PARSE, "'%s': '%s' is not a number of %s from 1 to %llu",
				    kd->key, v, keys ? "keys" : "rows", top);
		if (keys)
			ps->p->max_keys = (size_t)n;
		else
			ps->p->data_sample_rows = n;
		return 1;
	}
	if (kd->type == V_YESNO) {
		bool yes = strcmp(v, "yes") == 0;
		if (!yes && strcmp(v, "no") != 0)
			return fail(ps, ED_PARSE, "'%s': '%s' is neither yes nor no", kd->key, v);
		*(kd->field == F_DATA_SHAPE ? &ps->p->data_shape : &ps->p->data_exact_count) = yes;
		return 1;
	}
	if (kd->type == V_BYTES) {
		if (!parse_bytes(v, 'T', &ps->p->max_file_size))
			return fail(ps, ED_PARSE,
				    "'%s': '%s' is not a size in bytes (a number, optionally "
				    "followed by K, M, G or T; 0: no limit)",
				    kd->key, v);
		return 1;
	}
	if (kd->type == V_SIZE) {
		size_t n;
		if (!parse_size(v, &n))
			return fail(ps, ED_PARSE,
				    "'%s': '%s' is not a size in bytes up to 16M "
				    "(a number, optionally followed by K or M)",
				    kd->key, v);
		ps->p->keep_max = n;
		return 1;
	}
	char *end;
	long n = strtol(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || n > ED_PROFILE_THREADS_LIMIT)
		return fail(ps, ED_PARSE, "'%s': '%s' is not a number from 0 to %d", kd->key, v,
			    ED_PROFILE_THREADS_LIMIT);
	ps->p->threads = (int)n;
	return 1;
}

static int handle_format(struct parse *ps, const char *glob, const char *v, bool cont)
{
	enum ed_config_format f;
	if (cont)
		return fail(ps, ED_PARSE,
			    "a [formats] rule takes one format, but this indented line continues "
			    "the rule for '%s'",
			    glob);
	if (!*v)
		return fail(ps, ED_PARSE, "the rule for '%s' needs a format (json, yaml, ini, "
			    "keyvalue, keyword, none)", glob);
	if (!ed_config_format_parse(v, &f))
		return fail(ps, ED_PARSE, "unknown format '%s' for '%s' (json, yaml, ini, keyvalue, "
			    "keyword, none)", v, glob);
	if (strchr(glob, '/') && glob[0] != '/' && glob[0] != '*')
		return fail(ps, ED_PARSE,
			    "glob '%s' has a '/', so it matches whole paths: start it with '/' or '*'",
			    glob);
	if (!ps->set_line[F_FORMATS]) {
		release_formats(ps->p);
		ps->set_line[F_FORMATS] = ps->ini.cur.lineno;
	}
	for (size_t i = 0; i < ps->p->nformats; i++)
		if (strcmp(ps->p->formats[i].glob, glob) == 0)
			return fail(ps, ED_PARSE, "a rule for '%s' is already given above", glob);
	if (ps->p->nformats >= ED_PROFILE_MAX_ITEMS)
		return fail(ps, ED_PARSE, "[formats] has more than %d rules", ED_PROFILE_MAX_ITEMS);
	if (add_format(ps->p, glob, f))
		return nomem(ps);
	return 1;
}

/* The key as written on the current raw line (libinih keeps only 49 bytes of it). */
static void raw_key(const struct parse *ps, const char **k, size_t *n)
{
	const char *s = ps->ini.cur.p, *end = s + ps->ini.cur.len;
	while (s < end && ed_ini_blank(*s))
		s++;
	const char *e = s;
	while (e < end && *e != '=' && *e != ':')
		e++;
	while (e > s && ed_ini_blank(e[-1]))
		e--;
	*k = s;
	*n = (size_t)(e - s);
}

/* An indented "key = ..." that names a key of this section is a mistake, not a value. */
static bool looks_like_key(const struct parse *ps, const char *v)
{
	size_t n = 0;
	while (v[n] && !ed_ini_blank(v[n]) && v[n] != '=' && v[n] != ':')
		n++;
	size_t i = n;
	while (ed_ini_blank(v[i]))
		i++;
	return n && (v[i] == '=' || v[i] == ':') && is_known_key(ps->section, v, n);
}

static int handler(struct ed_ini *ini, const char *section, const char *name, const char *value)
{
	struct parse *ps = ini->ctx;
	(void)section; /* ours is the same, and never truncated */
	(void)name;    /* libinih truncates it to 49 bytes on continuation lines */
	bool cont = ini->cur.kind == ED_INI_CONT;
	if (!cont) {
		const char *k;
		size_t n;
		raw_key(ps, &k, &n);
		if (n == 0)
			return fail(ps, ED_PARSE, "a line starts with '=' or ':': the key is missing");
		memcpy(ps->key, k, n);
		ps->key[n] = '\0';
	}
	char v[ED_PROFILE_MAX_LINE + 1];
	size_t vlen = strlen(value);
	if (vlen > ED_PROFILE_MAX_LINE)
		return fail(ps, ED_PARSE, "value too long");
	memcpy(v, value, vlen + 1);
	strip_comment(v);

	if (!ps->section[0])
		return fail(ps, ED_PARSE,
			    "'%s' is outside any section: put it under [collect], [secrets], "
			    "[content], [formats], [system], [python] or [npm]",
			    ps->key);
	if (strcmp(ps->section, "formats") == 0 && strcmp(ps->key, "config_trees") &&
	    strcmp(ps->key, "data_trees") && strcmp(ps->key, "max_keys"))
		return handle_format(ps, ps->key, v, cont);

	const struct keydef *kd = NULL;
	for (size_t i = 0; i < NKEYDEFS; i++)
		if (strcmp(keydefs[i].section, ps->section) == 0 &&
		    strcmp(keydefs[i].key, ps->key) == 0)
			kd = &keydefs[i];
	if (!kd)
		return fail(ps, ED_PARSE, "unknown key '%s' in [%s]", ps->key, ps->section);
	if (kd->type == V_SIZE || kd->type == V_COUNT || kd->type == V_RATE || kd->type == V_BYTES ||
	    kd->type == V_KEYS || kd->type == V_YESNO || kd->type == V_ROWS)
		return handle_scalar(ps, kd, v, cont);
	if (cont && looks_like_key(ps, v))
		return fail(ps, ED_PARSE,
			    "this indented line continues '%s': start the line in column 1 to set "
			    "another key",
			    ps->key);

	/* The first line of this file that sets the list replaces it. */
	if (!ps->set_line[kd->field]) {
		ed_strlist_release(field_list(ps->p, kd->field));
		ps->set_line[kd->field] = ps->ini.cur.lineno;
	}
	ps->field = kd->field;
	switch (kd->type) {
	case V_PATHS: return each_item(ps, v, item_path);
	case V_GLOBS: return each_item(ps, v, item_glob);
	case V_NAMEGLOBS: return each_item(ps, v, item_nameglob);
	case V_PREFIXES: return each_item(ps, v, item_prefix);
	case V_PACKAGES: return each_item(ps, v, item_package);
	case V_SYSCTL: return each_item(ps, v, item_sysctl);
	case V_SENSITIVE: return each_item(ps, v, item_sensitive);
	case V_SCHEMA: return *v ? item_schema(ps, v) : 1;
	default: return fail(ps, ED_PARSE, "internal error: no parser for '%s'", ps->key);
	}
}

enum ed_code ed_profile_parse(struct ed_str text, const char *origin, struct ed_profile *p,
			      struct ed_err *err)
{
	struct ed_profile tmp;
	struct parse ps = {0};
	enum ed_code rc = ed_profile_copy(&tmp, p, err);
	if (rc)
		return rc;
	ps.p = &tmp;
	ps.ini.origin = origin ? origin : "profile";
	ps.ini.check = check_line;
	ps.ini.pair = handler;
	ps.ini.ctx = &ps;
	if (!ed_ini_parse(&ps.ini, text, err) && ps.set_line[F_PACKAGES] && tmp.packages.n == 0)
		ed_ini_fail_at(&ps.ini, ps.set_line[F_PACKAGES], ED_PARSE,
			       "'packages' is empty: name managers, or write 'auto' or 'none'");
	rc = ps.ini.rc;
	if (rc) {
		ed_profile_release(&tmp);
		return rc;
	}
	ed_profile_release(p);
	*p = tmp;
	return ED_OK;
}
