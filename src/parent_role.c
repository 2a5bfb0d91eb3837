/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_role.c: the parent's side of the role processes (http,
 * poller, signer, publisher): spawning by re-exec, shipping the
 * configuration (doc/PROTOCOL 2.2), one dispatch table per role,
 * PM_LOG re-emission, heartbeats, and supervision: a role that dies,
 * hangs or breaks the protocol is killed and restarted with back-off
 * (100 ms doubling to 30 s).
 *
 * Trust: every message handled here comes from an unprivileged child
 * and is validated completely before it is acted on; a violation ends
 * the child, never the parent.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "duration.h"
#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "proc.h"
#include "recipe.h"
#include "pmsched.h"
#include "sign.h"
#include "tagpattern.h"
#include "version.h"
#include "webhook.h"

#define KV_MAX		32

static const char *const names[ROLE_NUM] = {
	"parent", "http", "poller", "signer", "publisher", "worker"
};

static void	 child_lost(struct peer *, const char *);
static void	 child_restart_cb(evutil_socket_t, short, void *);
static void	 child_schedule_restart(struct parent *, struct child *);
static void	 child_configure(struct parent *, struct child *);
static void	 send_conf_role(struct parent *, struct child *);
static void	 send_http_conf(struct parent *, struct child *);
static void	 send_poll_conf(struct parent *, struct child *);
static void	 send_keys(struct parent *, struct child *);
static void	 send_publisher_conf(struct parent *, struct child *);
static int	 key_ok(const char *);
static struct child *peer_role(struct peer *);
static int	 h_log(struct peer *, struct msg *);
static int	 h_ready(struct peer *, struct msg *);
static int	 h_pong(struct peer *, struct msg *);
static int	 h_webhook(struct peer *, struct msg *);
static int	 h_hook_rejected(struct peer *, struct msg *);
static int	 h_trigger(struct peer *, struct msg *);
static int	 h_poll_done(struct peer *, struct msg *);
static int	 h_signer_keys(struct peer *, struct msg *);
static int	 h_sign_ans(struct peer *, struct msg *);
static int	 h_pub_sign(struct peer *, struct msg *);
static int	 h_pub_done(struct peer *, struct msg *);
static int	 h_pub_set(struct peer *, struct msg *);
static int	 h_upload(struct peer *, struct msg *);

#define COMMON_HANDLERS \
	{ PM_LOG, 7, PM_PAYLOAD_MAX, 0, h_log }, \
	{ PM_READY, 0, 0, MSG_ONCE, h_ready }, \
	{ PM_PONG, 8, 8, 0, h_pong }

static const struct msg_handler http_table[] = {
	COMMON_HANDLERS,
	{ PM_WEBHOOK, 9, 1 + 8 + PM_ID_MAX + PM_STR_MAX, 0, h_webhook },
	{ PM_WEBHOOK_REJECTED, 2, 2, 0, h_hook_rejected },
	{ 0, 0, 0, 0, NULL }
};
static const struct msg_handler poller_table[] = {
	COMMON_HANDLERS,
	{ PM_POLL_TRIGGER, 33, PM_PAYLOAD_MAX, 0, h_trigger },
	{ PM_POLL_DONE, 30, PM_PAYLOAD_MAX, 0, h_poll_done },
	{ 0, 0, 0, 0, NULL }
};
static const struct msg_handler signer_table[] = {
	COMMON_HANDLERS,
	{ PM_SIGNER_KEYS, 2, PM_PAYLOAD_MAX, MSG_ONCE, h_signer_keys },
	{ PM_SIGN_ANS, 101, 101 + PM_ERR_MAX, 0, h_sign_ans },
	{ 0, 0, 0, 0, NULL }
};
static const struct msg_handler publisher_table[] = {
	COMMON_HANDLERS,
	{ PM_SIGN_REQ, 41, PM_PAYLOAD_MAX, 0, h_pub_sign },
	{ PM_PUB_DONE, 14, 14 + PM_ERR_MAX, 0, h_pub_done },
	{ PM_PUB_SET, 4, PM_PAYLOAD_MAX, 0, h_pub_set },
	{ PM_UPLOAD_STATE, 21, 21 + PM_ERR_MAX, 0, h_upload },
	{ 0, 0, 0, 0, NULL }
};

static const struct msg_handler *const tables[ROLE_NUM] = {
	NULL, http_table, poller_table, signer_table, publisher_table, NULL
};

