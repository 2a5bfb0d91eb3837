/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * sbxfilter.h: the build-script seccomp filter (RELIABILITY.md §3.4).
 *
 * Trust: built by the trusted caller, loaded into the build's process.
 */
#ifndef PM_SBXFILTER_H
#define PM_SBXFILTER_H

#include <seccomp.h>

#include "util.h"

/*
 * Build the build.sh filter: default allow, the deny table of §3.4
 * (ptrace left alone when allow_ptrace), ENOSYS for syscall numbers this
 * libseccomp does not know, and kill-process for any other architecture
 * or x32.  NULL with err set on failure.
 */
scmp_filter_ctx	 sbxfilter_build(int, struct buf *);

/* Load it into the calling process (no_new_privs must already be set). */
int		 sbxfilter_install(scmp_filter_ctx, struct buf *);

#endif /* PM_SBXFILTER_H */
