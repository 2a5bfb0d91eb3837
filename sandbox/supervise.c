/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * supervise.c: wait for a sandboxed build.sh from the outside.
 *
 * One poll(2) loop over the log pipe, the status pipe and a pidfd of the
 * namespace's init, with deadlines on CLOCK_MONOTONIC:
 *   - output is copied to log_fd (stderr to err_fd when that has its own
 *     pipe) up to log_max in all, then one marker line is
 *     written and the rest is read and thrown away (the pipe must never
 *     fill, or the build would stall instead of failing);
 *   - any output pushes the idle deadline back;
 *   - at the wall or idle deadline init gets SIGTERM, which it passes to
 *     every process in the namespace, and kill_grace_ms later SIGKILL,
 *     which takes the namespace down with it;
 *   - when init has exited, the pipes are drained (every writer is gone
 *     by then: the kernel killed the namespace) for at most a grace
 *     period.
 *
 * Trust: the log bytes are hostile and are only copied.  Status records
 * come from our own code inside, before execve, or from init.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plan.h"
#include "supervise.h"

#define READ_CHUNK	65536
#define DRAIN_MIN_MS	1000

struct sup {
	const struct supervise_args *a;
	const struct sandbox_conf *c;
	struct sandbox_result *res;
	int		 log_r, err_r, status_r;
	int64_t		 idle_at;	/* next idle deadline */
	int64_t		 kill_at;	/* SIGKILL due; -1: none */
	int64_t		 drain_until;	/* init gone: stop waiting then */
	int		 ended_by;	/* 0 or SBX_*_TIMEOUT */
	int		 exited;
	int		 init_status;
	int		 have_done, done_status;
	int		 have_error;
	char		 error[sizeof(((struct plan_msg *)0)->text)];
	struct plan_msg	 msg;		/* record being read */
	size_t		 msglen;
	uint64_t	 copied;
	int		 last_nl;
	int		 log_errno;
};

static void	 timers(struct sup *, int64_t);
static void	 terminate(struct sup *, int64_t);
static int	 next_timeout(const struct sup *, int64_t);
static int	 poll_once(struct sup *, struct buf *);
static void	 read_log(struct sup *, int *, int);
static void	 log_copy(struct sup *, const char *, size_t, int);
static void	 read_status(struct sup *);
static void	 reap(struct sup *);
static int	 conclude(struct sup *, struct buf *);
static void	 describe(char *, size_t, const char *, int);

int64_t
supervise_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
supervise(const struct supervise_args *a, struct sandbox_result *res,
    struct buf *err)
{
	struct sup	 s;
	int		 rc, failed = 0;

	memset(&s, 0, sizeof(s));
	s.a = a;
	s.c = a->conf;
	s.res = res;
	s.log_r = a->log_r;
	s.err_r = a->err_r;
	s.status_r = a->status_r;
	s.idle_at = a->start_ms + s.c->idle_timeout_ms;
	s.kill_at = -1;
	s.last_nl = 1;
	while (!s.exited || s.log_r != -1 || s.err_r != -1 ||
	    s.status_r != -1) {
		timers(&s, supervise_now_ms());
		if (s.exited && supervise_now_ms() >= s.drain_until)
			break;
		if (poll_once(&s, err) == -1) {
			failed = 1;
			(void)kill(a->pid, SIGKILL);
			reap(&s);
			break;
		}
	}
	if (s.log_r != -1)
		close(s.log_r);
	if (s.err_r != -1)
		close(s.err_r);
	if (s.status_r != -1)
		close(s.status_r);
	close(a->pidfd);
	if (a->alive_w != -1)
		close(a->alive_w);
	rc = failed ? -1 : conclude(&s, err);
	if (rc == -1)
		res->end = SBX_SETUP_FAILED;
	return rc;
}

