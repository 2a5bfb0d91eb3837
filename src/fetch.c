/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * fetch.c: one upstream tag's source tree through libgit2, in a child
 * process bounded in time, bytes and entries (fetch.h).
 *
 * Trust: the options are trusted; what the upstream sends is hostile.
 * libgit2 parses it only in the child, which keeps no descriptor but its
 * result pipe; the parent side reads one fixed-size record from that
 * pipe and checks it before use.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "git2compat.h"
#include <seccomp.h>

#include "fetch.h"

#define CA_FILE		"/etc/ssl/certs/ca-certificates.crt"
#define REASON_MAX	1024		/* bytes of one libgit2 message */
#define STRIP_DEPTH	1024		/* directory levels walked */
#define SUBMODULES_MAX	4096		/* per repository */
#define CHILD_MSG_MAX	4096		/* error text from the child */

/* One fetch_run(). */
struct fctx {
	const struct fetch_opts	*o;
	uint64_t		 max_bytes;
	uint64_t		 max_files;
	int64_t			 deadline;	/* monotonic ms, 0 */
	int			 top_local;
	struct fetch_result	*res;
	char			 why[256];	/* our abort reason */
};

/* What the child sends back: one record, fixed size. */
struct child_rec {
	uint32_t		 magic;
	uint32_t		 ok;
	struct fetch_result	 res;
	char			 msg[CHILD_MSG_MAX];
};
#define CHILD_MAGIC	0x70667463	/* "pftc" */

struct names {
	char	**v;
	size_t	  n;
};

static int64_t	 now_ms(void);
static int	 git_setup(struct buf *);
static int	 url_is_local(const char *);
static int	 over_deadline(struct fctx *);
static int	 cb_transfer(const git_indexer_progress *, void *);
static int	 cb_sideband(const char *, int, void *);
static void	 fill_fetch_opts(git_fetch_options *, struct fctx *);
static void	 reason(struct buf *, struct fctx *, const char *);
static int	 measure_cb(const char *, const git_tree_entry *, void *);
static int	 checkout_commit(git_repository *, git_commit *,
		    struct fctx *);
static int	 fetch_tag(git_repository **, git_commit **, struct fctx *,
		    struct buf *);
static int	 collect_cb(git_submodule *, const char *, void *);
static int	 sub_url_ok(git_repository *, git_submodule *, struct fctx *);
static int	 sub_one(git_repository *, const char *, int, struct fctx *,
		    struct buf *);
static int	 submodules(git_repository *, int, struct fctx *,
		    struct buf *);
static int	 rm_at(int, const char *, int);
static int	 strip_git(int, int);
static int	 child_filter(void);
static void	 child_main(const struct fetch_opts *, int, pid_t)
		    PM_NORETURN;
static int	 child_wait(const struct fetch_opts *, pid_t, int,
		    struct child_rec *, struct buf *);
static void	 sanitize(char *);

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libgit2 without any user or system configuration. */
static int
git_setup(struct buf *err)
{
	static const int levels[] = { GIT_CONFIG_LEVEL_SYSTEM,
			    GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
			    GIT_CONFIG_LEVEL_PROGRAMDATA };
	static int	 done;
	size_t		 i;

	if (done)
		return 0;
	if (git_libgit2_init() < 0)
		return errf(err, "libgit2 initialisation failed");
	(void)git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	for (i = 0; i < nitems(levels); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i],
		    "") < 0)
			return errf(err, "libgit2: cannot clear config paths");
	if (access(CA_FILE, R_OK) == 0)
		(void)git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS,
		    CA_FILE, NULL);
	git_error_clear();
	done = 1;
	return 0;
}

/* file:// URLs and plain paths; "host:path" is ssh. */
static int
url_is_local(const char *u)
{
	if (strncmp(u, "file:", 5) == 0)
		return 1;
	if (strstr(u, "://") != NULL)
		return 0;
	return u[0] == '/' || u[0] == '.' || strchr(u, ':') == NULL;
}

#if FETCH_HAVE_DEPTH
/* A transport libgit2 fetches shallow: http(s) and ssh.  Its local
 * transport refuses depth, and over git:// (libgit2 1.8.4 against git
 * daemon) the server hangs up on a shallow request. */
static int
url_can_shallow(const char *u)
{
	return strncmp(u, "https://", 8) == 0 ||
	    strncmp(u, "http://", 7) == 0 || strncmp(u, "ssh://", 6) == 0 ||
	    (strstr(u, "://") == NULL && !url_is_local(u));
}
#endif