static const struct msg_typename typenames[] = {
	{ PM_LOG, "PM_LOG" }, { PM_READY, "PM_READY" },
	{ PM_SHUTDOWN, "PM_SHUTDOWN" }, { PM_PING, "PM_PING" },
	{ PM_PONG, "PM_PONG" }, { PM_CONF_BEGIN, "PM_CONF_BEGIN" },
	{ PM_CONF_RECIPE, "PM_CONF_RECIPE" }, { PM_CONF_END, "PM_CONF_END" },
	{ PM_CONF_SECRET, "PM_CONF_SECRET" }, { PM_CONF_HTTP, "PM_CONF_HTTP" },
	{ PM_CONF_LISTENER, "PM_CONF_LISTENER" },
	{ PM_CONF_POLL, "PM_CONF_POLL" }, { PM_CONF_KEY, "PM_CONF_KEY" },
	{ PM_CONF_KEYS_END, "PM_CONF_KEYS_END" },
	{ PM_CONF_PUBLISHER, "PM_CONF_PUBLISHER" },
	{ PM_SIGNER_KEYS, "PM_SIGNER_KEYS" }, { PM_CONF_ROLE, "PM_CONF_ROLE" },
	{ PM_POLL_NOW, "PM_POLL_NOW" }, { PM_POLL_TRIGGER, "PM_POLL_TRIGGER" },
	{ PM_POLL_DONE, "PM_POLL_DONE" }, { PM_WEBHOOK, "PM_WEBHOOK" },
	{ PM_WEBHOOK_ACK, "PM_WEBHOOK_ACK" },
	{ PM_WEBHOOK_REJECTED, "PM_WEBHOOK_REJECTED" },
	{ PM_STATUS_DOC, "PM_STATUS_DOC" }, { PM_SIGN_REQ, "PM_SIGN_REQ" },
	{ PM_SIGN_RELAY, "PM_SIGN_RELAY" }, { PM_SIGN_ANS, "PM_SIGN_ANS" },
	{ PM_SIGN_JOB, "PM_SIGN_JOB" }, { PM_SIGN_JOB_END, "PM_SIGN_JOB_END" },
	{ PM_BUILD_JOB, "PM_BUILD_JOB" }, { PM_BUILD_LOG_FD, "PM_BUILD_LOG_FD" },
	{ PM_BUILD_PHASE, "PM_BUILD_PHASE" },
	{ PM_BUILD_DONE, "PM_BUILD_DONE" }, { PM_PUB_REQ, "PM_PUB_REQ" },
	{ PM_PUB_DONE, "PM_PUB_DONE" }, { PM_PUB_SET, "PM_PUB_SET" },
	{ PM_UPLOAD_STATE, "PM_UPLOAD_STATE" },
};

/* ---- set-up, spawning, supervision ----------------------------------- */

void
child_setup(struct parent *p)
{
	struct child	*r;
	int		 i;

	msg_register_names(typenames, nitems(typenames));
	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++) {
		r = &p->p_roles[i];
		r->r_parent = p;
		r->r_role = i;
		r->r_name = names[i];
		r->r_enabled = i != ROLE_HTTP || p->p_listen_fd != -1;
		r->r_backoff_ms = PARENT_BACKOFF_MIN_MS;
		r->r_restart_ev = evtimer_new(p->p_base, child_restart_cb, r);
		if (r->r_restart_ev == NULL)
			fatalx("evtimer_new");
	}
}

/* The program a role runs: the test hook, or ourselves. */
static const char *
child_path(struct parent *p, struct child *r)
{
	static char	 env[64];
	const char	*s;
	size_t		 i;

	snprintf(env, sizeof(env), "PEIPKG_ROLE_%s_PATH", r->r_name);
	for (i = 0; env[i] != '\0'; i++)
		env[i] = toupper((unsigned char)env[i]);
	if ((s = getenv(env)) != NULL && s[0] != '\0')
		return s;
	return p->p_self;
}

int
child_spawn(struct parent *p, struct child *r)
{
	static const char *const lv[] = { "debug", "info", "warn", "error" };
	struct buf	 err = BUF_INIT;
	const char	*path = child_path(p, r);
	char		*argv[6];
	int		 sv[2] = { -1, -1 }, rc = -1;
	pid_t		 pid;

	argv[0] = (char *)path;
	argv[1] = "-P";
	argv[2] = (char *)r->r_name;
	argv[3] = "--log-level";
	argv[4] = (char *)lv[p->p_level];
	argv[5] = NULL;
	if (proc_socketpair(sv, &err) == -1)
		goto out;
	if ((pid = proc_spawn(path, argv, sv[1], NULL, 0, &err)) == -1)
		goto out;
	close(sv[1]);
	sv[1] = -1;
	r->r_pid = pid;
	r->r_started = pm_mono_ns();
	r->r_ready = r->r_keys_sent = r->r_pubset_done = 0;
	r->r_missed = r->r_relays = 0;
	r->r_why[0] = '\0';
	if (peer_init(&r->r_peer, p->p_base, sv[0], r->r_name, pid,
	    tables[r->r_role], child_lost, r, &err) == -1) {
		kill(pid, SIGKILL);
		goto out;
	}
	sv[0] = -1;
	r->r_peer_up = 1;
	log_event(LL_DEBUG, "role started", LKV_S("role", r->r_name),
	    LKV_I("pid", pid), LKV_S("path", path));
	child_configure(p, r);
	rc = 0;
out:
	if (rc == -1)
		log_event(LL_ERROR, "cannot start role", LKV_S("role",
		    r->r_name), LKV_S("err", buf_str(&err)));
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	buf_free(&err);
	return rc;
}

