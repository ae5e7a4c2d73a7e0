/* SPDX-License-Identifier: MIT */
/* Options declared once: parse a command's table of options, and print the help it generates. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "opt.h"
#include "ed/suggest.h"

/* The options every command takes; their values go to struct ed_cli. */
enum { GLOBAL_DB = 1, GLOBAL_HELP, GLOBAL_VERSION };
static const struct ed_opt global_opts[] = {
	{.kind = ED_OPT_STRING, .name = "db", .arg = "PATH", .min = GLOBAL_DB,
	 .help = "the store (default $ENVDRIFT_DB, else ./envdrift.db)"},
	{.kind = ED_OPT_FLAG, .short_name = 'h', .name = "help", .min = GLOBAL_HELP,
	 .help = "this text; 'envdrift COMMAND --help' for one command"},
	ED_OPT_END_(),
};
/* Before the command's name, also --version. */
static const struct ed_opt top_opts[] = {
	{.kind = ED_OPT_FLAG, .name = "version", .min = GLOBAL_VERSION, .help = "the version"},
	ED_OPT_END_(),
};

static bool is_global(const struct ed_opt *o)
{
	return (o >= global_opts && o < global_opts + sizeof(global_opts) / sizeof(global_opts[0])) ||
	       (o >= top_opts && o < top_opts + sizeof(top_opts) / sizeof(top_opts[0]));
}

/* Column at which option descriptions start, and the width help is wrapped to. */
#define HELP_COL 19
#define HELP_WIDTH 79
/* Column at which a long synopsis line continues: under "[--db PATH]". */
#define USAGE_COL 16

