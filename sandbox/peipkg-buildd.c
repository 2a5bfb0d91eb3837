/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * peipkg-buildd.c: the per-build worker.  The privileged parent execs it
 * for every build (argv[0] only) with this fd layout:
 *
 *	0, 1, 2		/dev/null
 *	3		the channel to the parent (SOCK_SEQPACKET)
 *	every other fd	closed
 *
 * Flow (doc/PROTOCOL 2.7, doc/design.md "The build worker"):
 *   1. setsid(): the parent ends the build by killing our process group;
 *      umask 022 (packages must be readable by the publisher);
 *   2. PM_BUILD_JOB, then PM_BUILD_LOG_FD (the build log, append-only);
 *      every field validated;
 *   3. demotion, for good, before anything else happens: the build user
 *      (uid/gid from the job) through proc_drop_privileges() (no
 *      chroot: the fetch needs the network and the sandbox builds its own
 *      root), which also sets no_new_privs, clears every capability,
 *      RLIMIT_CORE 0 and not dumpable; then PR_SET_PDEATHSIG(SIGKILL),
 *      re-armed after the id change, and a getppid() check;
 *   4. fetch (src/fetch.c) into <job>/src in a child process bounded by
 *      the job's wall timeout and the size caps;
 *   5. build_run() (src/buildpath.c): build.sh in the sandbox with the
 *      job's limits and hide list and the rest of the wall timeout,
 *      [[sign]] binary signatures and package signatures asked from the
 *      signer over the channel (src/signer_remote.c), partition, pack
 *      into <job>/out;
 *   6. PM_BUILD_DONE (ok + output names, or one line of error) and a
 *      final line in the build log; exit 0.  Exit 1 only when the
 *      protocol or the set-up failed (a PM_BUILD_DONE with the reason
 *      is still sent when the job had been read).
 * Progress goes to the parent as PM_BUILD_PHASE and PM_LOG events.
 *
 * Trust: the parent and the job are trusted (validated anyway: a broken
 * parent must not make us run as root or build at a bad path).  Upstream
 * data is hostile and is only parsed by libgit2 in the fetch child;
 * build.sh and everything it leaves behind are hostile and are only
 * handled by the sandbox and the stage/pack code.  Nothing here runs as
 * root after step 3.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buildpath.h"
#include "fetch.h"
#include "log.h"
#include "msg.h"
#include "msgtypes.h"
#include "proc.h"
#include "recipe.h"
#include "sign.h"
#include "signer_remote.h"

#define LIST_MAX	256		/* hide paths, env entries, keys */
#define WALL_MAX_NS	(7LL * 86400 * 1000000000)	/* a week */
#define GRACE_MAX_NS	(3600LL * 1000000000)		/* an hour */
#define ZSTD_LEVEL_MAX	22
#define DEF_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:" \
			    "/usr/bin:/sbin:/bin"
#define LOG_TAG		"peipkg-buildd: "

enum phase {
	PHASE_FETCH = 1,
	PHASE_BUILD = 2,
	PHASE_PACK = 3
};

/* PM_BUILD_JOB, field by field (msgtypes.h), and PM_BUILD_LOG_FD. */
struct job {
	uint32_t	 id;
	char		*recipe_id;
	char		*recipe_file;
	char		*version;
	char		*upstream;
	char		*tag;
	uint8_t		 have_commit;
	uint8_t		 commit[20];	/* the commit the poll saw */
	char		*git;
	uint8_t		 submodules;
	char		*farm_id;
	char		*source_ref;
	char		*dir;
	uint32_t	 uid, gid;
	int64_t		 wall_ns, idle_ns, grace_ns;
	uint64_t	 log_max, max_procs, max_files, max_fsize;
	uint8_t		 allow_ptrace;
	uint32_t	 zstd_level;
	char		**hide;		/* NULL-terminated */
	char		**env;
	char		**keys;
	int		 log_fd;
	int		 have_job;
};

struct worker {
	int		 sock;
	pid_t		 ppid;
	struct job	 j;
	int64_t		 start_ms;
	int64_t		 build_ts;	/* commit time, or 0 */
	struct signer	*remote;
	struct signer	 wrap;		/* remote + events */
	int		 packing;
	char		*src, *out;
};

