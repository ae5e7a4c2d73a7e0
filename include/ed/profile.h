/* SPDX-License-Identifier: MIT */
/*
 * Profiles: what to collect on a host, from an INI file people write by hand
 * (parsed with libinih) or the built-in default. See docs/profile.md.
 */
#ifndef ED_PROFILE_H
#define ED_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ed/buf.h"
#include "ed/err.h"
#include "ed/ini.h"
#include "ed/strlist.h"

/*
 * The longest profile line accepted, in bytes, not counting its "\n" or
 * "\r\n": libinih's (see ed/ini.h). ed_profile_parse() refuses longer lines
 * rather than let libinih cut them. Long lists are written over indented
 * continuation lines.
 */
#define ED_PROFILE_MAX_LINE ED_INI_MAX_LINE

/* Default and upper limit of keep_max, in bytes. */
#define ED_PROFILE_KEEP_MAX_DEFAULT (256u * 1024)
#define ED_PROFILE_KEEP_MAX_LIMIT (16u * 1024 * 1024)

/*
 * Default of max_file_size: a larger regular file is fingerprinted from its
 * size and not read. 0 means no limit.
 */
#define ED_PROFILE_MAX_FILE_SIZE_DEFAULT (1ULL << 30)

/* Default of max_keys, and its upper limit. */
#define ED_PROFILE_MAX_KEYS_DEFAULT 5000
#define ED_PROFILE_MAX_KEYS_LIMIT 10000000

/* Most items one list (or the [formats] rules) may hold after a parse. */
#define ED_PROFILE_MAX_ITEMS 4096

/* Upper limit of threads. */
#define ED_PROFILE_THREADS_LIMIT 1024

/* Structured config formats a file can be read as, key by key. */
enum ed_config_format {
	ED_CFG_NONE = 0, /* fingerprint only */
	ED_CFG_JSON,
	ED_CFG_YAML,
	ED_CFG_INI,
	ED_CFG_KEYVALUE, /* .env, .properties, sysctl.conf: KEY=VALUE or KEY: VALUE per line */
	ED_CFG_KEYWORD,  /* sshd_config, ssh_config: "Keyword value" per line, Match/Host blocks */
};

/* "json", "yaml", "ini", "keyvalue", "keyword", "none"; ED_CFG_NONE and false for anything else. */
bool ed_config_format_parse(const char *name, enum ed_config_format *out);
/* The name of f ("json"); "none" for ED_CFG_NONE or an out-of-range value. */
const char *ed_config_format_name(enum ed_config_format f);

/* A profile rule "read files matching glob as format". */
struct ed_format_rule {
	char *glob;                    /* owned; a path glob as in ed_glob_path_matches() */
	enum ed_config_format format;
};

/*
 * Everything is owned by the profile and freed by ed_profile_release().
 * Globs are fnmatch(3) patterns without FNM_PATHNAME, so '*' also matches
 * '/': a glob made of "/etc/" and "*.conf" matches every .conf file below
 * /etc, at any depth. A path glob that contains '/' is matched against the
 * whole path, one without '/' against the base name only ("*.swp").
 */
