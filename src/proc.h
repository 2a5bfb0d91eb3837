/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * proc.h: starting, demoting and reaping role processes.
 *
 * Trust: proc_spawn() and proc_reap() run in the privileged parent and see
 * no untrusted input; proc_drop_privileges() is the first thing a role
 * does before it touches untrusted input.
 */
#ifndef PM_PROC_H
#define PM_PROC_H

#include <sys/types.h>

#include <stddef.h>

#include "util.h"

#define PM_CHAN_FD		3	/* a child's channel to its parent */
#define PROC_KEEP_MAX		16	/* extra fds passed by proc_spawn */
#define PROC_SOCKBUF		(256 * 1024)

/* A SOCK_SEQPACKET|SOCK_CLOEXEC pair with PROC_SOCKBUF send/receive
 * buffers (the kernel may clamp them). */
int	 proc_socketpair(int sv[2], struct buf *err);

/*
 * fork + execv(path, argv) with this fd layout in the child:
 *
 *	0, 1, 2		inherited unchanged (the caller keeps them valid)
 *	3 (PM_CHAN_FD)	chan_fd
 *	4 .. 3+nkeep	keep_fds[0 .. nkeep-1], in order
 *	every other fd	closed (close_range, or a loop up to RLIMIT_NOFILE)
 *
 * The child also resets every signal disposition to SIG_DFL, empties its
 * signal mask, sets PR_SET_PDEATHSIG(SIGKILL) and exits if the parent died
 * before that took effect.  Failures in the child up to and including
 * execv() are reported back over a close-on-exec pipe, so a returned pid
 * is a child that has exec'd; otherwise the child was reaped and -1 is
 * returned with the failing step and errno.  The parent closes none of
 * its fds (chan_fd and keep_fds stay open).  The environment is
 * inherited.
 */
pid_t	 proc_spawn(const char *path, char *const argv[], int chan_fd,
	    const int *keep_fds, size_t nkeep, struct buf *err);

/*
 * Demote the calling process for good.  As root: look up `user` (before
 * any chroot), chroot(chroot_dir) + chdir("/") when chroot_dir is not
 * NULL, drop the capability bounding set (needs CAP_SETPCAP, so before the
 * uid change), setgroups(1, {gid}), setresgid, setresuid, then verify all
 * three uids and gids and that setuid(0)/setgid(0) now fail.  Always: clear
 * the ambient, effective, permitted and inheritable capability sets,
 * PR_SET_NO_NEW_PRIVS, RLIMIT_CORE 0, PR_SET_DUMPABLE 0.  When not root,
 * the user lookup and id changes are skipped (user may be NULL), the
 * bounding set is left alone if the kernel refuses (no CAP_SETPCAP), and
 * a chroot_dir must still succeed (it needs CAP_SYS_CHROOT).
 * On -1 the process is half-demoted: the caller must exit.
 */
int	 proc_drop_privileges(const char *user, const char *chroot_dir,
	    struct buf *err);

/* waitpid(-1, WNOHANG): 1 with *pid and *status when a child was reaped,
 * 0 when none is ready (or there are no children), -1 with errno. */
int	 proc_reap(pid_t *pid, int *status);

/* "exited 1", "killed by signal 9 (SIGKILL)", ... into buf; returns buf. */
const char *proc_describe_status(int status, char *buf, size_t len);

#endif /* PM_PROC_H */
