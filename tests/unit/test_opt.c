/* SPDX-License-Identifier: MIT */
/* The option tables of cmd/opt.c: parsing every kind of row, and the help they generate. */
#include <stdlib.h>
#include <string.h>

#include "../../cmd/cmd.h"
#include "../../cmd/opt.h"
#include "tap.h"

static const struct ed_cmd_help help = {
	.name = "demo",
	.usage = "demo [--flag] ARG...\ndemo --other",
	.intro = "Says what demo does, in a sentence long enough to be wrapped by the help printer "
		 "at the width it keeps.\n\n  an indented example line",
	.outro = "Exit status: 0.",
};

struct vals {
	bool flag;
	const char *str;
	struct ed_opt_list list;
	int n;
	long long secs;
	int calls;
	const char *last_call;
};

static int on_call(const struct ed_opt *o, const char *arg, void *ctx)
{
	(void)o;
	struct vals *v = ctx;
	v->calls++;
	v->last_call = arg;
	return arg && strcmp(arg, "bad") == 0 ? -1 : 0;
}

/* Parses a NULL-terminated list of words (the first is the command's name). */
static enum ed_opt_result run(struct vals *v, struct ed_cli *cli, int *nargs, char **words)
{
	const struct ed_opt opts[] = {
		ED_OPT_FLAG_('f', "flag", &v->flag, "a flag"),
		ED_OPT_STRING_(0, "string", "S", &v->str, "a string"),
		ED_OPT_LIST_('p', "path", "P", &v->list, "repeatable"),
		ED_OPT_INT_('j', "jobs", "N", &v->n, 1, 256, "a number"),
		ED_OPT_DURATION_(0, "max-age", "D", &v->secs, "a duration"),
		ED_OPT_TEXT_("A paragraph between options."),
		ED_OPT_CALL_(0, "call", "X", on_call, v, "a callback"),
		ED_OPT_FLAG_(0, "stringent", &v->flag, "shares a prefix with --string"),
		ED_OPT_END_(),
	};
	int argc = 0;
	while (words[argc])
		argc++;
	return ed_opt_parse(&help, opts, argc, words, cli, nargs);
}

#define WORDS(...) ((char *[]){"demo", __VA_ARGS__, NULL})

