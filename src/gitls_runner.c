/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * gitls_runner.c: tag listings as forked children run from the poller's
 * event loop (gitls.h: gitls_runner, gitls_job): each child gets a pipe
 * on fd 3 and runs gitls_child(); the parent reads its records with
 * gitls_reader_*, enforces the connect and total deadlines, reaps it on
 * SIGCHLD and reports one result.
 *
 * Trust: runs in the poller; the child's bytes are hostile and only go
 * through the bounded reader (gitls.c).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "gitls.h"
#include "log.h"
#include "proc.h"

#define GITLS_CHILD_FD	3	/* the pipe in a listing child */
#define GITLS_READS	8	/* pipe reads per wake-up */

struct gitls_job {
	TAILQ_ENTRY(gitls_job)	 g_entry;
	struct gitls_runner	*g_run;
	struct gitls_job_conf	 g_conf;
	char			*g_url;
	pid_t			 g_pid;
	int			 g_fd;		/* pipe, -1 once closed */
	struct event		*g_ev;
	struct event		*g_connect_ev;
	struct event		*g_total_ev;
	struct gitls_reader	*g_rd;
	int			 g_result;	/* 0 pending, 1 ok, -1 failed */
	struct gitls_stats	 g_stats;
	int			 g_reaped;
	int			 g_status;
	long			 g_rss;
	int64_t			 g_start;
	struct buf		 g_err;
};

struct gitls_runner {
	struct event_base	*r_base;
	struct event		*r_sigchld;
	TAILQ_HEAD(, gitls_job)	 r_jobs;
	int			 r_paused;
};

static void	 job_child(const struct gitls_job *, int, pid_t) PM_NORETURN;
static void	 job_watch(struct gitls_job *, int);
static void	 job_read_cb(evutil_socket_t, short, void *);
static int	 job_records(struct gitls_job *);
static void	 job_fail(struct gitls_job *, const char *, ...)
		    PM_PRINTF(2, 3);
static void	 job_close(struct gitls_job *);
static void	 job_connect_cb(evutil_socket_t, short, void *);
static void	 job_total_cb(evutil_socket_t, short, void *);
static void	 job_timeout(struct gitls_job *, int);
static void	 job_maybe_end(struct gitls_job *);
static void	 job_free(struct gitls_job *);
static void	 runner_sigchld(evutil_socket_t, short, void *);
static void	 log_drop(enum log_level, const char *, const struct lkv *);
static int64_t	 mono_ns(void);
static void	 ns_tv(int64_t, struct timeval *);

static int64_t
mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
ns_tv(int64_t ns, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ns / 1000000000);
	tv->tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
}

void
gitls_fmt_duration(char *out, size_t len, int64_t ns)
{
	long long	 ms = (long long)(ns / 1000000);
	char		 frac[8];
	int		 n;

	if (ms % 1000 == 0) {
		snprintf(out, len, "%llds", ms / 1000);
		return;
	}
	n = snprintf(frac, sizeof(frac), "%03lld", ms % 1000);
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(out, len, "%lld.%ss", ms / 1000, frac);
}

struct gitls_runner *
gitls_runner_new(struct event_base *base, struct buf *err)
{
	struct gitls_runner	*r = xcalloc(1, sizeof(*r));

	r->r_base = base;
	TAILQ_INIT(&r->r_jobs);
	r->r_sigchld = evsignal_new(base, SIGCHLD, runner_sigchld, r);
	if (r->r_sigchld == NULL || evsignal_add(r->r_sigchld, NULL) == -1) {
		errf(err, "cannot watch SIGCHLD");
		if (r->r_sigchld != NULL)
			event_free(r->r_sigchld);
		free(r);
		return NULL;
	}
	return r;
}

void
gitls_runner_free(struct gitls_runner *r)
{
	struct gitls_job	*j;

	if (r == NULL)
		return;
	while ((j = TAILQ_FIRST(&r->r_jobs)) != NULL) {
		if (!j->g_reaped) {
			(void)kill(j->g_pid, SIGKILL);
			while (waitpid(j->g_pid, NULL, 0) == -1 &&
			    errno == EINTR)
				;
		}
		TAILQ_REMOVE(&r->r_jobs, j, g_entry);
		job_free(j);
	}
	event_free(r->r_sigchld);
	free(r);
}

/* The child never logs: nothing may reach the parent's channel. */
static void
log_drop(enum log_level lvl, const char *msg, const struct lkv *kv)
{
}

