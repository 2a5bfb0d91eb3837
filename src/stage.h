/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * stage.h: what a build script left in DESTDIR, split among the recipe's
 * [[package]] stanzas (BEHAVIOUR.md §3.6-3.9, §3.12; CONSUMER.md P1, P4,
 * P6).
 *
 *   stage_collect    walk DESTDIR (never following a symlink) in lexical
 *                    order: regular files and symlinks are leaves,
 *                    directories only when a `files` pattern ending in
 *                    '/' claims them; anything else is an error.
 *   stage_partition  give each leaf to the one package whose patterns
 *                    match it; every orphan and every overlap (with the
 *                    stanzas involved) is reported.
 *   stage_validate   the consumer's payload path syntax and the newest
 *                    packer's layout rules on every claimed leaf.
 *   stage_entries    one package's payload: its leaves plus their
 *                    ancestor directories, in on-wire name order.
 *
 * Each step appends ALL of its problems to err as one message (several
 * lines) and returns -1 if there was any, so a caller can run the three
 * steps and report everything at once.  Paths in messages are printed
 * as they are when they are plain printable ASCII, else quoted with
 * escapes (a hostile name cannot forge message lines).
 *
 * Trust: the tree was written by a hostile build script.  Every open is
 * relative to the DESTDIR descriptor with O_NOFOLLOW on each component;
 * sizes, depths and counts are bounded.
 */
#ifndef PM_STAGE_H
#define PM_STAGE_H

#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

#include "recipe.h"
#include "util.h"

#define STAGE_MAX_LEAVES	1000000	/* leaves in one DESTDIR */
#define STAGE_MAX_DEPTH		256	/* components of a path */
#define STAGE_MAX_PATH		4096	/* bytes of a relative path */
#define STAGE_MAX_ENTRIES	100000	/* payload entries of one package */

enum stage_type {
	STAGE_FILE = 0,
	STAGE_SYMLINK = 1,
	STAGE_DIR = 2
};

struct stage_leaf {
	char		*path;		/* relative, no '/' at the end */
	enum stage_type	 type;
	char		*target;	/* symlink: raw readlink() text */
	uint64_t	 size;		/* regular file: size at walk time */
	int		 pkg;		/* claiming package index, -1: none */
};

struct stage {
	struct stage_leaf	*leaves;	/* in walk order */
	size_t			 nleaves;
	size_t			 cap;
};

/* One payload entry of one package. */
struct stage_entry {
	char			*name;	/* on-wire; directories end in '/' */
	enum stage_type		 type;
	const struct stage_leaf	*leaf;	/* NULL: a synthesised ancestor */
};

void	 stage_init(struct stage *);
void	 stage_free(struct stage *);

/*
 * Walk the tree under `rootfd` (an O_DIRECTORY descriptor of DESTDIR).
 * Explicit directory claims come from the packages' patterns ending in
 * '/'.  Messages are prefixed "walk staged tree: ".
 */
int	 stage_collect(int rootfd, const struct recipe_package *, size_t npkgs,
	    struct stage *, struct buf *err);
/*
 * glob_validate() every `files` pattern; each bad one is reported as
 *   package <name>: invalid glob "<pattern>": <why>
 */
int	 stage_check_patterns(const struct recipe_package *, size_t npkgs,
	    struct buf *err);
/*
 * Sets leaf->pkg (after stage_check_patterns, which it runs first).
 * Reports, in walk order, every leaf matched by several packages:
 *   path "<p>" matches multiple packages [<a> <b>]; package file globs
 *   must be disjoint
 * then every orphan, sorted:
 *   staged paths claimed by no package:\n  <p1>\n  <p2>
 */
int	 stage_partition(const struct recipe_package *, size_t npkgs,
	    struct stage *, struct buf *err);
/*
 * Every claimed leaf, packages in declaration order, paths sorted:
 *   payload validation failed:\n  package <p>: <problem>\n  ...
 * Also refuses a package with more than STAGE_MAX_ENTRIES entries.
 */
int	 stage_validate(const struct recipe_package *, size_t npkgs,
	    const struct stage *, struct buf *err);
/* The payload of package `pkg` (claimed leaves + ancestors), sorted. */
void	 stage_entries(const struct stage *, int pkg, struct stage_entry **,
	    size_t *n);
void	 stage_entries_free(struct stage_entry *, size_t);

/*
 * Open `path` (relative) below rootfd without following a symlink in any
 * component.  `flags` are for the last component (O_NOFOLLOW and
 * O_CLOEXEC are added).  -1 with errno set on failure.
 */
int	 stage_openat(int rootfd, const char *path, int flags, mode_t mode);
/*
 * Open a regular file leaf for reading: refuses anything that is not a
 * regular file any more or whose size changed since the walk.
 */
int	 stage_open_leaf(int rootfd, const struct stage_leaf *,
	    struct buf *err);
/* Append a path for a message: verbatim if plain ASCII, else quoted. */
void	 stage_show(struct buf *, const char *);

#endif /* PM_STAGE_H */
