/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * mounts.h: the sandbox's file-system view (RELIABILITY.md §3.1 step 3).
 *
 * Trust: mounts_plan() runs in the caller on the trusted conf;
 * mounts_setup() runs inside the new mount namespace before build.sh
 * exists.
 */
#ifndef PM_SANDBOX_MOUNTS_H
#define PM_SANDBOX_MOUNTS_H

#include "plan.h"
#include "util.h"

/* Canonicalise the conf paths and list the masks (caller side). */
int	 mounts_plan(struct plan *, struct buf *);
void	 mounts_plan_free(struct plan *);

/*
 * Inside: build the new root on a tmpfs, pivot into it and chdir to the
 * working directory.  Needs CAP_SYS_ADMIN in the mount namespace's owner.
 */
int	 mounts_setup(const struct plan *, struct buf *);

#endif /* PM_SANDBOX_MOUNTS_H */
