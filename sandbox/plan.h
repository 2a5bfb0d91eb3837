/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * plan.h: what the supervisor (sandbox.c, outside) prepares for the
 * sandbox's init (inner.c, inside), and the status-pipe records the
 * inside sends back.  Everything here is computed before clone(2), so the
 * child allocates little and every configuration error surfaces in the
 * caller's process.
 *
 * Trust: built from the trusted sandbox_conf; never seen by build.sh.
 */
#ifndef PM_SANDBOX_PLAN_H
#define PM_SANDBOX_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"

#define PLAN_MAX_MASKS	64

/* One path to make inaccessible inside. */
struct plan_mask {
	char	*path;		/* canonical host path */
	int	 is_dir;	/* empty read-only tmpfs; else a mode-0 file */
	int	 early;		/* an ancestor of a bind: mask before binds */
};

struct plan {
	const struct sandbox_conf *conf;
	char		*source;	/* canonical copies of the conf paths */
	char		*destdir;
	char		*workdir;
	char		*scriptdir;	/* the directory holding build.sh */
	struct plan_mask masks[PLAN_MAX_MASKS];
	size_t		 nmasks;
	void		*filter;	/* libseccomp context (scmp_filter_ctx) */
	int		 drop_groups;	/* caller is root: clear groups inside */
	int		 log_w;		/* child ends of the pipes */
	int		 err_w;		/* stderr pipe; -1: stderr is log_w */
	int		 status_w;
	int		 sync_r;
};

/*
 * Status pipe: fixed-size records, each written with one write(2) (smaller
 * than PIPE_BUF, hence atomic even with two writers).
 */
enum plan_msg_kind {
	PLAN_MSG_ERROR = 1,	/* set-up failed; text says why */
	PLAN_MSG_DONE = 2	/* value = wait status of build.sh */
};

struct plan_msg {
	int32_t	 kind;
	int32_t	 value;
	char	 text[248];
};

/* inner.c: the namespace child; never returns. */
void	 inner_main(const struct plan *) __attribute__((noreturn));

#endif /* PM_SANDBOX_PLAN_H */
