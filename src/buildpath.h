/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * buildpath.h: the one build path shared by `peipkg-build build` and the
 * daemon's per-build worker (peipkg-buildd): run a recipe's build.sh,
 * sign its [[sign]] binaries, partition DESTDIR among the [[package]]
 * stanzas and pack one deterministic .peipkg per stanza (BEHAVIOUR.md
 * §3.3-3.12, with the consumer's rules of CONSUMER.md §2.3).
 *
 * Order of build_run():
 *   1. validation, before anything runs, every problem reported at once:
 *      extra environment names (§3.4), the version (consumer grammar),
 *      the timestamp range, every `files` glob, every [[sign]] key being
 *      held by the signer (fail closed), every manifest as far as it is
 *      known before the build (consumer rules, same_build resolved);
 *   2. out_dir created; work_root/destdir and work_root/work created
 *      empty;
 *   3. build.sh run as `/bin/sh <abs script>` with exactly SOURCE_DIR,
 *      DESTDIR, SOURCE_DATE_EPOCH, LC_ALL=C, TZ=UTC, PATH, then the extra
 *      environment sorted by name; stdin /dev/null; cwd work/ (in the
 *      sandbox, or a plain fork/exec);
 *   4. [[sign]] stanzas in order (kind SIGN_BINARY, subject = the path);
 *   5. collect, partition, validate DESTDIR (all problems together);
 *   6. per [[package]] in declaration order: manifest, then the package
 *      written under a temporary name in out_dir;
 *   7. all packages renamed to <name>_<version>_<arch>.peipkg.
 * On any failure nothing of this run is left in out_dir.  destdir/ and
 * work/ are always removed; work_root itself belongs to the caller.
 *
 * Trust: params are trusted (the caller validated flags / config /
 * recipe); everything build.sh leaves behind is hostile (stage.h).
 */
#ifndef PM_BUILDPATH_H
#define PM_BUILDPATH_H

#include <stdint.h>

#include "recipe.h"
#include "sandbox.h"
#include "sign.h"
#include "util.h"

struct build_params {
	const struct recipe	*recipe;	/* RECIPE_BUILD or _MANAGER */
	const char		*source_dir;	/* absolute; SOURCE_DIR */
	const char		*version;	/* full version, verbatim */
	const char		*source_ref;	/* build.source_ref */
	const char		*farm_id;	/* build.farm_id */
	int64_t			 timestamp;	/* Unix seconds; build.timestamp
						   is its "...Z" form */
	const char		*out_dir;	/* packages go here (created) */
	const char		*work_root;	/* existing; destdir/ and work/
						   are made inside */
	struct signer		*signer;	/* binary and package
						   signatures; NULL: neither */
	int			 sign_packages;	/* sign each package (signer's
						   package key) */
	const char *const	*sign_keys;	/* binary-signing key names the
						   signer holds; NULL-terminated
						   (or NULL: none) */
	const char *const	*build_env;	/* extra NAME=VALUE, or NULL */
	const char		*path_env;	/* PATH for build.sh */
	int			 use_sandbox;
	struct sandbox_conf	 sandbox;	/* ids, limits, hide, log_fd and
						   err_fd; the script, dirs and
						   env are filled in here */
	int			 out_fd;	/* build.sh stdout without the
						   sandbox (-1: inherit) */
	int			 err_fd;	/* its stderr (-1: inherit) */
	int			 zstd_level;	/* 0: ZOUT_DEFAULT_LEVEL */
	int			 zstd_workers;	/* 0: 1 */
};

struct build_result {
	char	**outputs;	/* absolute paths, declaration order */
	size_t	  noutputs;
};

/* Run the whole build; see above.  -1 with every message in err. */
int	 build_run(const struct build_params *, struct build_result *,
	    struct buf *err);
void	 build_result_free(struct build_result *);

/*
 * Checks the CLI and the worker make before a build; each appends one
 * message per problem and returns -1 if there was any.
 */
/* A whole-second UTC "YYYY-MM-DDTHH:MM:SSZ" timestamp in tar range. */
int	 build_parse_timestamp(const char *, int64_t *, struct buf *err);
/* A full version by the consumer's grammar ([epoch:]upstream-revision). */
int	 build_check_version(const char *, struct buf *err);
/* NAME=VALUE list: name syntax, reserved names, duplicates (§3.4). */
int	 build_check_env(const char *const *, struct buf *err);

#endif /* PM_BUILDPATH_H */
