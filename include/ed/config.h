/* SPDX-License-Identifier: MIT */
/*
 * Structured configs key by key (JSON, YAML, INI, key=value files) and the
 * redaction of their secrets before their content is kept. Every parser takes
 * bytes, never a path to open: the path only names the file in item keys and
 * messages. All functions are reentrant (collection parses on many threads).
 */
#ifndef ED_CONFIG_H
#define ED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "ed/buf.h"
#include "ed/collect.h"
#include "ed/err.h"
#include "ed/item.h"
#include "ed/profile.h"

/* What replaces every secret value in kept content. */
#define ED_SECRET_MARKER "<secret>"

/* Longest canonical value stored in an item, as for JSON; longer ones are fingerprinted only. */
#define ED_CONFIG_MAX_VALUE (64u * 1024)
/* Deepest container nesting read from YAML, as for JSON (a scalar inside 64 containers is fine). */
#define ED_CONFIG_MAX_DEPTH 64
/* Most YAML nodes a file may expand to, aliases expanded (alias bombs stop here). */
#define ED_YAML_MAX_NODES 100000

/*
 * Common contract of the four parsers (exactly that of ed_config_json_parse in
 * ed/collect.h): one config item per leaf, keyed "PATH#/pointer" with each
 * token escaped as RFC 6901 says ("~" -> "~0", "/" -> "~1"); the value is the
 * canonical JSON text of the leaf (strings quoted) and the fingerprint is
 * XXH3-128 of that text. A leaf with a token on its path matching a secret
 * pattern has no value, attrs {"secret":true} and the keyed fingerprint
 * (HMAC of the same canonical text); *nsecrets (if not NULL) receives how many
 * leaves were secret. A canonical text over ED_CONFIG_MAX_VALUE bytes is not
 * stored (attrs {"large":true}). sec and sec->key are required (ED_USAGE);
 * sec->patterns NULL means the default patterns. A leading UTF-8 BOM is
 * skipped; CRLF line ends read as LF. A file that cannot be read exactly
 * (malformed, duplicate keys where noted, too deep, too many nodes, NUL bytes,
 * invalid UTF-8) is a warning naming path and line and emits nothing; the
 * return is then ED_OK. Warnings never quote a value (they may quote a key
 * name, which is part of item keys anyway). Other errors come only from the
 * sink (returned as it returned them), from allocation (ED_NOMEM) or from
 * libcrypto's HMAC (ED_IO, which is how ed_fp_keyed reports any failure).
 */

/*
 * One structured config format: its name in profiles ([formats] rules), its
 * parser (the common contract above) and its redactor, which writes the
 * candidate text with secret values replaced into out (reset first); *ok false
 * when the text cannot be parsed. ed_config_redact() checks the candidate.
 */
struct ed_config_format_ops {
	const char *name;
	enum ed_code (*parse)(struct ed_str text, const char *path, const struct ed_secrets *sec,
			      struct ed_sink *sink, size_t *nsecrets, struct ed_err *err);
	enum ed_code (*redact)(struct ed_str text, const char *path, const struct ed_secrets *sec,
			       struct ed_buf *out, bool *ok, struct ed_err *err);
};

/* The row of format f (static); NULL for ED_CFG_NONE or a value out of range. */
const struct ed_config_format_ops *ed_config_format_get(enum ed_config_format f);

/*
 * Parses with the row of fmt: ED_CFG_JSON is ed_config_json_parse
 * (ed/collect.h), YAML, INI and KEYVALUE the functions below. ED_CFG_NONE (or
 * an unknown format) is ED_USAGE.
 */
enum ed_code ed_config_parse(enum ed_config_format fmt, struct ed_str text, const char *path,
			     const struct ed_secrets *sec, struct ed_sink *sink, size_t *nsecrets,
			     struct ed_err *err);