static struct worker	 W;

static int64_t	 now_ms(void);
static int	 get_list(struct msg *, char ***, size_t);
static int	 h_job(struct peer *, struct msg *);
static int	 h_log_fd(struct peer *, struct msg *);
static int	 receive_job(struct worker *, struct buf *);
static void	 check_strings(const struct job *, struct buf *);
static void	 check_limits(const struct job *, struct buf *);
static void	 check_lists(const struct job *, struct buf *);
static int	 check_job(const struct job *, struct buf *);
static int	 demote(struct worker *, struct buf *);
static void	 log_forward(enum log_level, const char *,
		    const struct lkv *);
static void	 send_phase(struct worker *, enum phase, const char *);
static void	 blog(struct worker *, const char *, ...) PM_PRINTF(2, 3);
static void	 blog_lines(struct worker *, const char *, const char *);
static char	*one_line(const char *);
static int	 send_done(struct worker *, int, const char *,
		    const struct build_result *);
static int	 wrap_sign(struct signer *, enum sign_kind, const char *,
		    const char *, const uint8_t [32], uint8_t [64],
		    uint8_t [32], struct buf *);
static int	 sign_other(void *, struct msg *);
static int	 run_fetch(struct worker *, struct buf *);
static void	 build_params(struct worker *, const struct recipe *,
		    struct build_params *);
static int	 run_build(struct worker *, struct build_result *,
		    struct buf *);
static int	 finish(struct worker *, int, const char *,
		    const struct build_result *);
static void	 clean_env(void);

static const struct msg_handler parent_table[] = {
	{ PM_BUILD_JOB, 4, PM_PAYLOAD_MAX, MSG_ONCE, h_job },
	{ PM_BUILD_LOG_FD, 0, 0, MSG_ONCE | MSG_ALLOW_FD, h_log_fd },
	{ 0, 0, 0, 0, NULL }
};

static const struct msg_typename names[] = {
	{ PM_LOG, "PM_LOG" },
	{ PM_BUILD_JOB, "PM_BUILD_JOB" },
	{ PM_BUILD_LOG_FD, "PM_BUILD_LOG_FD" },
	{ PM_BUILD_PHASE, "PM_BUILD_PHASE" },
	{ PM_BUILD_DONE, "PM_BUILD_DONE" },
	{ PM_SIGN_REQ, "PM_SIGN_REQ" },
	{ PM_SIGN_ANS, "PM_SIGN_ANS" }
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the job ---------------------------------------------------------- */

/* u16 n, n x str: a NULL-terminated list of at most LIST_MAX strings. */
static int
get_list(struct msg *m, char ***out, size_t maxlen)
{
	uint16_t	 n, i;

	if (msg_get_u16(m, &n) == -1)
		return -1;
	if (n > LIST_MAX)
		return msg_reject(m, "list longer than 256 entries");
	*out = xcalloc((size_t)n + 1, sizeof(**out));
	for (i = 0; i < n; i++)
		if (msg_get_str(m, &(*out)[i], maxlen) == -1)
			return -1;
	return 0;
}

static int
h_job(struct peer *p, struct msg *m)
{
	struct job	*j = &W.j;

	j->id = m->m_hdr.id;
	if (msg_get_str(m, &j->recipe_id, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &j->recipe_file, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &j->version, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &j->upstream, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &j->tag, PM_STR_MAX) == -1 ||
	    msg_get_u8(m, &j->have_commit) == -1 ||
	    msg_get_fixed(m, j->commit, sizeof(j->commit)) == -1 ||
	    msg_get_str(m, &j->git, PM_STR_MAX) == -1 ||
	    msg_get_u8(m, &j->submodules) == -1 ||
	    msg_get_str(m, &j->farm_id, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &j->source_ref, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &j->dir, PM_STR_MAX) == -1 ||
	    msg_get_u32(m, &j->uid) == -1 || msg_get_u32(m, &j->gid) == -1 ||
	    msg_get_i64(m, &j->wall_ns) == -1 ||
	    msg_get_i64(m, &j->idle_ns) == -1 ||
	    msg_get_i64(m, &j->grace_ns) == -1 ||
	    msg_get_u64(m, &j->log_max) == -1 ||
	    msg_get_u64(m, &j->max_procs) == -1 ||
	    msg_get_u64(m, &j->max_files) == -1 ||
	    msg_get_u64(m, &j->max_fsize) == -1 ||
	    msg_get_u8(m, &j->allow_ptrace) == -1 ||
	    msg_get_u32(m, &j->zstd_level) == -1 ||
	    get_list(m, &j->hide, PM_STR_MAX) == -1 ||
	    get_list(m, &j->env, PM_STR_MAX) == -1 ||
	    get_list(m, &j->keys, PM_ID_MAX) == -1)
		return -1;
	if (msg_end(m) == -1)
		return -1;
	j->have_job = 1;
	return 0;
}

static int
h_log_fd(struct peer *p, struct msg *m)
{
	struct stat	 sb;
	int		 fd, fl;

	if (!W.j.have_job)
		return msg_reject(m, "log fd before the job");
	if ((fd = msg_take_fd(m)) == -1)
		return msg_reject(m, "no descriptor");
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (fl = fcntl(fd, F_GETFL)) == -1 || (fl & O_APPEND) == 0 ||
	    (fl & O_ACCMODE) == O_RDONLY) {
		close(fd);
		return msg_reject(m, "the log is not a regular file open "
		    "for appending");
	}
	W.j.log_fd = fd;
	return 0;
}