void ed_opt_list_release(struct ed_opt_list *l)
{
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static bool takes_arg(const struct ed_opt *o)
{
	return o->arg != NULL;
}

/* The long option of opts or of the global table closest to name (len bytes), or NULL. */
static const char *suggest_long(const struct ed_opt *opts, const char *name, size_t len)
{
	char typo[ED_SUGGEST_MAX + 1];
	const char *names[128];
	size_t n = 0;
	if (len > ED_SUGGEST_MAX)
		return NULL;
	memcpy(typo, name, len);
	typo[len] = '\0';
	const struct ed_opt *tables[] = {opts, global_opts};
	for (size_t t = 0; t < 2; t++)
		for (const struct ed_opt *o = tables[t]; o->kind != ED_OPT_END; o++)
			if (o->name && n < sizeof(names) / sizeof(names[0]))
				names[n++] = o->name;
	return ed_suggest(typo, names, n);
}

/* The row of long option name (len bytes): exact, else the only one it begins. */
static const struct ed_opt *find_long(const struct ed_cmd_help *h, const struct ed_opt *opts,
				      const char *name, size_t len)
{
	const struct ed_opt *tables[] = {opts, global_opts};
	const struct ed_opt *prefix = NULL;
	int nprefix = 0;
	for (size_t t = 0; t < 2; t++)
		for (const struct ed_opt *o = tables[t]; o->kind != ED_OPT_END; o++) {
			if (!o->name || strncmp(o->name, name, len) != 0)
				continue;
			if (o->name[len] == '\0')
				return o;
			nprefix++;
			prefix = o;
		}
	if (nprefix == 1)
		return prefix;
	if (nprefix > 1) {
		ed_cli_usage_error(h->name, "option '--%.*s' is ambiguous", (int)len, name);
		return NULL;
	}
	const char *close = suggest_long(opts, name, len);
	ed_cli_usage_error(h->name, "unknown option '--%.*s'%s%s%s", (int)len, name,
			   close ? " (did you mean '--" : "", close ? close : "",
			   close ? "'?)" : "");
	return NULL;
}

static const struct ed_opt *find_short(const struct ed_cmd_help *h, const struct ed_opt *opts,
				       char c)
{
	const struct ed_opt *tables[] = {opts, global_opts};
	for (size_t t = 0; t < 2; t++)
		for (const struct ed_opt *o = tables[t]; o->kind != ED_OPT_END; o++)
			if (o->short_name && o->short_name == c)
				return o;
	ed_cli_usage_error(h->name, "unknown option '-%c'", c);
	return NULL;
}

/* How the option was written, for messages: "--threads" or "-j". */
static void spelling(const struct ed_opt *o, bool is_short, char out[64])
{
	if (is_short)
		snprintf(out, 64, "-%c", o->short_name);
	else
		snprintf(out, 64, "--%s", o->name);
}

/* Stores the value of one option; 0, or -1 after printing why not. */
static int apply(const struct ed_cmd_help *h, const struct ed_opt *o, bool is_short,
		 const char *arg, struct ed_cli *cli, int *global)
{
	char name[64];
	spelling(o, is_short, name);
	if (is_global(o)) {
		if (o->min == GLOBAL_DB)
			cli->db = arg;
		else
			*global = (int)o->min;
		return 0;
	}
	switch (o->kind) {
	case ED_OPT_FLAG:
		*(bool *)o->value = true;
		return 0;
	case ED_OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case ED_OPT_LIST: {
		struct ed_opt_list *l = o->value;
		const char **v = realloc(l->items, (l->n + 1) * sizeof(*v));
		if (!v) {
			fprintf(stderr, "envdrift %s: out of memory\n", h->name);
			return -1;
		}
		v[l->n++] = arg;
		l->items = v;
		return 0;
	}
	case ED_OPT_INT: {
		char *end;
		errno = 0;
		long long n = strtoll(arg, &end, 10);
		if (end == arg || *end || errno || n < o->min || n > o->max) {
			ed_cli_usage_error(h->name, "%s %s: expected a whole number from %lld to %lld",
					   name, arg, o->min, o->max);
			return -1;
		}
		*(int *)o->value = (int)n;
		return 0;
	}
	case ED_OPT_DURATION: {
		long long s = ed_cli_parse_duration(arg);
		if (s < 0) {
			ed_cli_usage_error(h->name,
					   "%s %s: expected a duration like 90s, 30m, 24h, 7d or 0",
					   name, arg);
			return -1;
		}
		*(long long *)o->value = s;
		return 0;
	}
	case ED_OPT_CALL:
		return o->fn(o, arg, o->ctx);
	case ED_OPT_TEXT:
	case ED_OPT_END:
		break;
	}
	return -1;
}

/*
 * The loop of ed_opt_parse() and ed_opt_parse_global(): with stop, parsing
 * ends at the first argument that is not an option (*npos = its index).
 */
static enum ed_opt_result parse(const struct ed_cmd_help *h, const struct ed_opt *opts, int argc,
				char **argv, struct ed_cli *cli, bool stop, int *npos_out,
				int *global)
{
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (stop && (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)) {
			*npos_out = i + (strcmp(a, "--") == 0);
			return ED_OPT_OK;
		}
		if (strcmp(a, "--") == 0) {
			while (++i < argc)
				argv[1 + npos++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			argv[1 + npos++] = a;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct ed_opt *o = find_long(h, opts, name, len);
			if (!o)
				return ED_OPT_ERROR;
			const char *arg = NULL;
			if (takes_arg(o)) {
				if (eq)
					arg = eq + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else {
					ed_cli_usage_error(h->name, "option '--%s' needs a value (%s)",
							   o->name, o->arg);
					return ED_OPT_ERROR;
				}
			} else if (eq) {
				ed_cli_usage_error(h->name, "option '--%s' takes no value", o->name);
				return ED_OPT_ERROR;
			}
			if (apply(h, o, false, arg, cli, global))
				return ED_OPT_ERROR;
			continue;
		}
		/* A cluster of short options: -x, -j8, -j 8. */
		for (const char *p = a + 1; *p; p++) {
			const struct ed_opt *o = find_short(h, opts, *p);
			if (!o)
				return ED_OPT_ERROR;
			const char *arg = NULL;
			if (takes_arg(o)) {
				if (p[1])
					arg = p + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else {
					ed_cli_usage_error(h->name, "option '-%c' needs a value (%s)",
							   *p, o->arg);
					return ED_OPT_ERROR;
				}
			}
			if (apply(h, o, true, arg, cli, global))
				return ED_OPT_ERROR;
			if (arg)
				break;
		}
	}
	*npos_out = stop ? argc : npos;
	return ED_OPT_OK;
}

enum ed_opt_result ed_opt_parse(const struct ed_cmd_help *h, const struct ed_opt *opts, int argc,
				char **argv, struct ed_cli *cli, int *nargs)
{
	int npos = 0, global = 0;
	/* Hidden: for the man pages and the shell completion (meson.build, contrib/completion). */
	if (argc == 2 && strcmp(argv[1], "--help-markdown") == 0) {
		ed_opt_markdown(h, opts, stdout);
		return ED_OPT_HELP;
	}
	if (argc == 2 && strcmp(argv[1], "--complete") == 0) {
		ed_opt_complete(h, opts, stdout);
		return ED_OPT_HELP;
	}
	enum ed_opt_result r = parse(h, opts, argc, argv, cli, false, &npos, &global);
	if (r != ED_OPT_OK)
		return r;
	if (global == GLOBAL_HELP) {
		ed_opt_help(h, opts, stdout);
		return ED_OPT_HELP;
	}
	if (nargs)
		*nargs = npos;
	else if (npos > 0) {
		ed_cli_usage_error(h->name, "unexpected argument '%s'", argv[1]);
		return ED_OPT_ERROR;
	}
	return ED_OPT_OK;
}

/*
 * Writes text from column col, wrapped at HELP_WIDTH, the cursor being at
 * column at. "\n" in text starts a new line; spaces that start a line of
 * text are kept (an indented example), any others fold into one.
 */
static void wrap(FILE *f, const char *text, size_t col, size_t at)
{
	size_t pos = at, indent = 0;
	bool line_start = at == 0;
	const char *p = text;
	while (*p) {
		if (*p == '\n') {
			fputc('\n', f);
			pos = 0, indent = 0, line_start = true;
			p++;
			continue;
		}
		if (*p == ' ') {
			size_t sp = strspn(p, " ");
			if (line_start)
				indent = sp;
			p += sp;
			continue;
		}
		size_t w = strcspn(p, " \n");
		if (!line_start && pos + 1 + w > HELP_WIDTH) {
			fputc('\n', f);
			pos = 0;
			line_start = true;
		}
		if (line_start || pos < col) {
			size_t to = col + indent;
			if (pos < to)
				fprintf(f, "%*s", (int)(to - pos), "");
			pos = pos < to ? to : pos;
		} else {
			fputc(' ', f);
			pos++;
		}
		line_start = false;
		fwrite(p, 1, w, f);
		pos += w;
		p += w;
	}
	if (pos > 0)
		fputc('\n', f);
}

/*
 * One synopsis line (len bytes of u) after "usage: envdrift [--db PATH]",
 * wrapped at HELP_WIDTH between words, never inside [brackets]; a
 * continuation starts at USAGE_COL, under "[--db PATH]".
 */
static void usage_line(FILE *f, const char *lead, const char *u, size_t len)
{
	int n = fprintf(f, "%s envdrift [--db PATH]", lead);
	size_t pos = n > 0 ? (size_t)n : 0, i = 0;
	bool fresh = false; /* at the start of a continuation line */
	while (i < len) {
		size_t w = 0;
		for (int depth = 0; i + w < len && (u[i + w] != ' ' || depth > 0); w++) {
			if (u[i + w] == '[')
				depth++;
			else if (u[i + w] == ']' && depth > 0)
				depth--;
		}
		if (w > 0) {
			if (!fresh && pos + 1 + w > HELP_WIDTH) {
				fprintf(f, "\n%*s", USAGE_COL, "");
				pos = USAGE_COL;
				fresh = true;
			}
			if (!fresh) {
				fputc(' ', f);
				pos++;
			}
			fresh = false;
			fwrite(u + i, 1, w, f);
			pos += w;
		}
		i += w;
		i += strspn(u + i, " "); /* u[len] is '\n' or '\0': it stops there */
	}
	fputc('\n', f);
}

void ed_opt_help(const struct ed_cmd_help *h, const struct ed_opt *opts, FILE *f)
{
	const char *u = h->usage;
	for (bool first = true; u && *u; first = false) {
		size_t len = strcspn(u, "\n");
		usage_line(f, first ? "usage:" : "      ", u, len);
		u += len + (u[len] == '\n');
	}
	if (h->intro) {
		fputc('\n', f);
		wrap(f, h->intro, 0, 0);
	}
	if (opts->kind != ED_OPT_END)
		fputc('\n', f);
	for (const struct ed_opt *o = opts; o->kind != ED_OPT_END; o++) {
		if (o->kind == ED_OPT_TEXT) {
			/* A paragraph between options: a blank line, then the text. */
			fputc('\n', f);
			if (*o->help)
				wrap(f, o->help, 0, 0);
			continue;
		}
		char label[128];
		int n;
		if (o->short_name && o->name)
			n = snprintf(label, sizeof(label), "  -%c, --%s%s%s", o->short_name, o->name,
				     o->arg ? " " : "", o->arg ? o->arg : "");
		else if (o->short_name)
			n = snprintf(label, sizeof(label), "  -%c%s%s", o->short_name,
				     o->arg ? " " : "", o->arg ? o->arg : "");
		else
			n = snprintf(label, sizeof(label), "  --%s%s%s", o->name, o->arg ? " " : "",
				     o->arg ? o->arg : "");
		fputs(label, f);
		size_t at = n > 0 ? (size_t)n : 0;
		if (at + 2 > HELP_COL) {
			/* A long label: its text starts on the next line. */
			fputc('\n', f);
			at = 0;
		}
		wrap(f, o->help ? o->help : "", HELP_COL, at);
	}
	if (h->outro) {
		fputc('\n', f);
		wrap(f, h->outro, 0, 0);
	}
}

/* Markdown: s[0..len) as text, every character Markdown would read escaped. */
static void md_text(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (strchr("\\`*_[]<>#|~!&", s[i]) ||
		    (i == 0 && strchr("-+=", s[i])))
			fputc('\\', f);
		fputc(s[i], f);
	}
}

