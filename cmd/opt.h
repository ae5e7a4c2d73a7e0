/* SPDX-License-Identifier: MIT */
/*
 * Command-line options declared once: each command lists its options in one
 * table of struct ed_opt rows, from which both the parsing and the option
 * part of its --help are generated (as git's parse-options does).
 */
#ifndef ED_CMD_OPT_H
#define ED_CMD_OPT_H

#include <stdbool.h>
#include <stdio.h>

struct ed_cli;

enum ed_opt_kind {
	ED_OPT_END = 0,   /* the row that ends a table */
	ED_OPT_FLAG,      /* bool *value: set true */
	ED_OPT_STRING,    /* const char **value: the argument; a repeat replaces it */
	ED_OPT_LIST,      /* struct ed_opt_list *value: every argument, in order (repeatable) */
	ED_OPT_INT,       /* int *value: a whole number from min to max */
	ED_OPT_DURATION,  /* long long *value: seconds of 90s, 30m, 24h, 7d or a bare number */
	ED_OPT_CALL,      /* fn(row, argument or NULL, ctx) decides; for a flag, arg is NULL */
	ED_OPT_TEXT,      /* no option: a paragraph of help printed where the row stands */
};

/* The arguments of a repeatable option. Free items with ed_opt_list_release(). */
struct ed_opt_list {
	const char **items; /* borrowed from argv; the array itself is malloc'd */
	size_t n;
};

struct ed_opt {
	enum ed_opt_kind kind;
	char short_name;   /* 'j' for -j; 0 for none */
	const char *name;  /* long name without "--"; NULL for ED_OPT_TEXT */
	const char *arg;   /* the argument's name in help ("FILE"); NULL: takes none */
	void *value;       /* where the parsed value goes; see enum ed_opt_kind */
	const char *help;  /* one or more sentences, wrapped by the help printer; "\n" breaks */
	long long min, max; /* ED_OPT_INT bounds */
	/* ED_OPT_CALL: returns 0, or -1 after printing its own error (ed_cli_usage_error). */
	int (*fn)(const struct ed_opt *o, const char *arg, void *ctx);
	void *ctx;         /* passed to fn */
	const char *values; /* the values the argument takes, space-separated ("text json"),
			       offered by the shell completion; NULL: any */
};

#define ED_OPT_FLAG_(s, n, v, h) {.kind = ED_OPT_FLAG, .short_name = (s), .name = (n), .value = (v), .help = (h)}
#define ED_OPT_STRING_(s, n, a, v, h) \
	{.kind = ED_OPT_STRING, .short_name = (s), .name = (n), .arg = (a), .value = (v), .help = (h)}
/* A string option whose argument is one of vals (space-separated), as the completion offers. */
#define ED_OPT_CHOICE_(s, n, a, v, vals, h)                                                       \
	{.kind = ED_OPT_STRING, .short_name = (s), .name = (n), .arg = (a), .value = (v), .help = (h), \
	 .values = (vals)}
#define ED_OPT_LIST_(s, n, a, v, h) \
	{.kind = ED_OPT_LIST, .short_name = (s), .name = (n), .arg = (a), .value = (v), .help = (h)}
#define ED_OPT_INT_(s, n, a, v, lo, hi, h)                                                    \
	{.kind = ED_OPT_INT, .short_name = (s), .name = (n), .arg = (a), .value = (v), .help = (h), \
	 .min = (lo), .max = (hi)}
#define ED_OPT_DURATION_(s, n, a, v, h) \
	{.kind = ED_OPT_DURATION, .short_name = (s), .name = (n), .arg = (a), .value = (v), .help = (h)}
#define ED_OPT_CALL_(s, n, a, f, c, h) \
	{.kind = ED_OPT_CALL, .short_name = (s), .name = (n), .arg = (a), .fn = (f), .ctx = (c), .help = (h)}