/* The two set-up messages, in order; the parent is trusted: any
 * violation ends the worker. */
static int
receive_job(struct worker *w, struct buf *err)
{
	struct peer	 peer;
	int		 n, rc = -1;

	if (peer_init(&peer, NULL, w->sock, "parent", w->ppid, parent_table,
	    NULL, w, err) == -1)
		return -1;
	while (w->j.log_fd == -1) {
		if ((n = msg_recv(w->sock, peer.p_msg, err)) == 0)
			errf(err, "the parent closed the channel");
		if (n != 1 || msg_dispatch(&peer, parent_table, peer.p_msg,
		    err) == -1)
			goto out;
		msg_release(peer.p_msg);
	}
	rc = 0;
out:
	free(peer.p_msg);	/* not peer_free(): the socket stays */
	return rc;
}

static void
check_strings(const struct job *j, struct buf *err)
{
	char	*canon;

	if (j->id == 0)
		errf(err, "job id 0");
	recipe_id_valid(j->recipe_id, err);
	if (j->recipe_file[0] != '/')
		errf(err, "recipe file \"%s\" is not absolute", j->recipe_file);
	build_check_version(j->version, err);
	if (j->upstream[0] == '\0')
		errf(err, "empty upstream version");
	fetch_tag_valid(j->tag, err);
	if (j->git[0] == '\0')
		errf(err, "empty git URL");
	if (j->farm_id[0] == '\0' || j->source_ref[0] == '\0')
		errf(err, "empty farm id or source ref");
	if (j->dir[0] != '/')
		errf(err, "job directory \"%s\" is not absolute", j->dir);
	else if ((canon = realpath(j->dir, NULL)) == NULL)
		errf(err, "job directory %s: %s", j->dir, strerror(errno));
	else {
		if (strcmp(canon, j->dir) != 0 || strcmp(canon, "/") == 0)
			errf(err, "job directory \"%s\" is not canonical "
			    "(it is %s)", j->dir, canon);
		free(canon);
	}
}

