/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_job.c: one build from start to end (doc/PROTOCOL 2.7): the
 * worker (sandbox/peipkg-buildd) and its job message, its messages and
 * its end, the watchdog, the hand-over to the publisher, and the end
 * of the job: back-off bookkeeping and log events.  The job directory
 * and logs are in parent_jobdir.c, the signing relay in parent_sign.c.
 *
 * Trust: the worker runs hostile build scripts; everything it sends is
 * validated and its output names must be exactly the ones the parent
 * expects from the recipe.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "clock.h"
#include "duration.h"
#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "proc.h"
#include "recipe.h"
#include "pmsched.h"
#include "sign.h"
#include "tagledger.h"

static int	 job_cgroup(struct parent *, struct job *,
		    const struct recipe *, struct buf *);
static int	 job_spawn(struct parent *, struct job *, struct buf *);
static void	 job_send_job(struct parent *, struct job *,
		    const struct recipe *);
static void	 job_lost(struct peer *, const char *);
static void	 job_fail(struct parent *, struct job *, const char *);
static void	 job_end(struct parent *, struct job *, int ok, int publish);
static void	 job_publish(struct parent *, struct job *);
static void	 job_killpg(struct job *);
static void	 job_watchdog_cb(evutil_socket_t, short, void *);
static void	 job_exit_cb(evutil_socket_t, short, void *);
static int	 h_wlog(struct peer *, struct msg *);
static int	 h_phase(struct peer *, struct msg *);
static int	 h_wsign(struct peer *, struct msg *);
static int	 h_done(struct peer *, struct msg *);

static const struct msg_handler worker_table[] = {
	{ PM_LOG, 7, PM_PAYLOAD_MAX, 0, h_wlog },
	{ PM_BUILD_PHASE, 5, 5 + PM_STR_MAX, 0, h_phase },
	{ PM_SIGN_REQ, 41, PM_PAYLOAD_MAX, 0, h_wsign },
	{ PM_BUILD_DONE, 15, PM_PAYLOAD_MAX, MSG_ONCE, h_done },
	{ 0, 0, 0, 0, NULL }
};

/* ---- start ------------------------------------------------------------ */

static struct job *
job_new(struct parent *p, struct sched_job *sj, const struct recipe *r)
{
	struct job	*j = xcalloc(1, sizeof(*j));
	size_t		 i;

	j->j_parent = p;
	j->j_id = sj->j_id;
	j->j_recipe = xstrdup(sj->j_recipe);
	j->j_version = xstrdup(sj->j_version);
	j->j_tag = xstrdup(sj->j_tag);
	j->j_seen = sj->j_seen;
	j->j_has_oid = sj->j_has_oid;
	memcpy(j->j_oid, sj->j_oid, sizeof(j->j_oid));
	j->j_mono = pm_mono_ns();
	j->j_log_fd = -1;
	j->j_state = JOB_BUILDING;
	j->j_name = xasprintf("%s-%s-%u", j->j_recipe, j->j_version, j->j_id);
	j->j_dir = xasprintf("%s/jobs/%s", p->p_cfg->manager.state_dir,
	    j->j_name);
	j->j_expect = xcalloc(r->npkgs + 1, sizeof(char *));
	for (i = 0; i < r->npkgs; i++)
		j->j_expect[i] = xasprintf("%s_%s_%s.peipkg", r->pkgs[i].name,
		    j->j_version, r->pkgs[i].architecture);
	j->j_nexpect = r->npkgs;
	if (sj->j_id > p->p_last_job)
		p->p_last_job = sj->j_id;
	j->j_watchdog = evtimer_new(p->p_base, job_watchdog_cb, j);
	j->j_exit_timer = evtimer_new(p->p_base, job_exit_cb, j);
	if (j->j_watchdog == NULL || j->j_exit_timer == NULL)
		fatalx("evtimer_new");
	TAILQ_INSERT_TAIL(&p->p_jobs, j, j_entry);
	return j;
}

