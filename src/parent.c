/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent.c: the privileged parent of peipkg-manager (daemon and
 * --once): the event loop and boot (the roles, READY=1 once every role
 * answered PM_READY), signals (SIGHUP reload, SIGTERM/SIGINT drain and
 * stop, SIGCHLD), sd_notify and the systemd watchdog, the scheduler
 * hooks and the status documents pushed to the http role.  The set-up
 * before the roles start is in parent_setup.c.
 *
 * Trust: privileged.  Parses only its command line and the operator
 * files (config, recipes); children are handled in parent_role.c,
 * parent_dispatch.c and parent_job.c, which validate everything they
 * send.
 */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "cgroup.h"
#include "clock.h"
#include "duration.h"
#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "proc.h"
#include "recipe.h"
#include "pmsched.h"
#include "tagledger.h"

static void	 set_recipes(struct parent *);
static void	 sched_note(void *, enum sched_result,
		    const struct sched_trigger *, const char *);
static void	 on_signal(evutil_socket_t, short, void *);
static void	 on_sigchld(struct parent *);
static void	 on_boot_timeout(evutil_socket_t, short, void *);
static void	 on_ping(evutil_socket_t, short, void *);
static void	 on_watchdog(evutil_socket_t, short, void *);
static void	 on_status(evutil_socket_t, short, void *);
static void	 on_sched(evutil_socket_t, short, void *);
static void	 on_stop_timeout(evutil_socket_t, short, void *);
static void	 on_kill_timeout(evutil_socket_t, short, void *);
static void	 reload(struct parent *);
static void	 begin_stop(struct parent *, int rc);
static void	 notify_status(struct parent *);
static int	 run(struct parent *);
static void	 teardown(struct parent *);

/* ---- sd_notify -------------------------------------------------------- */

void
parent_notify(const char *s)
{
	sd_notify(0, s);
}

/* STATUS= for systemctl status: the work, and any role that is down
 * (degraded, being restarted).  Sent when it changes. */
static void
notify_line(struct parent *p, const char *prefix)
{
	struct buf	 s = BUF_INIT, down = BUF_INIT;
	char		*msg;
	int		 i;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++)
		if (p->p_roles[i].r_enabled && !p->p_roles[i].r_ready)
			buf_addf(&down, "%s%s", down.len > 0 ? ", " : "",
			    p->p_roles[i].r_name);
	buf_addf(&s, "STATUS=%zu recipes (%zu watched), %zu builds "
	    "running, %zu queued", p->p_ros->n, roster_watched(p->p_ros),
	    sched_nrunning(p->p_sched), sched_nqueued(p->p_sched));
	if (down.len > 0)
		buf_addf(&s, "; degraded: %s restarting", buf_str(&down));
	if (prefix[0] != '\0' || strcmp(buf_str(&s), p->p_status_line) != 0) {
		snprintf(p->p_status_line, sizeof(p->p_status_line), "%s",
		    buf_str(&s));
		msg = xasprintf("%s%s", prefix, buf_str(&s));
		parent_notify(msg);
		free(msg);
	}
	buf_free(&s);
	buf_free(&down);
}

static void
notify_status(struct parent *p)
{
	notify_line(p, "READY=1\n");
}

/* ---- start-up ---------------------------------------------------------- */

/* A numeric test hook (parent.h): a positive number, else def. */
static int64_t
env_num(const char *name, int64_t def)
{
	const char	*s = getenv(name);
	char		*end;
	long long	 v;

	if (s == NULL || s[0] == '\0')
		return def;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : def;
}

/* ---- recipes and the scheduler -------------------------------------- */

static void
set_recipes(struct parent *p)
{
	const struct roster	*ros = p->p_ros;
	struct sched_recipe	*sr;
	const char		**ids, ***pk;
	size_t			 i, k;

	sr = xcalloc(ros->n + 1, sizeof(*sr));
	ids = xcalloc(ros->n + 1, sizeof(*ids));
	pk = xcalloc(ros->n + 1, sizeof(*pk));
	for (i = 0; i < ros->n; i++) {
		ids[i] = ros->r[i]->id;
		pk[i] = xcalloc(ros->r[i]->npkgs + 1, sizeof(**pk));
		for (k = 0; k < ros->r[i]->npkgs; k++)
			pk[i][k] = ros->r[i]->pkgs[k].name;
		sr[i].id = ros->r[i]->id;
		sr[i].min_version = ros->r[i]->min_version;
		sr[i].revision = ros->r[i]->peios_revision;
		sr[i].watched = ros->r[i]->watched;
		sr[i].pkgs = pk[i];
		sr[i].npkgs = ros->r[i]->npkgs;
	}
	sched_set_recipes(p->p_sched, sr, ros->n);
	status_set_recipes(&p->p_st, ids, ros->n);
	for (i = 0; i < ros->n; i++)
		free(pk[i]);
	free(pk);
	free(ids);
	free(sr);
}