static void
check_limits(const struct job *j, struct buf *err)
{
	if (geteuid() == 0 && (j->uid == 0 || j->gid == 0))
		errf(err, "build user %u:%u: refusing uid/gid 0", j->uid,
		    j->gid);
	if (geteuid() != 0 && (j->uid != geteuid() || j->gid != getegid()))
		errf(err, "build user %u:%u: not running as root, the build "
		    "can only run as %u:%u", j->uid, j->gid,
		    (unsigned)geteuid(), (unsigned)getegid());
	if (j->wall_ns <= 0 || j->wall_ns > WALL_MAX_NS)
		errf(err, "wall timeout %lld ns out of range",
		    (long long)j->wall_ns);
	if (j->idle_ns < 0 || j->idle_ns > WALL_MAX_NS)
		errf(err, "idle timeout %lld ns out of range",
		    (long long)j->idle_ns);
	if (j->grace_ns < 0 || j->grace_ns > GRACE_MAX_NS)
		errf(err, "kill grace %lld ns out of range",
		    (long long)j->grace_ns);
	if (j->submodules > 1 || j->allow_ptrace > 1)
		errf(err, "submodules/allow_ptrace flag not 0 or 1");
	if (j->zstd_level > ZSTD_LEVEL_MAX)
		errf(err, "zstd level %u out of range", j->zstd_level);
}

static void
check_lists(const struct job *j, struct buf *err)
{
	size_t	 i;

	for (i = 0; j->hide[i] != NULL; i++)
		if (j->hide[i][0] != '/')
			errf(err, "hide path \"%s\" is not absolute",
			    j->hide[i]);
	build_check_env((const char *const *)j->env, err);
	for (i = 0; j->keys[i] != NULL; i++)
		recipe_key_name_valid(j->keys[i], err);
}

static int
check_job(const struct job *j, struct buf *err)
{
	size_t	 len = err->len;

	check_strings(j, err);
	check_limits(j, err);
	check_lists(j, err);
	return err->len == len ? 0 : -1;
}

/* ---- demotion --------------------------------------------------------- */