void
job_start(struct parent *p, struct sched_job *sj)
{
	static const char *const src[] = { "", "poll", "webhook", "poll",
	    "poll" };
	const struct recipe	*r = roster_find(p->p_ros, sj->j_recipe);
	struct buf		 err = BUF_INIT;
	struct timeval		 tv;
	struct job		*j;
	int64_t			 wall, wd;

	if (r == NULL)
		fatalx("job_start: recipe %s vanished", sj->j_recipe);
	j = job_new(p, sj, r);
	if (job_log_open(p, j, &err) == -1 || job_dirs(p, j, &err) == -1)
		goto fail;
	log_event(LL_INFO, "starting build", LKV_S("recipe", j->j_recipe),
	    LKV_S("tag", j->j_tag), LKV_S("version", j->j_version),
	    LKV_S("source", (unsigned)sj->j_source < nitems(src) ?
	    src[sj->j_source] : "poll"), LKV_I("job", j->j_id),
	    LKV_S("log", j->j_log));
	if (job_cgroup(p, j, r, &err) == -1 || job_spawn(p, j, &err) == -1)
		goto fail;
	job_send_job(p, j, r);
	job_sign_job(p, j);
	wall = r->wall_timeout != 0 ? r->wall_timeout :
	    p->p_cfg->build.wall_timeout;
	/* Fetch and build.sh share the wall timeout; packing comes after
	 * it (level 19 runs at about 1 MB/s per core: doc/performance.md),
	 * so allow it as long again before the worker is deemed hung. */
	wd = 2 * wall + p->p_cfg->build.kill_grace;
	tv.tv_sec = wd / DURATION_S;
	tv.tv_usec = (wd % DURATION_S) / 1000;
	evtimer_add(j->j_watchdog, &tv);
	buf_free(&err);
	parent_changed(p);
	return;
fail:
	j->j_err = xasprintf("set up build: %s", buf_str(&err));
	buf_free(&err);
	job_end(p, j, 0, 0);
}

/* The build's cgroup: memory_max (the recipe's, else the farm's), and
 * max_processes plus room for the worker's own threads. */
static int
job_cgroup(struct parent *p, struct job *j, const struct recipe *r,
    struct buf *err)
{
	const struct config	*c = p->p_cfg;

	j->j_memory_max = r->memory_max != 0 ? r->memory_max :
	    c->build.memory_max;
	if (p->p_cg == NULL) {
		if (j->j_memory_max == 0)
			return 0;
		return errf(err, "memory_max is set but there are no build "
		    "cgroups: %s", p->p_cg_why);
	}
	if (cg_build_create(p->p_cg, j->j_id, j->j_memory_max,
	    (uint64_t)c->build.max_processes + PARENT_CGROUP_PIDS_EXTRA,
	    err) == -1)
		return -1;
	j->j_cg = 1;
	return 0;
}

static int
job_spawn(struct parent *p, struct job *j, struct buf *err)
{
	char	*argv[2];
	int	 sv[2];
	pid_t	 pid;

	argv[0] = p->p_buildd;
	argv[1] = NULL;
	if (proc_socketpair(sv, err) == -1)
		return -1;
	pid = proc_spawn(p->p_buildd, argv, sv[1], NULL, 0, err);
	close(sv[1]);
	if (pid == -1) {
		close(sv[0]);
		return -1;
	}
	j->j_pid = pid;
	/* Into its cgroup before it gets the job: it has no children yet. */
	if (j->j_cg && cg_build_attach(p->p_cg, j->j_id, pid, err) == -1) {
		close(sv[0]);
		job_killpg(j);
		return -1;
	}
	if (peer_init(&j->j_peer, p->p_base, sv[0], "worker", pid,
	    worker_table, job_lost, j, err) == -1) {
		close(sv[0]);
		job_killpg(j);
		return -1;
	}
	j->j_peer_up = 1;
	return 0;
}

