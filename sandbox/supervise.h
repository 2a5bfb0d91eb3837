/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * supervise.h: the outside half of a sandboxed build: log copying,
 * timeouts, and how it ended (RELIABILITY.md §3.5 timers, §3.6 output).
 *
 * Trust: runs in the caller; reads hostile bytes from the log pipe
 * (copied, never parsed) and fixed-size records from the status pipe.
 */
#ifndef PM_SANDBOX_SUPERVISE_H
#define PM_SANDBOX_SUPERVISE_H

#include <sys/types.h>

#include <stdint.h>

#include "sandbox.h"

struct supervise_args {
	const struct sandbox_conf *conf;
	pid_t		 pid;		/* the namespace's init, our child */
	int		 pidfd;
	int		 log_r;		/* build.sh stdout+stderr */
	int		 err_r;		/* its stderr when conf->err_fd > 0, or -1 */
	int		 status_r;	/* struct plan_msg records */
	int		 alive_w;	/* held open while we supervise: the
					 * init sees EOF on it if we die */
	int64_t		 start_ms;	/* CLOCK_MONOTONIC at clone */
};

/*
 * Run until init has exited and both pipes are drained; init is reaped
 * and the fds are closed on return.  0 and *res filled in when build.sh
 * ran, -1 with err set (and res->end SBX_SETUP_FAILED) when the inside
 * reported a set-up failure.
 */
int	 supervise(const struct supervise_args *, struct sandbox_result *,
	    struct buf *);

int64_t	 supervise_now_ms(void);

#endif /* PM_SANDBOX_SUPERVISE_H */