static void
timers(struct sup *s, int64_t now)
{
	const struct sandbox_conf *c = s->c;

	if (s->exited)
		return;
	if (s->ended_by == 0) {
		if (c->wall_timeout_ms > 0 &&
		    now >= s->a->start_ms + c->wall_timeout_ms) {
			s->ended_by = SBX_WALL_TIMEOUT;
			terminate(s, now);
		} else if (c->idle_timeout_ms > 0 && now >= s->idle_at) {
			s->ended_by = SBX_IDLE_TIMEOUT;
			terminate(s, now);
		}
	} else if (s->kill_at != -1 && now >= s->kill_at) {
		(void)kill(s->a->pid, SIGKILL);
		s->kill_at = -1;
	}
}

/* SIGTERM to init (it tells everyone), SIGKILL after the grace period. */
static void
terminate(struct sup *s, int64_t now)
{
	if (s->c->kill_grace_ms > 0) {
		(void)kill(s->a->pid, SIGTERM);
		s->kill_at = now + s->c->kill_grace_ms;
	} else
		(void)kill(s->a->pid, SIGKILL);
}

/* Milliseconds until the nearest deadline, -1 for none. */
static int
next_timeout(const struct sup *s, int64_t now)
{
	const struct sandbox_conf *c = s->c;
	int64_t		 due = INT64_MAX, d;

	if (s->exited)
		due = s->drain_until;
	else if (s->ended_by == 0) {
		if (c->wall_timeout_ms > 0)
			due = s->a->start_ms + c->wall_timeout_ms;
		if (c->idle_timeout_ms > 0 && s->idle_at < due)
			due = s->idle_at;
	} else if (s->kill_at != -1)
		due = s->kill_at;
	if (due == INT64_MAX)
		return -1;
	d = due - now;
	if (d < 0)
		d = 0;
	return d > 60000 ? 60000 : (int)d;
}

static int
poll_once(struct sup *s, struct buf *err)
{
	struct pollfd	 pfd[4];
	nfds_t		 n = 0, i;

	if (s->log_r != -1)
		pfd[n++] = (struct pollfd){ s->log_r, POLLIN, 0 };
	if (s->err_r != -1)
		pfd[n++] = (struct pollfd){ s->err_r, POLLIN, 0 };
	if (s->status_r != -1)
		pfd[n++] = (struct pollfd){ s->status_r, POLLIN, 0 };
	if (!s->exited)
		pfd[n++] = (struct pollfd){ s->a->pidfd, POLLIN, 0 };
	if (poll(pfd, n, next_timeout(s, supervise_now_ms())) == -1) {
		if (errno == EINTR)
			return 0;
		return errf(err, "sandbox: poll: %s", strerror(errno));
	}
	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (pfd[i].fd == s->log_r)
			read_log(s, &s->log_r, s->c->log_fd);
		else if (pfd[i].fd == s->err_r)
			read_log(s, &s->err_r, s->c->err_fd);
		else if (pfd[i].fd == s->status_r)
			read_status(s);
		else
			reap(s);
	}
	return 0;
}

/* Read the pipe *fd (closed and set to -1 at EOF) and copy to `out`. */
static void
read_log(struct sup *s, int *fd, int out)
{
	char	 b[READ_CHUNK];
	ssize_t	 n;

	n = read(*fd, b, sizeof(b));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	s->idle_at = supervise_now_ms() + s->c->idle_timeout_ms;
	log_copy(s, b, (size_t)n, out);
}

