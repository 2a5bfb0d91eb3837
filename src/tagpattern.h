/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * tagpattern.h: a recipe's upstream.tag_pattern: which git tags are
 * versions, and the upstream version each one names.
 *
 * Patterns use Go RE2 syntax, run on PCRE2 restricted to that subset
 * (no backreferences, lookaround, atomic groups, possessive
 * quantifiers, recursion, conditionals, verbs or \C; \d is ASCII only).
 * Two styles:
 *   unnamed  at least one capture group; group 1 is the version;
 *   named    (?P<major>..) (?P<minor>..) [(?P<patch>..)]
 *            [(?P<prerelease>..)], composed major.minor[.patch][-pre].
 * A tag matches if the pattern is found anywhere in it (leftmost-first);
 * anchor with ^...$ to match whole tags.
 *
 * Trust: the pattern comes from an operator file; tags come from the
 * upstream (hostile).  Matching is bounded (tag length, PCRE2 match,
 * depth and heap limits) and a capture is only ever returned after it
 * passed version_upstream_valid(), so "v1/../../x" never reaches a path.
 */
#ifndef PM_TAGPATTERN_H
#define PM_TAGPATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define TAGPATTERN_MAX_PATTERN	1024	/* bytes */
#define TAGPATTERN_MAX_TAG	1024	/* bytes; longer tags are refused */
#define TAGPATTERN_MAX_REPEAT	1000	/* {n,m} bound, as RE2 */

struct tagpattern;

enum tag_result {
	TAG_REFUSED = -1,	/* matched, but unusable: err says why */
	TAG_NOMATCH = 0,
	TAG_MATCH = 1,		/* m filled */
	TAG_BELOW_MIN = 2	/* matched, below min_version; m->upstream set */
};

struct tag_match {
	char	*upstream;	/* captured upstream version, validated */
	char	*version;	/* "<upstream>-<revision>" */
};

/*
 * Compile and validate.  Errors (one appended to err), e.g.
 *   tag_pattern "^v1$" must have at least one capture group (the version string)
 *   invalid tag_pattern "(": missing closing parenthesis at offset 1
 */
struct tagpattern *tagpattern_compile(const char *, struct buf *err);
void	 tagpattern_free(struct tagpattern *);
const char *tagpattern_source(const struct tagpattern *);
int	 tagpattern_named(const struct tagpattern *);

/*
 * Match one tag: 1 and *captured (owned; not validated) on a match,
 * 0 on no match, -1 when the tag is too long or a match limit hit.
 */
int	 tagpattern_capture(const struct tagpattern *, const char *tag,
	    size_t len, char **captured, struct buf *err);

/*
 * The whole rule for one tag: match, validate the capture as an upstream
 * version, filter by min_version (NULL or "" = none), compose the
 * package version with revision (>= 1).
 */
enum tag_result tagpattern_eval(const struct tagpattern *, const char *tag,
	    size_t len, const char *min_version, int64_t revision,
	    struct tag_match *m, struct buf *err);
void	 tag_match_free(struct tag_match *);

#endif /* PM_TAGPATTERN_H */
