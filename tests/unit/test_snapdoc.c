/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for snapshot documents: byte-exact round trips of hostile
 * strings through the writer and the reader, the validator's messages, the
 * key file checks, and ingest/export against a real store.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ed/buf.h"
#include "ed/keyfile.h"
#include "ed/snapdoc_store.h"
#include "../../store/store_int.h" /* the connection: a unit test of the store counts rows */
#include "tap.h"

static char dir[256];

static const char *path_of(const char *name)
{
	static char p[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* --- a sink that renders everything it gets as one text, for exact comparison --- */

struct rec {
	struct ed_sink sink;
	struct ed_buf text;     /* items and warnings, in order */
	struct ed_buf contents; /* kept contents, in order */
};

static void rec_str(struct ed_buf *b, const char *name, const char *s, size_t len)
{
	ed_buf_addf(b, " %s=", name);
	if (!s) {
		ed_buf_adds(b, "NULL");
		return;
	}
	ed_buf_addf(b, "%zu:", len);
	for (size_t i = 0; i < len; i++)
		ed_buf_addf(b, "%02x", (unsigned char)s[i]);
}

static enum ed_code rec_emit(struct ed_sink *sink, const struct ed_item *it, struct ed_err *err)
{
	struct rec *r = sink->ctx;
	char hex[33];
	(void)err;
	ed_fp_hex(&it->fp, hex);
	ed_buf_addf(&r->text, "item %s", it->kind);
	rec_str(&r->text, "key", it->key, it->key_len);
	ed_buf_addf(&r->text, " fp=%s", hex);
	rec_str(&r->text, "value", it->value, it->value ? strlen(it->value) : 0);
	rec_str(&r->text, "attrs", it->attrs, it->attrs ? strlen(it->attrs) : 0);
	rec_str(&r->text, "error", it->error, it->error ? strlen(it->error) : 0);
	ed_buf_addf(&r->text, " ftype=%d", (int)it->ftype);
	if (it->ftype != ED_FT_NONE) {
		ed_buf_addf(&r->text, " mode=%o size=%lld mtime=%lld ctime=%lld ino=%llu dev=%llu",
			    it->mode, (long long)it->size, (long long)it->mtime_ns,
			    (long long)it->ctime_ns, (unsigned long long)it->ino,
			    (unsigned long long)it->dev);
		rec_str(&r->text, "owner", it->owner, it->owner ? strlen(it->owner) : 0);
		rec_str(&r->text, "group", it->group, it->group ? strlen(it->group) : 0);
		rec_str(&r->text, "target", it->target, it->target ? strlen(it->target) : 0);
	}
	ed_buf_addc(&r->text, '\n');
	return ED_OK;
}

static void rec_warn(struct ed_sink *sink, const char *msg)
{
	struct rec *r = sink->ctx;
	ed_buf_adds(&r->text, "warning");
	rec_str(&r->text, "msg", msg, strlen(msg));
	ed_buf_addc(&r->text, '\n');
}

static enum ed_code rec_content(struct ed_sink *sink, const struct ed_fp *fp, const char *data,
				size_t len, struct ed_err *err)
{
	struct rec *r = sink->ctx;
	char hex[33];
	(void)err;
	ed_fp_hex(fp, hex);
	ed_buf_addf(&r->contents, "content %s", hex);
	rec_str(&r->contents, "data", data, len);
	ed_buf_addc(&r->contents, '\n');
	return ED_OK;
}

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->sink = (struct ed_sink){.emit = rec_emit, .warn = rec_warn, .ctx = r,
				   .content = rec_content};
}

/* --- fixtures --- */

static struct ed_fp fp_of(const char *s)
{
	struct ed_fp fp;
	ed_fp_of(s, strlen(s), &fp);
	return fp;
}

static const char hostile_key[] = "/etc/\xff" "bad\nname\x01\x1b\x7f\\x\"q";
static const char content_bin[] = "line 1\n\0\xff\xfe binary\r\n";

/* Emits a set of items, warnings and contents that exercise every field. */
static enum ed_code feed(struct ed_sink *s, bool twice, struct ed_err *err)
{
	enum ed_code rc = ED_OK;
	struct ed_item f = {
		.kind = ED_KIND_FILE,
		.key = hostile_key,
		.key_len = sizeof(hostile_key) - 1,
		.fp = fp_of("f1"),
		.value = "file 0644 r\xe9my:0 1",
		.ftype = ED_FT_REG,
		.mode = 04755,
		.owner = "r\xe9my", /* Latin-1: not UTF-8 */
		.group = "gr\xc3\xbcn", /* UTF-8 */
		.size = 1,
		.mtime_ns = -1234567890123456789,
		.ctime_ns = INT64_MAX,
		.ino = UINT64_MAX, /* wraps to -1, as in the store */
		.dev = 65024,
		.error = "read error on \xff",
		.attrs = "{\"secret\":true}",
	};
	struct ed_item l = {
		.kind = ED_KIND_FILE,
		.key = "/etc/link",
		.key_len = 9,
		.fp = fp_of("t"),
		.value = "symlink 0777 0:0 -> t\xfe",
		.ftype = ED_FT_LINK,
		.mode = 0777,
		.owner = "0",
		.group = "0",
		.target = "t\xfe",
		.size = 2,
	};
	struct ed_item c = {
		.kind = ED_KIND_CONFIG,
		.key = "/etc/app.json#/db/pool",
		.key_len = 22,
		.fp = fp_of("5"),
		.value = "5 \xf0\x9f\x98\x80 \xed\xa0\x80", /* an emoji, then a surrogate (invalid) */
		.attrs = "{\"nested\":{\"a\":[1,2,{\"b\":null}]},\"dev\":true}",
	};
	struct ed_item p = {
		.kind = ED_KIND_PACKAGE,
		.key = "dpkg:openssl:amd64",
		.key_len = 18,
		.fp = fp_of("3.0.15-1"),
		.value = "3.0.15-1",
		.attrs = "{\"arch\":\"amd64\",\"manager\":\"dpkg\"}",
	};
	struct ed_item e = {
		.kind = ED_KIND_FILE,
		.key = "/etc/empty",
		.key_len = 10,
		.fp = fp_of(""),
		.value = "",
		.ftype = ED_FT_REG,
		.mode = 0,
		.size = 0,
	};
	struct ed_fp kept = fp_of("f1"), none = fp_of("t"), empty = fp_of("");
	for (int round = 0; round < (twice ? 2 : 1) && !rc; round++) {
		if ((rc = s->content(s, &kept, content_bin, sizeof(content_bin) - 1, err)) ||
		    (rc = s->content(s, &none, NULL, 0, err)) ||
		    (rc = s->content(s, &empty, "", 0, err)) || (rc = s->emit(s, &e, err)) ||
		    (rc = s->emit(s, &f, err)) || (rc = s->emit(s, &l, err)) ||
		    (rc = s->emit(s, &c, err)) || (rc = s->emit(s, &p, err)))
			break;
		if (round == 0) {
			s->warn(s, "plain warning\nwith a second line");
			s->warn(s, "bad bytes \xff\xfe in a name");
		}
	}
	return rc;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);
			if (!nb)
				break;
			buf = nb;
		}
		size_t n = fread(buf + *len, 1, cap - *len - 1, f);
		if (!n)
			break;
		*len += n;
	}
	fclose(f);
	if (buf)
		buf[*len] = '\0';
	return buf;
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* --- the validator's messages --- */