static int
demote(struct worker *w, struct buf *err)
{
	struct passwd	*pw;
	char		*user = NULL;
	int		 rc = -1;

	if (geteuid() == 0) {
		errno = 0;
		if ((pw = getpwuid(w->j.uid)) == NULL)
			return errf(err, "build uid %u has no passwd entry",
			    w->j.uid);
		if (pw->pw_gid != w->j.gid)
			return errf(err, "build user %s has group %u, the job "
			    "says %u", pw->pw_name, (unsigned)pw->pw_gid,
			    w->j.gid);
		user = xstrdup(pw->pw_name);
	}
	if (proc_drop_privileges(user, NULL, err) == -1)
		goto out;
	if (getuid() != w->j.uid || geteuid() != w->j.uid ||
	    getgid() != w->j.gid || getegid() != w->j.gid) {
		errf(err, "still running as %u:%u after the demotion",
		    (unsigned)geteuid(), (unsigned)getegid());
		goto out;
	}
	/* The id change cleared the parent-death signal: set it again. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		errf(err, "PR_SET_PDEATHSIG: %s", strerror(errno));
		goto out;
	}
	if (getppid() != w->ppid) {
		errf(err, "the parent exited");
		goto out;
	}
	rc = 0;
out:
	free(user);
	return rc;
}

/* ---- telling the parent and the log ----------------------------------- */

/* PM_LOG: u8 level, str msg, u16 n, n x (str key, str value). */
static void
log_forward(enum log_level lvl, const char *msg, const struct lkv *kv)
{
	static struct msgbuf	 mb;
	const struct lkv	*p;
	struct buf		 e = BUF_INIT;
	char			 num[32];
	uint16_t		 n = 0;

	for (p = kv; p != NULL && p->key != NULL && n < 32; p++)
		n++;
	msg_init(&mb, PM_LOG, 0);
	msg_put_u8(&mb, (uint8_t)lvl);
	msg_put_bytes(&mb, msg, strnlen(msg, PM_STR_MAX));
	msg_put_u16(&mb, n);
	for (p = kv; n > 0; p++, n--) {
		msg_put_bytes(&mb, p->key, strnlen(p->key, 64));
		if (p->type == LKV_INT) {
			snprintf(num, sizeof(num), "%lld", p->i);
			msg_put_str(&mb, num);
		} else
			msg_put_bytes(&mb, p->s != NULL ? p->s : "",
			    p->s != NULL ? strnlen(p->s, PM_ERR_MAX) : 0);
	}
	(void)msg_send(W.sock, &mb, -1, &e);
	buf_free(&e);
}

static void
send_phase(struct worker *w, enum phase ph, const char *detail)
{
	static struct msgbuf	 mb;
	struct buf		 e = BUF_INIT;

	msg_init(&mb, PM_BUILD_PHASE, w->j.id);
	msg_put_u8(&mb, (uint8_t)ph);
	msg_put_bytes(&mb, detail, strnlen(detail, PM_STR_MAX));
	(void)msg_send(w->sock, &mb, -1, &e);
	buf_free(&e);
}

/* One line of our own into the build log. */
static void
blog(struct worker *w, const char *fmt, ...)
{
	struct buf	 b = BUF_INIT;
	va_list		 ap;

	if (w->j.log_fd == -1)
		return;
	buf_adds(&b, LOG_TAG);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	buf_addc(&b, '\n');
	(void)write_full(w->j.log_fd, b.data, b.len);
	buf_free(&b);
}

/* Every line of `text`, each as "<what><line>". */
static void
blog_lines(struct worker *w, const char *what, const char *text)
{
	const char	*c = text;
	size_t		 n;

	while (*c != '\0') {
		n = strcspn(c, "\n");
		blog(w, "%s%.*s", what, (int)n, c);
		c += n + (c[n] == '\n');
	}
}

/* Lines joined with "; ", control bytes blanked, at most PM_ERR_MAX. */
static char *
one_line(const char *text)
{
	struct buf	 b = BUF_INIT;
	const char	*c;

	for (c = text; *c != '\0' && b.len < PM_ERR_MAX - 8; c++) {
		if (*c == '\n' && c[1] != '\0')
			buf_adds(&b, "; ");
		else if ((unsigned char)*c < 0x20 || *c == 0x7f)
			buf_addc(&b, ' ');
		else
			buf_addc(&b, *c);
	}
	if (b.len == 0)
		buf_adds(&b, "build failed");
	return buf_release(&b);
}

/* PM_BUILD_DONE: u8 ok, str error, i64 timestamp, u16 n, n x str name. */
static int
send_done(struct worker *w, int ok, const char *error,
    const struct build_result *res)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	struct buf	 e = BUF_INIT;
	const char	*base;
	size_t		 i, n = ok && res != NULL ? res->noutputs : 0;
	int		 rc;

	msg_init(mb, PM_BUILD_DONE, w->j.id);
	msg_put_u8(mb, (uint8_t)(ok != 0));
	msg_put_str(mb, ok ? "" : error);
	msg_put_i64(mb, w->build_ts);
	msg_put_u16(mb, (uint16_t)n);
	for (i = 0; i < n; i++) {
		base = strrchr(res->outputs[i], '/');
		msg_put_str(mb, base != NULL ? base + 1 : res->outputs[i]);
	}
	if ((rc = msg_send(w->sock, mb, -1, &e)) == -1)
		blog(w, "cannot report the result to the parent: %s",
		    buf_str(&e));
	buf_free(&e);
	free(mb);
	return rc;
}

/* ---- signing ---------------------------------------------------------- */

/* The remote signer, plus the pack phase and one event per signature. */
static int
wrap_sign(struct signer *s, enum sign_kind kind, const char *subject,
    const char *keyname, const uint8_t digest[32], uint8_t sig[64],
    uint8_t pub[32], struct buf *err)
{
	struct worker	*w = s->ctx;

	if (kind == SIGN_PACKAGE && !w->packing) {
		w->packing = 1;
		send_phase(w, PHASE_PACK, "packing");
	}
	log_event(LL_DEBUG, "signature requested",
	    LKV_S("kind", sign_kind_name(kind)),
	    LKV_S("subject", subject),
	    LKV_S("key", keyname != NULL ? keyname : ""));
	return w->remote->sign(w->remote, kind, subject, keyname, digest,
	    sig, pub, err);
}

/* Only PM_SIGN_ANS may arrive while we wait: anything else is a broken
 * parent. */
static int
sign_other(void *arg, struct msg *m)
{
	return SR_ABORT;
}

/* ---- the steps -------------------------------------------------------- */

