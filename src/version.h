/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * version.h: PSD-009 package versions "[epoch:]upstream-revision" and
 * the consumer client's comparison (CONSUMER.md §1.10: a '-' does not
 * end a pre-release tail; digit runs compare by value with no limit).
 *
 * Trust: inputs come from upstream tags and package manifests; parsing
 * is bounded and allocates only the upstream copy (version_cmp_upstream
 * builds two temporary strings).  Error messages name the value, quoted
 * with non-printable-ASCII bytes as \xNN, and are one line.
 */
#ifndef PM_VERSION_H
#define PM_VERSION_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Longest upstream part accepted (tags and full versions alike). */
#define VERSION_MAX_LEN	256

struct pm_version {
	int64_t	 epoch;
	char	*upstream;	/* owned */
	int64_t	 revision;
};

/* Parse a full version; on error appends a message naming the string. */
int	 version_parse(const char *, struct pm_version *, struct buf *err);
void	 version_free(struct pm_version *);
/* 1 when version_parse would accept the string, else 0. */
int	 version_valid(const char *);
/*
 * Upstream part only (what a tag captures), e.g. "1.2.3~rc1": 1 to
 * VERSION_MAX_LEN bytes, first an ASCII letter or digit, then letters,
 * digits and . + - ~ only.  Returns 0, or -1 with a message.  The _len
 * form checks `len` bytes, so an embedded NUL is refused too.
 */
int	 version_upstream_valid(const char *, struct buf *err);
int	 version_upstream_valid_len(const char *, size_t len, struct buf *err);
/*
 * A constraint operand "[epoch:]upstream[-revision]" (PSD-009 2.2.8): the
 * revision may be omitted, in which case *has_revision is 0 and
 * v->revision 0.  `len` bytes of the string are parsed.
 */
int	 version_parse_operand(const char *, size_t len, struct pm_version *,
	    int *has_revision, struct buf *err);
/*
 * Render "[epoch:]upstream-revision": a zero epoch is dropped, and so is
 * a zero revision (an operand written without one).
 */
void	 version_format(struct buf *, const struct pm_version *);

/* Compare two parsed versions: <0, 0, >0. */
int	 version_cmp(const struct pm_version *, const struct pm_version *);
/*
 * Compare two version strings; both must be valid (returns -2 and sets
 * err otherwise, which callers treat as an error).
 */
int	 version_cmp_str(const char *, const char *, struct buf *err);
/*
 * Compare upstream strings only (min_version checks), as if "-1" were
 * appended to both (so "1:2.0" carries an epoch).  Total: a string that
 * does not parse is compared by the upstream algorithm alone.
 */
int	 version_cmp_upstream(const char *, const char *);

#endif /* PM_VERSION_H */
