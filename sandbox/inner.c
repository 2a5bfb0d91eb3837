/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * inner.c: the sandbox from the inside.  The process clone(2) made in
 * sandbox.c runs inner_main(): it is pid 1 of the new pid namespace and
 * the creator of the new user namespace.  It waits for the supervisor to
 * write its id maps, takes the build ids, builds the file-system view,
 * brings up `lo`, gives up its own capabilities, then forks build.sh's
 * process and stays behind as the namespace's init: it reaps every
 * orphan, forwards the supervisor's SIGTERM to the whole namespace and,
 * when build.sh ends, reports its wait status and exits, which makes the
 * kernel kill whatever build.sh left running.
 *
 * build.sh's process (script_exec): new session, stdin /dev/null,
 * stdout/stderr the log pipe, every other fd closed, rlimits, parent-death
 * signal, no capabilities, no_new_privs, seccomp, execve.  The order is
 * RELIABILITY.md §3.1.
 *
 * fd contract inside: 0 /dev/null, 1 and 2 the log pipe, the status pipe
 * (close-on-exec) until execve; nothing else.
 *
 * Trust: everything after execve is hostile.  Before it, only our code
 * runs; failures are reported on the status pipe as one record.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "mounts.h"
#include "plan.h"
#include "sbxfilter.h"

#define SBX_HOSTNAME	"peipkg-build"
#define STACK_SOFT	(8ULL << 20)
#define MEMLOCK_MAX	(64ULL << 10)

static int	 status_fd = -1;

static void	 fail(const struct buf *) __attribute__((noreturn));
static void	 report(int, int, const char *);
static int	 close_others(const int *, size_t, struct buf *);
static int	 wait_for_maps(int, struct buf *);
static int	 take_ids(const struct plan *, struct buf *);
static int	 rearm_deathsig(int, struct buf *);
static int	 std_fds(int, int, struct buf *);
static int	 net_setup(struct buf *);
static int	 init_signals(struct buf *);
static void	 on_term(int, siginfo_t *, void *);
static void	 init_loop(pid_t) __attribute__((noreturn));
static void	 script_exec(const struct plan *) __attribute__((noreturn));
static int	 set_rlimits(const struct sandbox_conf *, struct buf *);
static int	 set_rlimit(int, rlim_t, rlim_t, const char *, struct buf *);