int
fetch_tag_valid(const char *tag, struct buf *err)
{
	char	*ref;
	int	 valid = 0;

	if (tag == NULL || tag[0] == '\0' || strlen(tag) > 1024)
		return errf(err, "tag name is empty or too long");
	ref = xasprintf("refs/tags/%s", tag);
	if (git_setup(err) == -1 ||
	    git_reference_name_is_valid(&valid, ref) < 0)
		valid = 0;
	free(ref);
	/* '*' passes name validation in some modes; never in a refspec */
	if (!valid || strpbrk(tag, "*:+") != NULL)
		return errf(err, "\"%s\" is not a valid tag name", tag);
	return 0;
}

/* ---- bounds --------------------------------------------------------- */

static int
over_deadline(struct fctx *c)
{
	if (c->deadline == 0 || now_ms() < c->deadline)
		return 0;
	snprintf(c->why, sizeof(c->why), "timed out after %llds",
	    (long long)(c->o->timeout_ms / 1000));
	return 1;
}

static int
cb_transfer(const git_indexer_progress *st, void *arg)
{
	struct fctx	*c = arg;

	if (over_deadline(c))
		return -1;
	if ((uint64_t)st->received_bytes > c->max_bytes) {
		snprintf(c->why, sizeof(c->why), "source too large: more "
		    "than %llu bytes received",
		    (unsigned long long)c->max_bytes);
		return -1;
	}
	return 0;
}

static int
cb_sideband(const char *s, int len, void *arg)
{
	return over_deadline(arg) ? -1 : 0;
}

static void
fill_fetch_opts(git_fetch_options *fo, struct fctx *c)
{
	fo->callbacks.transfer_progress = cb_transfer;
	fo->callbacks.sideband_progress = cb_sideband;
	fo->callbacks.payload = c;
	fo->download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo->prune = GIT_FETCH_NO_PRUNE;
	fo->update_fetchhead = 0;
	fo->proxy_opts.type = GIT_PROXY_NONE;
}

/* Our own reason if we aborted, else libgit2's message (bounded). */
static void
reason(struct buf *out, struct fctx *c, const char *fallback)
{
	const git_error	*e = git_error_last();
	const char	*m = fallback;

	if (c->why[0] != '\0')
		m = c->why;
	else if (e != NULL && e->message != NULL && e->message[0] != '\0')
		m = e->message;
	buf_add(out, m, strnlen(m, REASON_MAX));
}

/* ---- checkout ------------------------------------------------------- */

struct measure {
	struct fctx	*c;
	git_odb		*odb;
};

static int
measure_cb(const char *root, const git_tree_entry *e, void *arg)
{
	struct measure	*m = arg;
	struct fctx	*c = m->c;
	git_object_t	 type;
	size_t		 len;

	if (over_deadline(c))
		return -1;
	if (++c->res->files > c->max_files) {
		snprintf(c->why, sizeof(c->why), "source too large: more "
		    "than %llu files and directories",
		    (unsigned long long)c->max_files);
		return -1;
	}
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0;
	if (git_odb_read_header(&len, &type, m->odb,
	    git_tree_entry_id(e)) < 0)
		return -1;
	c->res->bytes += len;
	if (c->res->bytes > c->max_bytes) {
		snprintf(c->why, sizeof(c->why), "source too large: more "
		    "than %llu bytes", (unsigned long long)c->max_bytes);
		return -1;
	}
	return 0;
}

/* Measure the commit's tree, then check it out (force) and detach HEAD. */
static int
checkout_commit(git_repository *repo, git_commit *commit, struct fctx *c)
{
	git_checkout_options	 co;
	struct measure		 m = { c, NULL };
	git_tree		*tree = NULL;
	int			 rc = -1;

	(void)git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	if (git_commit_tree(&tree, commit) < 0 ||
	    git_repository_odb(&m.odb, repo) < 0 ||
	    git_tree_walk(tree, GIT_TREEWALK_PRE, measure_cb, &m) != 0)
		goto out;
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (git_checkout_tree(repo, (const git_object *)commit, &co) < 0 ||
	    git_repository_set_head_detached(repo, git_commit_id(commit)) < 0)
		goto out;
	rc = 0;
out:
	git_odb_free(m.odb);
	git_tree_free(tree);
	return rc;
}