/* A small valid document; cases below change one thing in it. */
static const char base_doc[] =
	"{\"format\":\"envdrift.snapshot/1\",\"id\":\"0f8e2c1a-5b3d-4c6e-8f90-a1b2c3d4e5f6\","
	"\"env\":\"staging\",\"host\":\"web-1\",\"role\":\"web\","
	"\"started_at\":\"2024-02-29T10:00:00Z\",\"finished_at\":\"2024-02-29T10:00:07Z\","
	"\"collector\":{\"version\":\"0.1.0\",\"host\":\"agent\",\"root\":\"/\"},"
	"\"warnings\":[\"w\",{\"b64\":\"/w==\"}],"
	"\"items\":["
	"{\"kind\":\"file\",\"key\":\"/etc/a\",\"fingerprint\":\"00112233445566778899aabbccddeeff\","
	"\"ftype\":\"file\",\"mode\":420,\"owner\":\"root\",\"group\":\"root\",\"size\":3,"
	"\"mtime_ns\":1,\"ctime_ns\":2,\"ino\":3,\"dev\":4},"
	"{\"kind\":\"config\",\"key_b64\":\"L2V0Yy9h/w==\",\"fingerprint\":"
	"\"FFEEDDCCBBAA99887766554433221100\",\"attrs\":{\"secret\":true}}],"
	"\"contents\":[{\"fingerprint\":\"00112233445566778899aabbccddeeff\",\"encoding\":\"base64\","
	"\"data\":\"YWJj\"}]}";

/* base_doc with the first occurrence of from replaced by to. */
static char *mutate(const char *from, const char *to)
{
	const char *at = strstr(base_doc, from);
	if (!at)
		return NULL;
	struct ed_buf b = ED_BUF_INIT;
	ed_buf_add(&b, base_doc, (size_t)(at - base_doc));
	ed_buf_adds(&b, to);
	ed_buf_adds(&b, at + strlen(from));
	return ed_buf_detach(&b);
}

