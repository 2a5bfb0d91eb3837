/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * proc.c: the channel socketpair, fork + exec with a fixed fd layout,
 * the privilege drop every role performs first, and reaping (proc.h).
 *
 * Trust: no untrusted input.  proc_spawn() runs in the privileged parent;
 * between fork and exec the child only moves fds, resets signals and
 * reports failures through a pipe (no allocation, no logging).
 */
#include "config.h"

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

/* A failure between fork and exec, sent to the parent over a pipe. */
struct spawn_fail {
	int	 step;
	int	 err;
};

enum spawn_step {
	STEP_DUP = 0,
	STEP_PLACE,
	STEP_CLOSE,
	STEP_SIGNALS,
	STEP_PDEATHSIG,
	STEP_PARENT_GONE,
	STEP_EXEC
};

static const char *const step_names[] = {
	"duplicating fds", "placing fds", "closing fds", "resetting signals",
	"PR_SET_PDEATHSIG", "parent exited", "execv"
};

struct spawn {
	const char	*path;
	char *const	*argv;
	int		 chan_fd;
	const int	*keep;
	size_t		 nkeep;
	int		*tmp;		/* nkeep + 1 slots, from the parent */
	int		 errfd;
	pid_t		 ppid;
};

static void	 child_fail(int, int) PM_NORETURN;
static int	 child_place_fds(const struct spawn *, int *);
static int	 child_close_from(int);
static int	 child_reset_signals(void);
static void	 spawn_child(const struct spawn *) PM_NORETURN;
static int	 spawn_wait(pid_t, int, const char *, struct buf *);
static int	 drop_bounding(int, struct buf *);
static int	 set_ids(const char *, uid_t, gid_t, struct buf *);
static int	 clear_caps(struct buf *);
static int	 notfound(int);

int
proc_socketpair(int sv[2], struct buf *err)
{
	int	 sz = PROC_SOCKBUF, i;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return errf(err, "socketpair: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz)) == -1 ||
		    setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz)) == -1) {
			errf(err, "setsockopt SO_SNDBUF/SO_RCVBUF: %s",
			    strerror(errno));
			close(sv[0]);
			close(sv[1]);
			sv[0] = sv[1] = -1;
			return -1;
		}
	}
	return 0;
}

/* ---- the child, between fork and exec ----------------------------- */

static void
child_fail(int errfd, int step)
{
	struct spawn_fail	 f;

	f.step = step;
	f.err = errno;
	(void)!write(errfd, &f, sizeof(f));
	_exit(127);
}

/*
 * Copy every source above the target range first, so that placing one fd
 * cannot clobber another source (chan_fd may be 4, a kept fd may be 3),
 * then dup2 into place, which also clears FD_CLOEXEC on the target.  The
 * error pipe goes right after the kept fds and stays close-on-exec.
 */
static int
child_place_fds(const struct spawn *sp, int *errfd)
{
	int	 errslot = PM_CHAN_FD + 1 + (int)sp->nkeep;
	int	 efd;
	size_t	 i;

	if ((efd = fcntl(sp->errfd, F_DUPFD_CLOEXEC, errslot + 1)) == -1)
		_exit(127);
	*errfd = efd;
	if ((sp->tmp[0] = fcntl(sp->chan_fd, F_DUPFD_CLOEXEC,
	    errslot + 1)) == -1)
		child_fail(efd, STEP_DUP);
	for (i = 0; i < sp->nkeep; i++)
		if ((sp->tmp[i + 1] = fcntl(sp->keep[i], F_DUPFD_CLOEXEC,
		    errslot + 1)) == -1)
			child_fail(efd, STEP_DUP);
	for (i = 0; i <= sp->nkeep; i++)
		if (dup2(sp->tmp[i], PM_CHAN_FD + (int)i) == -1)
			child_fail(efd, STEP_PLACE);
	if (dup2(efd, errslot) == -1 ||
	    fcntl(errslot, F_SETFD, FD_CLOEXEC) == -1)
		child_fail(efd, STEP_PLACE);
	*errfd = errslot;
	return errslot + 1;
}