/* Paths build.sh must not see. */
static void
put_hide(struct parent *p, struct msgbuf *mb)
{
	const struct config	*c = p->p_cfg;
	const char		*h[64];
	size_t			 n = 0, i;
	int			 f;

	h[n++] = c->manager.state_dir;
	h[n++] = c->path;
	h[n++] = c->signing.key_file;
	for (f = 0; f < FORGE_NUM; f++)
		if (config_webhook_secret(c, f)[0] != '\0' && n < nitems(h))
			h[n++] = config_webhook_secret(c, f);
	for (i = 0; i < c->nkeys && n < nitems(h); i++)
		h[n++] = c->keys[i].private_path;
	msg_put_u16(mb, (uint16_t)n);
	for (i = 0; i < n; i++)
		msg_put_str(mb, h[i]);
}

/* inject_pubkey values and granted key names. */
static void
put_grant(struct parent *p, struct msgbuf *mb, const struct recipe *r)
{
	const struct grant	*g = config_grant(p->p_cfg, r->id);
	const struct signing_key *k;
	char			 hex[65];
	char			*s;
	size_t			 i, n;

	msg_put_u16(mb, g == NULL ? 0 : (uint16_t)g->ninject_pubkey);
	for (i = 0; g != NULL && i < g->ninject_pubkey; i++) {
		k = config_signing_key(p->p_cfg, g->inject_pubkey[i]);
		hex[0] = '\0';
		for (n = 0; k != NULL && n < p->p_nkeys; n++)
			if (strcmp(p->p_keys[n].k_name, k->name) == 0)
				hex_encode(p->p_keys[n].k_pub, 32, hex);
		s = xasprintf("%s=%s", k != NULL ? k->pubkey_env : "", hex);
		msg_put_str(mb, s);
		free(s);
	}
	msg_put_u16(mb, g == NULL ? 0 : (uint16_t)g->nsign);
	for (i = 0; g != NULL && i < g->nsign; i++)
		msg_put_str(mb, g->sign[i]);
}

static void
job_send_job(struct parent *p, struct job *j, const struct recipe *r)
{
	const struct config	*c = p->p_cfg;
	struct msgbuf		*mb = xmalloc(sizeof(*mb));
	char			*ref;

	ref = xasprintf("git+%s#refs/tags/%s", r->git, j->j_tag);
	msg_init(mb, PM_BUILD_JOB, j->j_id);
	msg_put_str(mb, r->id);
	msg_put_str(mb, r->path);
	msg_put_str(mb, j->j_version);
	msg_put_str(mb, sched_job(p->p_sched, j->j_id)->j_upstream);
	msg_put_str(mb, j->j_tag);
	msg_put_u8(mb, (uint8_t)j->j_has_oid);
	msg_put_fixed(mb, j->j_oid, sizeof(j->j_oid));
	msg_put_str(mb, r->git);
	msg_put_u8(mb, (uint8_t)r->submodules);
	msg_put_str(mb, c->manager.id);
	msg_put_str(mb, ref);
	msg_put_str(mb, j->j_dir);
	msg_put_u32(mb, (uint32_t)p->p_build_uid);
	msg_put_u32(mb, (uint32_t)p->p_build_gid);
	msg_put_i64(mb, r->wall_timeout ? r->wall_timeout :
	    c->build.wall_timeout);
	msg_put_i64(mb, r->idle_timeout ? r->idle_timeout :
	    c->build.idle_timeout);
	msg_put_i64(mb, c->build.kill_grace);
	msg_put_u64(mb, c->build.log_max);
	msg_put_u64(mb, (uint64_t)c->build.max_processes);
	msg_put_u64(mb, (uint64_t)c->build.max_open_files);
	msg_put_u64(mb, c->build.max_file_size);
	msg_put_u8(mb, (uint8_t)r->allow_ptrace);
	msg_put_u32(mb, (uint32_t)c->build.zstd_level);
	put_hide(p, mb);
	put_grant(p, mb, r);
	/* A failed send drops the peer: job_lost() ends the build. */
	peer_send(&j->j_peer, mb, -1);
	msg_init(mb, PM_BUILD_LOG_FD, j->j_id);
	peer_send(&j->j_peer, mb, j->j_log_fd);
	free(ref);
	free(mb);
}