/*
 * Markdown: a help text ("\n" ends a paragraph; a short line that starts with
 * spaces is an example, kept as a code block; a long one, an indented
 * paragraph), each line after prefix ("> " inside an option's description). Paragraphs starting "Exit status" are written
 * only when exit is true, the others only when it is false.
 */
static void md_paragraphs(FILE *f, const char *text, const char *prefix, bool exit)
{
	bool in_code = false;
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		bool code = *p == ' ' && len <= 72;
		bool is_exit = strncmp(p, "Exit status", 11) == 0;
		if (len > 0 && code != in_code) {
			fprintf(f, "%s```\n", prefix);
			in_code = code;
		}
		if (len > 0 && code) {
			size_t sp = strspn(p, " ");
			fprintf(f, "%s%.*s\n", prefix, (int)(len - sp), p + sp);
		} else if (len > 0 && is_exit == exit) {
			size_t sp = strspn(p, " ");
			fputs(prefix, f);
			if (sp > 0 && !*prefix)
				fputs("> ", f);
			md_text(f, p + sp, len - sp);
			fprintf(f, "\n%s\n", *prefix ? ">" : "");
		}
		p += len + (p[len] == '\n');
	}
	if (in_code)
		fprintf(f, "%s```\n", prefix);
}

/* Markdown: one option as a bold name and its argument, then its help as a quote (indented). */
static void md_option(FILE *f, const struct ed_opt *o)
{
	if (o->short_name)
		fprintf(f, "**\\-%c**%s", o->short_name, o->name ? ", " : "");
	if (o->name)
		fprintf(f, "**\\-\\-%s**", o->name);
	if (o->arg) {
		fputs(" *", f);
		md_text(f, o->arg, strlen(o->arg));
		fputc('*', f);
	}
	fputs("\n\n", f);
	md_paragraphs(f, o->help ? o->help : "", "> ", false);
	fputc('\n', f);
}