static void
child_configure(struct parent *p, struct child *r)
{
	send_conf_role(p, r);
	switch (r->r_role) {
	case ROLE_HTTP:
		send_http_conf(p, r);
		child_send_table(p, r);
		parent_changed(p);
		break;
	case ROLE_POLLER:
		send_poll_conf(p, r);
		child_send_table(p, r);
		if (p->p_booted && !p->p_stopping)
			child_poll_all(p, SRC_START);
		break;
	case ROLE_SIGNER:
		send_keys(p, r);
		break;
	case ROLE_PUBLISHER:
		sched_pub_invalidate(p->p_sched);
		if (p->p_have_keys)
			send_publisher_conf(p, r);
		break;
	default:
		break;
	}
}

struct child *
child_by_pid(struct parent *p, pid_t pid)
{
	int	 i;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++)
		if (p->p_roles[i].r_pid == pid && pid > 0)
			return &p->p_roles[i];
	return NULL;
}

static struct child *
peer_role(struct peer *pe)
{
	return pe->p_arg;
}

int
child_send(struct child *r, struct msgbuf *mb, int fd)
{
	if (!r->r_peer_up || r->r_peer.p_dead)
		return -1;
	return peer_send(&r->r_peer, mb, fd);
}

/* The channel ended: EOF, a socket error or a violation. */
static void
child_lost(struct peer *pe, const char *why)
{
	struct child	*r = peer_role(pe);
	struct parent	*p = r->r_parent;

	if (pe->p_proto_error) {
		p->p_st.ipc_errors++;
		log_event(LL_ERROR, "protocol error; killing role",
		    LKV_S("role", r->r_name), LKV_I("pid", r->r_pid),
		    LKV_S("err", why));
	} else if (r->r_why[0] == '\0')
		log_event(p->p_stopping ? LL_DEBUG : LL_WARN,
		    "role channel closed", LKV_S("role", r->r_name),
		    LKV_I("pid", r->r_pid), LKV_S("reason", why));
	if (r->r_why[0] == '\0')
		snprintf(r->r_why, sizeof(r->r_why), "%s", why);
	peer_free(&r->r_peer);
	r->r_peer_up = 0;
	r->r_ready = 0;
	if (r->r_pid > 0)
		kill(r->r_pid, SIGKILL);
	if (r->r_role == ROLE_SIGNER)
		child_signer_lost(p);
	if (r->r_role == ROLE_PUBLISHER)
		job_publisher_lost(p);
	if (r->r_pid == 0)
		child_schedule_restart(p, r);
	parent_changed(p);
}

void
child_kill(struct parent *p, struct child *r, const char *why, int proto)
{
	if (r->r_why[0] == '\0')
		snprintf(r->r_why, sizeof(r->r_why), "%s", why);
	if (proto)
		p->p_st.ipc_errors++;
	log_event(LL_ERROR, "killing role", LKV_S("role", r->r_name),
	    LKV_I("pid", r->r_pid), LKV_S("reason", why));
	if (r->r_peer_up)
		peer_drop(&r->r_peer, why);
	else if (r->r_pid > 0)
		kill(r->r_pid, SIGKILL);
}

void
child_reaped(struct parent *p, pid_t pid, int status)
{
	struct child	*r;
	char		 st[128];

	if ((r = child_by_pid(p, pid)) == NULL)
		return;
	proc_describe_status(status, st, sizeof(st));
	r->r_pid = 0;
	if (p->p_stopping)
		log_event(LL_DEBUG, "role exited", LKV_S("role", r->r_name),
		    LKV_I("pid", pid), LKV_S("status", st));
	else
		log_event(LL_ERROR, "role exited", LKV_S("role", r->r_name),
		    LKV_I("pid", pid), LKV_S("status", st),
		    LKV_S("reason", r->r_why[0] != '\0' ? r->r_why :
		    "unexpected exit"));
	if (r->r_peer_up)
		peer_drop(&r->r_peer, "process exited");	/* child_lost */
	else
		child_schedule_restart(p, r);
	parent_check_done(p);
}

static void
child_schedule_restart(struct parent *p, struct child *r)
{
	struct timeval	 tv;
	int64_t		 up_ms;

	if (p->p_stopping || !r->r_enabled)
		return;
	up_ms = (pm_mono_ns() - r->r_started) / 1000000;
	if (up_ms >= PARENT_STABLE_MS)
		r->r_backoff_ms = PARENT_BACKOFF_MIN_MS;
	tv.tv_sec = r->r_backoff_ms / 1000;
	tv.tv_usec = (r->r_backoff_ms % 1000) * 1000;
	log_event(LL_WARN, "restarting role", LKV_S("role", r->r_name),
	    LKV_S("delay", duration_str(r->r_backoff_ms * 1000000)));
	p->p_st.restarts[r->r_role]++;
	r->r_backoff_ms *= 2;
	if (r->r_backoff_ms > PARENT_BACKOFF_MAX_MS)
		r->r_backoff_ms = PARENT_BACKOFF_MAX_MS;
	evtimer_add(r->r_restart_ev, &tv);
	parent_changed(p);
}

