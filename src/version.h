/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * version.h: PSD-009 package versions "[epoch:]upstream-revision" and
 * the consumer client's comparison (CONSUMER.md §1.10: a '-' does not
 * end a pre-release tail; digit runs compare by value with no limit).
 *
 * Trust: inputs come from upstream tags and package manifests; parsing
 * is bounded and allocation-free except for version_parse's copy.
 */
#ifndef PM_VERSION_H
#define PM_VERSION_H

#include <stdint.h>

#include "util.h"

#define VERSION_MAX_LEN	256

struct pm_version {
	int64_t	 epoch;
	char	*upstream;	/* owned */
	int64_t	 revision;
};

/* Parse a full version; on error appends a message naming the string. */
int	 version_parse(const char *, struct pm_version *, struct buf *err);
void	 version_free(struct pm_version *);
int	 version_valid(const char *);
/* Upstream part only (what a tag captures), e.g. "1.2.3~rc1". */
int	 version_upstream_valid(const char *, struct buf *err);

/* Compare two parsed versions: <0, 0, >0. */
int	 version_cmp(const struct pm_version *, const struct pm_version *);
/*
 * Compare two version strings; both must be valid (returns -2 and sets
 * err otherwise, which callers treat as an error).
 */
int	 version_cmp_str(const char *, const char *, struct buf *err);
/* Compare upstream strings only (min_version checks). */
int	 version_cmp_upstream(const char *, const char *);

#endif /* PM_VERSION_H */