struct vcase {
	const char *from, *to;
	const char *want; /* the message after "t.json: " must start with this */
};

static const struct vcase vcases[] = {
	{"\"format\":\"envdrift.snapshot/1\"", "\"format\":\"envdrift.snapshot/2\"",
	 "$.format: expected \"envdrift.snapshot/1\", got \"envdrift.snapshot/2\" (written by a newer"},
	{"\"format\":\"envdrift.snapshot/1\",", "", "$: missing field \"format\""},
	{"\"id\":\"0f8e2c1a-5b3d-4c6e-8f90-a1b2c3d4e5f6\"", "\"id\":\"0f8e2c1a5b3d4c6e8f90a1b2c3d4e5f6\"",
	 "$.id: expected a UUID"},
	{"\"env\":\"staging\"", "\"env\":\"\"", "$.env: is empty"},
	{"\"env\":\"staging\"", "\"env\":7", "$.env: expected a string, got an integer"},
	{"\"env\":\"staging\"", "\"env\":\"staging\",\"env_b64\":\"eA==\"",
	 "$.env_b64: only one of \"env\" and \"env_b64\" may be given"},
	{"\"host\":\"web-1\",", "", "$: missing field \"host\""},
	{"\"role\":\"web\"", "\"role\":\"a\\tb\"", "$.role: at most 200 bytes"},
	{"\"started_at\":\"2024-02-29T10:00:00Z\"", "\"started_at\":\"2023-02-29T10:00:00Z\"",
	 "$.started_at: expected a UTC time"},
	{"\"finished_at\":\"2024-02-29T10:00:07Z\"", "\"finished_at\":\"2024-02-29T09:00:07Z\"",
	 "$.finished_at: 2024-02-29T09:00:07Z is before started_at"},
	{"\"finished_at\":\"2024-02-29T10:00:07Z\"", "\"finished_at\":\"2024-02-29 10:00:07\"",
	 "$.finished_at: expected a UTC time"},
	{"\"collector\":{\"version\":\"0.1.0\",", "\"collector\":{",
	 "$.collector: missing field \"version\""},
	{"\"root\":\"/\"", "\"root\":null", "$.collector.root: expected a string, got null"},
	{"\"warnings\":[\"w\",", "\"warnings\":[7,", "$.warnings[0]: expected a string or"},
	{"{\"b64\":\"/w==\"}", "{\"b64\":\"/w=\"}", "$.warnings[1].b64: not valid base64"},
	{"{\"b64\":\"/w==\"}", "{\"b64\":\"AA==\"}", "$.warnings[1].b64: holds a NUL byte"},
	{"\"warnings\":[\"w\",{\"b64\":\"/w==\"}],", "", "$: missing field \"warnings\""},
	{"\"warnings\":[\"w\",{\"b64\":\"/w==\"}]", "\"warnings\":{}",
	 "$.warnings: expected an array, got an object"},
	{"\"kind\":\"file\"", "\"kind\":\"kernel\"", "$.items[0].kind: unknown kind \"kernel\""},
	{"\"kind\":\"file\",", "", "$.items[0]: missing field \"kind\""},
	{"\"key\":\"/etc/a\"", "\"key\":\"\"", "$.items[0].key: is empty"},
	{"\"key\":\"/etc/a\"", "\"key\":\"/etc/a\\u0000b\"", "$.items[0].key: not valid JSON"},
	{"\"key_b64\":\"L2V0Yy9h/w==\"", "\"key_b64\":\"L2V0Yy9hAA==\"",
	 "$.items[1].key_b64: holds a NUL byte"},
	{"\"key_b64\":\"L2V0Yy9h/w==\"", "\"key_b64\":\"L2V0Yy9h/x==\"",
	 "$.items[1].key_b64: not valid base64"},
	{"\"fingerprint\":\"00112233445566778899aabbccddeeff\",\"ftype\"",
	 "\"fingerprint\":\"00112233445566778899aabbccddeef\",\"ftype\"",
	 "$.items[0].fingerprint: expected 32 hex digits, got \"00112233445566778899aabbccddeef\""},
	{"\"fingerprint\":\"00112233445566778899aabbccddeeff\",\"ftype\"",
	 "\"fingerprint\":\"0011223344556677889Xaabbccddeeff\",\"ftype\"",
	 "$.items[0].fingerprint: expected 32 hex digits"},
	{"\"ftype\":\"file\"", "\"ftype\":\"door\"", "$.items[0].ftype: unknown file type \"door\""},
	{"\"mode\":420", "\"mode\":4096", "$.items[0].mode: 4096 is out of range (0 to 4095)"},
	{"\"mode\":420", "\"mode\":420.0", "$.items[0].mode: expected an integer, got a number"},
	{"\"mode\":420,", "", "$.items[0]: missing field \"mode\""},
	{"\"size\":3", "\"size\":-1", "$.items[0].size: -1 is out of range"},
	{"\"ino\":3", "\"ino\":18446744073709551615", "$.items[0].ino: not valid JSON"},
	{"\"attrs\":{\"secret\":true}", "\"attrs\":{\"secret\":true},\"mode\":1",
	 "$.items[1].mode: allowed only on an item with an \"ftype\""},
	{"\"attrs\":{\"secret\":true}", "\"attrs\":{\"secret\":true},\"value\":\"hunter2\"",
	 "$.items[1].value: a secret config item"},
	{"\"attrs\":{\"secret\":true}", "\"attrs\":\"{}\"", "$.items[1].attrs: expected an object"},
	{"\"attrs\":{\"secret\":true}", "\"attrs\":{},\"colour\":1", "$.items[1].colour: unknown field"},
	{"\"attrs\":{\"secret\":true}", "\"attrs\":{},\"a b\":1", "$.items[1][\"a b\"]: unknown field"},
	{"\"dev\":4}", "\"dev\":4,\"dev\":5}", "$.items[0].dev: not valid JSON: duplicate object key"},
	{"\"key_b64\":\"L2V0Yy9h/w==\"", "\"key\":\"/etc/a\"", NULL}, /* a config may share a file's key */
	{"{\"kind\":\"config\",\"key_b64\":\"L2V0Yy9h/w==\"", "{\"kind\":\"file\",\"key\":\"/etc/a\"",
	 "$.items[1]: the same (kind, key) as $.items[0]"},
	{"\"data\":\"YWJj\"", "\"data\":\"YWJj\",\"encoding\":\"none\"",
	 "$.contents[0].encoding: not valid JSON: duplicate object key"},
	{"\"encoding\":\"base64\",", "\"encoding\":\"gzip\",",
	 "$.contents[0].encoding: expected \"base64\" or \"none\""},
	{"\"encoding\":\"base64\",\"data\":\"YWJj\"", "\"encoding\":\"none\",\"data\":\"YWJj\"",
	 "$.contents[0].data: not allowed with encoding \"none\""},
	{"\"encoding\":\"base64\",\"data\":\"YWJj\"", "\"encoding\":\"base64\"",
	 "$.contents[0]: missing field \"data\""},
	{"\"data\":\"YWJj\"}]", "\"data\":\"YWJj\"},{\"fingerprint\":\"00112233445566778899AABBCCDDEEFF\",\"encoding\":\"none\"}]",
	 "$.contents[1].fingerprint: the same fingerprint as $.contents[0]"},
	{"\"contents\":[{\"fingerprint\":\"00112233445566778899aabbccddeeff\"",
	 "\"contents\":[{\"fingerprint\":\"ffeeddccbbaa99887766554433221100\"",
	 "$.contents[0].fingerprint: no file item has this fingerprint"},
	{"}]}", "}]", "$: not valid JSON: ',' or '}' expected near end of file"},
	{"}]}", "}]},", "$: not valid JSON: end of file expected"},
	{"\"size\":3,", "\"size\":3,,", "$.items[0]: not valid JSON: string or '}' expected near ','"},
	{"\"owner\":\"root\"", "\"owner\":\"r\xffot\"", "$.items[0].owner: not valid JSON: unable to decode byte 0xff"},
};

