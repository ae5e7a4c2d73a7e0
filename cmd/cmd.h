/* SPDX-License-Identifier: MIT */
/* The commands of the envdrift binary: each returns its exit status (0, 1, or 2 on error). */
#ifndef ED_CMD_H
#define ED_CMD_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "ed/err.h"

#define ED_EXIT_OK 0
#define ED_EXIT_DIFF 1
#define ED_EXIT_ERROR 2

/* Options every command shares, parsed before the command name. */
struct ed_cli {
	const char *db; /* --db, else $ENVDRIFT_DB, else ./envdrift.db */
};

struct ed_cmd {
	const char *name;
	int (*run)(int argc, char **argv, struct ed_cli *cli);
	const char *summary; /* one line for 'envdrift --help'; the rest is in the command's table */
};

int ed_cmd_init(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_collect(int argc, char **argv, struct ed_cli *cli);
/* Every host of an inventory, N at a time; also 'collect --inventory' (cmd_inventory.c). */
int ed_cmd_inventory(int argc, char **argv, struct ed_cli *cli);
struct ed_buf;
/* Reads the inventory file at path into text, for ed_inventory_parse() (cmd_inventory.c). */
enum ed_code ed_cli_inventory_read(const char *path, struct ed_buf *text, struct ed_err *err);
int ed_cmd_snapshots(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_diff(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_gate(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_policy(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_report(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_export(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_ingest(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_prune(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_token(int argc, char **argv, struct ed_cli *cli);
int ed_cmd_serve(int argc, char **argv, struct ed_cli *cli);


/* Prints the error and returns ED_EXIT_ERROR. */
int ed_cli_fail(const struct ed_err *err);
struct ed_snapref;
/*
 * Warns once on stderr when two of the snapshots compared were collected with
 * different settings (ed_snaprefs_settings_differ()), naming both.
 */
void ed_cli_warn_settings(const struct ed_snapref *refs, size_t nrefs,
			  const struct ed_snapref *cands, size_t ncands);

struct ed_atomic;
/*
 * Opens a report's --out file (ed_atomic_open()) with the store's privacy:
 * 0600, or 0640 and the store's group when the store is group-readable
 * (init --group).
 */
enum ed_code ed_cli_open_out(const struct ed_cli *cli, const char *path, struct ed_atomic **out,
			     struct ed_err *err);
/* Flushes stdout: ED_OK, or ED_IO "cannot write to standard output" (a full disk, a closed pipe). */
enum ed_code ed_cli_flush_stdout(struct ed_err *err);
/* Prints "envdrift CMD: MSG" and a hint to --help (cmd NULL: "envdrift: MSG"); returns ED_EXIT_ERROR. */
int ed_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Seconds of a duration written 90s, 30m, 24h, 7d or a bare number of seconds; -1 if malformed. */
long long ed_cli_parse_duration(const char *s);
/* Should output to f use colour? (a terminal, NO_COLOR unset, TERM not dumb) */
bool ed_cli_color(FILE *f);

#endif