/* A published version's tag now names another commit: say so, once per
 * commit; the version is not rebuilt. */
static void
tag_moved_check(struct parent *p, const struct sched_trigger *t)
{
	char	 was[41], now[41];

	if (!t->t_has_oid || p->p_tags == NULL || t->t_version == NULL ||
	    !tagledger_moved(p->p_tags, t->t_recipe, t->t_version, t->t_oid,
	    was))
		return;
	hex_encode(t->t_oid, sizeof(t->t_oid), now);
	p->p_st.tags_moved++;
	log_event(LL_WARN, "upstream tag moved after publish; not rebuilt",
	    LKV_S("recipe", t->t_recipe), LKV_S("tag", t->t_tag),
	    LKV_S("version", t->t_version), LKV_S("published_commit", was),
	    LKV_S("commit", now));
}

static void
sched_note(void *arg, enum sched_result r, const struct sched_trigger *t,
    const char *detail)
{
	const char	*src = t->t_source == SRC_WEBHOOK ? "webhook" : "poll";
	const char	*v = t->t_version != NULL ? t->t_version : "";

	switch (r) {
	case SCHED_REMOVED:
		log_event(LL_DEBUG, "trigger dropped (recipe removed from "
		    "roster)", LKV_S("recipe", t->t_recipe),
		    LKV_S("tag", t->t_tag));
		break;
	case SCHED_UNWATCHED:
		log_event(LL_DEBUG, "trigger dropped (recipe not watched)",
		    LKV_S("recipe", t->t_recipe), LKV_S("tag", t->t_tag));
		break;
	case SCHED_BELOW_MIN:
		log_event(LL_DEBUG, "trigger dropped (current recipe "
		    "min_version forbids)", LKV_S("recipe", t->t_recipe),
		    LKV_S("version", t->t_upstream),
		    LKV_S("min_version", detail));
		break;
	case SCHED_PUBLISHED:
		log_event(LL_DEBUG, "trigger skipped (already published)",
		    LKV_S("recipe", t->t_recipe), LKV_S("version", v),
		    LKV_S("source", src));
		tag_moved_check(arg, t);
		break;
	case SCHED_BACKOFF:
		log_event(LL_DEBUG, "trigger skipped (in failure backoff "
		    "window)", LKV_S("recipe", t->t_recipe),
		    LKV_S("version", v), LKV_S("source", src));
		break;
	case SCHED_QUEUED_DUP:
		log_event(LL_DEBUG, "trigger skipped (already queued)",
		    LKV_S("recipe", t->t_recipe), LKV_S("version", v),
		    LKV_S("source", src));
		break;
	case SCHED_RUNNING_DUP:
		log_event(LL_DEBUG, "trigger skipped (build in flight)",
		    LKV_S("recipe", t->t_recipe), LKV_S("version", v),
		    LKV_S("source", src));
		break;
	default:
		break;
	}
}

void
parent_changed(struct parent *p)
{
	if (p->p_ev_status != NULL)
		event_active(p->p_ev_status, EV_TIMEOUT, 0);
}

void
parent_kick(struct parent *p)
{
	if (p->p_ev_sched != NULL)
		event_active(p->p_ev_sched, EV_TIMEOUT, 0);
}

static void
on_sched(evutil_socket_t fd, short ev, void *arg)
{
	struct parent		*p = arg;
	struct sched_job	*sj;

	if (!p->p_booted || p->p_stopping)
		return;
	while ((sj = sched_next(p->p_sched, pm_now_ns())) != NULL)
		job_start(p, sj);
	parent_check_done(p);
}

static void
on_status(evutil_socket_t fd, short ev, void *arg)
{
	struct parent	*p = arg;
	struct buf	 json = BUF_INIT, metrics = BUF_INIT;

	if (p->p_booted && !p->p_stopping)
		notify_line(p, "");
	if (!p->p_roles[ROLE_HTTP].r_peer_up)
		return;
	status_json(&p->p_st, p->p_sched, &json);
	status_metrics(&p->p_st, p->p_sched, pm_now_ns(), &metrics);
	child_push_docs(p, &json, &metrics);
	buf_free(&json);
	buf_free(&metrics);
}

/* ---- boot ----------------------------------------------------------------- */