/* A fresh repository holding exactly refs/tags/<tag>; its commit. */
static int
fetch_tag(git_repository **repo, git_commit **commit, struct fctx *c,
    struct buf *why)
{
	git_repository_init_options io;
	git_fetch_options	 fo;
	git_remote		*remote = NULL;
	git_reference		*ref = NULL;
	git_object		*obj = NULL;
	char			*spec, *name;
	int			 rc = -1;

	(void)git_repository_init_options_init(&io,
	    GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	(void)git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	spec = xasprintf("+refs/tags/%s:refs/tags/%s", c->o->tag, c->o->tag);
	name = xasprintf("refs/tags/%s", c->o->tag);
	io.flags = GIT_REPOSITORY_INIT_MKDIR | GIT_REPOSITORY_INIT_NO_REINIT;
	fill_fetch_opts(&fo, c);
#if FETCH_HAVE_DEPTH
	if (url_can_shallow(c->o->url))
		fo.depth = 1;		/* the tag's commit only */
#endif
	if (git_repository_init_ext(repo, c->o->dest, &io) < 0 ||
	    git_remote_create_with_fetchspec(&remote, *repo, "origin",
	    c->o->url, spec) < 0 ||
	    git_remote_fetch(remote, NULL, &fo, NULL) < 0) {
		reason(why, c, "fetch failed");
		goto out;
	}
	if (git_reference_lookup(&ref, *repo, name) < 0) {
		buf_addf(why, "the upstream has no tag \"%s\"", c->o->tag);
		goto out;
	}
	if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) {
		reason(why, c, "the tag does not point to a commit");
		goto out;
	}
	*commit = (git_commit *)obj;
	rc = 0;
out:
	git_reference_free(ref);
	git_remote_free(remote);
	free(spec);
	free(name);
	return rc;
}

/* ---- submodules ----------------------------------------------------- */

static int
collect_cb(git_submodule *sm, const char *name, void *arg)
{
	struct names	*n = arg;

	if (n->n >= SUBMODULES_MAX)
		return -1;
	n->v = xreallocarray(n->v, n->n + 1, sizeof(*n->v));
	n->v[n->n++] = xstrdup(name);
	return 0;
}

/* A local URL only for a local superproject (cf. git's protocol.file). */
static int
sub_url_ok(git_repository *repo, git_submodule *sm, struct fctx *c)
{
	git_buf		 res = { NULL, 0, 0 };
	const char	*u = git_submodule_url(sm);
	int		 ok;

	if (u == NULL || git_submodule_resolve_url(&res, repo, u) < 0) {
		snprintf(c->why, sizeof(c->why), "no usable URL");
		return 0;
	}
	ok = c->top_local || !url_is_local(res.ptr);
	if (!ok)
		snprintf(c->why, sizeof(c->why), "local URL \"%.*s\" refused "
		    "for a remote superproject", 120, res.ptr);
	git_buf_dispose(&res);
	return ok;
}

static int
sub_one(git_repository *repo, const char *name, int depth, struct fctx *c,
    struct buf *why)
{
	git_submodule_update_options uo;
	git_submodule	*sm = NULL;
	git_repository	*sub = NULL;
	git_commit	*commit = NULL;
	const git_oid	*id;
	int		 rc = -1;

	if (git_submodule_lookup(&sm, repo, name) < 0) {
		reason(why, c, "lookup failed");
		return -1;
	}
	/* Like `git submodule update`: no gitlink or update=none: skip. */
	if ((id = git_submodule_index_id(sm)) == NULL ||
	    git_submodule_update_strategy(sm) == GIT_SUBMODULE_UPDATE_NONE) {
		git_submodule_free(sm);
		return 0;
	}
	buf_addf(why, "submodule %s: ", git_submodule_path(sm));
	(void)git_submodule_update_options_init(&uo,
	    GIT_SUBMODULE_UPDATE_OPTIONS_VERSION);
	uo.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
	fill_fetch_opts(&uo.fetch_opts, c);
	if (!sub_url_ok(repo, sm, c) || git_submodule_update(sm, 1, &uo) < 0 ||
	    git_submodule_open(&sub, sm) < 0 ||
	    git_commit_lookup(&commit, sub, id) < 0 ||
	    checkout_commit(sub, commit, c) == -1) {
		reason(why, c, "update failed");
		goto out;
	}
	c->res->nsubmodules++;
	rc = submodules(sub, depth + 1, c, why);
out:
	git_commit_free(commit);
	git_repository_free(sub);
	git_submodule_free(sm);
	return rc;
}

