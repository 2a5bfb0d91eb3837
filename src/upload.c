/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * upload.c: the ordered rclone upload of a repository state (upload.h).
 *
 * Trust: argv comes from the operator's configuration and the state's
 * own file names; rclone's output is untrusted and only quoted.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "upload.h"

#define KILL_GRACE_MS	5000

struct argv {
	char	**v;
	size_t	  n;
};

static void	 av_add(struct argv *, const char *);
static void	 av_free(struct argv *);
static void	 av_base(struct argv *, const struct upload_opts *,
		    const char *);
static int64_t	 now_ms(void);
static void	 keep_tail(struct buf *, const char *, size_t);
static void	 child(char *const [], int) PM_NORETURN;
static int	 collect(pid_t, int, int, struct buf *);
static int	 run(const struct upload_opts *, struct argv *,
		    const char *, struct buf *);
static int	 write_list(const struct upload_opts *, char **,
		    struct buf *);
static int	 phase_packages(const struct upload_opts *, struct buf *);
static int	 phase_copyto(const struct upload_opts *, const char *,
		    struct buf *);

static const char *const meta_files[] = {
	"index/archive.json", "index/archive.json.sig",
	"index/active.json", "index/active.json.sig",
	"repo.json", "repo.json.sig"
};

const char *
upload_phase_name(enum upload_phase p)
{
	switch (p) {
	case UPLOAD_NONE:
		break;
	case UPLOAD_PACKAGES:
		return "packages";
	case UPLOAD_KEYS:
		return "keys";
	case UPLOAD_INDEXES:
		return "indexes";
	case UPLOAD_DESCRIPTOR:
		return "descriptor";
	case UPLOAD_SYNC:
		return "sync";
	}
	return "none";
}