void ed_opt_markdown(const struct ed_cmd_help *h, const struct ed_opt *opts, FILE *f)
{
	fputs("## SYNOPSIS\n\n```\n", f);
	for (const char *u = h->usage; u && *u;) {
		size_t len = strcspn(u, "\n");
		fprintf(f, "envdrift [--db PATH] %.*s\n", (int)len, u);
		u += len + (u[len] == '\n');
	}
	fputs("```\n\n## DESCRIPTION\n\n", f);
	md_paragraphs(f, h->intro, "", false);
	md_paragraphs(f, h->outro, "", false);
	fputs("## OPTIONS\n\n", f);
	for (const struct ed_opt *o = opts; o->kind != ED_OPT_END; o++) {
		if (o->kind == ED_OPT_TEXT)
			md_paragraphs(f, o->help, "", false);
		else
			md_option(f, o);
	}
	for (const struct ed_opt *o = global_opts; o->kind != ED_OPT_END; o++)
		md_option(f, o);
	if (h->outro && strstr(h->outro, "Exit status")) {
		fputs("## EXIT STATUS\n\n", f);
		md_paragraphs(f, h->outro, "", true);
	}
}

static void complete_option(FILE *f, const struct ed_opt *o)
{
	for (int spelling = 0; spelling < 2; spelling++) {
		if (spelling == 0 && !o->short_name)
			continue;
		if (spelling == 1 && !o->name)
			continue;
		if (spelling == 0)
			fprintf(f, "option\t-%c", o->short_name);
		else
			fprintf(f, "option\t--%s", o->name);
		if (o->arg)
			fprintf(f, "\t%s%s%s", o->arg, o->values ? "\t" : "", o->values ? o->values : "");
		fputc('\n', f);
	}
}