static void
child_restart_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct child	*r = arg;
	struct parent	*p = r->r_parent;

	if (p->p_stopping || r->r_pid != 0)
		return;
	if (child_spawn(p, r) == -1)
		child_schedule_restart(p, r);
}

int
child_all_ready(const struct parent *p, struct buf *missing)
{
	int	 i, ok = 1;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++) {
		if (!p->p_roles[i].r_enabled || p->p_roles[i].r_ready)
			continue;
		ok = 0;
		if (missing != NULL)
			buf_addf(missing, "%s%s", missing->len ? "," : "",
			    p->p_roles[i].r_name);
	}
	return ok;
}

int
child_running(const struct parent *p)
{
	int	 i, n = 0;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++)
		if (p->p_roles[i].r_pid != 0)
			n++;
	return n;
}

void
child_ping(struct parent *p)
{
	struct msgbuf	*mb = xmalloc(sizeof(*mb));
	struct child	*r;
	int		 i;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++) {
		r = &p->p_roles[i];
		if (!r->r_peer_up || r->r_peer.p_dead)
			continue;
		if (r->r_missed >= PARENT_PING_MISSES) {
			child_kill(p, r, "missed 3 heartbeats", 0);
			continue;
		}
		msg_init(mb, PM_PING, 0);
		msg_put_u64(mb, ++r->r_nonce);
		child_send(r, mb, -1);
		r->r_missed++;
	}
	free(mb);
}

void
child_shutdown(struct parent *p)
{
	struct msgbuf	 mb;
	int		 i;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++) {
		msg_init(&mb, PM_SHUTDOWN, 0);
		if (child_send(&p->p_roles[i], &mb, -1) == -1 &&
		    p->p_roles[i].r_pid > 0)
			kill(p->p_roles[i].r_pid, SIGKILL);
	}
}

/* ---- configuration ---------------------------------------------------- */

static void
send_conf_role(struct parent *p, struct child *r)
{
	struct msgbuf	 mb;

	msg_init(&mb, PM_CONF_ROLE, 0);
	msg_put_str(&mb, p->p_root ? p->p_role_user : "");
	msg_put_str(&mb, p->p_empty);
	msg_put_u8(&mb, (uint8_t)p->p_level);
	child_send(r, &mb, -1);
}

static void
send_http_conf(struct parent *p, struct child *r)
{
	const struct config	*c = p->p_cfg;
	struct msgbuf		*mb = xmalloc(sizeof(*mb));
	int			 f;

	msg_init(mb, PM_CONF_HTTP, 0);
	msg_put_str(mb, c->manager.id);
	msg_put_u64(mb, c->http.max_body);
	msg_put_i64(mb, c->http.header_timeout);
	msg_put_i64(mb, c->http.body_idle_timeout);
	msg_put_i64(mb, c->http.body_timeout);
	msg_put_i64(mb, c->http.keepalive_timeout);
	msg_put_u32(mb, (uint32_t)c->http.max_connections);
	msg_put_u32(mb, (uint32_t)c->http.max_pending);
	child_send(r, mb, -1);
	msg_init(mb, PM_CONF_LISTENER, 0);
	msg_put_u8(mb, (uint8_t)p->p_listen_unix);
	child_send(r, mb, p->p_listen_fd);
	for (f = 0; f < FORGE_NUM; f++) {
		msg_init(mb, PM_CONF_SECRET, 0);
		msg_put_u8(mb, (uint8_t)f);
		msg_put_bytes(mb, p->p_secret[f].data, p->p_secret[f].len);
		child_send(r, mb, -1);
	}
	free(mb);
}

static void
send_poll_conf(struct parent *p, struct child *r)
{
	const struct config	*c = p->p_cfg;
	struct msgbuf		 mb;

	msg_init(&mb, PM_CONF_POLL, 0);
	msg_put_i64(&mb, c->poll.connect_timeout);
	msg_put_i64(&mb, c->poll.timeout);
	msg_put_u32(&mb, (uint32_t)c->poll.concurrency);
	msg_put_u32(&mb, (uint32_t)c->poll.max_tags);
	child_send(r, &mb, -1);
}

/* One key file as an fd; the parent never reads it. */
static void
send_key(struct child *r, const char *name, const char *path)
{
	struct msgbuf	 mb;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_event(LL_ERROR, "cannot open signing key",
		    LKV_S("key", name[0] ? name : "[signing]"),
		    LKV_S("path", path), LKV_S("err", strerror(errno)));
		return;
	}
	msg_init(&mb, PM_CONF_KEY, 0);
	msg_put_str(&mb, name);
	child_send(r, &mb, fd);
	close(fd);
}