void
inner_main(const struct plan *p)
{
	struct buf	 err = BUF_INIT;
	const int	 keep[] = { p->log_w, p->err_w, p->status_w,
	    p->sync_r };
	pid_t		 pid;

	status_fd = p->status_w;
	/* If the supervisor dies, so does the whole namespace. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		errf(&err, "sandbox: PR_SET_PDEATHSIG: %s", strerror(errno));
	if (err.len != 0 || close_others(keep, nitems(keep), &err) == -1 ||
	    wait_for_maps(p->sync_r, &err) == -1 || take_ids(p, &err) == -1 ||
	    rearm_deathsig(p->sync_r, &err) == -1 ||
	    std_fds(p->log_w, p->err_w, &err) == -1 ||
	    mounts_setup(p, &err) == -1 || net_setup(&err) == -1)
		fail(&err);
	/*
	 * Not dumpable: the build can neither ptrace init (even when ptrace
	 * is allowed) nor read its /proc files, such as the environment it
	 * inherited from the caller.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		errf(&err, "sandbox: PR_SET_DUMPABLE: %s", strerror(errno));
	if (err.len != 0 || caps_lock_securebits(&err) == -1 ||
	    caps_drop_all(&err) == -1 || init_signals(&err) == -1)
		fail(&err);
	if ((pid = fork()) == -1) {
		errf(&err, "sandbox: fork build.sh: %s", strerror(errno));
		fail(&err);
	}
	if (pid == 0)
		script_exec(p);
	init_loop(pid);
}

static void
fail(const struct buf *err)
{
	report(PLAN_MSG_ERROR, 0, err->len != 0 ? buf_str(err) :
	    "sandbox: set-up failed");
	_exit(127);
}

static void
report(int kind, int value, const char *text)
{
	struct plan_msg	 m;

	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.value = value;
	if (text != NULL)
		snprintf(m.text, sizeof(m.text), "%s", text);
	(void)write_full(status_fd, &m, sizeof(m));
}

/* Close every fd from 3 up except the listed ones. */
static int
close_others(const int *keep, size_t n, struct buf *err)
{
	unsigned int	 lo = 3, k, next;
	size_t		 i;

	for (;;) {
		next = ~0U;
		for (i = 0; i < n; i++) {
			k = (unsigned int)keep[i];
			if (k >= lo && k < next)
				next = k;
		}
		if (next > lo && close_range(lo, next - 1, 0) == -1)
			return errf(err, "sandbox: close_range: %s",
			    strerror(errno));
		if (next == ~0U)
			return 0;
		lo = next + 1;
	}
}

/* One byte when the maps are written; EOF means the supervisor died. */
static int
wait_for_maps(int fd, struct buf *err)
{
	char	 c;
	ssize_t	 n;

	while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
		continue;
	if (n != 1)
		return errf(err, "sandbox: supervisor went away");
	return 0;
}

/*
 * Changing ids clears the parent-death signal: arm it again, then make
 * sure the supervisor did not die before that.  It holds the write end
 * of the sync pipe open while it supervises, so EOF (POLLHUP) on our
 * end means it is gone.  getppid() cannot tell: our parent is outside
 * our pid namespace.
 */
static int
rearm_deathsig(int fd, struct buf *err)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	int		 n;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		return errf(err, "sandbox: PR_SET_PDEATHSIG: %s",
		    strerror(errno));
	while ((n = poll(&pfd, 1, 0)) == -1 && errno == EINTR)
		continue;
	close(fd);
	if (n != 0)
		return errf(err, "sandbox: supervisor went away");
	return 0;
}

/*
 * Become SANDBOX_UID/GID.  Called as root, we still carry root's groups:
 * the supervisor left setgroups allowed so that we can clear them.  The
 * capabilities of the new user namespace survive (the old ids are not
 * root there).
 */
static int
take_ids(const struct plan *p, struct buf *err)
{
	if (setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID) == -1)
		return errf(err, "sandbox: setresgid: %s", strerror(errno));
	if (p->drop_groups && setgroups(0, NULL) == -1)
		return errf(err, "sandbox: setgroups: %s", strerror(errno));
	if (setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) == -1)
		return errf(err, "sandbox: setresuid: %s", strerror(errno));
	return 0;
}

/* Own session, no terminal; stdin /dev/null, stdout/stderr the log. */
static int
std_fds(int log_w, int err_w, struct buf *err)
{
	int	 fd;

	if (setsid() == -1)
		return errf(err, "sandbox: setsid: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		return errf(err, "sandbox: open /dev/null: %s",
		    strerror(errno));
	if ((fd != 0 && dup2(fd, 0) == -1) || dup2(log_w, 1) == -1 ||
	    dup2(err_w != -1 ? err_w : log_w, 2) == -1)
		return errf(err, "sandbox: dup2: %s", strerror(errno));
	if (fd != 0)
		close(fd);
	close(log_w);
	if (err_w != -1)
		close(err_w);
	return 0;
}

/* The new network namespace has only `lo`, down. */
static int
net_setup(struct buf *err)
{
	struct ifreq	 ifr;
	int		 s, rc = -1;

	if (sethostname(SBX_HOSTNAME, strlen(SBX_HOSTNAME)) == -1)
		return errf(err, "sandbox: sethostname: %s", strerror(errno));
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return errf(err, "sandbox: socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		errf(err, "sandbox: SIOCGIFFLAGS lo: %s", strerror(errno));
	else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1)
			errf(err, "sandbox: bring up lo: %s", strerror(errno));
		else
			rc = 0;
	}
	close(s);
	return rc;
}

static int
init_signals(struct buf *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_term;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		return errf(err, "sandbox: sigaction: %s", strerror(errno));
	return 0;
}

/*
 * Only the supervisor, outside our pid namespace (si_pid 0 here), may make
 * init pass a signal on to every process of the namespace.
 */