static void test_validation(void)
{
	struct ed_snapdoc *d = NULL;
	struct ed_err err = {0};
	ok(ed_snapdoc_parse(base_doc, strlen(base_doc), "t.json", &d, &err) == ED_OK,
	   "the base document is valid%s%s", err.msg[0] ? ": " : "", err.msg);
	if (d) {
		is_str(ed_snapdoc_info(d)->id, "0f8e2c1a-5b3d-4c6e-8f90-a1b2c3d4e5f6", "  its id");
		is_int(ed_snapdoc_info(d)->nitems, 2, "  two items");
		struct rec r;
		rec_init(&r);
		ok(ed_snapdoc_replay(d, &r.sink, &err) == ED_OK, "  replays");
		ok(strstr(r.text.p, "msg=1:ff\n") != NULL, "  a base64 warning comes back as its bytes");
		ok(strstr(r.contents.p, "content 00112233445566778899aabbccddeeff data=3:616263") != NULL,
		   "  content data is decoded");
		ok(strstr(r.text.p, "fp=ffeeddccbbaa99887766554433221100") != NULL,
		   "  upper-case hex fingerprints are read");
		ed_buf_release(&r.text);
		ed_buf_release(&r.contents);
		ed_snapdoc_free(d);
	}
	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		char *doc = mutate(c->from, c->to);
		d = NULL;
		memset(&err, 0, sizeof(err));
		if (!doc) {
			ok(0, "case %zu: '%s' is in the base document", i, c->from);
			continue;
		}
		enum ed_code rc = ed_snapdoc_parse(doc, strlen(doc), "t.json", &d, &err);
		if (!c->want) {
			ok(rc == ED_OK, "valid: %s -> %s%s%s", c->from, c->to, rc ? ": " : "",
			   rc ? err.msg : "");
		} else {
			bool good = rc == ED_PARSE && !d && strncmp(err.msg, "t.json: ", 8) == 0 &&
				    strncmp(err.msg + 8, c->want, strlen(c->want)) == 0;
			ok(good, "refused: %s", c->want);
			if (!good)
				printf("#   got: %d %s\n", rc, err.msg);
		}
		ed_snapdoc_free(d);
		free(doc);
	}
	/* Repeats among unsorted keys: the first repeat in the document is named, with its original. */
	{
		static const char *const keys[] = {"/x", "/b", "/a", "/b", "/a", "/b"};
		struct ed_buf doc = ED_BUF_INIT;
		const char *items = strstr(base_doc, "\"items\":[");
		const char *rest = strstr(base_doc, "],\"contents\"");
		ed_buf_add(&doc, base_doc, (size_t)(items - base_doc));
		ed_buf_adds(&doc, "\"items\":[");
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			ed_buf_addf(&doc, "%s{\"kind\":\"config\",\"key\":\"%s\",\"fingerprint\":"
				    "\"00112233445566778899aabbccddeeff\"}", k ? "," : "", keys[k]);
		ed_buf_adds(&doc, "],\"contents\":[]}");
		(void)rest;
		ok(ed_snapdoc_parse(doc.p, doc.len, "t.json", &d, &err) == ED_PARSE &&
			   strcmp(err.msg, "t.json: $.items[3]: the same (kind, key) as $.items[1]") == 0,
		   "of several repeats among unsorted keys, the first is named (%s)", err.msg);
		ed_buf_release(&doc);
	}
	/* Not an object, empty, too large. */
	ok(ed_snapdoc_parse("[1]", 3, "t.json", &d, &err) == ED_PARSE &&
		   strcmp(err.msg, "t.json: $: expected an object, got an array") == 0,
	   "an array at the top is refused");
	ok(ed_snapdoc_parse("", 0, "t.json", &d, &err) == ED_PARSE && strstr(err.msg, "t.json: $: "),
	   "an empty document is refused at $");
	ok(ed_snapdoc_parse(base_doc, ED_SNAPDOC_MAX_BYTES + 1, "t.json", &d, &err) == ED_TOOBIG,
	   "more than 1 GiB is refused before parsing");
	/* Deep nesting inside attrs: jansson's depth limit, a message, no crash. */
	struct ed_buf deep = ED_BUF_INIT;
	for (int i = 0; i < 5000; i++)
		ed_buf_adds(&deep, "[");
	ok(ed_snapdoc_parse(deep.p, deep.len, "t.json", &d, &err) == ED_PARSE &&
		   strstr(err.msg, "t.json: $[0][0]"),
	   "5000 nested arrays are refused with a path");
	ed_buf_release(&deep);
}