void
parent_child_ready(struct parent *p, struct child *r)
{
	struct timeval	 tv;
	uint64_t	 usec;
	size_t		 i;

	if (p->p_booted || p->p_stopping || !child_all_ready(p, NULL))
		return;
	p->p_booted = 1;
	evtimer_del(p->p_ev_boot);
	notify_status(p);
	log_event(LL_INFO, "all roles ready", LKV_I("recipes", p->p_ros->n),
	    LKV_I("watched", roster_watched(p->p_ros)));
	tv.tv_sec = p->p_ping_ms / 1000;
	tv.tv_usec = (p->p_ping_ms % 1000) * 1000;
	evtimer_add(p->p_ev_ping, &tv);
	if (sd_watchdog_enabled(0, &usec) > 0) {
		tv.tv_sec = usec / 2 / 1000000;
		tv.tv_usec = usec / 2 % 1000000;
		evtimer_add(p->p_ev_wd, &tv);
	}
	if (p->p_once)
		for (i = 0; i < p->p_ros->n; i++)
			if (p->p_ros->r[i]->watched) {
				p->p_once_pending[i] = 1;
				p->p_once_polls++;
			}
	child_poll_all(p, SRC_START);
	parent_kick(p);
	parent_changed(p);
	parent_check_done(p);
}

static void
on_boot_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct parent	*p = arg;
	struct buf	 missing = BUF_INIT;

	child_all_ready(p, &missing);
	log_event(LL_ERROR, "start-up timed out waiting for roles",
	    LKV_S("roles", buf_str(&missing)), LKV_S("timeout", "10s"));
	buf_free(&missing);
	begin_stop(p, 1);
}

static void
on_ping(evutil_socket_t fd, short ev, void *arg)
{
	struct parent	*p = arg;
	struct timeval	 tv;

	child_ping(p);
	if (p->p_cg != NULL)
		(void)cg_sweep(p->p_cg);	/* groups still busy at job end */
	tv.tv_sec = p->p_ping_ms / 1000;
	tv.tv_usec = (p->p_ping_ms % 1000) * 1000;
	evtimer_add(p->p_ev_ping, &tv);
}

static void
on_watchdog(evutil_socket_t fd, short ev, void *arg)
{
	struct parent	*p = arg;
	struct timeval	 tv;
	uint64_t	 usec;

	parent_notify("WATCHDOG=1");
	if (sd_watchdog_enabled(0, &usec) > 0) {
		tv.tv_sec = usec / 2 / 1000000;
		tv.tv_usec = usec / 2 % 1000000;
		evtimer_add(p->p_ev_wd, &tv);
	}
}

/* ---- signals ------------------------------------------------------------ */

static void
on_sigchld(struct parent *p)
{
	struct job	*j;
	pid_t		 pid;
	int		 status;

	while (proc_reap(&pid, &status) == 1) {
		if ((j = job_by_pid(p, pid)) != NULL)
			job_reaped(p, j, status);
		else if (job_cleanup_reaped(p, pid))
			parent_check_done(p);
		else
			child_reaped(p, pid, status);
	}
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct parent	*p = arg;

	switch (sig) {
	case SIGCHLD:
		on_sigchld(p);
		break;
	case SIGHUP:
		if (!p->p_once && !p->p_stopping)
			reload(p);
		break;
	case SIGTERM:
	case SIGINT:
		log_event(LL_INFO, "received signal; stopping",
		    LKV_S("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
		begin_stop(p, 0);
		break;
	}
}

/* SIGHUP: a new roster; config, keys and the listener stay. */
static void
reload(struct parent *p)
{
	struct buf	 err = BUF_INIT, warn = BUF_INIT;
	struct roster	*ros = NULL;
	size_t		 i;

	log_event(LL_INFO, "received SIGHUP; reloading recipes", LKV_END);
	parent_notify("RELOADING=1");
	if (roster_load(p->p_cfg->manager.recipes_dir, RECIPE_MANAGER, &ros,
	    &err) == -1 || config_check_roster(p->p_cfg, ros, &err,
	    &warn) > 0) {
		log_event(LL_ERROR, "reload: load roster failed; continuing "
		    "with existing recipes", LKV_S("err", buf_str(&err)));
		roster_free(ros);
		goto out;
	}
	if (warn.len > 0)
		log_event(LL_WARN, "configuration warning",
		    LKV_S("warning", buf_str(&warn)));
	for (i = 0; i < ros->nbad; i++)
		log_event(LL_ERROR, "recipe rejected",
		    LKV_S("recipe", ros->bad[i].id),
		    LKV_S("err", ros->bad[i].errors));
	roster_free(p->p_ros);
	p->p_ros = ros;
	log_event(LL_INFO, "recipes reloaded", LKV_I("count", ros->n),
	    LKV_S("dir", ros->dir));
	set_recipes(p);
	p->p_gen++;
	child_send_table(p, &p->p_roles[ROLE_HTTP]);
	child_send_table(p, &p->p_roles[ROLE_POLLER]);
	child_poll_all(p, SRC_RELOAD);
	parent_kick(p);
	parent_changed(p);
out:
	notify_status(p);
	buf_free(&err);
	buf_free(&warn);
}

/* ---- stopping ----------------------------------------------------------- */

static void
begin_stop(struct parent *p, int rc)
{
	struct timeval	 tv = { p->p_stop_timeout_s, 0 };
	size_t		 n;

	if (p->p_stopping)
		return;
	p->p_stopping = 1;
	p->p_rc = rc;
	parent_notify("STOPPING=1");
	evtimer_del(p->p_ev_boot);
	evtimer_del(p->p_ev_ping);
	if ((n = sched_stop(p->p_sched)) > 0)
		log_event(LL_INFO, "dropping queued triggers",
		    LKV_I("count", n));
	if (!TAILQ_EMPTY(&p->p_jobs)) {
		log_event(LL_INFO, "waiting for running builds",
		    LKV_I("count", sched_nrunning(p->p_sched)),
		    LKV_S("timeout", duration_str(p->p_stop_timeout_s *
		    DURATION_S)));
		evtimer_add(p->p_ev_stop, &tv);
	}
	parent_check_done(p);
}

static void
on_stop_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct parent	*p = arg;

	log_event(LL_WARN, "stop timeout reached; killing running builds",
	    LKV_END);
	job_kill_all(p, "killed at shutdown (stop timeout)");
}

static void
on_kill_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct parent	*p = arg;
	int		 i;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++)
		if (p->p_roles[i].r_pid > 0) {
			log_event(LL_WARN, "role did not exit; killing",
			    LKV_S("role", p->p_roles[i].r_name));
			kill(p->p_roles[i].r_pid, SIGKILL);
		}
}

