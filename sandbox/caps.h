/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * caps.h: capability drop and no_new_privs (RELIABILITY.md §3.3).
 *
 * Trust: runs inside the sandbox before build.sh; sees no input.
 */
#ifndef PM_SANDBOX_CAPS_H
#define PM_SANDBOX_CAPS_H

#include "util.h"

/* Lock the securebits (needs CAP_SETPCAP; call before caps_drop_all). */
int	 caps_lock_securebits(struct buf *);

/*
 * Empty the bounding, ambient, inheritable, permitted and effective sets,
 * check that they are empty, then set no_new_privs.  Idempotent.
 */
int	 caps_drop_all(struct buf *);

#endif /* PM_SANDBOX_CAPS_H */