/* In the child: fd 3 = the pipe, nothing else above 2; never returns. */
static void
job_child(const struct gitls_job *j, int wfd, pid_t ppid)
{
	static const int	 sigs[] = { SIGCHLD, SIGPIPE, SIGTERM, SIGINT,
				    SIGHUP };
	sigset_t		 set;
	size_t			 i;
	long			 fd;

	log_set_forward(log_drop);
	for (i = 0; i < nitems(sigs); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != ppid)
		_exit(1);
	if (wfd != GITLS_CHILD_FD && dup2(wfd, GITLS_CHILD_FD) == -1)
		_exit(1);
	if (syscall(SYS_close_range, GITLS_CHILD_FD + 1, ~0U, 0) == -1) {
		if (errno != ENOSYS)
			_exit(1);
		for (fd = GITLS_CHILD_FD + 1; fd < sysconf(_SC_OPEN_MAX); fd++)
			(void)close((int)fd);
	}
	_exit(gitls_child(GITLS_CHILD_FD, j->g_url, j->g_conf.max_tags));
}

struct gitls_job *
gitls_job_start(struct gitls_runner *r, const struct gitls_job_conf *c,
    struct buf *err)
{
	struct gitls_job	*j = xcalloc(1, sizeof(*j));
	int			 fds[2];
	pid_t			 ppid = getpid();