static void
send_keys(struct parent *p, struct child *r)
{
	struct msgbuf	 mb;
	size_t		 i;

	send_key(r, "", p->p_cfg->signing.key_file);
	for (i = 0; i < p->p_cfg->nkeys; i++)
		send_key(r, p->p_cfg->keys[i].name,
		    p->p_cfg->keys[i].private_path);
	msg_init(&mb, PM_CONF_KEYS_END, 0);
	child_send(r, &mb, -1);
}

static void
send_publisher_conf(struct parent *p, struct child *r)
{
	const struct config	*c = p->p_cfg;
	struct msgbuf		*mb = xmalloc(sizeof(*mb));
	char			*repo;
	size_t			 i;

	repo = xasprintf("%s/repo", c->manager.state_dir);
	msg_init(mb, PM_CONF_PUBLISHER, 0);
	msg_put_str(mb, repo);
	msg_put_str(mb, c->repo.name);
	msg_put_str(mb, c->repo.description);
	msg_put_str(mb, c->manager.id);
	msg_put_u8(mb, (uint8_t)c->upload.backend);
	msg_put_str(mb, c->upload.remote);
	msg_put_i64(mb, c->upload.retry_initial);
	msg_put_i64(mb, c->upload.retry_max);
	for (i = 0; i < p->p_nkeys; i++)
		if (p->p_keys[i].k_name[0] == '\0')
			msg_put_fixed(mb, p->p_keys[i].k_pub, 32);
	msg_put_str(mb, c->upload.rclone_config);
	if (child_send(r, mb, -1) == 0)
		r->r_keys_sent = 1;
	free(repo);
	free(mb);
}

void
child_send_table(struct parent *p, struct child *r)
{
	const struct roster	*ros = p->p_ros;
	const struct recipe	*rc;
	struct msgbuf		*mb = xmalloc(sizeof(*mb));
	size_t			 i;
	uint8_t			 bits;
	int			 f;

	msg_init(mb, PM_CONF_BEGIN, p->p_gen);
	msg_put_u32(mb, (uint32_t)ros->n);
	child_send(r, mb, -1);
	for (i = 0; i < ros->n; i++) {
		rc = ros->r[i];
		for (bits = 0, f = 0; f < FORGE_NUM; f++)
			if (rc->webhook[f])
				bits |= 1U << f;
		msg_init(mb, PM_CONF_RECIPE, p->p_gen);
		msg_put_str(mb, rc->id);
		msg_put_str(mb, rc->git);
		msg_put_str(mb, rc->tag_pattern != NULL ?
		    tagpattern_source(rc->tag_pattern) : "");
		msg_put_i64(mb, rc->peios_revision);
		msg_put_str(mb, rc->min_version);
		msg_put_i64(mb, p->p_once ? 0 : rc->poll_interval != 0 ?
		    rc->poll_interval : p->p_cfg->poll.default_interval);
		msg_put_u8(mb, bits);
		msg_put_u8(mb, (uint8_t)rc->watched);
		msg_put_u8(mb, (uint8_t)rc->submodules);
		if (child_send(r, mb, -1) == -1 && mb->mb_error != NULL)
			log_event(LL_ERROR, "recipe does not fit a message",
			    LKV_S("recipe", rc->id));
	}
	msg_init(mb, PM_CONF_END, p->p_gen);
	child_send(r, mb, -1);
	free(mb);
}

void
child_poll_all(struct parent *p, int source)
{
	struct child	*r = &p->p_roles[ROLE_POLLER];
	struct msgbuf	 mb;
	size_t		 i;

	for (i = 0; i < p->p_ros->n; i++) {
		if (!p->p_ros->r[i]->watched)
			continue;
		if (p->p_once && !p->p_once_pending[i])
			continue;
		msg_init(&mb, PM_POLL_NOW, 0);
		msg_put_str(&mb, p->p_ros->r[i]->id);
		msg_put_u8(&mb, (uint8_t)source);
		child_send(r, &mb, -1);
	}
}

void
child_push_docs(struct parent *p, const struct buf *json,
    const struct buf *metrics)
{
	struct child	*r = &p->p_roles[ROLE_HTTP];
	struct msgbuf	*mb;
	const struct buf *d;
	size_t		 off, n;
	int		 kind;

	if (!r->r_peer_up)
		return;
	mb = xmalloc(sizeof(*mb));
	for (kind = 0; kind < 2; kind++) {
		d = kind == 0 ? json : metrics;
		p->p_doc_gen++;
		off = 0;
		do {
			n = d->len - off;
			if (n > PARENT_DOC_CHUNK)
				n = PARENT_DOC_CHUNK;
			msg_init(mb, PM_STATUS_DOC, 0);
			msg_put_u8(mb, (uint8_t)kind);
			msg_put_u32(mb, p->p_doc_gen);
			msg_put_u32(mb, (uint32_t)d->len);
			msg_put_u32(mb, (uint32_t)off);
			msg_put_bytes(mb, d->data + off, n);
			child_send(r, mb, -1);
			off += n;
		} while (off < d->len);
	}
	free(mb);
}

