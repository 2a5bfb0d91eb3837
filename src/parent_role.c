/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_role.c: the parent's side of the role processes (http,
 * poller, signer, publisher): spawning by re-exec, heartbeats and
 * supervision: a role that dies, hangs or breaks the protocol is
 * killed and restarted with back-off (100 ms doubling to 30 s).  The
 * configuration a role gets is in parent_conf.c, the messages it may
 * send in parent_dispatch.c.
 *
 * Trust: privileged; acts on the roles' channels and exit statuses
 * only, never on their payloads (parent_dispatch.c validates those).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <ctype.h>
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
#include "proc.h"

static const char *const names[ROLE_NUM] = {
	"parent", "http", "poller", "signer", "publisher", "worker"
};

static void	 child_lost(struct peer *, const char *);
static void	 child_restart_cb(evutil_socket_t, short, void *);
static void	 child_schedule_restart(struct parent *, struct child *);

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
	    child_table(r->r_role), child_lost, r, &err) == -1) {
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

struct child *
child_by_pid(struct parent *p, pid_t pid)
{
	int	 i;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++)
		if (p->p_roles[i].r_pid == pid && pid > 0)
			return &p->p_roles[i];
	return NULL;
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
	struct child	*r = pe->p_arg;
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