	j->g_run = r;
	j->g_conf = *c;
	j->g_url = xstrdup(c->url);
	j->g_conf.url = j->g_url;
	j->g_fd = -1;
	j->g_start = mono_ns();
	if (pipe2(fds, O_CLOEXEC) == -1) {
		errf(err, "ls-remote %s: pipe: %s", c->url, strerror(errno));
		goto fail;
	}
	if ((j->g_pid = fork()) == -1) {
		errf(err, "ls-remote %s: fork: %s", c->url, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	if (j->g_pid == 0)
		job_child(j, fds[1], ppid);
	close(fds[1]);
	j->g_rd = xmalloc(sizeof(*j->g_rd));
	gitls_reader_init(j->g_rd, c->max_tags);
	TAILQ_INSERT_TAIL(&r->r_jobs, j, g_entry);
	job_watch(j, fds[0]);
	return j;
fail:
	job_free(j);
	return NULL;
}

static void
job_watch(struct gitls_job *j, int fd)
{
	struct event_base	*base = j->g_run->r_base;
	struct timeval		 tv;

	j->g_fd = fd;
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	j->g_ev = event_new(base, fd, EV_READ | EV_PERSIST, job_read_cb, j);
	j->g_connect_ev = evtimer_new(base, job_connect_cb, j);
	j->g_total_ev = evtimer_new(base, job_total_cb, j);
	if (j->g_ev == NULL || j->g_connect_ev == NULL ||
	    j->g_total_ev == NULL)
		fatalx("gitls: event_new failed");
	ns_tv(j->g_conf.connect_timeout, &tv);
	evtimer_add(j->g_connect_ev, &tv);
	ns_tv(j->g_conf.timeout, &tv);
	evtimer_add(j->g_total_ev, &tv);
	if (!j->g_run->r_paused)
		event_add(j->g_ev, NULL);
}

void
gitls_runner_pause(struct gitls_runner *r, int pause)
{
	struct gitls_job	*j;

	if (r->r_paused == pause)
		return;
	r->r_paused = pause;
	TAILQ_FOREACH(j, &r->r_jobs, g_entry) {
		if (j->g_ev == NULL)
			continue;
		if (pause)
			event_del(j->g_ev);
		else {
			event_add(j->g_ev, NULL);
			/* Records may be waiting in the reader already. */
			event_active(j->g_ev, EV_READ, 0);
		}
	}
}

static void
job_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct gitls_job	*j = arg;
	struct buf		 err = BUF_INIT;
	int			 i, rc;

	for (i = 0; i < GITLS_READS; i++) {
		if (job_records(j) == -1 || j->g_fd == -1 ||
		    j->g_run->r_paused)
			break;
		if ((rc = gitls_reader_read(j->g_rd, j->g_fd, &err)) == 2)
			break;
		if (rc == -1) {
			job_fail(j, "%s", buf_str(&err));
			break;
		}
		if (rc == 0) {
			/* End of file: finish once every record is handled. */
			if (job_records(j) == -1 || j->g_run->r_paused)
				break;
			if (gitls_reader_finish(j->g_rd, &err) == -1 &&
			    j->g_result == 1)
				job_fail(j, "%s", buf_str(&err));
			job_close(j);
			break;
		}
	}
	buf_free(&err);
	job_maybe_end(j);
}

/* Handle the complete records in the reader; -1 after a violation. */
static int
job_records(struct gitls_job *j)
{
	struct gitls_rec	 rec;
	struct buf		 err = BUF_INIT;
	int			 rc = 0;

	while (!j->g_run->r_paused && j->g_fd != -1 &&
	    (rc = gitls_reader_next(j->g_rd, &rec, &err)) == 1) {
		switch (rec.kind) {
		case GITLS_REC_CONNECTED:
			evtimer_del(j->g_connect_ev);
			break;
		case GITLS_REC_TAG:
			j->g_stats.listed++;
			j->g_conf.tag(j->g_conf.arg, &rec.tag);
			break;
		case GITLS_REC_END:
			j->g_stats.seen = rec.stats.seen;
			j->g_result = 1;
			break;
		case GITLS_REC_FAIL:
			j->g_result = -1;
			buf_adds(&j->g_err, rec.error);
			break;
		}
	}
	if (rc == -1)
		job_fail(j, "%s", buf_str(&err));
	buf_free(&err);
	return rc == -1 ? -1 : 0;
}

/* The listing failed: keep the first reason, kill the child, close. */
static void
job_fail(struct gitls_job *j, const char *fmt, ...)
{
	va_list	 ap;

	if (j->g_result != -1) {
		j->g_result = -1;
		buf_reset(&j->g_err);
		buf_addf(&j->g_err, "ls-remote %s: ", j->g_url);
		va_start(ap, fmt);
		buf_vaddf(&j->g_err, fmt, ap);
		va_end(ap);
	}
	if (!j->g_reaped)
		(void)kill(j->g_pid, SIGKILL);
	job_close(j);
}

static void
job_close(struct gitls_job *j)
{
	if (j->g_fd == -1)
		return;
	event_free(j->g_ev);
	j->g_ev = NULL;
	close(j->g_fd);
	j->g_fd = -1;
}

static void
job_connect_cb(evutil_socket_t fd, short ev, void *arg)
{
	job_timeout(arg, 1);
}

static void
job_total_cb(evutil_socket_t fd, short ev, void *arg)
{
	job_timeout(arg, 0);
}

/* A deadline passed: SIGKILL the child (a complete result stands). */
static void
job_timeout(struct gitls_job *j, int connect)
{
	char	 d[32];

	if (j->g_result == 1) {
		if (!j->g_reaped)
			(void)kill(j->g_pid, SIGKILL);
		job_close(j);
	} else {
		gitls_fmt_duration(d, sizeof(d), connect ?
		    j->g_conf.connect_timeout : j->g_conf.timeout);
		job_fail(j, "%stimeout after %s", connect ? "connect " : "",
		    d);
	}
	job_maybe_end(j);
}

/* Child reaped and pipe closed: report once, then free. */
static void
job_maybe_end(struct gitls_job *j)
{
	struct gitls_result	 res;
	char			 st[64];

	if (!j->g_reaped || j->g_fd != -1)
		return;
	if (j->g_result == 0)
		job_fail(j, "listing process %s without a result",
		    proc_describe_status(j->g_status, st, sizeof(st)));
	memset(&res, 0, sizeof(res));
	res.ok = j->g_result == 1;
	res.error = res.ok ? "" : buf_str(&j->g_err);
	res.stats = j->g_stats;
	res.max_rss_kib = j->g_rss;
	res.elapsed_ns = mono_ns() - j->g_start;
	TAILQ_REMOVE(&j->g_run->r_jobs, j, g_entry);
	j->g_conf.done(j->g_conf.arg, &res);
	job_free(j);
}

static void
job_free(struct gitls_job *j)
{
	job_close(j);
	if (j->g_connect_ev != NULL)
		event_free(j->g_connect_ev);
	if (j->g_total_ev != NULL)
		event_free(j->g_total_ev);
	free(j->g_url);
	free(j->g_rd);
	buf_free(&j->g_err);
	free(j);
}

static void
runner_sigchld(evutil_socket_t fd, short ev, void *arg)
{
	struct gitls_runner	*r = arg;
	struct gitls_job	*j;
	struct rusage		 ru;
	pid_t			 pid;
	int			 status;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		TAILQ_FOREACH(j, &r->r_jobs, g_entry)
			if (j->g_pid == pid && !j->g_reaped)
				break;
		if (j == NULL)
			continue;
		j->g_reaped = 1;
		j->g_status = status;
		j->g_rss = ru.ru_maxrss;
		job_maybe_end(j);
	}
}