/* ---- the worker ----------------------------------------------------------- */

struct job *
job_by_pid(struct parent *p, pid_t pid)
{
	struct job	*j;

	TAILQ_FOREACH(j, &p->p_jobs, j_entry)
		if (j->j_pid == pid && pid > 0)
			return j;
	return NULL;
}

struct job *
job_by_id(struct parent *p, uint32_t id)
{
	struct job	*j;

	TAILQ_FOREACH(j, &p->p_jobs, j_entry)
		if (j->j_id == id)
			return j;
	return NULL;
}

/* The worker made itself a process group leader (setsid); kill all. */
static void
job_killpg(struct job *j)
{
	if (j->j_pid <= 0)
		return;
	if (kill(-j->j_pid, SIGKILL) == -1)
		kill(j->j_pid, SIGKILL);
}

/* Record the first failure reason and kill the worker. */
static void
job_fail(struct parent *p, struct job *j, const char *why)
{
	if (j->j_err == NULL)
		j->j_err = xstrdup(why);
	j->j_ok = 0;
	j->j_killed = 1;
	job_killpg(j);
	if (j->j_peer_up && !j->j_peer.p_dead)
		peer_drop(&j->j_peer, why);
}

static void
job_watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct job	*j = arg;

	log_event(LL_ERROR, "build watchdog expired; killing the worker",
	    LKV_S("recipe", j->j_recipe), LKV_S("version", j->j_version),
	    LKV_I("job", j->j_id));
	job_fail(j->j_parent, j, "the build outlived the parent's "
	    "watchdog (2 x wall_timeout + kill_grace)");
}

static void
job_exit_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct job	*j = arg;

	if (j->j_state == JOB_EXITING && j->j_pid > 0)
		job_fail(j->j_parent, j, "the worker did not exit after "
		    "reporting its result");
	else if (j->j_peer_up)
		peer_drop(&j->j_peer, "worker gone");
}

/* Both the process and its channel are gone: decide. */
static void
job_settle(struct parent *p, struct job *j)
{
	char	 st[128], *e;

	if (j->j_pid > 0 || j->j_peer_up || (j->j_state != JOB_BUILDING &&
	    j->j_state != JOB_EXITING))
		return;
	evtimer_del(j->j_exit_timer);
	if (j->j_done && j->j_ok && j->j_err == NULL &&
	    WIFEXITED(j->j_status) && WEXITSTATUS(j->j_status) == 0) {
		job_publish(p, j);
		return;
	}
	if (j->j_err == NULL) {
		proc_describe_status(j->j_status, st, sizeof(st));
		e = j->j_done ? xasprintf("worker %s after reporting "
		    "success", st) : xasprintf("worker %s before reporting a "
		    "result", st);
		j->j_err = e;
	}
	job_end(p, j, 0, 0);
}

static void
job_lost(struct peer *pe, const char *why)
{
	struct job	*j = pe->p_arg;
	struct parent	*p = j->j_parent;
	struct timeval	 tv = { PARENT_EXIT_GRACE_MS / 1000, 0 };

	if (pe->p_proto_error) {
		p->p_st.ipc_errors++;
		log_event(LL_ERROR, "protocol error; killing worker",
		    LKV_S("recipe", j->j_recipe), LKV_I("job", j->j_id),
		    LKV_I("pid", j->j_pid), LKV_S("err", why));
		if (j->j_err == NULL)
			j->j_err = xasprintf("worker: %s", why);
		job_killpg(j);
	}
	peer_free(&j->j_peer);
	j->j_peer_up = 0;
	if (j->j_pid > 0 && !evtimer_pending(j->j_exit_timer, NULL))
		evtimer_add(j->j_exit_timer, &tv);
	job_settle(p, j);
}