/* log_max counts stdout and stderr together; the marker goes to log_fd. */
static void
log_copy(struct sup *s, const char *b, size_t n, int out)
{
	const struct sandbox_conf *c = s->c;
	char		 marker[96];
	size_t		 take = 0;
	int		 len;

	s->res->log_bytes += n;
	if (s->copied < c->log_max) {
		take = c->log_max - s->copied < n ?
		    (size_t)(c->log_max - s->copied) : n;
		if (s->log_errno == 0 && write_full(out, b, take) == -1)
			s->log_errno = errno;
		s->copied += take;
		s->last_nl = b[take - 1] == '\n';
	}
	if (take < n && !s->res->truncated) {
		s->res->truncated = 1;
		len = snprintf(marker, sizeof(marker),
		    "%s[peipkg: build log truncated at %llu bytes]\n",
		    s->last_nl ? "" : "\n", (unsigned long long)c->log_max);
		if (s->log_errno == 0 &&
		    write_full(c->log_fd, marker, (size_t)len) == -1)
			s->log_errno = errno;
	}
}

/* Fixed-size records; a partial one at EOF is ignored. */
static void
read_status(struct sup *s)
{
	ssize_t	 n;

	n = read(s->status_r, (char *)&s->msg + s->msglen,
	    sizeof(s->msg) - s->msglen);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(s->status_r);
		s->status_r = -1;
		return;
	}
	s->msglen += (size_t)n;
	if (s->msglen < sizeof(s->msg))
		return;
	s->msglen = 0;
	s->msg.text[sizeof(s->msg.text) - 1] = '\0';
	if (s->msg.kind == PLAN_MSG_ERROR && !s->have_error) {
		s->have_error = 1;
		memcpy(s->error, s->msg.text, sizeof(s->error));
	} else if (s->msg.kind == PLAN_MSG_DONE && !s->have_done) {
		s->have_done = 1;
		s->done_status = s->msg.value;
	}
}

static void
reap(struct sup *s)
{
	int	 st;

	while (waitpid(s->a->pid, &st, 0) == -1)
		if (errno != EINTR) {
			st = W_EXITCODE(127, 0);
			break;
		}
	s->exited = 1;
	s->init_status = st;
	s->drain_until = supervise_now_ms() +
	    (s->c->kill_grace_ms > DRAIN_MIN_MS ? s->c->kill_grace_ms :
	    DRAIN_MIN_MS);
}

static int
conclude(struct sup *s, struct buf *err)
{
	struct sandbox_result *res = s->res;
	char		 what[128];
	int		 st;

	if (s->have_error)
		return errf(err, "%s", s->error);
	if (!s->have_done && s->ended_by == 0 &&
	    WIFEXITED(s->init_status))
		return errf(err, "sandbox: init exited with status %d before "
		    "build.sh ended", WEXITSTATUS(s->init_status));
	st = s->have_done ? s->done_status : s->init_status;
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
	describe(what, sizeof(what), s->have_done ? "build.sh" :
	    "sandbox init", st);
	if (s->ended_by != 0) {
		res->end = (enum sandbox_end)s->ended_by;
		snprintf(res->reason, sizeof(res->reason), "%s %lld ms; %s",
		    s->ended_by == SBX_WALL_TIMEOUT ?
		    "wall-clock timeout after" : "no output for",
		    (long long)(s->ended_by == SBX_WALL_TIMEOUT ?
		    s->c->wall_timeout_ms : s->c->idle_timeout_ms), what);
	} else {
		res->end = WIFEXITED(st) ? SBX_EXITED : SBX_SIGNALED;
		snprintf(res->reason, sizeof(res->reason), "%s", what);
	}
	if (s->log_errno != 0) {
		size_t	 l = strlen(res->reason);
		snprintf(res->reason + l, sizeof(res->reason) - l,
		    "; writing the build log failed: %s",
		    strerror(s->log_errno));
	}
	return 0;
}

static void
describe(char *out, size_t len, const char *who, int st)
{
	const char	*abbrev;

	if (WIFEXITED(st)) {
		snprintf(out, len, "%s exited with status %d", who,
		    WEXITSTATUS(st));
		return;
	}
	abbrev = sigabbrev_np(WTERMSIG(st));
	snprintf(out, len, "%s killed by signal %d (SIG%s)", who,
	    WTERMSIG(st), abbrev != NULL ? abbrev : "?");
}