struct ed_profile {
	struct ed_strlist paths;        /* trees to fingerprint: absolute, normalised */
	struct ed_strlist excludes;     /* path globs not collected */
	struct ed_strlist packages;     /* "auto", "none", or manager names: dpkg rpm apk pypi npm */
	struct ed_strlist schemas;      /* "[NAME=]ENGINE:TARGET" */
	struct ed_strlist secret_keys;  /* globs over one config key name, case-insensitive */
	struct ed_strlist secret_files; /* path globs, case-insensitive */
	struct ed_strlist public_files; /* path globs of files never secret by name */
	struct ed_strlist secret_values; /* token prefixes: a value holding one is masked */
	struct ed_strlist keep_content; /* path globs of text files whose content is kept */
	size_t keep_max;                /* bytes: larger files are not kept (default 256 KiB) */
	struct ed_format_rule *formats; /* explicit format rules, first match wins */
	size_t nformats;
	struct ed_strlist config_trees; /* path globs of trees whose configs are read key by key */
	struct ed_strlist data_trees;   /* folder-name globs below which nothing is */
	size_t max_keys;                /* a config with more leaves is fingerprinted whole */
	struct ed_strlist sysctl;       /* sysctl keys, canonical dotted form (net.core.somaxconn) */
	struct ed_strlist python_paths; /* site-packages folders; empty: search the usual places */
	struct ed_strlist npm_paths;    /* package-lock.json files or node_modules folders */
	int threads;                    /* hashing threads, 0 = one per core */
	uint64_t max_rate;              /* bytes per second read from a remote host, 0 = no cap */
	uint64_t max_file_size;         /* bytes: larger files are not read (default 1 GiB), 0 = none */
	/* [data]: the data shape of the --schema databases (kind "data"); off by default. */
	bool data_shape;                /* collect it ([data] shape, collect --data-shape) */
	bool data_exact_count;          /* PostgreSQL: count(*) each table, not the estimate */
	uint64_t data_sample_rows;      /* SQLite: rows sampled per table (default 100,000) */
	/*
	 * [data] sensitive: "SCHEMA.TABLE(COLUMN,...)" entries whose rows are
	 * fingerprinted (kind "rows"), as written, checked by ed_sensitive_parse().
	 */
	struct ed_strlist sensitive;
};

/* Most columns a sensitive entry names, and the longest identifier (PostgreSQL's). */
#define ED_SENSITIVE_MAX_COLS 32
#define ED_SENSITIVE_MAX_IDENT 63

/* A sensitive entry "SCHEMA.TABLE(COLUMN,...)" taken apart. */
struct ed_sensitive {
	char schema[ED_SENSITIVE_MAX_IDENT + 1];
	char table[ED_SENSITIVE_MAX_IDENT + 1];
	char cols[ED_SENSITIVE_MAX_COLS][ED_SENSITIVE_MAX_IDENT + 1];
	size_t ncols;
};

/*
 * Parses entry "SCHEMA.TABLE(COLUMN,...)": each name a plain identifier
 * (a letter or '_', then letters, digits, '_' or '$'; at most 63 bytes,
 * matched case-sensitively as the database stores it), 1 to 32 distinct
 * columns, no spaces. ED_PARSE with the problem in err (without the entry,
 * which the caller names); ED_OK.
 */
enum ed_code ed_sensitive_parse(const char *entry, struct ed_sensitive *out, struct ed_err *err);

/* Default and upper limit of [data] sample_rows. */
#define ED_PROFILE_SAMPLE_ROWS_DEFAULT 100000
#define ED_PROFILE_SAMPLE_ROWS_LIMIT 100000000

/*
 * Fills p with the built-in default (the same as profiles/default.ini): /etc;
 * packages "auto"; the default secret patterns for keys and files; kept
 * content for common text configs under /etc, up to 256 KiB; no explicit
 * format rules (the extension table of ed_profile_format() applies); a few
 * sysctl keys that change test results. p must be zeroed or hold a profile
 * (which is released first). Returns ED_OK, or ED_NOMEM leaving p as it was.
 */
enum ed_code ed_profile_default(struct ed_profile *p, struct ed_err *err);

/*
 * Does configuration live at path: is it in a config tree ([formats]
 * config_trees, default /etc and /usr/local/etc, and the trees named with
 * collect --path outside /usr) and below no data tree ([formats] data_trees:
 * node_modules, site-packages, dist-packages, vendor, .git)? Only there are
 * files read key by key by their name, and named secret by the key patterns.
 */
bool ed_profile_config_tree(const struct ed_profile *p, const char *path);

/*
 * Parses a profile (text of text.len bytes read from origin, which names it
 * in messages) on top of what p holds (normally the default). The first line
 * of a file that sets a list replaces that list; further lines of the same key,
 * and indented continuation lines, append to it; an empty value ("path =")
 * empties the list. Scalars (max_size, threads) may be set once per file.
 *
 * Returns ED_OK; ED_PARSE with "ORIGIN:LINE: problem" in err for an unknown
 * section or key, a bad, missing or relative value, a list growing past
 * ED_PROFILE_MAX_ITEMS, a line longer than
 * ED_PROFILE_MAX_LINE (libinih would truncate it), a control character or
 * invalid UTF-8, or a line libinih cannot parse; ED_NOMEM. On any error p is
 * left exactly as it was (the file is parsed into a copy, swapped in on
 * success).
 *
 * libinih's runtime switches (ini_allow_multiline and the like, which
 * Debian's build exports as globals) must keep their defaults.
 */