int main(void)
{
	struct ed_cli cli = {.db = "default.db"};
	struct vals v = {0};
	int nargs = -1;

	char **w = WORDS("a", "--flag", "--string", "x", "b", "-p", "one", "--path=two", "-j8",
			 "--max-age", "7d", "--db", "other.db", "--call", "y", "--", "--c");
	is_int(run(&v, &cli, &nargs, w), ED_OPT_OK, "a mixed command line parses");
	ok(v.flag, "  --flag sets the flag");
	is_str(v.str, "x", "  --string takes the next word");
	is_int(v.list.n, 2, "  --path is repeatable");
	is_str(v.list.n > 1 ? v.list.items[1] : NULL, "two", "  --path=two takes what follows '='");
	is_int(v.n, 8, "  -j8 takes what follows the letter");
	is_int(v.secs, 7 * 86400, "  --max-age 7d is a week");
	is_str(cli.db, "other.db", "  --db is taken by every command");
	is_int(v.calls, 1, "  the callback ran once");
	is_str(v.last_call, "y", "  with its argument");
	is_int(nargs, 3, "  three arguments are left");
	is_str(w[1], "a", "  in order: a");
	is_str(w[2], "b", "  b");
	is_str(w[3], "--c", "  and '--c' after '--'");
	ed_opt_list_release(&v.list);

	memset(&v, 0, sizeof(v));
	is_int(run(&v, &cli, &nargs, WORDS("--fl", "--str", "s")), ED_OPT_ERROR,
	       "--str is ambiguous (--string, --stringent)");
	memset(&v, 0, sizeof(v));
	is_int(run(&v, &cli, &nargs, WORDS("--fl", "--stri", "s")), ED_OPT_ERROR,
	       "--stri is ambiguous too");
	memset(&v, 0, sizeof(v));
	is_int(run(&v, &cli, &nargs, WORDS("--fl", "--strin=s")), ED_OPT_ERROR,
	       "--strin is ambiguous too");
	memset(&v, 0, sizeof(v));
	is_int(run(&v, &cli, &nargs, WORDS("--fl")), ED_OPT_OK, "--fl is an unambiguous prefix of --flag");
	ok(v.flag, "  and sets it");
	is_int(run(&v, &cli, &nargs, WORDS("--nope")), ED_OPT_ERROR, "an unknown long option is an error");
	is_int(run(&v, &cli, &nargs, WORDS("-z")), ED_OPT_ERROR, "an unknown short option is an error");
	is_int(run(&v, &cli, &nargs, WORDS("--string")), ED_OPT_ERROR, "a missing value is an error");
	is_int(run(&v, &cli, &nargs, WORDS("--flag=1")), ED_OPT_ERROR, "a flag given a value is an error");
	is_int(run(&v, &cli, &nargs, WORDS("-j", "0")), ED_OPT_ERROR, "-j 0 is below the range");
	is_int(run(&v, &cli, &nargs, WORDS("-j", "257")), ED_OPT_ERROR, "-j 257 is above it");
	is_int(run(&v, &cli, &nargs, WORDS("-j", "8x")), ED_OPT_ERROR, "-j 8x is not a number");
	is_int(run(&v, &cli, &nargs, WORDS("--max-age", "soon")), ED_OPT_ERROR, "a bad duration is an error");
	is_int(run(&v, &cli, &nargs, WORDS("--call", "bad")), ED_OPT_ERROR, "a callback's refusal is an error");
	is_int(run(&v, &cli, NULL, WORDS("extra")), ED_OPT_ERROR, "an argument where none is taken is an error");
	memset(&v, 0, sizeof(v));
	is_int(run(&v, &cli, &nargs, WORDS("-", "-fj", "3")), ED_OPT_OK, "'-' is an argument; -fj 3 is a cluster");
	ok(v.flag && v.n == 3 && nargs == 1, "  the flag, the number and one argument");

	/* The generated help. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	memset(&v, 0, sizeof(v));
	const struct ed_opt opts[] = {
		ED_OPT_STRING_(0, "string", "S", &v.str, "a string"),
		ED_OPT_LIST_('p', "path", "P", &v.list, "a description long enough to need a second "
			     "line, which the printer wraps and indents under the first one"),
		ED_OPT_TEXT_("A paragraph between options."),
		ED_OPT_STRING_(0, "a-very-long-option", "ARGUMENT", &v.str, "starts on the next line"),
		ED_OPT_END_(),
	};
	ed_opt_help(&help, opts, f);
	fclose(f);
	ok(strncmp(text, "usage: envdrift [--db PATH] demo [--flag] ARG...\n"
			 "       envdrift [--db PATH] demo --other\n\n", 82) == 0,
	   "help starts with the usage lines");
	ok(strstr(text, "\n  --string S       a string\n") != NULL, "an option and its text share a line");
	ok(strstr(text, "\n  -p, --path P     a description long enough") != NULL,
	   "a short name is shown beside the long one");
	ok(strstr(text, "which the\n                   printer wraps and indents") != NULL,
	   "a long description continues at column 19");
	ok(strstr(text, "\n\nA paragraph between options.\n") != NULL, "a text row is a paragraph");
	ok(strstr(text, "\n  --a-very-long-option ARGUMENT\n                   starts on the next line\n") != NULL,
	   "a long option's text starts on the next line");
	ok(strstr(text, "\n  an indented example line\n") != NULL, "an indented line keeps its indent");
	ok(strstr(text, "\nExit status: 0.\n") != NULL, "the outro ends the help");
	size_t longest = 0;
	for (const char *p = text; *p;) {
		size_t l = strcspn(p, "\n");
		longest = l > longest ? l : longest;
		p += l + (p[l] == '\n');
	}
	ok(longest <= 79, "no help line is wider than 79 columns (longest %zu)", longest);
	free(text);

	/* A synopsis too long for one line wraps between [groups], under "[--db PATH]". */
	static const struct ed_cmd_help long_usage = {
		.name = "demo",
		.usage = "demo ARG [--first-option VALUE] [--second VALUE] [--third [A B]]...\n"
			 "demo --other",
	};
	static const struct ed_opt none[] = {ED_OPT_END_()};
	f = open_memstream(&text, &len);
	ed_opt_help(&long_usage, none, f);
	fclose(f);
	is_str(text,
	       "usage: envdrift [--db PATH] demo ARG [--first-option VALUE] [--second VALUE]\n"
	       "                [--third [A B]]...\n"
	       "       envdrift [--db PATH] demo --other\n",
	       "a long synopsis wraps at 79 columns, never inside brackets");
	free(text);

	/* The man page's Markdown and the completion, from the same rows. */
	static const struct ed_cmd_help verbs = {
		.name = "demo",
		.usage = "demo add NAME [--role ROLE]\ndemo list\ndemo FILE",
		.intro = "Does *this* with [brackets] and_underscores.\n  demo add x",
		.outro = "Also this.\nExit status: 0 done, 2 error.",
	};
	const char *role = NULL;
	const struct ed_opt vopts[] = {
		ED_OPT_CHOICE_(0, "role", "ROLE", &role, "read push", "the role"),
		ED_OPT_FLAG_('x', "extra", &v.flag, "a flag"),
		ED_OPT_END_(),
	};
	f = open_memstream(&text, &len);
	ed_opt_markdown(&verbs, vopts, f);
	fclose(f);
	ok(strstr(text, "## SYNOPSIS\n\n```\nenvdrift [--db PATH] demo add NAME [--role ROLE]\n") != NULL,
	   "markdown: the synopsis, in a code block");
	ok(strstr(text, "Does \\*this\\* with \\[brackets\\] and\\_underscores.\n") != NULL,
	   "markdown: what Markdown would read is escaped");
	ok(strstr(text, "```\ndemo add x\n```\n") != NULL, "markdown: an indented line is an example");
	ok(strstr(text, "**\\-\\-role** *ROLE*\n\n> the role\n") != NULL,
	   "markdown: an option, its help indented under it");
	ok(strstr(text, "**\\-x**, **\\-\\-extra**\n") != NULL, "markdown: a short and a long name");
	ok(strstr(text, "**\\-\\-db** *PATH*") != NULL, "markdown: the global options too");
	const char *exit_sec = strstr(text, "## EXIT STATUS\n\nExit status: 0 done, 2 error.\n");
	ok(exit_sec != NULL, "markdown: the outro's exit status has its section");
	ok(strstr(text, "Also this.") != NULL && strstr(text, "Also this.") < strstr(text, "## OPTIONS"),
	   "  and the rest of the outro stays in DESCRIPTION");
	free(text);
	f = open_memstream(&text, &len);
	ed_opt_complete(&verbs, vopts, f);
	fclose(f);
	is_str(text,
	       "verb\tadd\nverb\tlist\noption\t--role\tROLE\tread push\noption\t-x\noption\t--extra\n"
	       "option\t--db\tPATH\noption\t-h\noption\t--help\n",
	       "complete: the verbs, then each option, its argument and values, then the global ones");
	free(text);
	return tap_done();
}