#define ED_OPT_TEXT_(t) {.kind = ED_OPT_TEXT, .help = (t)}
#define ED_OPT_END_() {.kind = ED_OPT_END}

/* What a command says about itself around its options. */
struct ed_cmd_help {
	const char *name;   /* "collect": the command, in messages and help */
	const char *usage;  /* synopsis lines after "usage: envdrift [--db PATH] ", "\n"-separated;
			       one longer than 79 columns wraps between [groups] */
	const char *intro;  /* paragraphs before the options; may be NULL */
	const char *outro;  /* paragraphs after them (exit status...); may be NULL */
};

enum ed_opt_result {
	ED_OPT_OK,    /* parsed: run the command */
	ED_OPT_HELP,  /* --help was printed on stdout: exit 0 */
	ED_OPT_ERROR, /* a message naming the option was printed on stderr: exit 2 */
};

/*
 * Parses argv[1..argc) (argv[0] is the command's name) against opts and the
 * options every command shares (--db PATH into cli->db, -h/--help), in any
 * order; "--" ends the options. Two hidden spellings, accepted only as the
 * one argument after the command's name, print and return ED_OPT_HELP:
 * --help-markdown (ed_opt_markdown(): the source of the man page) and
 * --complete (ed_opt_complete(): what the shell completion offers). Long options take "--name VALUE" or
 * "--name=VALUE" and may be abbreviated to an unambiguous prefix; short ones
 * "-j N" or "-jN". The other arguments are moved, in order, to the front of
 * argv + 1; *nargs receives their count (NULL: none are allowed).
 * Lists are appended to and must be released by the caller even on error.
 */
enum ed_opt_result ed_opt_parse(const struct ed_cmd_help *h, const struct ed_opt *opts, int argc,
				char **argv, struct ed_cli *cli, int *nargs);

/*
 * ed_opt_parse()'s result as the command's exit status: -1 to go on, else
 * the status to return at once (0 after --help, 2 after an error):
 *	int status = ed_opt_status(ed_opt_parse(&help, opts, argc, argv, cli, NULL));
 *	if (status >= 0)
 *		return status;
 */
int ed_opt_status(enum ed_opt_result r);

/*
 * The options before the command's name (main): --db, --help, --version,
 * from the same table every command takes them from. *next receives the
 * index of the command's name (argc when there is none).
 */
enum ed_opt_result ed_opt_parse_global(int argc, char **argv, struct ed_cli *cli, int *next,
				       bool *help, bool *version);
/* Prints the rows of the global options, for 'envdrift --help'. */
void ed_opt_help_global(FILE *f);

/* Prints the generated help of one command (usage, intro, options, outro) to f. */
void ed_opt_help(const struct ed_cmd_help *h, const struct ed_opt *opts, FILE *f);

/*
 * Prints the help of one command as Markdown sections for its man page:
 * SYNOPSIS, DESCRIPTION (intro, and outro paragraphs other than the exit
 * status), OPTIONS (every row of opts, then --db and --help), EXIT STATUS
 * (outro paragraphs that start "Exit status"). tools/mkman.py adds NAME and
 * SEE ALSO and turns it into roff with cmark-gfm.
 */
void ed_opt_markdown(const struct ed_cmd_help *h, const struct ed_opt *opts, FILE *f);

/*
 * Prints what the shell completion offers for one command, one tab-separated
 * line each: "verb\tWORD" for the first word of each usage line that is a
 * lower-case word (token add, policy check), "option\t-X" or
 * "option\t--NAME", then "\tARG" when it takes an argument and "\tV1 V2..."
 * when its values are listed (struct ed_opt.values). The global --db and
 * --help come last.
 */
void ed_opt_complete(const struct ed_cmd_help *h, const struct ed_opt *opts, FILE *f);

/* Frees a list's array (not its borrowed items) and empties it. */
void ed_opt_list_release(struct ed_opt_list *l);

#endif
