/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * publisher.c: the publisher role (`peipkg-manager -P publisher`), the
 * only process that writes the repository (doc/design.md).
 *
 * Sequence: PM_CONF_ROLE (read before the event loop); the uploader is
 * forked (publisher_upload.c); the sandbox (role user owning the repo
 * directory, no chroot, no capabilities, NO_NEW_PRIVS, seccomp); then
 * PM_CONF_PUBLISHER: when the repository does not exist yet it is
 * initialised (timestamp now, index signatures from the signer); the
 * archive's (name, version) pairs go to the parent in PM_PUB_SET (reset
 * in the first message, final in the last), then PM_READY.
 *
 * PM_PUB_REQ (job id, recipe, version, expected file names, fd of the
 * job's out/ directory): the requests are served one at a time, each by
 * a forked child that copies ONLY the expected names out of the
 * directory (openat O_NOFOLLOW|O_NOCTTY|O_NONBLOCK, regular files,
 * PUB_MAX_PACKAGE), verifies every copy with the consumer's rules and
 * the repository key (pkgread), checks that its manifest is the
 * expected <name>_<version>_<arch>.peipkg at the job's version, and
 * publishes them all in one atomic repository switch (repo_publish)
 * with the current time, raised to the previous generated_at if the
 * clock went back (WARN "generated_at clamped").  Any bad file refuses
 * the whole publish, naming the file.  The answer is PM_PUB_DONE, then
 * PM_PUB_SET with the additions.  Nothing of a failed attempt stays
 * behind (the library removes its tree; the child's copies live in
 * "<parent>/.<repo>.in", removed after every attempt and before the
 * next).  After each publish an upload is started (publisher_upload.c).
 *
 * Trust: the parent is trusted (a malformed message ends the role); the
 * packages and the directory they are in come from a hostile build.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "crypto.h"
#include "log.h"
#include "msg.h"
#include "msgtypes.h"
#include "proc.h"
#include "publisher.h"
#include "repo.h"
#include "role.h"

struct pub_req {
	TAILQ_ENTRY(pub_req)	 q_entry;
	int			 q_init;	/* repository init, not a job */
	uint32_t		 q_job;
	char			*q_recipe;
	char			*q_version;
	char			**q_files;
	size_t			 q_nfiles;
	int			 q_fd;		/* the job's out/ */
};

struct pub_conf {
	char		*repo;
	char		*parent;
	char		*base;
	char		*name;
	char		*description;
	char		*farm_id;
	uint8_t		 backend;
	char		*remote;
	int64_t		 retry_initial;
	int64_t		 retry_max;
	uint8_t		 pub[32];
	char		*rclone_config;
	int64_t		 last_iv;	/* published before (parent); 0 */
};

struct publisher {
	struct role		*p_role;
	char			*p_user;
	uint8_t			 p_level;
	struct pub_conf		 p_conf;
	int			 p_ready;
	int			 p_stopping;
	int64_t			 p_last_iv;
	TAILQ_HEAD(, pub_req)	 p_queue;
	struct pub_req		*p_cur;		/* served by the child */
	pid_t			 p_child;
	int			 p_child_sock;
	struct event		*p_child_ev;
	struct msg		*p_child_msg;
	struct pub_result	 p_res;
	int			 p_have_res;
	uint32_t		 p_relay_id;	/* our id toward the parent */
	uint32_t		 p_child_req;	/* the child's id */
	int			 p_relaying;
	struct upl		*p_upl;
};

static struct publisher	 pub;

static int	 read_role_conf(struct buf *);
static int	 h_conf(struct peer *, struct msg *);
static int	 h_pub_req(struct peer *, struct msg *);
static int	 h_sign_ans(struct peer *, struct msg *);
static int	 pub_init(struct role *, struct buf *);
static void	 pub_shutdown(struct role *);
static int	 name_ok(const char *);
static void	 req_free(struct pub_req *);
static void	 start_next(void);
static void	 child_cb(evutil_socket_t, short, void *);
static void	 child_finished(void);
static void	 child_run(struct pub_req *, int) PM_NORETURN;
static void	 job_done(struct pub_req *, struct pub_result *);
static void	 init_done(struct pub_result *);
static void	 send_pub_done(uint32_t, int, const char *, uint64_t, int);
static int	 announce_archive(struct buf *);
static void	 send_set(char *const *, char *const *, size_t, int, int);
static void	 conf_free(void);

/*
 * Beyond rolefilter_base: the repository library's file operations
 * (measured with strace over tests/integ/publisher-role.sh, plus the
 * symlink and realpath paths of fsutil.c), forking the publish child
 * and its socketpair, reaping it, stopping the uploader.  No exec, no
 * network sockets.
 */
static const struct rf_rule publisher_rules[] = {
	RF_ALLOW("openat"), RF_ALLOW("mkdirat"), RF_ALLOW("mkdir"),
	RF_ALLOW("unlinkat"), RF_ALLOW("unlink"), RF_ALLOW("rmdir"),
	RF_ALLOW("renameat2"), RF_ALLOW("renameat"), RF_ALLOW("rename"),
	RF_ALLOW("linkat"), RF_ALLOW("symlinkat"), RF_ALLOW("readlinkat"),
	RF_ALLOW("readlink"), RF_ALLOW("getcwd"), RF_ALLOW("getdents64"),
	RF_ALLOW("lseek"), RF_ALLOW("dup"), RF_ALLOW("fsync"),
	RF_ALLOW("fdatasync"), RF_ALLOW("syncfs"), RF_ALLOW("flock"),
	RF_ALLOW("clone"), RF_ALLOW("set_robust_list"), RF_ALLOW("wait4"),
	RF_ALLOW("kill"), RF_ALLOW_EQ("socketpair", 0, AF_UNIX),
	RF_ERRNO("clone3", ENOSYS),
	RF_KILL("socket"), RF_KILL("connect"), RF_KILL("bind"),
	RF_KILL("listen"), RF_KILL("vfork"),
};
static const struct rf_list rolefilter_publisher = RF_LIST("publisher",
    publisher_rules);

static const struct msg_handler pub_table[] = {
	{ PM_CONF_PUBLISHER, 69, PM_PAYLOAD_MAX, MSG_ONCE, h_conf },
	{ PM_PUB_REQ, 10, PM_PAYLOAD_MAX, MSG_ALLOW_FD, h_pub_req },
	{ PM_SIGN_ANS, 101, 101 + PM_ERR_MAX, 0, h_sign_ans },
	{ 0, 0, 0, 0, NULL }
};

static const struct msg_typename pub_names[] = {
	{ PM_CONF_ROLE, "PM_CONF_ROLE" },
	{ PM_CONF_PUBLISHER, "PM_CONF_PUBLISHER" },
	{ PM_PUB_REQ, "PM_PUB_REQ" }, { PM_PUB_DONE, "PM_PUB_DONE" },
	{ PM_PUB_SET, "PM_PUB_SET" }, { PM_UPLOAD_STATE, "PM_UPLOAD_STATE" },
	{ PM_SIGN_REQ, "PM_SIGN_REQ" }, { PM_SIGN_ANS, "PM_SIGN_ANS" },
};

static const struct role_def pub_def = {
	"publisher", pub_table, pub_names, nitems(pub_names),
	&rolefilter_publisher, 0, pub_init, NULL, pub_shutdown
};

/* ---- start-up ------------------------------------------------------------ */

/* PM_CONF_ROLE comes first: str user, str empty_dir, u8 level. */
static int
read_role_conf(struct buf *err)
{
	struct msg	*m = xmalloc(sizeof(*m));
	char		*empty = NULL;
	int		 r, rc = -1;

	if ((r = msg_recv(PM_CHAN_FD, m, err)) != 1) {
		if (r == 0)
			errf(err, "the parent closed the channel");
		goto out;
	}
	if (m->m_hdr.type != PM_CONF_ROLE || m->m_fd != -1 ||
	    msg_get_str(m, &pub.p_user, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &empty, PM_STR_MAX) == -1 ||
	    msg_get_u8(m, &pub.p_level) == -1 || msg_end(m) == -1 ||
	    pub.p_level > LL_ERROR) {
		errf(err, "expected PM_CONF_ROLE first, got %s (%u)",
		    msg_type_name(m->m_hdr.type), m->m_hdr.type);
		goto out;
	}
	log_set_level((enum log_level)pub.p_level);
	rc = 0;
out:
	msg_release(m);
	free(empty);
	free(m);
	return rc;
}

static int
pub_init(struct role *r, struct buf *err)
{
	pub.p_role = r;
	pub.p_upl = upl_spawn(r, pub.p_user[0] != '\0' ? pub.p_user : NULL,
	    err);
	return pub.p_upl != NULL ? 0 : -1;
}

static void
pub_shutdown(struct role *r)
{
	pub.p_stopping = 1;
	if (pub.p_child == 0)
		role_exit(r, 0);
}

/* PM_CONF_PUBLISHER: str repo dir, str name, str description, str farm_id,
 * u8 backend, str remote, i64 retry_initial, i64 retry_max, fixed[32]
 * package key, then optionally str rclone config (extension). */
static int
h_conf(struct peer *p, struct msg *m)
{
	struct pub_conf	*c = &pub.p_conf;
	struct pub_req	*q;
	struct upl_conf	 uc;
	char		*slash;

	if (msg_get_str(m, &c->repo, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &c->name, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &c->description, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &c->farm_id, PM_STR_MAX) == -1 ||
	    msg_get_u8(m, &c->backend) == -1 ||
	    msg_get_str(m, &c->remote, PM_STR_MAX) == -1 ||
	    msg_get_i64(m, &c->retry_initial) == -1 ||
	    msg_get_i64(m, &c->retry_max) == -1 ||
	    msg_get_fixed(m, c->pub, 32) == -1)
		return -1;
	if (m->m_off < m->m_len &&
	    msg_get_str(m, &c->rclone_config, PM_STR_MAX) == -1)
		return -1;
	if (c->rclone_config == NULL)
		c->rclone_config = xstrdup("");
	if (m->m_off < m->m_len && msg_get_i64(m, &c->last_iv) == -1)
		return -1;
	if (msg_end(m) == -1)
		return -1;
	if (c->repo[0] == '\0' || c->name[0] == '\0' || c->backend > 1 ||
	    c->retry_initial <= 0 || c->retry_max < c->retry_initial ||
	    (c->backend == 1 && c->remote[0] == '\0'))
		return msg_reject(m, "bad publisher configuration");
	if ((slash = strrchr(c->repo, '/')) == NULL) {
		c->parent = xstrdup(".");
		c->base = xstrdup(c->repo);
	} else {
		c->parent = slash == c->repo ? xstrdup("/") :
		    xstrndup(c->repo, (size_t)(slash - c->repo));
		c->base = xstrdup(slash + 1);
	}
	if (c->base[0] == '\0' || c->base[0] == '.')
		return msg_reject(m, "the repository path must end in a name");
	uc = (struct upl_conf){ c->repo, c->parent, c->base, c->remote,
	    c->rclone_config, c->retry_initial, c->retry_max };
	upl_configure(pub.p_upl, c->backend == 1 ? &uc : NULL);
	q = xcalloc(1, sizeof(*q));
	q->q_init = 1;
	q->q_fd = -1;
	TAILQ_INSERT_HEAD(&pub.p_queue, q, q_entry);
	start_next();
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

/* A package file name as the parent computes them: no path, no dot
 * file, ".peipkg", no control byte. */
static int
name_ok(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n < 8 || n > 255 || s[0] == '.' || !str_has_suffix(s, ".peipkg"))
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static void
req_free(struct pub_req *q)
{
	size_t	 i;

	if (q == NULL)
		return;
	for (i = 0; i < q->q_nfiles; i++)
		free(q->q_files[i]);
	free(q->q_files);
	free(q->q_recipe);
	free(q->q_version);
	if (q->q_fd != -1)
		close(q->q_fd);
	free(q);
}

/* PM_PUB_REQ (id = job): str recipe, str version, u16 n, n x str file
 * name, +fd the job's out/ directory. */
static int
h_pub_req(struct peer *p, struct msg *m)
{
	struct pub_req	*q = xcalloc(1, sizeof(*q));
	const char	*why = NULL;
	uint16_t	 n;
	size_t		 i, k;

	q->q_job = m->m_hdr.id;
	if ((q->q_fd = msg_take_fd(m)) == -1 ||
	    msg_get_str(m, &q->q_recipe, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &q->q_version, PM_STR_MAX) == -1 ||
	    msg_get_u16(m, &n) == -1 || n > PUB_MAX_FILES) {
		req_free(q);
		return msg_reject(m, "PM_PUB_REQ without fd, or malformed");
	}
	q->q_files = xcalloc((size_t)n + 1, sizeof(*q->q_files));
	for (i = 0; i < n; i++, q->q_nfiles++)
		if (msg_get_str(m, &q->q_files[i], PM_STR_MAX) == -1) {
			req_free(q);
			return -1;
		}
	if (msg_end(m) == -1) {
		req_free(q);
		return -1;
	}
	for (i = 0; i < n && why == NULL; i++) {
		if (!name_ok(q->q_files[i]))
			why = "not a package file name";
		for (k = 0; k < i && why == NULL; k++)
			if (strcmp(q->q_files[i], q->q_files[k]) == 0)
				why = "listed twice";
	}
	if (n == 0)
		why = "no package to publish";
	else if (!pub.p_ready)
		why = "the publisher is not ready";
	if (why != NULL) {
		log_event(LL_WARN, "publish refused", LKV_I("job", q->q_job),
		    LKV_S("err", why));
		send_pub_done(q->q_job, 0, why, 0, 0);
		req_free(q);
		return 0;
	}
	TAILQ_INSERT_TAIL(&pub.p_queue, q, q_entry);
	start_next();
	return 0;
}

/* PM_SIGN_ANS from the parent: the answer to the child's request. */
static int
h_sign_ans(struct peer *p, struct msg *m)
{
	struct msgbuf	*mb;
	struct buf	 err = BUF_INIT;

	if (!pub.p_relaying || m->m_hdr.id != pub.p_relay_id ||
	    pub.p_child == 0) {
		log_event(LL_DEBUG, "signature answer dropped",
		    LKV_I("id", m->m_hdr.id));
		m->m_off = m->m_len;
		return 0;
	}
	pub.p_relaying = 0;
	mb = xmalloc(sizeof(*mb));
	msg_init(mb, PM_SIGN_ANS, pub.p_child_req);
	msg_put_fixed(mb, m->m_data, m->m_len);
	m->m_off = m->m_len;
	if (msg_send(pub.p_child_sock, mb, -1, &err) == -1)
		log_event(LL_WARN, "cannot relay a signature to the publish "
		    "process", LKV_S("err", buf_str(&err)));
	free(mb);
	buf_free(&err);
	return 0;
}

/* ---- the publish child: publisher side --------------------------------- */

int
pub_busy(void)
{
	return pub.p_child != 0;
}

static void
start_next(void)
{
	struct pub_req	*q;
	struct buf	 err = BUF_INIT;
	int		 sv[2];
	pid_t		 pid;

	if (pub.p_child != 0 || pub.p_stopping ||
	    (q = TAILQ_FIRST(&pub.p_queue)) == NULL)
		return;
	TAILQ_REMOVE(&pub.p_queue, q, q_entry);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		errf(&err, "socketpair: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		errf(&err, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (pid == 0) {
		close(sv[0]);
		child_run(q, sv[1]);
	}
	close(sv[1]);
	pub.p_cur = q;
	pub.p_child = pid;
	pub.p_child_sock = sv[0];
	pub.p_have_res = 0;
	pub.p_child_ev = event_new(pub.p_role->r_base, sv[0],
	    EV_READ | EV_PERSIST, child_cb, NULL);
	if (pub.p_child_ev == NULL || event_add(pub.p_child_ev, NULL) == -1)
		fatalx("cannot watch the publish process");
	return;
fail:
	pub.p_res = (struct pub_result){ 0 };
	pub.p_res.err = buf_release(&err);
	if (q->q_init)
		init_done(&pub.p_res);
	else
		job_done(q, &pub.p_res);
	pub_result_free(&pub.p_res);
	req_free(q);
}

static void
child_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct msg	*m = pub.p_child_msg;
	struct msgbuf	*mb;
	struct buf	 err = BUF_INIT;
	int		 r;

	if ((r = msg_recv(fd, m, &err)) == 2)
		goto out;
	if (r != 1) {
		child_finished();
		goto out;
	}
	if (m->m_hdr.type == PUB_CHILD_RESULT) {
		if (pub_result_parse(m, &pub.p_res) == 0)
			pub.p_have_res = 1;
		else
			log_event(LL_ERROR, "malformed result from the publish "
			    "process", LKV_S("err", m->m_bad != NULL ?
			    m->m_bad : "trailing bytes"));
	} else if (m->m_hdr.type == PM_SIGN_REQ && !pub.p_relaying) {
		if (++pub.p_relay_id == 0)
			pub.p_relay_id = 1;
		pub.p_child_req = m->m_hdr.id;
		pub.p_relaying = 1;
		mb = xmalloc(sizeof(*mb));
		msg_init(mb, PM_SIGN_REQ, pub.p_relay_id);
		msg_put_fixed(mb, m->m_data, m->m_len);
		(void)role_send(pub.p_role, mb, -1);
		free(mb);
	} else
		log_event(LL_ERROR, "unexpected message from the publish "
		    "process", LKV_I("type", m->m_hdr.type));
	msg_release(m);
out:
	buf_free(&err);
}

static void
child_finished(void)
{
	struct pub_req	*q = pub.p_cur;
	char		 st[128];
	int		 status = 0;
	pid_t		 r;

	event_free(pub.p_child_ev);
	pub.p_child_ev = NULL;
	close(pub.p_child_sock);
	pub.p_child_sock = -1;
	while ((r = waitpid(pub.p_child, &status, 0)) == -1 && errno == EINTR)
		;
	pub.p_child = 0;
	pub.p_cur = NULL;
	pub.p_relaying = 0;
	if (!pub.p_have_res) {
		pub_result_free(&pub.p_res);
		pub.p_res.err = xasprintf("the publish process %s without a "
		    "result", proc_describe_status(status, st, sizeof(st)));
	}
	if (q->q_init)
		init_done(&pub.p_res);
	else
		job_done(q, &pub.p_res);
	pub_result_free(&pub.p_res);
	pub.p_have_res = 0;
	req_free(q);
	if (pub.p_stopping) {
		role_exit(pub.p_role, 0);
		return;
	}
	start_next();
	upl_kick(pub.p_upl);
}

/* In the forked child: let go of the publisher's channels, then work. */
static void
child_run(struct pub_req *q, int sock)
{
	const struct pub_conf	*c = &pub.p_conf;
	struct pub_job		 j = { q->q_init, c->repo, c->parent, c->base,
				    c->name, c->description, c->pub,
				    pub.p_last_iv, q->q_fd, q->q_version,
				    q->q_files, q->q_nfiles };

	log_set_forward(NULL);	/* stderr: the parent channel is not ours */
	close(PM_CHAN_FD);
	upl_close_in_child(pub.p_upl);
	pub_child_main(&j, sock);
}

/* ---- answers to the parent --------------------------------------------- */

static void
send_pub_done(uint32_t job, int ok, const char *err, uint64_t iv,
    int clamped)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	size_t		 n = strlen(err);

	msg_init(mb, PM_PUB_DONE, job);
	msg_put_u8(mb, (uint8_t)ok);
	msg_put_bytes(mb, err, n > PM_ERR_MAX ? PM_ERR_MAX : n);
	msg_put_u64(mb, iv);
	msg_put_u8(mb, (uint8_t)clamped);
	(void)role_send(pub.p_role, mb, -1);
	free(mb);
}