/*
 * Progress of --once and of a stop: --once ends when every start poll
 * finished and nothing is queued or running; a stop shuts the roles
 * down once no build is left and ends the loop once every child is
 * reaped.
 */
void
parent_check_done(struct parent *p)
{
	struct timeval	 tv = { PARENT_SHUTDOWN_MS / 1000, 0 };

	if (!p->p_stopping) {
		if (p->p_once && p->p_booted && p->p_once_polls == 0 &&
		    sched_nqueued(p->p_sched) == 0 && TAILQ_EMPTY(&p->p_jobs))
			begin_stop(p, 0);
		return;
	}
	if (!TAILQ_EMPTY(&p->p_jobs))
		return;
	if (!p->p_exit) {
		p->p_exit = 1;
		evtimer_del(p->p_ev_stop);
		child_shutdown(p);
		evtimer_add(p->p_ev_kill, &tv);
	}
	if (child_running(p) == 0 && p->p_cleanups == 0)
		event_base_loopexit(p->p_base, NULL);
}

/* ---- main --------------------------------------------------------------- */

static int
run(struct parent *p)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
	static const int order[] = { ROLE_HTTP, ROLE_POLLER, ROLE_PUBLISHER,
	    ROLE_SIGNER };
	struct timeval	 tv = { PARENT_BOOT_TIMEOUT_MS / 1000, 0 };
	size_t		 i;

	if ((p->p_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < nitems(sigs); i++) {
		if (sigs[i] == SIGHUP && p->p_once)
			continue;
		p->p_ev_sig[i] = evsignal_new(p->p_base, sigs[i], on_signal, p);
		if (p->p_ev_sig[i] == NULL || evsignal_add(p->p_ev_sig[i],
		    NULL) == -1)
			fatalx("evsignal_new");
	}
	p->p_ev_ping = evtimer_new(p->p_base, on_ping, p);
	p->p_ev_wd = evtimer_new(p->p_base, on_watchdog, p);
	p->p_ev_boot = evtimer_new(p->p_base, on_boot_timeout, p);
	p->p_ev_stop = evtimer_new(p->p_base, on_stop_timeout, p);
	p->p_ev_kill = evtimer_new(p->p_base, on_kill_timeout, p);
	p->p_ev_status = event_new(p->p_base, -1, 0, on_status, p);
	p->p_ev_sched = event_new(p->p_base, -1, 0, on_sched, p);
	if (p->p_ev_ping == NULL || p->p_ev_wd == NULL ||
	    p->p_ev_boot == NULL || p->p_ev_stop == NULL ||
	    p->p_ev_kill == NULL || p->p_ev_status == NULL ||
	    p->p_ev_sched == NULL)
		fatalx("event_new");
	child_setup(p);
	/* The signer last: no role is forked after keys are around. */
	for (i = 0; i < nitems(order); i++) {
		if (!p->p_roles[order[i]].r_enabled)
			continue;
		if (child_spawn(p, &p->p_roles[order[i]]) == -1)
			return 1;
	}
	evtimer_add(p->p_ev_boot, &tv);
	event_base_dispatch(p->p_base);
	return p->p_rc;
}