static int
submodules(git_repository *repo, int depth, struct fctx *c, struct buf *why)
{
	struct names	 n = { NULL, 0 };
	size_t		 i;
	int		 rc = 0;

	if (git_submodule_foreach(repo, collect_cb, &n) != 0) {
		if (n.n >= SUBMODULES_MAX)
			buf_addf(why, "more than %d submodules",
			    SUBMODULES_MAX);
		else
			reason(why, c, "cannot list the submodules");
		rc = -1;
	} else if (n.n > 0 && depth >= FETCH_SUBMODULE_DEPTH) {
		buf_addf(why, "submodules nested deeper than %d levels",
		    FETCH_SUBMODULE_DEPTH);
		rc = -1;
	}
	for (i = 0; rc == 0 && i < n.n; i++) {
		size_t	 len = why->len;

		rc = sub_one(repo, n.v[i], depth, c, why);
		if (rc == 0)	/* drop the "submodule x: " prefix */
			why->len = len;
	}
	if (why->data != NULL)
		why->data[why->len] = '\0';
	for (i = 0; i < n.n; i++)
		free(n.v[i]);
	free(n.v);
	return rc;
}

/* ---- .git removal --------------------------------------------------- */

/* Remove dfd/name, a tree or not, never following a symlink. */
static int
rm_at(int dfd, const char *name, int depth)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, rc = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth > STRIP_DEPTH)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    rm_at(dirfd(d), de->d_name, depth + 1) == -1)
			rc = -1;
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* Remove every entry named .git below dfd (taken). */
static int
strip_git(int dfd, int depth)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, rc = 0;

	if (depth > STRIP_DEPTH || (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL && rc == 0) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, ".git") == 0) {
			rc = rm_at(dirfd(d), de->d_name, 0);
			continue;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (fd != -1)
			rc = strip_git(fd, depth + 1);
		else if (errno != ENOTDIR && errno != ELOOP)
			rc = -1;
	}
	closedir(d);
	return rc;
}

/* ---- in this process ------------------------------------------------ */