/* --- writer and reader --- */

static void test_round_trip(void)
{
	struct ed_snapdoc_writer *w = NULL;
	struct ed_snapdoc *d = NULL;
	struct ed_err err = {0};
	struct rec direct, back;
	const char *doc = path_of("rt.json");
	struct ed_snapdoc_meta meta = {
		.env = "staging\xff",
		.host = "web-1",
		.role = "web",
		.started_at = "2024-01-02T03:04:05Z",
		.collector_host = "agent\n1",
		.collector_root = "/mnt/\xfe",
		.quiet = true,
	};
	rec_init(&direct);
	rec_init(&back);
	ok(feed(&direct.sink, false, &err) == ED_OK, "the fixture feeds a recording sink");

	ok(ed_snapdoc_begin(doc, &meta, &w, &err) == ED_OK, "begin a document%s%s",
	   err.msg[0] ? ": " : "", err.msg);
	if (!w)
		return;
	char id[ED_SNAPDOC_ID_LEN + 1];
	snprintf(id, sizeof(id), "%s", ed_snapdoc_writer_id(w));
	ok(access(doc, F_OK) != 0, "  nothing at the final name before commit");
	ok(feed(ed_snapdoc_sink(w), true, &err) == ED_OK, "  emit everything twice");
	int64_t items = 0, warnings = 0;
	ok(ed_snapdoc_commit(w, "2024-01-02T03:04:09Z", &items, &warnings, &err) == ED_OK,
	   "  commit%s%s", err.msg[0] ? ": " : "", err.msg);
	is_int(items, 5, "  items emitted twice are written once");
	is_int(warnings, 2, "  both warnings written");
	is_int(count_entries(), 1, "  no temporary file is left");

	size_t len;
	char *text = slurp(doc, &len);
	ok(text && ed_utf8_valid(text, len), "  the document is valid UTF-8 throughout");
	ok(text && !memchr(text, '\xff', len) && strstr(text, "\"key_b64\":"),
	   "  invalid UTF-8 goes out as _b64 fields");
	ok(text && strstr(text, "\"ino\":-1,"), "  an inode of 2^64-1 is written as the store keeps it");
	ok(text && strstr(text, "\"env_b64\":\"c3RhZ2luZ/8=\""), "  the header escapes too");
	free(text);

	ok(ed_snapdoc_load(doc, &d, &err) == ED_OK, "the document reads back%s%s",
	   err.msg[0] ? ": " : "", err.msg);
	if (d) {
		is_str(ed_snapdoc_info(d)->id, id, "  with the writer's id");
		is_str(ed_snapdoc_info(d)->env, "staging\xff", "  env round-trips byte for byte");
		ok(ed_snapdoc_replay(d, &back.sink, &err) == ED_OK, "  replays");
		is_str(back.text.p, direct.text.p, "  items and warnings round-trip byte for byte");
		/* Once per fingerprint, the first one: a content emitted again is not written again. */
		is_str(back.contents.p, direct.contents.p, "  contents round-trip byte for byte");
		ed_snapdoc_free(d);
	}
	ed_buf_release(&direct.text);
	ed_buf_release(&back.text);
	ed_buf_release(&direct.contents);
	ed_buf_release(&back.contents);
	unlink(doc);

	/* abort: nothing left behind */
	w = NULL;
	ok(ed_snapdoc_begin(doc, &meta, &w, &err) == ED_OK && feed(ed_snapdoc_sink(w), false, &err) == ED_OK,
	   "a second document started");
	ed_snapdoc_abort(w);
	is_int(count_entries(), 0, "  abort leaves neither the document nor a temporary file");
	meta.started_at = "yesterday";
	ok(ed_snapdoc_begin(doc, &meta, &w, &err) == ED_USAGE, "a malformed start time is refused");
	meta.started_at = NULL;
	meta.id = "0F8E2C1A-5B3D-4C6E-8F90-A1B2C3D4E5F6";
	ok(ed_snapdoc_begin(doc, &meta, &w, &err) == ED_OK &&
		   strcmp(ed_snapdoc_writer_id(w), "0f8e2c1a-5b3d-4c6e-8f90-a1b2c3d4e5f6") == 0,
	   "a given id is kept, in lower case");
	ed_snapdoc_abort(w);
	ok(ed_snapdoc_begin(path_of("no/such/dir/x.json"), &meta, &w, &err) == ED_IO &&
		   strstr(err.msg, "no/such/dir/x.json.tmp."),
	   "an unwritable place is refused, naming it");
}