static int
run_fetch(struct worker *w, struct buf *err)
{
	struct fetch_opts	 o;
	struct fetch_result	 r;
	char			 ts[32], want[41];

	memset(&o, 0, sizeof(o));
	o.url = w->j.git;
	o.tag = w->j.tag;
	o.dest = w->src;
	o.submodules = w->j.submodules;
	o.timeout_ms = w->j.wall_ns / 1000000;
	send_phase(w, PHASE_FETCH, w->j.git);
	blog(w, "fetching %s tag %s%s", w->j.git, w->j.tag,
	    w->j.submodules ? " with submodules" : "");
	log_event(LL_DEBUG, "fetching source", LKV_S("recipe", w->j.recipe_id),
	    LKV_S("git", w->j.git), LKV_S("tag", w->j.tag));
	if (fetch_source(&o, &r, err) == -1)
		return -1;
	if (w->j.have_commit) {
		hex_encode(w->j.commit, sizeof(w->j.commit), want);
		if (strcmp(want, r.commit) != 0)
			return errf(err, "tag %s moved between the poll and the "
			    "fetch: polled commit %s, fetched %s", w->j.tag,
			    want, r.commit);
	}
	w->build_ts = r.commit_time;
	fmt_rfc3339(r.commit_time, ts);
	blog(w, "fetched commit %s (committed %s): %llu files and "
	    "directories, %llu bytes, %d submodules", r.commit, ts,
	    (unsigned long long)r.files, (unsigned long long)r.bytes,
	    r.nsubmodules);
	log_event(LL_INFO, "source fetched", LKV_S("recipe", w->j.recipe_id),
	    LKV_S("tag", w->j.tag), LKV_S("commit", r.commit),
	    LKV_S("build_timestamp", ts));
	return 0;
}

/* Everything build_run() needs, from the job. */
static void
build_params(struct worker *w, const struct recipe *r,
    struct build_params *p)
{
	struct sandbox_conf	*sc = &p->sandbox;
	const char		*path = getenv("PATH");
	int64_t			 left;
	long			 ncpu;

	memset(p, 0, sizeof(*p));
	p->recipe = r;
	p->source_dir = w->src;
	p->version = w->j.version;
	p->source_ref = w->j.source_ref;
	p->farm_id = w->j.farm_id;
	p->timestamp = w->build_ts;
	p->out_dir = w->out;
	p->work_root = w->j.dir;
	p->signer = &w->wrap;
	p->sign_packages = 1;
	p->sign_keys = (const char *const *)w->j.keys;
	p->build_env = (const char *const *)w->j.env;
	p->path_env = path != NULL && path[0] != '\0' ? path : DEF_PATH;
	p->use_sandbox = 1;
	p->out_fd = p->err_fd = -1;
	p->zstd_level = (int)w->j.zstd_level;
	/* The bytes are the same whatever the thread count (zstream.h). */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	p->zstd_workers = ncpu < 1 ? 1 : ncpu > 4 ? 4 : (int)ncpu;
	/* The wall timeout bounds fetch + build.sh together (the parent's
	 * watchdog assumes it); the script gets what the fetch left. */
	left = w->j.wall_ns / 1000000 - (now_ms() - w->start_ms);
	sc->hide = (const char *const *)w->j.hide;
	sc->uid = w->j.uid;
	sc->gid = w->j.gid;
	sc->wall_timeout_ms = left > 1000 ? left : 1000;
	sc->idle_timeout_ms = w->j.idle_ns / 1000000;
	sc->kill_grace_ms = w->j.grace_ns / 1000000;
	sc->log_max = w->j.log_max;
	sc->max_processes = (rlim_t)w->j.max_procs;
	sc->max_open_files = (rlim_t)w->j.max_files;
	sc->max_file_size = (rlim_t)w->j.max_fsize;
	sc->allow_ptrace = w->j.allow_ptrace;
	sc->log_fd = w->j.log_fd;
	sc->err_fd = 0;		/* stderr joins stdout in the one log */
}