void
job_reaped(struct parent *p, struct job *j, int status)
{
	struct timeval	 tv = { 2, 0 };

	j->j_status = status;
	j->j_reaped = 1;
	job_killpg(j);		/* whatever it left in its group */
	j->j_pid = 0;
	/* Wait briefly for the channel to drain (BUILD_DONE may still be
	 * unread); a descendant holding it open cannot stall us. */
	if (j->j_peer_up) {
		evtimer_del(j->j_exit_timer);
		evtimer_add(j->j_exit_timer, &tv);
	}
	job_settle(p, j);
}

static int
h_wlog(struct peer *pe, struct msg *m)
{
	struct job	*j = pe->p_arg;

	if (++j->j_nlogs > PARENT_WORKER_LOGS_MAX) {
		if (j->j_nlogs == PARENT_WORKER_LOGS_MAX + 1)
			log_event(LL_WARN, "worker log limit reached; "
			    "dropping its events", LKV_I("job", j->j_id));
		return 0;
	}
	return parent_log_msg(m, "worker", j->j_pid, j->j_id);
}

static int
h_phase(struct peer *pe, struct msg *m)
{
	static const char *const ph[] = { "", "fetch", "build", "pack" };
	struct job	*j = pe->p_arg;
	char		*detail = NULL;
	uint8_t		 phase;

	if (msg_get_u8(m, &phase) == -1 ||
	    msg_get_str(m, &detail, PM_STR_MAX) == -1 || msg_end(m) == -1 ||
	    ((phase < 1 || phase > 3) &&
	    msg_reject(m, "unknown build phase") == -1)) {
		free(detail);
		return -1;
	}
	log_event(LL_DEBUG, "build phase", LKV_S("recipe", j->j_recipe),
	    LKV_S("version", j->j_version), LKV_S("phase", ph[phase]),
	    LKV_S("detail", detail));
	free(detail);
	return 0;
}

static int
h_wsign(struct peer *pe, struct msg *m)
{
	struct job	*j = pe->p_arg;

	if (j->j_state != JOB_BUILDING || j->j_done)
		return msg_reject(m, "signature request after the result");
	return job_relay(j->j_parent, ROLE_WORKER, j->j_id, NULL, j, m);
}

/* The worker's output names must be exactly the expected set. */
static int
outputs_match(struct job *j, char **names, size_t n)
{
	size_t	 i, k;

	if (n != j->j_nexpect)
		return 0;
	for (i = 0; i < n; i++) {
		for (k = 0; k < j->j_nexpect; k++)
			if (strcmp(names[i], j->j_expect[k]) == 0)
				break;
		if (k == j->j_nexpect)
			return 0;
		for (k = 0; k < i; k++)
			if (strcmp(names[i], names[k]) == 0)
				return 0;
	}
	return 1;
}

static int
h_done(struct peer *pe, struct msg *m)
{
	struct job	*j = pe->p_arg;
	struct timeval	 tv = { PARENT_EXIT_GRACE_MS / 1000, 0 };
	char		*err = NULL, **names = NULL;
	uint16_t	 n = 0, i;
	uint8_t		 ok;
	int		 rv = -1;

	if (m->m_hdr.id != j->j_id)
		return msg_reject(m, "result for another job");
	if (msg_get_u8(m, &ok) == -1 || msg_get_str(m, &err,
	    PM_ERR_MAX) == -1 || msg_get_i64(m, &j->j_build_ts) == -1 ||
	    msg_get_u16(m, &n) == -1)
		goto out;
	if (ok > 1 || n > RECIPE_MAX_PACKAGES) {
		msg_reject(m, "bad ok flag or output count");
		goto out;
	}
	names = xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < n; i++)
		if (msg_get_str(m, &names[i], PM_STR_MAX) == -1)
			goto out;
	if (msg_end(m) == -1)
		goto out;
	j->j_done = 1;
	j->j_ok = ok;
	if (!ok)
		j->j_err = xstrdup(err[0] != '\0' ? err : "build failed");
	else if (!outputs_match(j, names, n))
		j->j_err = xstrdup("the worker's output files are not the "
		    "recipe's packages");
	j->j_state = JOB_EXITING;
	evtimer_add(j->j_exit_timer, &tv);
	rv = 0;
