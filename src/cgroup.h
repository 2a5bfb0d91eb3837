/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * cgroup.h: one control group per build (memory and process limits,
 * out-of-memory accounting, a whole-tree kill), under a directory of
 * this manager's own.  cgroup v2 (a delegated subtree, or the root) or
 * the v1 memory and pids hierarchies.
 *
 * Trust: privileged parent only; reads kernel cgroup files, never
 * anything a build wrote.
 */
#ifndef PM_CGROUP_H
#define PM_CGROUP_H

#include <sys/types.h>
#include <stdint.h>

#include "util.h"

struct cgroups;

struct cg_report {
	uint64_t	 oom_kills;	/* processes the OOM killer ended */
	uint64_t	 pids_denied;	/* forks refused by pids.max */
	uint64_t	 memory_peak;	/* bytes; 0 when not reported */
};

/*
 * Find the cgroup hierarchy under fsroot (normally /sys/fs/cgroup), make
 * <own cgroup>/peipkg-manager.<pid> and remove the leftovers of dead
 * managers.  On cgroup v2 below the root, the caller moves into
 * <own>/supervisor first (the rule of no processes in inner nodes), so
 * call this before any child exists.  NULL with the reason in err when
 * cgroups cannot be used.
 */
struct cgroups	*cg_open(const char *fsroot, struct buf *err);
const char	*cg_describe(const struct cgroups *);	/* "v2 /sys/..." */

/* Make build-<id> with the limits (0: none) and move pid into it. */
int	 cg_build_create(struct cgroups *, uint32_t id, uint64_t memory_max,
	    uint64_t pids_max, struct buf *err);
int	 cg_build_attach(struct cgroups *, uint32_t id, pid_t pid,
	    struct buf *err);
void	 cg_build_report(struct cgroups *, uint32_t id, struct cg_report *);
/* Kill what is left in build-<id> and remove it, now or at a later
 * cg_sweep().  Returns how many builds wait for removal. */
size_t	 cg_build_remove(struct cgroups *, uint32_t id);
size_t	 cg_sweep(struct cgroups *);
/* Remove everything (waiting up to wait_ms for killed processes). */
void	 cg_close(struct cgroups *, int wait_ms);

#endif /* PM_CGROUP_H */