/* PM_PUB_SET: u8 final, u8 reset, u16 n, n x (str name, str version);
 * as many messages as needed, reset in the first, final in the last. */
static void
send_set(char *const *names, char *const *versions, size_t n, int reset,
    int final)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	size_t		 i = 0, k, size;

	do {
		size = 4;
		for (k = i; k < n && k - i < UINT16_MAX; k++) {
			if (size + 8 + strlen(names[k]) + strlen(versions[k]) >
			    PM_PAYLOAD_MAX)
				break;
			size += 8 + strlen(names[k]) + strlen(versions[k]);
		}
		msg_init(mb, PM_PUB_SET, 0);
		msg_put_u8(mb, (uint8_t)(final && k == n));
		msg_put_u8(mb, (uint8_t)reset);
		msg_put_u16(mb, (uint16_t)(k - i));
		for (; i < k; i++) {
			msg_put_str(mb, names[i]);
			msg_put_str(mb, versions[i]);
		}
		(void)role_send(pub.p_role, mb, -1);
		reset = 0;
	} while (i < n);
	free(mb);
}

/* Every (name, version) of the archive, then PM_READY. */
static int
announce_archive(struct buf *err)
{
	struct repo_state	 st;
	char			**names, **versions;
	size_t			 i, n;

	memset(&st, 0, sizeof(st));
	if (repo_state_load(pub.p_conf.repo, &st, err) == -1)
		return -1;
	n = st.archive.npkgs;
	names = xcalloc(n + 1, sizeof(*names));
	versions = xcalloc(n + 1, sizeof(*versions));
	for (i = 0; i < n; i++) {
		names[i] = st.archive.pkgs[i].name;
		versions[i] = st.archive.pkgs[i].version;
	}
	send_set(names, versions, n, 1, 1);
	pub.p_last_iv = st.active.index_version > st.archive.index_version ?
	    st.active.index_version : st.archive.index_version;
	if (pub.p_last_iv < pub.p_conf.last_iv) {
		log_event(LL_ERROR, "repository rolled back; publishing refused",
		    LKV_S("repo", pub.p_conf.repo), LKV_I("index_version",
		    pub.p_last_iv), LKV_I("published_before",
		    pub.p_conf.last_iv), LKV_S("hint", "restore the newest "
		    "state, or remove state_dir/index-version to accept this "
		    "one"));
		pub.p_last_iv = pub.p_conf.last_iv;
	}
	log_event(LL_INFO, "repository loaded", LKV_S("repo",
	    pub.p_conf.repo), LKV_I("index_version", pub.p_last_iv),
	    LKV_I("packages", n), LKV_S("farm_id", pub.p_conf.farm_id));
	free(names);
	free(versions);
	repo_state_free(&st);
	return 0;
}