static int
child_close_from(int lowfd)
{
	struct rlimit	 rl;
	rlim_t		 fd;

	if (close_range((unsigned)lowfd, ~0U, 0) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	for (fd = (rlim_t)lowfd; fd < rl.rlim_max && fd < INT32_MAX; fd++)
		close((int)fd);
	return 0;
}

/* SIG_IGN and the mask survive execve.  Dispositions first, then the
 * mask, which proc_spawn() filled before fork. */
static int
child_reset_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 set;
	int			 sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, &sa, NULL) == -1 && errno != EINVAL)
			return -1;
	}
	sigemptyset(&set);
	return sigprocmask(SIG_SETMASK, &set, NULL);
}

static void
spawn_child(const struct spawn *sp)
{
	int	 efd, low;

	low = child_place_fds(sp, &efd);
	if (child_close_from(low) == -1)
		child_fail(efd, STEP_CLOSE);
	if (child_reset_signals() == -1)
		child_fail(efd, STEP_SIGNALS);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		child_fail(efd, STEP_PDEATHSIG);
	if (getppid() != sp->ppid) {
		errno = ESRCH;
		child_fail(efd, STEP_PARENT_GONE);
	}
	execv(sp->path, sp->argv);
	child_fail(efd, STEP_EXEC);
}

/* ---- the parent --------------------------------------------------- */

/* EOF on the pipe means execv succeeded (close-on-exec). */
static int
spawn_wait(pid_t pid, int rfd, const char *path, struct buf *err)
{
	struct spawn_fail	 f;
	ssize_t			 n;
	pid_t			 w;

	do
		n = read(rfd, &f, sizeof(f));
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n == (ssize_t)sizeof(f) && f.step >= 0 &&
	    (size_t)f.step < nitems(step_names))
		errf(err, "spawn %s: %s: %s", path, step_names[f.step],
		    strerror(f.err));
	else
		errf(err, "spawn %s: child failed before exec", path);
	do
		w = waitpid(pid, NULL, 0);
	while (w == -1 && errno == EINTR);
	return -1;
}

pid_t
proc_spawn(const char *path, char *const argv[], int chan_fd,
    const int *keep_fds, size_t nkeep, struct buf *err)
{
	struct spawn	 sp;
	sigset_t	 all, old;
	int		 pfd[2];
	size_t		 i;
	pid_t		 pid;

	if (chan_fd < 0 || nkeep > PROC_KEEP_MAX)
		return errf(err, "spawn %s: bad channel fd or too many fds",
		    path);
	for (i = 0; i < nkeep; i++)
		if (keep_fds[i] < 0)
			return errf(err, "spawn %s: bad fd to keep", path);
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return errf(err, "spawn %s: pipe: %s", path, strerror(errno));
	sp.path = path;
	sp.argv = argv;
	sp.chan_fd = chan_fd;
	sp.keep = keep_fds;
	sp.nkeep = nkeep;
	sp.tmp = xcalloc(nkeep + 1, sizeof(int));
	sp.errfd = pfd[1];
	sp.ppid = getpid();
	/* No handler of ours (libevent's included) may run in the child
	 * while its fds are being moved: block everything across fork; the
	 * child unblocks after resetting the dispositions. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == -1)
		errf(err, "spawn %s: fork: %s", path, strerror(errno));
	else if (pid == 0)
		spawn_child(&sp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pfd[1]);
	if (pid != -1 && spawn_wait(pid, pfd[0], path, err) == -1)
		pid = -1;
	close(pfd[0]);
	free(sp.tmp);
	return pid;
}

/* ---- dropping privileges ------------------------------------------ */

/* Needs CAP_SETPCAP; without it (not root) the set is left as is. */
static int
drop_bounding(int root, struct buf *err)
{
	cap_value_t	 cap;
	int		 r;

	for (cap = 0; (r = cap_get_bound(cap)) >= 0; cap++) {
		if (r == 0)
			continue;
		if (cap_drop_bound(cap) == -1) {
			if (!root && errno == EPERM)
				return 0;
			return errf(err, "drop capability %d from the "
			    "bounding set: %s", (int)cap, strerror(errno));
		}
	}
	return 0;
}

static int
set_ids(const char *user, uid_t uid, gid_t gid, struct buf *err)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg;

	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return errf(err, "switch to user %s (%lu:%lu): %s", user,
		    (unsigned long)uid, (unsigned long)gid, strerror(errno));
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		return errf(err, "getresuid: %s", strerror(errno));
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid)
		return errf(err, "switch to user %s: ids are %lu/%lu/%lu "
		    "%lu/%lu/%lu", user, (unsigned long)ru, (unsigned long)eu,
		    (unsigned long)su, (unsigned long)rg, (unsigned long)eg,
		    (unsigned long)sg);
	if (setuid(0) != -1 || setgid(0) != -1)
		return errf(err, "switch to user %s: root could be regained",
		    user);
	return 0;
}

