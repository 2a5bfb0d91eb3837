/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * git2compat.h: libgit2 for the fetch and the tag listing, across the
 * versions we build with: 1.5 (Debian 12) and 1.8 (bookworm-backports,
 * which adds shallow fetches).
 *
 * Trust: none needed; declarations only.
 */
#ifndef PM_GIT2COMPAT_H
#define PM_GIT2COMPAT_H

#include <git2.h>

/* git_error_clear() moved to the "sys" headers in libgit2 1.8. */
#if LIBGIT2_VER_MAJOR > 1 || (LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR >= 8)
#include <git2/sys/errors.h>
#endif

#endif /* PM_GIT2COMPAT_H */