static int
run_build(struct worker *w, struct build_result *res, struct buf *err)
{
	struct signer_remote_opts	 so;
	struct build_params		 p;
	struct recipe			*r;
	int				 rc = -1;

	if ((r = recipe_load(w->j.recipe_file, w->j.recipe_id, RECIPE_BUILD,
	    err)) == NULL)
		return -1;
	memset(&so, 0, sizeof(so));
	so.sock = w->sock;
	so.other = sign_other;
	w->remote = signer_remote_new(&so);
	w->wrap.sign = wrap_sign;
	w->wrap.ctx = w;
	build_params(w, r, &p);
	send_phase(w, PHASE_BUILD, "build.sh");
	blog(w, "running build.sh of %s (wall timeout %llds, idle timeout "
	    "%llds)", w->j.recipe_id,
	    (long long)(p.sandbox.wall_timeout_ms / 1000),
	    (long long)(p.sandbox.idle_timeout_ms / 1000));
	rc = build_run(&p, res, err);
	signer_remote_free(w->remote);
	w->remote = NULL;
	recipe_free(r);
	return rc;
}

/* Only PATH survives (for build.sh's PATH); the rest could reach
 * libgit2 or leak sockets' names (NOTIFY_SOCKET, LISTEN_FDS...). */
static void
clean_env(void)
{
	const char	*p = getenv("PATH");
	char		*path = p != NULL ? xstrdup(p) : NULL;

	(void)clearenv();
	if (path != NULL && setenv("PATH", path, 1) == -1)
		fatal("setenv PATH");
	free(path);
}

/* Report the end everywhere; the exit status of the worker. */
static int
finish(struct worker *w, int ok, const char *error,
    const struct build_result *res)
{
	char	*line = NULL;
	size_t	 i;
	int	 sent;

	if (ok) {
		for (i = 0; i < res->noutputs; i++)
			blog(w, "package %s",
			    strrchr(res->outputs[i], '/') + 1);
		blog(w, "build succeeded: %zu package%s", res->noutputs,
		    res->noutputs == 1 ? "" : "s");
		log_event(LL_INFO, "build succeeded",
		    LKV_S("recipe", w->j.recipe_id),
		    LKV_S("version", w->j.version),
		    LKV_I("packages", res->noutputs));
	} else {
		line = one_line(error);
		blog_lines(w, "error: ", error);
		blog(w, "build failed: %s", line);
	}
	sent = send_done(w, ok, line, res);
	free(line);
	return sent == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	struct build_result	 res = { NULL, 0 };
	struct buf		 err = BUF_INIT;
	int			 rc = 1;

	/* First: the parent kills the build by killing our group. */
	if (setsid() == -1 && getpgrp() != getpid())
		_exit(1);
	memset(&W, 0, sizeof(W));
	W.sock = PM_CHAN_FD;
	W.ppid = getppid();
	W.j.log_fd = -1;
	W.start_ms = now_ms();
	umask(022);
	clean_env();
	log_init("worker", LL_DEBUG, LOG_TARGET_STDERR);
	log_set_forward(log_forward);
	msg_register_names(names, nitems(names));
	/* Nothing we run may inherit the channel. */
	if (fcntl(W.sock, F_SETFD, FD_CLOEXEC) == -1)
		fatal("channel fd %d", W.sock);
	if (receive_job(&W, &err) == -1)
		fatalx("job: %s", buf_str(&err));
	W.src = xasprintf("%s/src", W.j.dir);
	W.out = xasprintf("%s/out", W.j.dir);
	blog(&W, "job %u: %s %s (upstream %s) as %u:%u", W.j.id,
	    W.j.recipe_id, W.j.version, W.j.upstream, W.j.uid, W.j.gid);
	if (check_job(&W.j, &err) == -1 || demote(&W, &err) == -1) {
		finish(&W, 0, buf_str(&err), NULL);
		goto out;
	}
	if (run_fetch(&W, &err) == -1 || run_build(&W, &res, &err) == -1)
		rc = finish(&W, 0, buf_str(&err), NULL);
	else
		rc = finish(&W, 1, NULL, &res);
out:
	build_result_free(&res);
	buf_free(&err);
	return rc;
}
