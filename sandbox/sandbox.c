/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * sandbox.c: sandbox_run(), the entry point.  Checks the conf, computes
 * the plan (canonical paths, masks, the seccomp filter) while errors can
 * still go to the caller, then clones the namespace child with
 * CLONE_NEWUSER|NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS|NEWCGROUP, writes its
 * uid/gid maps from this side, releases it, and supervises (supervise.c).
 * What the child does is in inner.c.
 *
 * Id mapping: one uid and one gid, SANDBOX_UID/GID inside to conf->uid/
 * gid outside.  Unprivileged callers can only map themselves and must
 * deny setgroups; a root caller maps the given unprivileged ids and leaves
 * setgroups allowed so the child can shed root's supplementary groups
 * before it drops its capabilities (nothing inside can call setgroups
 * after that).
 *
 * Trust: the conf is trusted; this side never reads anything the build
 * wrote except through supervise.c.
 */
#include "config.h"

#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>	/* CLONE_*: src/sched.h shadows <sched.h> */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mounts.h"
#include "plan.h"
#include "sandbox.h"
#include "sbxfilter.h"
#include "supervise.h"

#define DEF_NPROC	1024
#define DEF_NOFILE	4096
#define DEF_FSIZE	(4ULL << 30)
#define DEF_LOG_MAX	(64ULL << 20)

#define NS_FLAGS	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | \
			    CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

static int	 conf_check(const struct sandbox_conf *, struct sandbox_conf *,
		    struct buf *);
static int	 ids_check(const struct sandbox_conf *, struct buf *);
static int	 start(struct plan *, struct supervise_args *, struct buf *);
static pid_t	 spawn(struct plan *, int [2], int [2], int [2], int [2],
		    struct buf *);
static int	 write_maps(pid_t, const struct sandbox_conf *, struct buf *);
static int	 write_proc(pid_t, const char *, const char *, struct buf *);
static void	 close_pair(int [2]);

const char *
sandbox_end_name(enum sandbox_end e)
{
	switch (e) {
	case SBX_EXITED:
		return "exited";
	case SBX_SIGNALED:
		return "signaled";
	case SBX_WALL_TIMEOUT:
		return "wall-timeout";
	case SBX_IDLE_TIMEOUT:
		return "idle-timeout";
	case SBX_SETUP_FAILED:
		break;
	}
	return "setup-failed";
}

int
sandbox_run(const struct sandbox_conf *conf, struct sandbox_result *res,
    struct buf *err)
{
	struct sandbox_conf	 c;
	struct supervise_args	 a;
	struct plan		 p;
	const char		*last;
	int			 rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	memset(&a, 0, sizeof(a));
	p.conf = &c;
	a.conf = &c;
	if (conf_check(conf, &c, err) == 0 && mounts_plan(&p, err) == 0 &&
	    (p.filter = sbxfilter_build(c.allow_ptrace, err)) != NULL &&
	    start(&p, &a, err) == 0)
		rc = supervise(&a, res, err);
	if (p.filter != NULL)
		seccomp_release(p.filter);
	mounts_plan_free(&p);
	if (rc == -1) {
		/* The reason is the last message (err may hold older ones). */
		last = strrchr(buf_str(err), '\n');
		res->end = SBX_SETUP_FAILED;
		snprintf(res->reason, sizeof(res->reason), "%s",
		    last != NULL ? last + 1 : buf_str(err));
	}
	return rc;
}

/*
 * Start the namespace child and release it once its maps are written;
 * then `a` holds the pid, a pidfd and our ends of the log and status
 * pipes.  On failure the child is killed and reaped.
 */
static int
start(struct plan *p, struct supervise_args *a, struct buf *err)
{
	int	 logp[2] = { -1, -1 }, stp[2] = { -1, -1 };
	int	 syncp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int	 rc = -1;

	a->start_ms = supervise_now_ms();
	a->pidfd = -1;
	a->alive_w = -1;
	a->err_r = -1;
	if ((a->pid = spawn(p, logp, errp, stp, syncp, err)) == -1)
		goto out;
	if ((a->pidfd = pidfd_open(a->pid, 0)) == -1)
		errf(err, "sandbox: pidfd_open: %s", strerror(errno));
	else if (write_maps(a->pid, p->conf, err) == 0) {
		if (write(syncp[1], "g", 1) == 1)
			rc = 0;
		else
			errf(err, "sandbox: release the namespace child: %s",
			    strerror(errno));
	}
	if (rc == -1) {
		(void)kill(a->pid, SIGKILL);
		while (waitpid(a->pid, NULL, 0) == -1 && errno == EINTR)
			continue;
		if (a->pidfd != -1)
			close(a->pidfd);
		goto out;
	}
	a->log_r = logp[0];
	a->err_r = errp[0];
	a->status_r = stp[0];
	a->alive_w = syncp[1];	/* the init watches it for our death */
	logp[0] = errp[0] = stp[0] = syncp[1] = -1;
out:
	close_pair(logp);
	close_pair(errp);
	close_pair(stp);
	close_pair(syncp);
	return rc;
}

/* Copy conf into c, filling the §4 defaults for zero limits. */
static int
conf_check(const struct sandbox_conf *conf, struct sandbox_conf *c,
    struct buf *err)
{
	struct stat	 st;
	size_t		 i;