/* Kill and reap whatever is left (start-up failures), free. */
static void
teardown(struct parent *p)
{
	struct job	*j;
	pid_t		 pid;
	int		 i, status;

	for (i = ROLE_HTTP; i <= ROLE_PUBLISHER; i++) {
		if (p->p_roles[i].r_pid > 0) {
			kill(p->p_roles[i].r_pid, SIGKILL);
			waitpid(p->p_roles[i].r_pid, &status, 0);
		}
		if (p->p_roles[i].r_peer_up)
			peer_free(&p->p_roles[i].r_peer);
		if (p->p_roles[i].r_restart_ev != NULL)
			event_free(p->p_roles[i].r_restart_ev);
	}
	while ((j = TAILQ_FIRST(&p->p_jobs)) != NULL) {
		if (j->j_pid > 0) {
			kill(-j->j_pid, SIGKILL);
			kill(j->j_pid, SIGKILL);
		}
		TAILQ_REMOVE(&p->p_jobs, j, j_entry);
	}
	while (proc_reap(&pid, &status) == 1)
		;
	for (i = 0; i < (int)nitems(p->p_ev_sig); i++)
		if (p->p_ev_sig[i] != NULL)
			event_free(p->p_ev_sig[i]);
	if (p->p_base != NULL) {
		event_free(p->p_ev_ping);
		event_free(p->p_ev_wd);
		event_free(p->p_ev_boot);
		event_free(p->p_ev_stop);
		event_free(p->p_ev_kill);
		event_free(p->p_ev_status);
		event_free(p->p_ev_sched);
		event_base_free(p->p_base);
	}
	if (p->p_listen_fd != -1)
		close(p->p_listen_fd);
	for (i = 0; i < FORGE_NUM; i++)
		buf_free(&p->p_secret[i]);
	for (i = 0; i < (int)p->p_nkeys; i++)
		free(p->p_keys[i].k_name);
	free(p->p_keys);
	sched_free(p->p_sched);
	status_free(&p->p_st);
	free(p->p_once_pending);
	free(p->p_self);
	free(p->p_buildd);
	free(p->p_empty);
	cg_close(p->p_cg, PARENT_CGROUP_WAIT_MS);
	tagledger_free(p->p_tags);
	free(p->p_cg_why);
}

/*
 * The daemon or --once.  Takes ownership of ros (a reload replaces it),
 * not of cfg.  Exit status: 0, or 1 when the manager cannot be set up
 * or the roles did not come up.
 */
int
parent_main(struct config *cfg, struct roster *ros, int once,
    const char *config_path, enum log_level level)
{
	struct parent	 p;
	int		 rc = 1;

	memset(&p, 0, sizeof(p));
	p.p_cfg = cfg;
	p.p_ros = ros;
	p.p_once = once;
	p.p_config_path = config_path;
	p.p_level = level;
	p.p_listen_fd = -1;
	TAILQ_INIT(&p.p_jobs);
	TAILQ_INIT(&p.p_relays);
	p.p_ping_ms = env_num("PEIPKG_TEST_PING_MS", PARENT_PING_MS);
	p.p_stop_timeout_s = env_num("PEIPKG_TEST_STOP_TIMEOUT",
	    (long)(cfg->manager.stop_timeout / 1000000000));
	p.p_sched = sched_new(cfg->manager.max_parallel_builds);
	sched_set_note(p.p_sched, sched_note, &p);
	status_init(&p.p_st, cfg->manager.id);
	p.p_once_pending = xcalloc(ros->n + 1, 1);
	set_recipes(&p);
	if (parent_setup(&p) == -1)
		goto out;
	job_prepare_dirs_clean(&p);
	log_event(LL_INFO, "peipkg-manager starting",
	    LKV_S("config", config_path), LKV_S("farm_id", cfg->manager.id),
	    LKV_S("mode", once ? "once" : "daemon"));
	rc = run(&p);
	if (rc == 0 || p.p_stopping)
		log_event(LL_INFO, "peipkg-manager stopped", LKV_END);
out:
	teardown(&p);
	roster_free(p.p_ros);
	return rc;
}