out:
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	free(err);
	return rv;
}

/* ---- publishing and the end --------------------------------------------- */

static void
job_publish(struct parent *p, struct job *j)
{
	struct msgbuf	*mb;
	char		*out;
	size_t		 i;
	int		 fd;

	out = xasprintf("%s/out", j->j_dir);
	fd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(out);
	if (fd == -1) {
		j->j_err = xasprintf("open %s/out: %s", j->j_dir,
		    strerror(errno));
		job_end(p, j, 0, 0);
		return;
	}
	status_observe(&p->p_st.build_dur, (double)(pm_mono_ns() -
	    j->j_mono) / 1e9);
	mb = xmalloc(sizeof(*mb));
	msg_init(mb, PM_PUB_REQ, j->j_id);
	msg_put_str(mb, j->j_recipe);
	msg_put_str(mb, j->j_version);
	msg_put_u16(mb, (uint16_t)j->j_nexpect);
	for (i = 0; i < j->j_nexpect; i++)
		msg_put_str(mb, j->j_expect[i]);
	j->j_state = JOB_PUBLISHING;
	j->j_pub_mono = pm_mono_ns();
	if (child_send(&p->p_roles[ROLE_PUBLISHER], mb, fd) == -1) {
		j->j_err = xstrdup("the publisher is not running");
		job_end(p, j, 0, 1);
	}
	close(fd);
	free(mb);
}

void
job_pub_done(struct parent *p, uint32_t id, int ok, const char *err)
{
	struct job	*j = job_by_id(p, id);

	if (j == NULL || j->j_state != JOB_PUBLISHING)
		return;
	status_observe(&p->p_st.publish_dur, (double)(pm_mono_ns() -
	    j->j_pub_mono) / 1e9);
	if (!ok)
		j->j_err = xstrdup(err[0] != '\0' ? err : "publish failed");
	job_end(p, j, ok, 1);
}

void
job_publisher_lost(struct parent *p)
{
	struct job	*j, *next;

	for (j = TAILQ_FIRST(&p->p_jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, j_entry);
		if (j->j_state != JOB_PUBLISHING)
			continue;
		j->j_err = xstrdup("the publisher exited during the publish");
		job_end(p, j, 0, 1);
	}
}

void
job_kill_all(struct parent *p, const char *why)
{
	struct job	*j;

	TAILQ_FOREACH(j, &p->p_jobs, j_entry)
		if (j->j_state == JOB_BUILDING || j->j_state == JOB_EXITING)
			job_fail(p, j, why);
}

static void
log_end(struct parent *p, struct job *j, int ok, int publish, int64_t delay)
{
	char	 ts[32];

	if (ok) {
		fmt_rfc3339(j->j_build_ts, ts);
		log_event(LL_INFO, "build + publish complete",
		    LKV_S("recipe", j->j_recipe),
		    LKV_S("version", j->j_version),
		    LKV_I("outputs", j->j_nexpect),
		    LKV_S("build_timestamp", ts), LKV_I("job", j->j_id));
		return;
	}
	log_event(LL_ERROR, publish ? "publish failed" : "build failed",
	    LKV_S("recipe", j->j_recipe), LKV_S("version", j->j_version),
	    LKV_S("err", j->j_err != NULL ? j->j_err : "unknown"),
	    LKV_S("next_retry_after", duration_str(delay)),
	    LKV_S("log", j->j_log != NULL ? j->j_log : ""),
	    LKV_I("job", j->j_id));
}