enum ed_code ed_profile_parse(struct ed_str text, const char *origin, struct ed_profile *p,
			      struct ed_err *err);

/* Frees everything p owns and zeroes it; p may then be reused. NULL is ignored. */
void ed_profile_release(struct ed_profile *p);

/*
 * Deep copy of src into dst (which must be zeroed or released). ED_NOMEM
 * leaves dst zeroed.
 */
enum ed_code ed_profile_copy(struct ed_profile *dst, const struct ed_profile *src,
			     struct ed_err *err);

/* Why a file is secret by its path or name, in the order they are asked. */
enum ed_secret_name {
	ED_SECRET_NAME_NO = 0, /* not secret by name (perhaps by what it holds) */
	ED_SECRET_NAME_PUBLIC, /* a public_files glob matches: never secret by name */
	ED_SECRET_NAME_PATH,   /* a secret_files glob holding '/' matches: always secret */
	ED_SECRET_NAME_GLOB,   /* a secret_files glob of base names (*.pem) matches */
	ED_SECRET_NAME_KEY,    /* in a config tree, its base name matches a secret_keys glob */
};

/*
 * Is path a secret file under p, and by which rule: a public_files glob
 * first (public), then a secret_files glob with '/' (a path named as secret),
 * then one without (a name such as *.pem), then, in a config tree, a
 * secret_keys glob over its base name (not /etc/passwd). All globs compare
 * case-insensitively. *glob is set to the glob that decided, or NULL. Only
 * PATH is final; GLOB and KEY files are looked at (ed_secret_by_content())
 * before they are keyed.
 */
enum ed_secret_name ed_profile_secret_name(const struct ed_profile *p, const char *path,
					   const char **glob);

/* ed_profile_secret_name() is PATH, GLOB or KEY: keyed fingerprints, no content kept. */
bool ed_profile_secret_file(const struct ed_profile *p, const char *path);
/* Is path excluded (an excludes glob matches it)? */
bool ed_profile_excluded(const struct ed_profile *p, const char *path);
/*
 * Should path's content be kept: a keep_content glob matches it and it is not
 * a secret file? (The size limit p->keep_max is the caller's to apply.)
 */
bool ed_profile_keep(const struct ed_profile *p, const char *path);
/*
 * The format to read path as: the first matching rule of p->formats, else by
 * name: *.json json; *.yaml, *.yml yaml; *.ini ini; .env, *.env,
 * *.properties, sysctl.conf and *.conf under /etc/sysctl.d, /run/sysctl.d,
 * /usr/lib/sysctl.d or /lib/sysctl.d keyvalue; anything else none. Extensions
 * compare case-insensitively.
 */
enum ed_config_format ed_profile_format(const struct ed_profile *p, const char *path);

/*
 * Checks a sysctl key as sysctl(8) writes it and maps it. Either separator
 * may be used: when the first separator is '.', a '/' inside a component is
 * a literal dot ("net.ipv4.conf.eth0/100.rp_filter"); when it is '/', the
 * roles swap ("net/ipv4/conf/eth0.100/rp_filter"). Appends the canonical
 * dotted form to canon and the path below /proc/sys to relpath
 * ("net/ipv4/conf/eth0.100/rp_filter"); either may be NULL. Keys are 1-255
 * bytes of printable ASCII without spaces, '=' or glob characters; no
 * component may be empty, "." or "..". Returns ED_OK; ED_PARSE with a
 * message quoting key; ED_NOMEM. On error canon and relpath are unchanged.
 */
enum ed_code ed_profile_sysctl_key(const char *key, struct ed_buf *canon, struct ed_buf *relpath,
				   struct ed_err *err);

#endif