int
fetch_run(const struct fetch_opts *o, struct fetch_result *res,
    struct buf *err)
{
	struct fctx	 c;
	struct buf	 why = BUF_INIT;
	git_repository	*repo = NULL;
	git_commit	*commit = NULL;
	int		 fd, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.res = res;
	c.max_bytes = o->max_bytes ? o->max_bytes : FETCH_DEF_MAX_BYTES;
	c.max_files = o->max_files ? o->max_files : FETCH_DEF_MAX_FILES;
	c.deadline = o->timeout_ms > 0 ? now_ms() + o->timeout_ms : 0;
	c.top_local = url_is_local(o->url);
	if (git_setup(&why) == -1 || fetch_tag_valid(o->tag, &why) == -1 ||
	    fetch_tag(&repo, &commit, &c, &why) == -1)
		goto out;
	res->commit_time = (int64_t)git_commit_committer(commit)->when.time;
	git_oid_tostr(res->commit, sizeof(res->commit), git_commit_id(commit));
	if (checkout_commit(repo, commit, &c) == -1) {
		reason(&why, &c, "checkout failed");
		goto out;
	}
	if (o->submodules && submodules(repo, 0, &c, &why) == -1)
		goto out;
	if ((fd = open(o->dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || strip_git(fd, 0) == -1) {
		buf_addf(&why, "remove .git from %s: %s", o->dest,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		errf(err, "fetch source: %s tag %s: %s", o->url, o->tag,
		    buf_str(&why));
	git_commit_free(commit);
	git_repository_free(repo);
	buf_free(&why);
	return rc;
}

/* ---- in a child ----------------------------------------------------- */

/*
 * The child parses hostile data as the build user, who also runs other
 * builds' workers: whatever happens to it, it must not reach into them.
 */
static int
child_filter(void)
{
	static const int deny[] = {
		SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
		SCMP_SYS(process_vm_writev), SCMP_SYS(pidfd_getfd),
		SCMP_SYS(kcmp), SCMP_SYS(process_madvise)
	};
	scmp_filter_ctx	 f;
	size_t		 i;
	int		 rc = -1;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    (f = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return -1;
	for (i = 0; i < nitems(deny); i++)
		if (seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), deny[i], 0) < 0)
			goto out;
	rc = seccomp_load(f) < 0 ? -1 : 0;
out:
	seccomp_release(f);
	return rc;
}

static void
child_main(const struct fetch_opts *o, int wfd, pid_t ppid)
{
	static struct child_rec	 rec;
	struct rlimit		 rl;
	struct buf		 err = BUF_INIT;
	uint64_t		 max = o->max_bytes ? o->max_bytes :
				    FETCH_DEF_MAX_BYTES;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != ppid)
		_exit(1);
	if (wfd != 3 && (dup2(wfd, 3) == -1))
		_exit(1);
	(void)close_range(4, ~0U, 0);
	umask(022);
	/* A remote that hangs up is an error from libgit2, not a signal. */
	(void)signal(SIGPIPE, SIG_IGN);
	rl.rlim_cur = rl.rlim_max = 0;
	(void)setrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = rl.rlim_max = (rlim_t)max;
	(void)setrlimit(RLIMIT_FSIZE, &rl);
	memset(&rec, 0, sizeof(rec));
	rec.magic = CHILD_MAGIC;
	if (child_filter() == -1)
		errf(&err, "fetch source: %s tag %s: cannot install the "
		    "fetch process's seccomp filter", o->url, o->tag);
	else
		rec.ok = fetch_run(o, &rec.res, &err) == 0;
	snprintf(rec.msg, sizeof(rec.msg), "%s", buf_str(&err));
	_exit(write_full(3, &rec, sizeof(rec)) == -1 ? 1 : 0);
}

/* Read the child's record by the deadline; the child is reaped. */
static int
child_wait(const struct fetch_opts *o, pid_t pid, int rfd,
    struct child_rec *rec, struct buf *err)
{
	int64_t		 end, left;
	struct pollfd	 pfd = { rfd, POLLIN, 0 };
	size_t		 got = 0;
	ssize_t		 n;
	int		 st, r, timeout = 0;
	char		 how[64];

	end = o->timeout_ms > 0 ? now_ms() + o->timeout_ms : 0;
	while (got < sizeof(*rec)) {
		left = end == 0 ? -1 : end - now_ms();
		if (end != 0 && left <= 0) {
			timeout = 1;
			break;
		}
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r == -1 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		n = read(rfd, (char *)rec + got, sizeof(*rec) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		continue;
	if (timeout)
		return errf(err, "fetch source: %s tag %s: timed out after "
		    "%llds", o->url, o->tag, (long long)(o->timeout_ms / 1000));
	if (got == sizeof(*rec) && rec->magic == CHILD_MAGIC && rec->ok <= 1)
		return 0;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ)
		return errf(err, "fetch source: %s tag %s: source too large: "
		    "a file over %llu bytes", o->url, o->tag,
		    (unsigned long long)(o->max_bytes ? o->max_bytes :
		    FETCH_DEF_MAX_BYTES));
	if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
		snprintf(how, sizeof(how), "was killed by signal %d",
		    WTERMSIG(st));
	else if (WIFEXITED(st))
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(st));
	else
		snprintf(how, sizeof(how), "ended without a result");
	return errf(err, "fetch source: %s tag %s: the fetch process %s",
	    o->url, o->tag, how);
}

/* The child's text is shown to operators: one line, printable. */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

int
fetch_source(const struct fetch_opts *o, struct fetch_result *res,
    struct buf *err)
{
	struct child_rec	*rec;
	struct stat		 sb;
	pid_t			 pid, me = getpid();
	int			 p[2], rc = -1;

	memset(res, 0, sizeof(*res));
	if (o->dest == NULL || o->dest[0] != '/')
		return errf(err, "fetch source: destination must be absolute");
	if (lstat(o->dest, &sb) == 0 || errno != ENOENT)
		return errf(err, "fetch source: %s already exists", o->dest);
	if (pipe2(p, O_CLOEXEC) == -1)
		return errf(err, "fetch source: pipe: %s", strerror(errno));
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return errf(err, "fetch source: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(p[0]);
		child_main(o, p[1], me);
	}
	close(p[1]);
	rec = xcalloc(1, sizeof(*rec));
	if (child_wait(o, pid, p[0], rec, err) == 0) {
		rec->msg[sizeof(rec->msg) - 1] = '\0';
		rec->res.commit[sizeof(rec->res.commit) - 1] = '\0';
		sanitize(rec->msg);
		if (rec->ok &&
		    strspn(rec->res.commit, "0123456789abcdef") != 40)
			errf(err, "fetch source: %s tag %s: the fetch process "
			    "sent a malformed result", o->url, o->tag);
		else if (rec->ok) {
			*res = rec->res;
			rc = 0;
		} else
			errf(err, "%s", rec->msg[0] != '\0' ? rec->msg :
			    "fetch source: failed");
	}
	close(p[0]);
	free(rec);
	return rc;
}
