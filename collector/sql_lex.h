/* SPDX-License-Identifier: MIT */
/* Lexing helpers the SQL readers of the collector share (collector/sql_literals.c). */
#ifndef ED_SQL_LEX_H
#define ED_SQL_LEX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Index past the run quoted by q that starts at s[i] (q doubled is a q
 * inside; with bs, a backslash escapes the next byte too, as in E'...');
 * n when it is unterminated.
 */
size_t ed_sql_quoted_end(const char *s, size_t n, size_t i, char q, bool bs);

/*
 * PostgreSQL: index past the dollar-quoted string "$tag$...$tag$" that starts
 * at s[i] == '$', or 0 when none starts there ("$1" is a parameter, "a$b$" an
 * identifier); n when it is unterminated. *tag receives the length of
 * "$tag$", *close where the closing one starts (n when there is none).
 */
size_t ed_sql_dollar_end(const char *s, size_t n, size_t i, size_t *tag, size_t *close);

#endif