void ed_opt_complete(const struct ed_cmd_help *h, const struct ed_opt *opts, FILE *f)
{
	/* "token add NAME ...": the second word, when it is a lower-case word. */
	for (const char *u = h->usage; u && *u;) {
		size_t len = strcspn(u, "\n");
		const char *w = u + strcspn(u, " \n");
		w += strspn(w, " ");
		size_t wl = strspn(w, "abcdefghijklmnopqrstuvwxyz-");
		if (wl > 0 && w[0] != '-' && (w[wl] == ' ' || w[wl] == '\n' || w[wl] == '\0'))
			fprintf(f, "verb\t%.*s\n", (int)wl, w);
		u += len + (u[len] == '\n');
	}
	for (const struct ed_opt *o = opts; o->kind != ED_OPT_END; o++)
		if (o->kind != ED_OPT_TEXT)
			complete_option(f, o);
	for (const struct ed_opt *o = global_opts; o->kind != ED_OPT_END; o++)
		complete_option(f, o);
}

int ed_opt_status(enum ed_opt_result r)
{
	switch (r) {
	case ED_OPT_OK: return -1;
	case ED_OPT_HELP: return ED_EXIT_OK;
	case ED_OPT_ERROR: break;
	}
	return ED_EXIT_ERROR;
}

enum ed_opt_result ed_opt_parse_global(int argc, char **argv, struct ed_cli *cli, int *next,
				       bool *help, bool *version)
{
	static const struct ed_cmd_help top = {.name = NULL};
	int global = 0;
	enum ed_opt_result r = parse(&top, top_opts, argc, argv, cli, true, next, &global);
	*help = global == GLOBAL_HELP;
	*version = global == GLOBAL_VERSION;
	return r;
}

void ed_opt_help_global(FILE *f)
{
	const struct ed_opt *tables[] = {global_opts, top_opts};
	for (size_t t = 0; t < 2; t++)
		for (const struct ed_opt *o = tables[t]; o->kind != ED_OPT_END; o++) {
			int n = fprintf(f, "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
			wrap(f, o->help, 13, n > 0 ? (size_t)n : 0);
		}
}
