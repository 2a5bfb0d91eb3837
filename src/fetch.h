/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fetch.h: fetch one upstream tag's source tree with libgit2 (no git
 * processes), for the build worker (BEHAVIOUR.md §5.11).
 *
 * fetch_source() creates `dest` (which must not exist) as a fresh
 * repository with one remote and fetches only the tag's refspec
 * (+refs/tags/<tag>:refs/tags/<tag>, no other refs, no tag following),
 * peels the tag to its commit, checks the commit's tree out (force),
 * updates submodules when asked (init, recursively, same limits), then
 * removes every `.git` (directory, gitlink file or anything else of that
 * name) anywhere in the tree, so `dest` looks like a release tarball.
 * Built with libgit2 >= 1.7 (FETCH_HAVE_DEPTH; scripts/setup-deps takes
 * 1.8 from bookworm-backports), an http(s) or ssh upstream is fetched
 * shallow, depth 1: the tag's commit and its tree, no history.  Local
 * upstreams (libgit2's local transport refuses depth) and git:// (the
 * server hangs up on libgit2 1.8.4's shallow request) are fetched with
 * the tag's whole history, as is everything with libgit2 1.5, Debian
 * 12's own.  The build timestamp is the
 * COMMITTER time of the commit the tag points to (not the tag object's
 * date).
 *
 * Bounds: the whole fetch runs in a child process that is killed at the
 * deadline; inside it, libgit2's progress callbacks abort when the bytes
 * received exceed max_bytes or the deadline passes, and every tree is
 * measured (blob sizes from the object headers, entries counted) before
 * it is checked out, so a checkout over max_bytes or max_files is refused
 * before a byte of it is written.  The counts are cumulative over the
 * superproject and every submodule.
 *
 * Submodule URLs come from the upstream: a local one (file:// or a
 * path) is refused unless the superproject's own URL is local too.
 *
 * Errors, one line: "fetch source: <url> tag <tag>: <reason>", the reason
 * being libgit2's message (git_error_last) or ours.
 *
 * Trust: the URL and tag come from the trusted parent (validated again
 * here); everything the upstream sends is hostile and is only handled in
 * the child, which holds no descriptor but its result pipe and writes
 * nothing outside `dest` (RLIMIT_FSIZE = max_bytes).
 */
#ifndef PM_FETCH_H
#define PM_FETCH_H

#include <stdint.h>

#include <git2/version.h>

#include "util.h"

#define FETCH_DEF_MAX_BYTES	(20ULL << 30)	/* checkout, download */
#define FETCH_DEF_MAX_FILES	1000000ULL	/* tree entries */
#define FETCH_SUBMODULE_DEPTH	8		/* nesting levels */

/* git_fetch_options.depth exists (libgit2 >= 1.7). */
#define FETCH_HAVE_DEPTH	(LIBGIT2_VER_MAJOR > 1 || \
	(LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR >= 7))

struct fetch_opts {
	const char	*url;		/* git URL */
	const char	*tag;		/* name after refs/tags/ */
	const char	*dest;		/* absolute; must not exist */
	int		 submodules;	/* update them, recursively */
	uint64_t	 max_bytes;	/* 0: FETCH_DEF_MAX_BYTES */
	uint64_t	 max_files;	/* 0: FETCH_DEF_MAX_FILES */
	int64_t		 timeout_ms;	/* whole fetch; 0: none */
};

struct fetch_result {
	int64_t		 commit_time;	/* committer time, Unix s */
	char		 commit[41];	/* hex id of that commit */
	uint64_t	 bytes;		/* checked-out blob bytes */
	uint64_t	 files;		/* checked-out tree entries */
	int		 nsubmodules;	/* submodules checked out */
};

/* The whole fetch in a child process; see above.  0, or -1 and err. */
int	 fetch_source(const struct fetch_opts *, struct fetch_result *,
	    struct buf *err);

/* The same in this process, without the kill at the deadline (the child
 * runs this; tests may too).  Initialises libgit2. */
int	 fetch_run(const struct fetch_opts *, struct fetch_result *,
	    struct buf *err);

/* 0 when `tag` may be fetched (a valid refs/tags/ name), else -1. */
int	 fetch_tag_valid(const char *tag, struct buf *err);

#endif /* PM_FETCH_H */