/*
 * YAML (libyaml; YAML 1.2 core schema for untagged plain scalars).
 * - Documents: a stream of one document keys its leaves "PATH#/pointer" as
 *   JSON does; a stream of several documents keys document N (from 0) under
 *   "PATH#/N/pointer". An empty stream (or only comments) emits nothing.
 * - Mappings: members in byte order of their key text; a sequence element by
 *   index. Empty mappings and sequences are leaves "{}" and "[]".
 * - Keys: the text of a scalar key as written (unquoted, escapes decoded; the
 *   key 1 and the key "1" are the same key). Two equal keys in one mapping
 *   are a warning and the file emits nothing. A key that is not a scalar (a
 *   mapping or sequence used as a key) or holds a NUL byte is a warning and
 *   that pair is skipped. The merge key "<<" is an ordinary key (no merging).
 * - Scalars: an untagged plain scalar is resolved by the YAML 1.2 core schema:
 *   null (~, null, Null, NULL, empty) -> null; true/True/TRUE, false/... ->
 *   true/false; integers [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+ -> a decimal
 *   JSON integer without leading zeros or "+" (007 -> 7, 0x10 -> 16, -0 -> 0);
 *   floats -> the shortest JSON real that reads back as the same double,
 *   as for JSON (1000.0 -> 1e3, .5 -> 0.5, 1. -> 1.0). Everything else is
 *   a JSON string: quoted and block scalars, plain text, and YAML 1.1 words
 *   (yes, no, on, off stay strings). The tags !!str and "!" force a string;
 *   !!null, !!bool, !!int and !!float resolve the text as that type (any
 *   style). What a number cannot carry (.inf, .nan, a float out of range, an
 *   integer outside 64 bits), a core tag whose text does not match, and any
 *   other tag (!!binary, !Ref, !vault...) become the JSON object
 *   {"tag":"TAG","value":"TEXT"} with TAG as libyaml resolves it
 *   ("tag:yaml.org,2002:float"). Tags on mappings and sequences are ignored.
 * - Anchors and aliases: an alias is expanded where it stands. A file whose
 *   expanded size passes ED_YAML_MAX_NODES nodes, or nests deeper than
 *   ED_CONFIG_MAX_DEPTH containers, an undefined alias, or an alias to a
 *   node that contains it, is a warning and the file emits nothing.
 * - Secrets: besides the path rule, a node defined under a secret key stays
 *   secret wherever an alias brings it ("password: &pw x" then "y: *pw").
 */
enum ed_code ed_config_yaml_parse(struct ed_str text, const char *path,
				  const struct ed_secrets *sec, struct ed_sink *sink,
				  size_t *nsecrets, struct ed_err *err);

/*
 * INI (libinih, with its Debian 12 defaults: comments start with ';' or '#',
 * an inline comment is ';' after whitespace, "name = value" or "name: value",
 * names and values trimmed, quotes kept as written).
 * - Keys: "PATH#/SECTION/NAME"; names before any section (or under "[]"):
 *   "PATH#/NAME". Section and name are case-sensitive, as written, without
 *   surrounding whitespace ("[ req ]" is the section "req").
 * - Values: the JSON string of the value; a line holding only a name (my.cnf
 *   "skip-external-locking") has the value null.
 * - Continuation: a line indented deeper than the line of the name before it
 *   (in the same section) continues that value: "deps =\n  a\n  b" has the
 *   value "\na\nb" (lines joined with "\n", as Python's configparser does).
 *   Lines indented like their predecessor are names of their own, so tab- or
 *   space-indented files (.gitconfig, smb.conf) read as expected.
 * - Repeats: a name given more than once in a section (php.ini's extension=,
 *   systemd's ExecStart=, a section opened twice) is one item whose value is
 *   the JSON array of the values in file order: ["a.so","b.so"]. A name
 *   given once is never an array.
 * - Members in byte order of (section, name). Lines longer than libinih's
 *   line buffer (200 bytes on Debian, which truncates silently; surrounding
 *   whitespace does not count) and lines libinih would read otherwise than
 *   described here are a warning naming the line, and the file emits
 *   nothing, as does a "[section" without "]". Section names and continued
 *   names are read in full (libinih itself keeps only 49 bytes of them).
 */