static void test_ids_and_keys(void)
{
	char a[ED_SNAPDOC_ID_LEN + 1], b[ED_SNAPDOC_ID_LEN + 1];
	struct ed_err err;
	uint8_t key[ED_KEY_LEN];
	ok(ed_snapdoc_id_new(a, &err) == ED_OK && ed_snapdoc_id_new(b, &err) == ED_OK &&
		   strlen(a) == 36 && a[14] == '4' && strchr("89ab", a[19]) && strcmp(a, b) != 0,
	   "new ids are distinct version-4 UUIDs (%s)", a);

	const char *k = path_of("k.key");
	int fd = open(k, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && write(fd, "0123456789abcdef0123456789abcdef", 32) == 32, "a 32-byte key file");
	close(fd);
	ok(ed_keyfile_read(k, key, &err) == ED_OK && memcmp(key, "0123", 4) == 0,
	   "  is read");
	chmod(k, 0640);
	ok(ed_keyfile_read(k, key, &err) == ED_DENIED && strstr(err.msg, "chmod 600"),
	   "  mode 0640 is refused with the fix");
	chmod(k, 0600);
	fd = open(k, O_WRONLY | O_APPEND);
	ok(fd >= 0 && write(fd, "x", 1) == 1, "  one byte more");
	close(fd);
	ok(ed_keyfile_read(k, key, &err) == ED_IO && strstr(err.msg, "more than 32"),
	   "  33 bytes are refused");
	ok(truncate(k, 31) == 0 && ed_keyfile_read(k, key, &err) == ED_IO &&
		   strstr(err.msg, "got 31"),
	   "  31 bytes are refused");
	const char *l = path_of("link.key");
	ok(symlink(k, l) == 0 && ed_keyfile_read(l, key, &err) == ED_IO &&
		   strstr(err.msg, "symlink"),
	   "  a symlink is refused");
	ok(ed_keyfile_read(path_of("none.key"), key, &err) == ED_NOTFOUND, "  a missing file");
	unlink(k);
	unlink(l);
}