	*c = *conf;
	if (c->script == NULL || c->script[0] != '/')
		return errf(err, "sandbox: script must be an absolute path");
	if (stat(c->script, &st) == -1 || !S_ISREG(st.st_mode))
		return errf(err, "sandbox: script %s is not a regular file",
		    c->script);
	if (c->env == NULL)
		return errf(err, "sandbox: no environment given");
	for (i = 0; c->env[i] != NULL; i++)
		if (strchr(c->env[i], '=') == NULL || c->env[i][0] == '=')
			return errf(err, "sandbox: bad environment entry "
			    "\"%s\"", c->env[i]);
	if (c->log_fd < 0)
		return errf(err, "sandbox: no log fd");
	if (c->wall_timeout_ms < 0 || c->idle_timeout_ms < 0 ||
	    c->kill_grace_ms < 0)
		return errf(err, "sandbox: negative timeout");
	if (c->max_processes == 0)
		c->max_processes = DEF_NPROC;
	if (c->max_open_files == 0)
		c->max_open_files = DEF_NOFILE;
	if (c->max_file_size == 0)
		c->max_file_size = DEF_FSIZE;
	if (c->log_max == 0)
		c->log_max = DEF_LOG_MAX;
	return ids_check(c, err);
}

static int
ids_check(const struct sandbox_conf *c, struct buf *err)
{
	if (geteuid() == 0) {
		if (c->uid == 0 || c->gid == 0)
			return errf(err, "sandbox: refusing to run a build as "
			    "host uid/gid 0 (got %u:%u)", (unsigned)c->uid,
			    (unsigned)c->gid);
		if (c->uid == (uid_t)-1 || c->gid == (gid_t)-1)
			return errf(err, "sandbox: no build uid/gid given");
	} else if (c->uid != geteuid() || c->gid != getegid())
		return errf(err, "sandbox: an unprivileged caller (%u:%u) can "
		    "only run builds as itself, not %u:%u",
		    (unsigned)geteuid(), (unsigned)getegid(),
		    (unsigned)c->uid, (unsigned)c->gid);
	return 0;
}

/* Pipes, then the namespace child; it starts in inner_main(). */
static pid_t
spawn(struct plan *p, int logp[2], int errp[2], int stp[2], int syncp[2],
    struct buf *err)
{
	long	 pid;
	int	 dumpable;

	if (pipe2(logp, O_CLOEXEC) == -1 || pipe2(stp, O_CLOEXEC) == -1 ||
	    pipe2(syncp, O_CLOEXEC) == -1 ||
	    (p->conf->err_fd > 0 && pipe2(errp, O_CLOEXEC) == -1)) {
		errf(err, "sandbox: pipe: %s", strerror(errno));
		return -1;
	}
	p->log_w = logp[1];
	p->err_w = errp[1];
	p->status_w = stp[1];
	p->sync_r = syncp[0];
	p->drop_groups = geteuid() == 0;
	/*
	 * The child's /proc files (uid_map, setgroups) belong to root when
	 * it is not dumpable, and it inherits the flag: a caller that made
	 * itself non-dumpable (a demoted worker) could not write its maps.
	 * Be dumpable across the clone only; the child clears the flag once
	 * its maps are written (inner.c).
	 */
	dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (dumpable == 0 && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1) {
		errf(err, "sandbox: PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	pid = syscall(SYS_clone, NS_FLAGS | CLONE_NEWCGROUP | SIGCHLD, NULL,
	    NULL, NULL, NULL);
	if (pid == -1 && errno == EINVAL)	/* no cgroup namespaces */
		pid = syscall(SYS_clone, NS_FLAGS | SIGCHLD, NULL, NULL, NULL,
		    NULL);
	if (pid != 0 && dumpable == 0)
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (pid == -1) {
		errf(err, "sandbox: clone with new namespaces: %s (are user "
		    "namespaces enabled?)", strerror(errno));
		return -1;
	}
	if (pid == 0)
		inner_main(p);
	close(logp[1]);
	if (errp[1] != -1)
		close(errp[1]);
	close(stp[1]);
	close(syncp[0]);
	logp[1] = errp[1] = stp[1] = syncp[0] = -1;
	return (pid_t)pid;
}

static int
write_maps(pid_t pid, const struct sandbox_conf *c, struct buf *err)
{
	char	 line[64];

	if (geteuid() != 0 && write_proc(pid, "setgroups", "deny", err) == -1)
		return -1;
	snprintf(line, sizeof(line), "%u %u 1\n", SANDBOX_UID,
	    (unsigned)c->uid);
	if (write_proc(pid, "uid_map", line, err) == -1)
		return -1;
	snprintf(line, sizeof(line), "%u %u 1\n", SANDBOX_GID,
	    (unsigned)c->gid);
	return write_proc(pid, "gid_map", line, err);
}

static int
write_proc(pid_t pid, const char *file, const char *text, struct buf *err)
{
	char	 path[64];
	int	 fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return errf(err, "sandbox: open %s: %s", path, strerror(errno));
	if (write_full(fd, text, strlen(text)) == -1)
		rc = errf(err, "sandbox: write %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

static void
close_pair(int p[2])
{
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	p[0] = p[1] = -1;
}