/* ---- handlers: every role ----------------------------------------------- */

/* 1 when s has no control characters (so it cannot fake log lines). */
int
parent_str_clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
key_ok(const char *k)
{
	size_t	 n = 0;

	for (; k[n] != '\0'; n++)
		if (!isalnum((unsigned char)k[n]) && k[n] != '_' &&
		    k[n] != '.' && k[n] != '-')
			return 0;
	return n >= 1 && n <= 64;
}

/* PM_LOG from a role or a worker: re-emitted as that child. */
int
parent_log_msg(struct msg *m, const char *role, pid_t pid, uint32_t job)
{
	struct lkv	 kv[KV_MAX + 3];
	char		*strs[2 * KV_MAX], *text = NULL;
	uint8_t		 lvl;
	uint16_t	 n, i;
	int		 ns = 0, rc = -1;

	if (msg_get_u8(m, &lvl) == -1 || msg_get_str(m, &text,
	    PM_STR_MAX) == -1 || msg_get_u16(m, &n) == -1)
		goto out;
	if (lvl > LL_ERROR || n > KV_MAX) {
		msg_reject(m, "log level or pair count out of range");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (msg_get_str(m, &strs[ns++], 64) == -1 ||
		    msg_get_str(m, &strs[ns++], PM_ERR_MAX) == -1)
			goto out;
		if (!key_ok(strs[ns - 2])) {
			msg_reject(m, "log key not [A-Za-z0-9_.-]{1,64}");
			goto out;
		}
		kv[i] = LKV_S(strs[ns - 2], strs[ns - 1]);
	}
	if (msg_end(m) == -1)
		goto out;
	kv[i++] = LKV_I("pid", pid);
	if (job != 0)
		kv[i++] = LKV_I("job", job);
	kv[i] = LKV_END;
	log_emit_as(role, (enum log_level)lvl, text, kv);
	rc = 0;
out:
	while (ns > 0)
		free(strs[--ns]);
	free(text);
	return rc;
}

static int
h_log(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);

	return parent_log_msg(m, r->r_name, r->r_pid, 0);
}

static int
h_ready(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);

	r->r_ready = 1;
	log_event(LL_DEBUG, "role ready", LKV_S("role", r->r_name),
	    LKV_I("pid", r->r_pid));
	parent_child_ready(r->r_parent, r);
	return 0;
}

static int
h_pong(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);
	uint64_t	 nonce;

	if (msg_get_u64(m, &nonce) == -1 || msg_end(m) == -1)
		return -1;
	if (nonce > r->r_nonce)
		return msg_reject(m, "pong for a ping never sent");
	if (nonce == r->r_nonce)
		r->r_missed = 0;
	return 0;
}

/* ---- http --------------------------------------------------------------- */

/*
 * Poll `rc` and every other watched recipe tracking the same repository
 * (git URLs compared as webhooks normalise them) with this forge's
 * webhook enabled: several recipes may build from one upstream.  The
 * URLs are the operator's recipe data, not anything from the request.
 */
static void
webhook_polls(struct parent *p, const struct recipe *rc, uint8_t forge,
    const char *delivery)
{
	const struct recipe	*o;
	struct msgbuf		 mb;
	char			 a[WH_URL_MAX + 1], b[WH_URL_MAX + 1];
	size_t			 i;

	if (strlen(rc->git) > WH_URL_MAX)
		return;
	wh_url_normalise(rc->git, strlen(rc->git), a);
	for (i = 0; i < p->p_ros->n; i++) {
		o = p->p_ros->r[i];
		if (!o->watched || !o->webhook[forge] ||
		    strlen(o->git) > WH_URL_MAX)
			continue;
		wh_url_normalise(o->git, strlen(o->git), b);
		if (o != rc && strcmp(a, b) != 0)
			continue;
		log_event(LL_DEBUG, "poll requested by webhook",
		    LKV_S("recipe", o->id), LKV_S("delivery", delivery));
		msg_init(&mb, PM_POLL_NOW, 0);
		msg_put_str(&mb, o->id);
		msg_put_u8(&mb, SRC_WEBHOOK);
		child_send(&p->p_roles[ROLE_POLLER], &mb, -1);
	}
}