static int64_t count(struct ed_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(ed_store_db(st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void test_store(void)
{
	struct ed_store *st = NULL;
	struct ed_snapdoc *d = NULL;
	struct ed_snapdoc_writer *w = NULL;
	struct ed_err err = {0};
	const char *db = path_of("s.db"), *doc = path_of("in.json"), *out = path_of("out.json");
	int64_t id = 0, items = 0, warnings = 0;
	bool already = true;
	ok(ed_store_open(db, ED_STORE_CREATE, NULL, &st, &err) == ED_OK, "a new store");
	if (!st)
		return;

	/* Emitted in (kind, key) order, contents by fingerprint: the order export writes. */
	struct ed_snapdoc_meta meta = {.env = "staging", .host = "web-1", .role = "web",
				       .started_at = "2024-01-02T03:04:05Z",
				       .collector_host = "agent", .collector_root = "/mnt",
				       .quiet = true};
	struct ed_item a = {.kind = ED_KIND_CONFIG, .key = "/etc/a.json#/x", .key_len = 14,
			    .fp = fp_of("1"), .value = "1"};
	struct ed_item b = {.kind = ED_KIND_FILE, .key = hostile_key,
			    .key_len = sizeof(hostile_key) - 1, .fp = fp_of("f1"), .value = "v",
			    .ftype = ED_FT_REG, .mode = 0644, .owner = "r\xe9my", .group = "0",
			    .size = 1, .mtime_ns = 5, .ctime_ns = 6, .ino = 7, .dev = 8};
	struct ed_fp kept = fp_of("f1");
	ok(ed_snapdoc_begin(doc, &meta, &w, &err) == ED_OK, "a document to ingest");
	struct ed_sink *s = ed_snapdoc_sink(w);
	s->emit(s, &a, &err);
	s->emit(s, &b, &err);
	s->warn(s, "w\xff");
	s->content(s, &kept, content_bin, sizeof(content_bin) - 1, &err);
	ok(ed_snapdoc_commit(w, "2024-01-02T03:04:09Z", NULL, NULL, &err) == ED_OK, "  written");

	ok(ed_snapdoc_load(doc, &d, &err) == ED_OK, "  and read");
	if (!d)
		goto out;
	ok(ed_snapdoc_ingest(st, d, ED_SNAPDOC_MAX_SKEW, &id, &already, &items, &warnings, &err) == ED_OK && !already,
	   "ingest stores it%s%s", err.msg[0] ? ": " : "", err.msg);
	is_int(items, 2, "  two items");
	is_int(warnings, 1, "  one warning");
	is_int(count(st, "SELECT count(*) FROM snapshots WHERE status = 'complete' AND "
			 "started_at = '2024-01-02T03:04:05Z' AND finished_at = '2024-01-02T03:04:09Z' "
			 "AND env = 'staging' AND host = 'web-1' AND role = 'web' AND root = '/mnt' "
			 "AND collector_host = 'agent' AND uuid IS NOT NULL"),
	       1, "  the snapshot keeps the document's times, names, root and id");
	is_int(count(st, "SELECT count(*) FROM items WHERE hex(key) = "
			 "'2F6574632FFF6261640A6E616D65011B7F5C782271' AND owner = CAST(X'72E96D79' AS TEXT)"),
	       1, "  a hostile key and a Latin-1 owner are stored byte for byte");
	is_int(count(st, "SELECT count(*) FROM contents WHERE size = 19"), 1, "  the kept content");
	is_int(count(st, "SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger'"), 1,
	       "  the finish-time trigger is private to this connection");

	int64_t again = 0;
	ok(ed_snapdoc_ingest(st, d, ED_SNAPDOC_MAX_SKEW, &again, &already, NULL, NULL, &err) == ED_OK && already &&
		   again == id,
	   "a second ingest finds it already stored, as @%lld", (long long)again);
	is_int(count(st, "SELECT count(*) FROM snapshots"), 1, "  and stores no second snapshot");

	struct ed_snapref ref;
	char sid[16], docid[ED_SNAPDOC_ID_LEN + 1];
	snprintf(sid, sizeof(sid), "@%lld", (long long)id);
	ok(ed_store_resolve(st, sid, &ref, &err) == ED_OK &&
		   ed_snapdoc_id_of(st, id, docid, &err) == ED_OK &&
		   strcmp(docid, ed_snapdoc_info(d)->id) == 0,
	   "the stored snapshot has the document's id");
	ok(ed_snapdoc_export(st, &ref, docid, out, &err) == ED_OK, "export writes it out%s%s",
	   err.msg[0] ? ": " : "", err.msg);
	size_t l1, l2;
	char *t1 = slurp(doc, &l1), *t2 = slurp(out, &l2);
	ok(t1 && t2 && l1 == l2 && memcmp(t1, t2, l1) == 0,
	   "  the export is the ingested document, byte for byte");
	if (!(t1 && t2 && l1 == l2 && memcmp(t1, t2, l1) == 0))
		printf("# in:  %s\n# out: %s\n", t1 ? t1 : "", t2 ? t2 : "");
	free(t1);
	free(t2);

	/* A snapshot collected directly: its first export records a new id. */
	struct ed_snapwriter *sw = NULL;
	ok(ed_snapshot_begin(st, "production", "web-1", "", NULL, &sw, &err) == ED_OK &&
		   ed_snapshot_sink(sw)->emit(ed_snapshot_sink(sw), &a, &err) == ED_OK &&
		   ed_snapshot_commit(sw, NULL, NULL, &err) == ED_OK,
	   "a direct snapshot");
	char i1[ED_SNAPDOC_ID_LEN + 1], i2[ED_SNAPDOC_ID_LEN + 1];
	ok(ed_snapdoc_id_of(st, id + 1, i1, &err) == ED_OK &&
		   ed_snapdoc_id_of(st, id + 1, i2, &err) == ED_OK && strcmp(i1, i2) == 0,
	   "  gets one document id, the same each time");
	ok(ed_snapdoc_id_of(st, id + 7, i1, &err) == ED_NOTFOUND, "  a missing snapshot has none");
out:
	ed_snapdoc_free(d);
	ed_store_close(st);
	unlink(doc);
	unlink(out);
}

/*
 * The digest: the same for documents that store the same snapshot (another
 * id, env, host, times, member order of an item, spacing), another for any
 * change to what an item, a warning or a content's name says.
 */
static bool digest_of(const char *doc, struct ed_fp *out)
{
	struct ed_snapdoc *d = NULL;
	struct ed_err err = {0};
	if (!doc || ed_snapdoc_parse(doc, strlen(doc), "t.json", &d, &err) != ED_OK) {
		printf("# %s\n", err.msg);
		return false;
	}
	*out = *ed_snapdoc_info(d)->digest;
	ed_snapdoc_free(d);
	return true;
}

static void test_digest(void)
{
	static const struct {
		const char *from, *to;
		bool same;
	} cases[] = {
		{"0f8e2c1a-5b3d-4c6e-8f90-a1b2c3d4e5f6", "1f8e2c1a-5b3d-4c6e-8f90-a1b2c3d4e5f6", true},
		{"\"env\":\"staging\"", "\"env\":\"production\"", true},
		{"\"host\":\"web-1\"", "\"host\":\"web-2\"", true},
		{"10:00:07Z", "10:00:09Z", true},
		{"\"mode\":420,\"owner\":\"root\"", "\"owner\":\"root\",\"mode\":420", true},
		{"\"items\":[", "\"items\" : [ ", true},
		{"\"mode\":420", "\"mode\":416", false},
		{"\"mtime_ns\":1", "\"mtime_ns\":5", false},
		{"\"ino\":3", "\"ino\":4", false},
		{"\"owner\":\"root\"", "\"owner\":\"daemon\"", false},
		{"\"key\":\"/etc/a\"", "\"key\":\"/etc/b\"", false},
		{"FFEEDDCCBBAA99887766554433221100", "FFEEDDCCBBAA99887766554433221101", false},
		{"[\"w\",", "[\"v\",", false},
		{"[\"w\",", "[", false},
	};
	struct ed_fp base, other;
	ok(digest_of(base_doc, &base), "digest: the base document parses");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *doc = mutate(cases[i].from, cases[i].to);
		bool parsed = digest_of(doc, &other);
		bool same = parsed && memcmp(base.b, other.b, sizeof(base.b)) == 0;
		ok(parsed && same == cases[i].same, "digest: %s -> %s: %s", cases[i].from, cases[i].to,
		   cases[i].same ? "the same" : "another");
		free(doc);
	}
}

int main(void)
{
	if (!tap_tmpdir(dir, sizeof(dir), "ed-snapdoc"))
		return 1;
	test_validation();
	test_round_trip();
	test_ids_and_keys();
	test_digest();
	test_store();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
