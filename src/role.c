/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * role.c: the runtime of the unprivileged role processes (role.h):
 * event loop, parent channel, log forwarding, ping, shutdown, and the
 * sandbox (demotion, empty chroot, seccomp).
 *
 * Trust: messages come from the trusted parent; a framing or dispatch
 * violation ends the role (status 1) rather than being worked around.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "msgtypes.h"
#include "proc.h"
#include "role.h"

#define LOG_STR_MAX	1024	/* message and value bytes forwarded */
#define LOG_KEY_MAX	64
#define LOG_KV_MAX	32	/* so a PM_LOG always fits PM_MSG_MAX */

static struct role	*fwd_role;	/* where log events go */
static int		 fwd_busy;

static const struct msg_typename common_names[] = {
	{ PM_LOG, "PM_LOG" }, { PM_READY, "PM_READY" },
	{ PM_SHUTDOWN, "PM_SHUTDOWN" }, { PM_PING, "PM_PING" },
	{ PM_PONG, "PM_PONG" }
};

static void	 role_log_forward(enum log_level, const char *,
		    const struct lkv *);
static void	 role_lost(struct peer *, const char *);
static int	 role_ping(struct peer *, struct msg *);
static int	 role_shutdown(struct peer *, struct msg *);
static void	 role_flush(struct role *);

int64_t
role_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- log forwarding ------------------------------------------------ */

static void
put_bounded(struct msgbuf *mb, const char *s, size_t max)
{
	size_t	 n = s != NULL ? strlen(s) : 0;

	msg_put_bytes(mb, s != NULL ? s : "", n > max ? max : n);
}

/* PM_LOG: u8 level, str msg, u16 n, n x (str key, str value). */
static void
role_log_forward(enum log_level lvl, const char *msg, const struct lkv *kv)
{
	static struct msgbuf	 mb;
	const struct lkv	*p;
	char			 num[32];
	uint16_t		 n = 0;

	if (fwd_busy || fwd_role == NULL || fwd_role->r_parent.p_dead) {
		log_emit_as(fwd_role != NULL ? fwd_role->r_def->name : "role",
		    lvl, msg, kv);
		return;
	}
	fwd_busy = 1;
	for (p = kv; p != NULL && p->key != NULL && n < LOG_KV_MAX; p++)
		n++;
	msg_init(&mb, PM_LOG, 0);
	msg_put_u8(&mb, (uint8_t)lvl);
	put_bounded(&mb, msg, LOG_STR_MAX);
	msg_put_u16(&mb, n);
	for (p = kv; n > 0; p++, n--) {
		put_bounded(&mb, p->key, LOG_KEY_MAX);
		if (p->type == LKV_INT) {
			snprintf(num, sizeof(num), "%lld", p->i);
			put_bounded(&mb, num, sizeof(num));
		} else
			put_bounded(&mb, p->s, LOG_STR_MAX);
	}
	(void)peer_send(&fwd_role->r_parent, &mb, -1);
	fwd_busy = 0;
}

/* ---- the parent channel -------------------------------------------- */

static void
role_lost(struct peer *p, const char *why)
{
	struct role	*r = p->p_arg;

	log_set_forward(NULL);
	if (p->p_proto_error) {
		log_event(LL_ERROR, "parent channel failed",
		    LKV_S("err", why));
		r->r_status = 1;
	} else
		log_event(LL_DEBUG, "parent channel closed",
		    LKV_S("reason", why));
	event_base_loopbreak(r->r_base);
}

static int
role_ping(struct peer *p, struct msg *m)
{
	static struct msgbuf	 mb;
	uint64_t		 nonce;

	if (msg_get_u64(m, &nonce) == -1 || msg_end(m) == -1)
		return -1;
	msg_init(&mb, PM_PONG, m->m_hdr.id);
	msg_put_u64(&mb, nonce);
	(void)peer_send(p, &mb, -1);
	return 0;
}

static int
role_shutdown(struct peer *p, struct msg *m)
{
	struct role	*r = p->p_arg;

	if (msg_end(m) == -1)
		return -1;
	log_eventv(LL_DEBUG, "shutdown requested", NULL);
	if (r->r_def->shutdown != NULL)
		r->r_def->shutdown(r);
	else
		role_exit(r, 0);
	return 0;
}

/* The role's own entries first (they may override), then ours. */
static struct msg_handler *
role_table(const struct msg_handler *own)
{
	static const struct msg_handler common[] = {
		{ PM_PING, 8, 8, 0, role_ping },
		{ PM_SHUTDOWN, 0, 0, 0, role_shutdown },
	};
	struct msg_handler	*t;
	size_t			 n = 0;

	while (own != NULL && own[n].fn != NULL)
		n++;
	t = xcalloc(n + nitems(common) + 1, sizeof(*t));
	if (n > 0)
		memcpy(t, own, n * sizeof(*t));
	memcpy(t + n, common, sizeof(common));
	return t;
}

int
role_send(struct role *r, struct msgbuf *mb, int fd)
{
	return peer_send(&r->r_parent, mb, fd);
}

void
role_ready(struct role *r)
{
	struct msgbuf	*mb;

	if (r->r_ready)
		return;
	r->r_ready = 1;
	mb = xmalloc(sizeof(*mb));
	msg_init(mb, PM_READY, 0);
	(void)peer_send(&r->r_parent, mb, -1);
	free(mb);
}

void
role_exit(struct role *r, int status)
{
	r->r_status = status;
	event_base_loopbreak(r->r_base);
}