/* A published build: its commit into the ledger, its latency observed. */
static void
job_record_commit(struct parent *p, struct job *j)
{
	struct buf	 err = BUF_INIT;

	status_observe(&p->p_st.tag_to_pub, (double)(pm_now_ns() -
	    j->j_seen) / 1e9);
	if (j->j_has_oid && p->p_tags != NULL && tagledger_add(p->p_tags,
	    j->j_recipe, j->j_version, j->j_tag, j->j_oid, &err) == -1)
		log_event(LL_WARN, "cannot record the published commit",
		    LKV_S("recipe", j->j_recipe),
		    LKV_S("version", j->j_version), LKV_S("err",
		    buf_str(&err)));
	buf_free(&err);
}

/* What the build's cgroup saw, in front of the failure reason. */
static void
job_cgroup_reason(struct parent *p, struct job *j)
{
	struct cg_report	 r;
	char			*e;

	cg_build_report(p->p_cg, j->j_id, &r);
	if (r.oom_kills > 0)
		e = xasprintf("out of memory: the build reached memory_max "
		    "(%llu MiB) and the kernel killed %llu process(es); %s",
		    (unsigned long long)(j->j_memory_max >> 20),
		    (unsigned long long)r.oom_kills, j->j_err != NULL ?
		    j->j_err : "build failed");
	else if (r.pids_denied > 0)
		e = xasprintf("process limit: %llu fork(s) refused at "
		    "max_processes; %s", (unsigned long long)r.pids_denied,
		    j->j_err != NULL ? j->j_err : "build failed");
	else
		return;
	free(j->j_err);
	j->j_err = e;
}

static void
job_free(struct job *j)
{
	size_t	 i;

	event_free(j->j_watchdog);
	event_free(j->j_exit_timer);
	for (i = 0; i < j->j_nexpect; i++)
		free(j->j_expect[i]);
	free(j->j_expect);
	free(j->j_recipe);
	free(j->j_version);
	free(j->j_tag);
	free(j->j_name);
	free(j->j_dir);
	free(j->j_log);
	free(j->j_err);
	free(j);
}

static void
job_end(struct parent *p, struct job *j, int ok, int publish)
{
	struct relay	*rl, *next;
	struct msgbuf	 mb;
	int64_t		 delay;

	j->j_state = JOB_ENDED;
	evtimer_del(j->j_watchdog);
	evtimer_del(j->j_exit_timer);
	job_killpg(j);
	if (j->j_peer_up) {
		peer_free(&j->j_peer);
		j->j_peer_up = 0;
	}
	if (j->j_cg) {
		if (!ok && !publish)
			job_cgroup_reason(p, j);
		(void)cg_build_remove(p->p_cg, j->j_id);
	}
	if (ok)
		job_record_commit(p, j);
	delay = sched_finish(p->p_sched, j->j_id, ok, j->j_log, pm_now_ns());
	log_end(p, j, ok, publish, delay);
	msg_init(&mb, PM_SIGN_JOB_END, j->j_id);
	child_send(&p->p_roles[ROLE_SIGNER], &mb, -1);
	for (rl = TAILQ_FIRST(&p->p_relays); rl != NULL; rl = next) {
		next = TAILQ_NEXT(rl, rl_entry);
		if (rl->rl_origin == ROLE_WORKER && rl->rl_job == j->j_id) {
			TAILQ_REMOVE(&p->p_relays, rl, rl_entry);
			free(rl);
		}
	}
	if (j->j_log_fd != -1)
		close(j->j_log_fd);
	if (!ok && j->j_log != NULL)
		job_prune_logs(p, j->j_recipe);
	job_remove_dir(p, j);
	TAILQ_REMOVE(&p->p_jobs, j, j_entry);
	job_free(j);
	parent_changed(p);
	parent_kick(p);
	parent_check_done(p);
}