static void
on_term(int sig, siginfo_t *si, void *ctx)
{
	int	 saved = errno;

	if (si->si_pid == 0)
		(void)kill(-1, sig);
	errno = saved;
}

static void
init_loop(pid_t script)
{
	pid_t	 pid;
	int	 st;

	for (;;) {
		pid = waitpid(-1, &st, 0);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid == -1) {
			report(PLAN_MSG_ERROR, 0, "sandbox: init lost build.sh");
			_exit(127);
		}
		if (pid == script)
			break;
	}
	report(PLAN_MSG_DONE, st, NULL);
	/* Exiting kills every process left in the namespace. */
	_exit(0);
}

static void
script_exec(const struct plan *p)
{
	const struct sandbox_conf *c = p->conf;
	struct buf	 err = BUF_INIT;
	const int	 keep[] = { p->status_w };
	struct sigaction sa;
	sigset_t	 none;
	char *const	 argv[] = { "sh", (char *)c->script, NULL };
	int		 sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	umask(022);
	if (setsid() == -1)
		errf(&err, "sandbox: setsid: %s", strerror(errno));
	else if (close_others(keep, nitems(keep), &err) == 0 &&
	    set_rlimits(c, &err) == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
		    getppid() != 1)
			errf(&err, "sandbox: parent-death signal: %s",
			    strerror(errno));
		else if (caps_drop_all(&err) == 0 &&
		    sbxfilter_install(p->filter, &err) == 0) {
			execve("/bin/sh", argv, (char *const *)c->env);
			errf(&err, "sandbox: execve /bin/sh %s: %s", c->script,
			    strerror(errno));
		}
	}
	fail(&err);
}

static int
set_rlimits(const struct sandbox_conf *c, struct buf *err)
{
	struct rlimit	 cur;
	rlim_t		 stack = STACK_SOFT;

	if (getrlimit(RLIMIT_STACK, &cur) == 0 && cur.rlim_max < stack)
		stack = cur.rlim_max;
	if (set_rlimit(RLIMIT_NPROC, c->max_processes, c->max_processes,
	    "NPROC", err) == -1 ||
	    set_rlimit(RLIMIT_NOFILE, c->max_open_files, c->max_open_files,
	    "NOFILE", err) == -1 ||
	    set_rlimit(RLIMIT_FSIZE, c->max_file_size, c->max_file_size,
	    "FSIZE", err) == -1 ||
	    set_rlimit(RLIMIT_CORE, 0, 0, "CORE", err) == -1 ||
	    set_rlimit(RLIMIT_MEMLOCK, MEMLOCK_MAX, MEMLOCK_MAX, "MEMLOCK",
	    err) == -1 ||
	    set_rlimit(RLIMIT_RTPRIO, 0, 0, "RTPRIO", err) == -1 ||
	    set_rlimit(RLIMIT_STACK, stack, RLIM_INFINITY, "STACK",
	    err) == -1)
		return -1;
	if (c->wall_timeout_ms > 0) {
		/* A backstop only: the supervisor's wall clock ends it first. */
		rlim_t cpu = (rlim_t)(c->wall_timeout_ms / 1000) + 60;
		if (set_rlimit(RLIMIT_CPU, cpu, cpu + 10, "CPU", err) == -1)
			return -1;
	}
	return 0;
}

/* Limits only go down: never above the current hard limit (which an
 * RLIM_INFINITY hard value keeps). */
static int
set_rlimit(int res, rlim_t soft, rlim_t hard, const char *name,
    struct buf *err)
{
	struct rlimit	 cur, rl;

	if (getrlimit(res, &cur) == -1)
		return errf(err, "sandbox: getrlimit %s: %s", name,
		    strerror(errno));
	rl.rlim_max = hard > cur.rlim_max ? cur.rlim_max : hard;
	rl.rlim_cur = soft > rl.rlim_max ? rl.rlim_max : soft;
	if (setrlimit(res, &rl) == -1)
		return errf(err, "sandbox: setrlimit %s: %s", name,
		    strerror(errno));
	return 0;
}