static int
h_webhook(struct peer *pe, struct msg *m)
{
	struct child		*r = peer_role(pe);
	struct parent		*p = r->r_parent;
	const struct recipe	*rc;
	struct msgbuf		 mb;
	char			*recipe = NULL, *delivery = NULL;
	uint8_t			 forge, ok = 0;
	int			 rv = -1;

	if (msg_get_u8(m, &forge) == -1 || msg_get_str(m, &recipe,
	    PM_ID_MAX) == -1 || msg_get_str(m, &delivery, PM_STR_MAX) == -1 ||
	    msg_end(m) == -1)
		goto out;
	if (forge >= FORGE_NUM) {
		msg_reject(m, "unknown forge");
		goto out;
	}
	rc = roster_find(p->p_ros, recipe);
	if (!p->p_stopping && rc != NULL && rc->watched && rc->webhook[forge]) {
		ok = 1;
		webhook_polls(p, rc, forge, delivery);
	} else
		log_event(LL_INFO, "webhook for unrecognised or opted-out repo",
		    LKV_S("recipe", recipe), LKV_S("delivery", delivery));
	p->p_st.webhooks[forge][ok ? HOOKR_ACCEPTED : HOOKR_IGNORED]++;
	msg_init(&mb, PM_WEBHOOK_ACK, m->m_hdr.id);
	msg_put_u8(&mb, ok);
	child_send(r, &mb, -1);
	parent_changed(p);
	rv = 0;
out:
	free(recipe);
	free(delivery);
	return rv;
}

static int
h_hook_rejected(struct peer *pe, struct msg *m)
{
	static const int map[HOOK_NUM] = { -1, HOOKR_BAD_SIGNATURE,
	    HOOKR_BAD_REQUEST, HOOKR_TOO_LARGE, HOOKR_DUPLICATE };
	struct parent	*p = peer_role(pe)->r_parent;
	uint8_t		 forge, reason;

	if (msg_get_u8(m, &forge) == -1 || msg_get_u8(m, &reason) == -1 ||
	    msg_end(m) == -1)
		return -1;
	if (forge >= FORGE_NUM || reason == 0 || reason >= HOOK_NUM)
		return msg_reject(m, "unknown forge or reason");
	p->p_st.webhooks[forge][map[reason]]++;
	parent_changed(p);
	return 0;
}

/* ---- poller ----------------------------------------------------------- */

static int
h_trigger(struct peer *pe, struct msg *m)
{
	struct parent	*p = peer_role(pe)->r_parent;
	struct buf	 err = BUF_INIT;
	char		*recipe = NULL, *tag = NULL, *up = NULL;
	uint8_t		 oid[20], src;
	int		 rv = -1;

	if (msg_get_str(m, &recipe, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &tag, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &up, PM_STR_MAX) == -1 ||
	    msg_get_fixed(m, oid, sizeof(oid)) == -1 ||
	    msg_get_u8(m, &src) == -1 || msg_end(m) == -1)
		goto out;
	if (src < SRC_POLL || src > SRC_START || !parent_str_clean(tag) ||
	    tag[0] == '\0' || !parent_str_clean(recipe)) {
		msg_reject(m, "bad source, tag or recipe id");
		goto out;
	}
	if (version_upstream_valid(up, &err) == -1) {
		msg_reject(m, "upstream version invalid");
		goto out;
	}
	rv = 0;
	if (p->p_stopping || (p->p_once && src != SRC_START))
		goto out;
	sched_trigger(p->p_sched, recipe, tag, up, src, pm_now_ns());
	parent_kick(p);
	parent_changed(p);
out:
	buf_free(&err);
	free(recipe);
	free(tag);
	free(up);
	return rv;
}

static void
once_poll_finished(struct parent *p, const char *recipe)
{
	size_t	 i;

	for (i = 0; i < p->p_ros->n; i++)
		if (strcmp(p->p_ros->r[i]->id, recipe) == 0 &&
		    p->p_once_pending[i]) {
			p->p_once_pending[i] = 0;
			p->p_once_polls--;
		}
	parent_check_done(p);
}

static int
h_poll_done(struct peer *pe, struct msg *m)
{
	struct parent	*p = peer_role(pe)->r_parent;
	char		*recipe = NULL, *error = NULL;
	uint32_t	 seen, emitted, skipped;
	int64_t		 finished;
	uint8_t		 ok, src;
	int		 rv = -1;

	if (msg_get_str(m, &recipe, PM_ID_MAX) == -1 ||
	    msg_get_u8(m, &ok) == -1 ||
	    msg_get_str(m, &error, PM_ERR_MAX) == -1 ||
	    msg_get_u32(m, &seen) == -1 || msg_get_u32(m, &emitted) == -1 ||
	    msg_get_u32(m, &skipped) == -1 ||
	    msg_get_i64(m, &finished) == -1 || msg_get_u8(m, &src) == -1 ||
	    msg_end(m) == -1)
		goto out;
	if (ok > 1 || src < SRC_POLL || src > SRC_START) {
		msg_reject(m, "bad ok flag or source");
		goto out;
	}
	status_poll_done(&p->p_st, recipe, ok, error, pm_now_ns());
	if (p->p_once && src == SRC_START)
		once_poll_finished(p, recipe);
	parent_changed(p);
	rv = 0;
out:
	free(recipe);
	free(error);
	return rv;
}

/* ---- signer ----------------------------------------------------------- */