enum ed_code ed_config_ini_parse(struct ed_str text, const char *path,
				 const struct ed_secrets *sec, struct ed_sink *sink,
				 size_t *nsecrets, struct ed_err *err);

/*
 * Flat key=value files, two dialects chosen by the base name of path.
 * Keys are "PATH#/KEY" (KEY escaped per RFC 6901); values are JSON strings.
 * A key given twice: the last value wins and a warning names the line.
 * Members in byte order of the key. A malformed line is a warning naming the
 * line, and the file emits nothing.
 * - "*.properties" (java.util.Properties, in UTF-8): comments '#' or '!';
 *   the key ends at the first unescaped '=', ':' or whitespace; a line ending
 *   in an odd number of backslashes continues on the next, whose leading
 *   whitespace is dropped; escapes \t \n \r \f \uXXXX and "\c" -> c in keys
 *   and values; trailing whitespace of a value is kept.
 * - Anything else (.env, sysctl.conf, /etc/default files, os-release):
 *   comments '#' or ';' at the start of a line; "[export ][-]KEY = VALUE" or
 *   "KEY: VALUE" (the key ends at the first '=' or ':' and holds no
 *   whitespace; sysctl's leading '-' is dropped; a key "a/b" stays "a/b").
 *   An unquoted value is trimmed and ends at " #" (a comment). '...' is
 *   literal; "..." knows the escapes \\ \" \$ \` \n \r \t (another "\c" is kept
 *   as written) and no variable expansion; quoted values may span lines.
 *   After a closing quote only whitespace and a comment may follow.
 */
enum ed_code ed_config_keyvalue_parse(struct ed_str text, const char *path,
				      const struct ed_secrets *sec, struct ed_sink *sink,
				      size_t *nsecrets, struct ed_err *err);

/*
 * OpenSSH's "Keyword value" configs (sshd_config, ssh_config, their .d
 * folders): "Keyword value" or "Keyword=value" per line, '#' comments; a
 * Match or Host line opens a block ("PATH#/Match User alice/Keyword") until
 * the next one; keywords compare without regard to case (named by their first
 * spelling); a keyword given again in its block is one leaf, the array of its
 * values in order. No keyword is secret by its name (these files hold none);
 * the value detectors still apply. Never fails on content.
 */
enum ed_code ed_config_keyword_parse(struct ed_str text, const char *path,
				     const struct ed_secrets *sec, struct ed_sink *sink,
				     size_t *nsecrets, struct ed_err *err);

/*
 * Appends to out the text of a config with every secret value replaced by
 * ED_SECRET_MARKER, keeping every other byte as it was: JSON and YAML
 * replace the bytes of the secret scalar (a YAML anchor on it is kept; JSON
 * writes "<secret>" quoted), INI and key=value files the value part of the
 * line (inside the quotes when quoted). Secret values that are empty, null,
 * "{}" or "[]" reveal nothing and stay. A comment line of the form
 * "NAME = VALUE" or "NAME: VALUE" whose NAME matches a secret pattern has
 * VALUE replaced too (commented-out passwords); other comment text is kept,
 * and so are keys and section names (they are item keys anyway).
 * Secrets follow the rules of the parsers (sec->patterns; sec->key is not
 * needed, sec may be NULL for the defaults).
 *
 * The result is checked by parsing it again: it must give the same keys, the
 * same fingerprints for every non-secret leaf, and, for every secret leaf,
 * only markers (or a value that is visible under a non-secret key anyway).
 * *ok is true when out received text safe to keep; false (out unchanged)
 * when the text cannot be parsed, the check finds any doubt, or the result
 * would pass out->max: the caller must then not keep the content.
 * ED_CFG_NONE copies the text as it is (*ok true): no structure, no known
 * secrets. Returns ED_OK, or ED_NOMEM (ED_IO from libcrypto's HMAC); out is
 * then unchanged and *ok false.
 */
enum ed_code ed_config_redact(enum ed_config_format fmt, struct ed_str text, const char *path,
			      const struct ed_secrets *sec, struct ed_buf *out, bool *ok,
			      struct ed_err *err);

#endif