static void
init_done(struct pub_result *r)
{
	struct buf	 err = BUF_INIT;

	if (!r->ok || announce_archive(&err) == -1) {
		log_event(LL_ERROR, "initialise repository", LKV_S("repo",
		    pub.p_conf.repo), LKV_S("err", r->ok ? buf_str(&err) :
		    r->err));
		role_exit(pub.p_role, 1);
		buf_free(&err);
		return;
	}
	if (r->generated_at != NULL && r->generated_at[0] != '\0')
		log_event(LL_INFO, "repository initialised", LKV_S("repo",
		    pub.p_conf.repo), LKV_S("name", pub.p_conf.name),
		    LKV_S("generated_at", r->generated_at));
	pub.p_ready = 1;
	role_ready(pub.p_role);
	upl_full(pub.p_upl, pub.p_last_iv);
	buf_free(&err);
}

static void
job_done(struct pub_req *q, struct pub_result *r)
{
	if (!r->ok) {
		log_event(LL_WARN, "publish failed", LKV_I("job", q->q_job),
		    LKV_S("recipe", q->q_recipe), LKV_S("version",
		    q->q_version), LKV_S("err", r->err));
		send_pub_done(q->q_job, 0, r->err != NULL && r->err[0] !=
		    '\0' ? r->err : "publish failed", 0, 0);
		return;
	}
	if (r->clamped)
		log_event(LL_WARN, "generated_at clamped", LKV_I("job",
		    q->q_job), LKV_S("requested", r->requested_at),
		    LKV_S("generated_at", r->generated_at));
	pub.p_last_iv = (int64_t)r->iv;
	log_event(LL_INFO, "published", LKV_I("job", q->q_job),
	    LKV_S("recipe", q->q_recipe), LKV_S("version", q->q_version),
	    LKV_I("index_version", r->iv), LKV_I("packages", r->nadded),
	    LKV_S("generated_at", r->generated_at));
	send_pub_done(q->q_job, 1, "", r->iv, r->clamped);
	send_set(r->names, r->versions, r->nadded, 0, 1);
	upl_published(pub.p_upl, (int64_t)r->iv, r->all_paths ? NULL :
	    r->paths, r->all_paths ? 0 : r->npaths);
}