static int
h_signer_keys(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);
	struct parent	*p = r->r_parent;
	struct pubkey	*k;
	uint16_t	 n, i;
	int		 have_pkg = 0;

	if (msg_get_u16(m, &n) == -1)
		return -1;
	if (n > p->p_cfg->nkeys + 1)
		return msg_reject(m, "more keys than configured");
	k = xcalloc(n + 1, sizeof(*k));
	for (i = 0; i < n; i++) {
		if (msg_get_str(m, &k[i].k_name, PM_ID_MAX) == -1 ||
		    msg_get_fixed(m, k[i].k_pub, 32) == -1)
			break;
		if (k[i].k_name[0] == '\0')
			have_pkg = 1;
		else if (config_signing_key(p->p_cfg, k[i].k_name) == NULL) {
			msg_reject(m, "unknown key name");
			break;
		}
	}
	if (i < n || msg_end(m) == -1 || (!have_pkg &&
	    msg_reject(m, "no package key") == -1)) {
		for (i = 0; i <= n; i++)
			free(k[i].k_name);
		free(k);
		return -1;
	}
	for (i = 0; i < p->p_nkeys; i++)
		free(p->p_keys[i].k_name);
	free(p->p_keys);
	p->p_keys = k;
	p->p_nkeys = n;
	p->p_have_keys = 1;
	r->r_keys_sent = 1;
	if (p->p_roles[ROLE_PUBLISHER].r_peer_up &&
	    !p->p_roles[ROLE_PUBLISHER].r_keys_sent)
		send_publisher_conf(p, &p->p_roles[ROLE_PUBLISHER]);
	job_resend_sign_jobs(p);
	return 0;
}

static int
h_sign_ans(struct peer *pe, struct msg *m)
{
	return job_sign_ans(peer_role(pe)->r_parent, m);
}

/* ---- publisher -------------------------------------------------------- */

static int
h_pub_sign(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);

	return job_relay(r->r_parent, ROLE_PUBLISHER, 0, r, NULL, m);
}

static int
h_pub_done(struct peer *pe, struct msg *m)
{
	struct parent	*p = peer_role(pe)->r_parent;
	char		*err = NULL;
	uint64_t	 iv;
	uint8_t		 ok, clamped;
	int		 rv = -1;

	if (msg_get_u8(m, &ok) == -1 ||
	    msg_get_str(m, &err, PM_ERR_MAX) == -1 ||
	    msg_get_u64(m, &iv) == -1 || msg_get_u8(m, &clamped) == -1 ||
	    msg_end(m) == -1)
		goto out;
	if (ok > 1 || m->m_hdr.id == 0 || m->m_hdr.id > p->p_last_job) {
		msg_reject(m, "bad ok flag or job id never issued");
		goto out;
	}
	job_pub_done(p, m->m_hdr.id, ok, err);
	rv = 0;
out:
	free(err);
	return rv;
}

static int
h_pub_set(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);
	struct parent	*p = r->r_parent;
	char		*name, *version;
	uint8_t		 final, reset;
	uint16_t	 n, i;

	if (msg_get_u8(m, &final) == -1 || msg_get_u8(m, &reset) == -1 ||
	    msg_get_u16(m, &n) == -1)
		return -1;
	if (final > 1 || reset > 1)
		return msg_reject(m, "bad final/reset flag");
	if (reset)
		sched_pub_reset(p->p_sched);
	for (i = 0; i < n; i++) {
		if (msg_get_str(m, &name, PM_ID_MAX) == -1)
			return -1;
		if (msg_get_str(m, &version, PM_STR_MAX) == -1) {
			free(name);
			return -1;
		}
		if (parent_str_clean(name) && parent_str_clean(version))
			sched_pub_add(p->p_sched, name, version);
		else
			msg_reject(m, "control character in name or version");
		free(name);
		free(version);
		if (m->m_bad != NULL)
			return -1;
	}
	if (msg_end(m) == -1)
		return -1;
	if (final) {
		sched_pub_final(p->p_sched);
		r->r_pubset_done = 1;
		parent_kick(p);
		parent_changed(p);
	}
	return 0;
}

static int
h_upload(struct peer *pe, struct msg *m)
{
	struct parent	*p = peer_role(pe)->r_parent;
	char		*err = NULL;
	uint8_t		 state;
	int64_t		 next;
	uint64_t	 iv;

	if (msg_get_u8(m, &state) == -1 ||
	    msg_get_str(m, &err, PM_ERR_MAX) == -1 ||
	    msg_get_i64(m, &next) == -1 || msg_get_u64(m, &iv) == -1 ||
	    msg_end(m) == -1 || (state > UPLOAD_FAILED &&
	    msg_reject(m, "unknown upload state") == -1)) {
		free(err);
		return -1;
	}
	if (state == UPLOAD_FAILED && p->p_st.up_state != UPLOAD_FAILED)
		log_event(LL_ERROR, "upload failed", LKV_S("err", err));
	p->p_st.up_have = 1;
	p->p_st.up_state = state;
	free(p->p_st.up_error);
	p->p_st.up_error = err;
	p->p_st.up_next_retry = next;
	p->p_st.up_index_version = iv;
	parent_changed(p);
	return 0;
}
