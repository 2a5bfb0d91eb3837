/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * glob.h: the doublestar path matcher that partitions a staged DESTDIR
 * among a recipe's [[package]] stanzas by their `files` patterns
 * (BEHAVIOUR.md 3.7, the reference's doublestar v4 Match).
 *
 * A pattern matches the whole relative path; nothing is normalised.
 *   *        any run of characters other than '/' (dots not special)
 *   ?        one UTF-8 character other than '/'
 *   [a-z] [!a] [^a]   one character from / not from a class ('\' escapes)
 *   {a,b}    alternatives, may nest
 *   \c       the literal c
 *   **       as a whole path segment: zero or more directories (so
 *            a, **, b joined by slashes matches a/b and a/x/y/b); as
 *            the last segment also the directory itself and everything
 *            below it; alone, every path.  Anywhere else ** is *.
 *
 * Trust: patterns come from recipes (operator files, but validated like
 * untrusted input); paths come from a tree a hostile build script wrote.
 * Matching is a set-of-states simulation: O(len(path) * len(pattern))
 * work whatever the pattern, no recursion on the path, no expansion of
 * braces.
 */
#ifndef PM_GLOB_H
#define PM_GLOB_H

#include "util.h"

#define GLOB_MAX_LEN		4096	/* bytes in one pattern */
#define GLOB_MAX_DEPTH		32	/* nested brace levels */
#define GLOB_MAX_ALTS		1024	/* brace alternatives in one pattern */

/*
 * Check a pattern once, up front, whether or not it would ever be used.
 * Returns 0, or -1 after appending
 *   invalid glob "<pattern>": <why>
 * to err (the pattern quoted with \" \\ \n \t \r \xNN escapes).  Beyond
 * the reference's own syntax errors (trailing backslash, unterminated or
 * empty class, unbalanced braces) this refuses what the reference
 * accepts but then fails on whenever it reaches it: a ',', '{' or '}'
 * inside a character class inside braces.  It also enforces the limits
 * above.
 */
int	 glob_validate(const char *pattern, struct buf *err);

/*
 * 1 if `path` matches `pattern`, else 0.  The pattern should have passed
 * glob_validate(); an invalid one never matches.
 */
int	 glob_match(const char *pattern, const char *path);

#endif /* PM_GLOB_H */