static void
conf_free(void)
{
	struct pub_conf	*c = &pub.p_conf;

	free(c->repo);
	free(c->parent);
	free(c->base);
	free(c->name);
	free(c->description);
	free(c->farm_id);
	free(c->remote);
	free(c->rclone_config);
	free(pub.p_user);
	memset(c, 0, sizeof(*c));
}

/* ---- entry points ------------------------------------------------------ */

int
publisher_run(const struct role_opts *tmpl)
{
	struct role_opts	 o;
	struct buf		 err = BUF_INIT;
	struct pub_req		*q;
	int			 rc;

	memset(&pub, 0, sizeof(pub));
	TAILQ_INIT(&pub.p_queue);
	pub.p_child_sock = -1;
	pub.p_child_msg = xmalloc(sizeof(*pub.p_child_msg));
	crypto_init();
	msg_register_names(pub_names, nitems(pub_names));
	if (read_role_conf(&err) == -1) {
		log_event(LL_ERROR, "publisher configuration failed",
		    LKV_S("err", buf_str(&err)));
		buf_free(&err);
		return 1;
	}
	o = *tmpl;
	o.user = pub.p_user[0] != '\0' ? pub.p_user : NULL;
	o.empty_dir = NULL;
	o.level = (enum log_level)pub.p_level;
	rc = role_run(&pub_def, &o);
	if (pub.p_child != 0 && kill(pub.p_child, SIGKILL) == 0)
		(void)waitpid(pub.p_child, NULL, 0);
	upl_free(pub.p_upl);
	while ((q = TAILQ_FIRST(&pub.p_queue)) != NULL) {
		TAILQ_REMOVE(&pub.p_queue, q, q_entry);
		req_free(q);
	}
	free(pub.p_child_msg);
	conf_free();
	buf_free(&err);
	return rc;
}

int
publisher_main(void)
{
	struct role_opts	 o;

	memset(&o, 0, sizeof(o));
	o.level = log_get_level();
	o.target = LOG_TARGET_AUTO;
	return publisher_run(&o);
}