static void
av_add(struct argv *a, const char *s)
{
	a->v = xreallocarray(a->v, a->n + 2, sizeof(*a->v));
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void
av_free(struct argv *a)
{
	size_t	 i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static void
av_base(struct argv *a, const struct upload_opts *o, const char *verb)
{
	size_t	 i;

	av_add(a, o->rclone != NULL ? o->rclone : "rclone");
	av_add(a, verb);
	for (i = 0; i < o->nextra; i++)
		av_add(a, o->extra_args[i]);
}

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append, keeping only the last UPLOAD_OUTPUT_MAX bytes. */
static void
keep_tail(struct buf *b, const char *p, size_t n)
{
	size_t	 drop;

	buf_add(b, p, n);
	if (b->len > UPLOAD_OUTPUT_MAX) {
		drop = b->len - UPLOAD_OUTPUT_MAX;
		memmove(b->data, b->data + drop, b->len - drop + 1);
		b->len -= drop;
	}
}

static void
child(char *const argv[], int wfd)
{
	int	 nul;

	if ((nul = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(nul, 0) == -1 || dup2(wfd, 1) == -1 || dup2(wfd, 2) == -1)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	_exit(127);
}

/* Read output until EOF, enforce the timeout, reap; the wait status. */
static int
collect(pid_t pid, int rfd, int timeout, struct buf *out)
{
	struct pollfd	 pfd = { rfd, POLLIN, 0 };
	char		 chunk[4096];
	int64_t		 deadline, left;
	ssize_t		 n;
	int		 r, status, killed = 0;

	deadline = timeout > 0 ? now_ms() + (int64_t)timeout * 1000 : 0;
	for (;;) {
		left = deadline ? deadline - now_ms() : -1;
		if (deadline && left <= 0) {
			kill(pid, killed ? SIGKILL : SIGTERM);
			deadline = now_ms() + KILL_GRACE_MS;
			killed = 1;
			continue;
		}
		if ((r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX :
		    (int)left)) == -1 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if ((n = read(rfd, chunk, sizeof(chunk))) == -1 &&
		    (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		keep_tail(out, chunk, (size_t)n);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			status = W_EXITCODE(255, 0);
			break;
		}
	if (killed)
		keep_tail(out, "\n(killed: timed out)", 20);
	return status;
}

int
upload_exec(char *const argv[], int timeout, struct buf *out,
    struct buf *err)
{
	pid_t	 pid;
	int	 p[2], status;

	if (pipe2(p, O_CLOEXEC) == -1)
		return errf(err, "pipe: %s", strerror(errno));
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return errf(err, "fork: %s", strerror(errno));
	}
	if (pid == 0)
		child(argv, p[1]);
	close(p[1]);
	status = collect(pid, p[0], timeout, out);
	close(p[0]);
	return status;
}

/* Run one rclone command; a message with its status and output tail. */
static int
run(const struct upload_opts *o, struct argv *a, const char *what,
    struct buf *err)
{
	struct buf	 out = BUF_INIT;
	const char	*tail;
	size_t		 len;
	int		 st, rc = -1;

	if ((st = upload_exec(a->v, o->timeout, &out, err)) == -1)
		goto done;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		rc = 0;
		goto done;
	}
	while (out.len > 0 && (out.data[out.len - 1] == '\n' ||
	    out.data[out.len - 1] == ' '))
		out.data[--out.len] = '\0';
	tail = buf_str(&out);
	if ((len = strlen(tail)) > 1024)
		tail += len - 1024;
	if (WIFEXITED(st))
		errf(err, "rclone %s: exit status %d%s%s", what,
		    WEXITSTATUS(st), *tail ? ": " : "", tail);
	else
		errf(err, "rclone %s: killed by signal %d%s%s", what,
		    WTERMSIG(st), *tail ? ": " : "", tail);
 done:
	buf_free(&out);
	return rc;
}

/* The --files-from list, in a private temporary file. */
static int
write_list(const struct upload_opts *o, char **path, struct buf *err)
{
	struct buf	 b = BUF_INIT;
	const char	*dir = o->tmpdir;
	size_t		 i;
	int		 fd, rc = -1;

	if (dir == NULL && (dir = getenv("TMPDIR")) == NULL)
		dir = "/tmp";
	*path = xasprintf("%s/peipkg-upload.XXXXXX", dir);
	if ((fd = mkostemp(*path, O_CLOEXEC)) == -1) {
		errf(err, "create %s: %s", *path, strerror(errno));
		free(*path);
		*path = NULL;
		return -1;
	}
	for (i = 0; i < o->npaths; i++)
		buf_addf(&b, "%s\n", o->paths[i]);
	if (write_full(fd, b.data, b.len) == -1)
		errf(err, "write %s: %s", *path, strerror(errno));
	else
		rc = 0;
	close(fd);
	buf_free(&b);
	return rc;
}

static int
phase_packages(const struct upload_opts *o, struct buf *err)
{
	struct argv	 a = { NULL, 0 };
	char		*list = NULL, *arg;
	size_t		 i;
	int		 rc = -1;

	if (o->paths != NULL && o->npaths == 0)
		return 0;
	av_base(&a, o, "copy");
	if (o->paths != NULL) {
		if (write_list(o, &list, err) == -1)
			goto out;
		arg = xasprintf("--files-from-raw=%s", list);
		av_add(&a, arg);
		free(arg);
	} else
		for (i = 0; i < nitems(meta_files); i++) {
			arg = xasprintf("--exclude=/%s", meta_files[i]);
			av_add(&a, arg);
			free(arg);
		}
	av_add(&a, o->local);
	av_add(&a, o->remote);
	rc = run(o, &a, "copy (packages)", err);
 out:
	if (list != NULL) {
		unlink(list);
		free(list);
	}
	av_free(&a);
	return rc;
}

static int
phase_copyto(const struct upload_opts *o, const char *rel, struct buf *err)
{
	struct argv	 a = { NULL, 0 };
	char		*src, *dst, *what;
	int		 rc;

	src = xasprintf("%s/%s", o->local, rel);
	dst = xasprintf("%s/%s", o->remote, rel);
	what = xasprintf("copyto %s", rel);
	av_base(&a, o, "copyto");
	av_add(&a, src);
	av_add(&a, dst);
	rc = run(o, &a, what, err);
	av_free(&a);
	free(src);
	free(dst);
	free(what);
	return rc;
}

int
upload_run(const struct upload_opts *o, enum upload_phase *failed,
    struct buf *err)
{
	struct argv		 a = { NULL, 0 };
	enum upload_phase	 ph = UPLOAD_PACKAGES;
	char			*src, *dst;
	size_t			 i;
	int			 rc = -1;

	if (phase_packages(o, err) == -1)
		goto out;
	ph = UPLOAD_KEYS;
	src = xasprintf("%s/keys", o->local);
	dst = xasprintf("%s/keys", o->remote);
	av_base(&a, o, "copy");
	av_add(&a, src);
	av_add(&a, dst);
	free(src);
	free(dst);
	if (run(o, &a, "copy (keys)", err) == -1)
		goto out;
	for (i = 0; i < nitems(meta_files); i++) {
		ph = i < 4 ? UPLOAD_INDEXES : UPLOAD_DESCRIPTOR;
		if (phase_copyto(o, meta_files[i], err) == -1)
			goto out;
	}
	ph = UPLOAD_SYNC;
	av_free(&a);
	av_base(&a, o, "sync");
	av_add(&a, o->local);
	av_add(&a, o->remote);
	if (o->sync && run(o, &a, "sync", err) == -1)
		goto out;
	ph = UPLOAD_NONE;
	rc = 0;
 out:
	av_free(&a);
	if (failed != NULL)
		*failed = ph;
	return rc;
}