static int
clear_caps(struct buf *err)
{
	cap_t	 none, now = NULL;
	int	 rv = -1;

	if (cap_reset_ambient() == -1 && errno != EINVAL) {
		errf(err, "clear ambient capabilities: %s", strerror(errno));
		return -1;
	}
	if ((none = cap_init()) == NULL) {
		errf(err, "cap_init: %s", strerror(errno));
		return -1;
	}
	if (cap_set_proc(none) == -1)
		errf(err, "clear capabilities: %s", strerror(errno));
	else if ((now = cap_get_proc()) == NULL)
		errf(err, "cap_get_proc: %s", strerror(errno));
	else if (cap_compare(now, none) != 0)
		errf(err, "capabilities still set after clearing them");
	else
		rv = 0;
	cap_free(now);
	cap_free(none);
	return rv;
}

/* getpwnam(3): these errno values all mean "not found". */
static int
notfound(int e)
{
	return e == 0 || e == ENOENT || e == ESRCH || e == EBADF ||
	    e == EPERM;
}

int
proc_drop_privileges(const char *user, const char *chroot_dir,
    struct buf *err)
{
	struct passwd	*pw;
	struct rlimit	 rl = { 0, 0 };
	uid_t		 uid = 0;
	gid_t		 gid = 0;
	int		 root = geteuid() == 0;

	if (root) {
		errno = 0;
		if (user == NULL || (pw = getpwnam(user)) == NULL)
			return errf(err, "user %s: %s", user ? user : "(none)",
			    notfound(errno) ? "no such user" : strerror(errno));
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		if (uid == 0)
			return errf(err, "user %s has uid 0", user);
	}
	if (chroot_dir != NULL && (chroot(chroot_dir) == -1 ||
	    chdir("/") == -1))
		return errf(err, "chroot %s: %s", chroot_dir, strerror(errno));
	if (drop_bounding(root, err) == -1)
		return -1;
	if (root && set_ids(user, uid, gid, err) == -1)
		return -1;
	if (clear_caps(err) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return errf(err, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return errf(err, "RLIMIT_CORE: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return errf(err, "PR_SET_DUMPABLE: %s", strerror(errno));
	return 0;
}

/* ---- reaping ------------------------------------------------------ */

int
proc_reap(pid_t *pid, int *status)
{
	pid_t	 r;

	do
		r = waitpid(-1, status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return errno == ECHILD ? 0 : -1;
	if (r == 0)
		return 0;
	*pid = r;
	return 1;
}

const char *
proc_describe_status(int status, char *buf, size_t len)
{
	const char	*abbr;
	int		 sig;

	if (WIFEXITED(status)) {
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
		return buf;
	}
	if (WIFSIGNALED(status))
		sig = WTERMSIG(status);
	else if (WIFSTOPPED(status))
		sig = WSTOPSIG(status);
	else {
		snprintf(buf, len, "%s", WIFCONTINUED(status) ? "continued" :
		    "unknown wait status");
		return buf;
	}
	abbr = sigabbrev_np(sig);
	snprintf(buf, len, "%s by signal %d%s%s%s%s",
	    WIFSIGNALED(status) ? "killed" : "stopped", sig,
	    abbr != NULL ? " (SIG" : "", abbr != NULL ? abbr : "",
	    abbr != NULL ? ")" : "",
	    WIFSIGNALED(status) && WCOREDUMP(status) ? ", core dumped" : "");
	return buf;
}