static void
flush_timeout(evutil_socket_t fd, short ev, void *arg)
{
	*(int *)arg = 1;
}

/* Let the queued messages (last log lines) reach the parent. */
static void
role_flush(struct role *r)
{
	struct timeval	 tv = { ROLE_FLUSH_TIMEOUT_MS / 1000,
			    (ROLE_FLUSH_TIMEOUT_MS % 1000) * 1000 };
	struct event	*ev;
	int		 expired = 0;

	if (r->r_parent.p_dead || TAILQ_EMPTY(&r->r_parent.p_outq))
		return;
	if ((ev = evtimer_new(r->r_base, flush_timeout, &expired)) == NULL)
		return;
	evtimer_add(ev, &tv);
	while (!expired && !r->r_parent.p_dead &&
	    !TAILQ_EMPTY(&r->r_parent.p_outq))
		event_base_loop(r->r_base, EVLOOP_ONCE);
	event_free(ev);
}

/* ---- sandbox ------------------------------------------------------- */

int
role_empty_dir(const char *path, struct buf *err)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		*parent = xstrdup(path), *slash;
	int		 rc = -1;

	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		(void)mkdir_p(parent, 0755);
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		errf(err, "%s: mkdir: %s", path, strerror(errno));
		goto out;
	}
	if (lstat(path, &st) == -1 || (d = opendir(path)) == NULL) {
		errf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		errf(err, "%s: not a directory owned and writable only by "
		    "root", path);
	else {
		rc = 0;
		while (rc == 0 && (de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				rc = errf(err, "%s: not empty (%s)", path,
				    de->d_name);
	}
	closedir(d);
out:
	free(parent);
	return rc;
}

int
role_sandbox(const char *user, const char *chroot_dir,
    const struct rf_list *filter, int no_filter, struct buf *err)
{
	const struct rf_list	*lists[1] = { filter };
	int			 root = geteuid() == 0;

	if (root && chroot_dir != NULL && role_empty_dir(chroot_dir, err) == -1)
		return -1;
	if (proc_drop_privileges(root ? user : NULL, root ? chroot_dir : NULL,
	    err) == -1)
		return -1;
	if (!no_filter && rolefilter_install(lists, 1, err) == -1)
		return -1;
	return 0;
}

/* ---- running a role ------------------------------------------------ */

int
role_conf_recv(struct role_opts *o, char **user, char **dir, struct buf *err)
{
	struct msg	*m = xmalloc(sizeof(*m));
	uint8_t		 lvl;
	int		 r, rc = -1;

	*user = *dir = NULL;
	if ((r = msg_recv(PM_CHAN_FD, m, err)) != 1) {
		if (r != -1)
			errf(err, "parent channel: no PM_CONF_ROLE");
		goto out;
	}
	if (m->m_hdr.type != PM_CONF_ROLE || m->m_fd != -1 ||
	    msg_get_str(m, user, PM_ID_MAX) == -1 ||
	    msg_get_str(m, dir, PM_STR_MAX) == -1 ||
	    msg_get_u8(m, &lvl) == -1 || msg_end(m) == -1 || lvl > LL_ERROR) {
		errf(err, "parent channel: expected PM_CONF_ROLE, got %s",
		    msg_type_name(m->m_hdr.type));
		goto out;
	}
	o->user = (*user)[0] != '\0' ? *user : NULL;
	o->empty_dir = (*dir)[0] != '\0' ? *dir : NULL;
	o->level = (enum log_level)lvl;
	rc = 0;
out:
	msg_release(m);
	free(m);
	return rc;
}

static int
role_setup(struct role *r, struct buf *err)
{
	const struct role_def	*def = r->r_def;
	const struct role_opts	*o = r->r_opts;

	if ((r->r_base = event_base_new()) == NULL)
		return errf(err, "event_base_new failed");
	r->r_table = role_table(def->table);
	if (peer_init(&r->r_parent, r->r_base, PM_CHAN_FD, "parent",
	    getppid(), r->r_table, role_lost, r, err) == -1)
		return -1;
	fwd_role = r;
	log_set_forward(role_log_forward);
	if (def->init != NULL && def->init(r, err) == -1)
		return -1;
	if (role_sandbox(o->user, !def->chroot_empty ? NULL :
	    o->empty_dir != NULL ? o->empty_dir : ROLE_EMPTY_DIR, def->filter,
	    o->no_filter, err) == -1)
		return -1;
	if (o->after_sandbox != NULL)
		o->after_sandbox();
	if (def->start != NULL && def->start(r, err) == -1)
		return -1;
	return 0;
}

int
role_run(const struct role_def *def, const struct role_opts *opts)
{
	struct role	 r;
	struct buf	 err = BUF_INIT;

	memset(&r, 0, sizeof(r));
	r.r_def = def;
	r.r_opts = opts;
	r.r_parent.p_sock = -1;
	log_init(def->name, opts->level, opts->target);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	msg_register_names(common_names, nitems(common_names));
	if (def->names != NULL)
		msg_register_names(def->names, def->nnames);
	if (role_setup(&r, &err) == 0)
		event_base_dispatch(r.r_base);
	else {
		log_event(LL_ERROR, "role start-up failed",
		    LKV_S("err", buf_str(&err)));
		r.r_status = 1;
	}
	if (r.r_base != NULL)
		role_flush(&r);
	log_set_forward(NULL);
	fwd_role = NULL;
	if (r.r_parent.p_msg != NULL)
		peer_free(&r.r_parent);
	free(r.r_table);
	buf_free(&err);
	return r.r_status;
}
