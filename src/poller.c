/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * poller.c: the poller role (`peipkg-manager -P poller`).  Watches every
 * watched recipe's upstream tags on its schedule and on PM_POLL_NOW,
 * matches them against the recipe's tag_pattern and min_version and
 * sends one PM_POLL_TRIGGER per matching tag (on every poll: the parent
 * de-duplicates), then PM_POLL_DONE.
 *
 * Listings run in forked children (gitls.h), so the poller stays
 * event-driven and enforces the connect and total timeouts that libgit2
 * 1.5 lacks.  At most `concurrency` listings run at once and the others
 * wait in a FIFO; a recipe never has two polls at once (requests
 * coalesce; at most one re-poll is remembered).  Periodic polls are
 * timed from the end of the previous poll on the monotonic clock, so
 * they never stack up; a new recipe's first poll waits a random
 * 0 .. min(interval / 10, 30 s).
 *
 * Trust: the parent is trusted; everything from upstream (through a
 * listing child, which may be compromised) is hostile.  Tags are matched
 * and validated here, and only a validated tag name and capture leave
 * the process.  Sandbox (role.h): unprivileged user, no chroot (libgit2
 * needs the CA store, resolv.conf and NSS, loaded before the filter),
 * no_new_privs, no capabilities, RLIMIT_CORE 0 and the seccomp list
 * below: network client, fork and wait for listing children, read-only
 * opens, no exec.  Listing children inherit all of it.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "gitls.h"
#include "log.h"
#include "msg.h"
#include "msgtypes.h"
#include "proc.h"
#include "role.h"
#include "tagpattern.h"

#define POLLER_WARN_MAX		20	/* tag warnings per poll */
#define POLLER_LOG_TAG_MAX	200	/* bytes of a tag shown in a log */
#define POLLER_RECIPES_MAX	100000
#define POLLER_JITTER_MAX	(30 * CLOCK_NS)
#define POLLER_OUT_HIGH		(1024 * 1024)	/* pause listings above */
#define POLLER_RESUME_MS	20
#define POLLER_CONCURRENCY_MAX	64

/* The entry point (called by peipkg-manager.c, which declares it). */
/* Tests only (tests/poller-role.c): runs right after the sandbox. */
void	(*poller_after_sandbox)(void);

enum rstate {
	R_IDLE = 0,
	R_WAITING,		/* in the FIFO */
	R_RUNNING		/* its listing runs */
};

struct poller;
struct poll_run;

struct precipe {
	TAILQ_ENTRY(precipe)	 r_wait;
	struct poller		*r_p;
	char			*r_id;
	char			*r_git;
	char			*r_pattern;
	char			*r_min;
	int64_t			 r_revision;
	int64_t			 r_interval;	/* ns; 0: never scheduled */
	int			 r_watched;
	enum rstate		 r_state;
	uint8_t			 r_source;	/* of the queued/running poll */
	int			 r_again;	/* re-poll after this one */
	uint8_t			 r_again_source;
	uint32_t		 r_gen_started;
	int			 r_removed;	/* dropped while running */
	struct event		*r_timer;
	struct poll_run		*r_run;
};
TAILQ_HEAD(waitq, precipe);

/* One running poll: a snapshot of the recipe's rules and the counts. */
struct poll_run {
	struct precipe		*pr_r;
	struct tagpattern	*pr_tp;
	char			*pr_min;
	int64_t			 pr_revision;
	uint8_t			 pr_source;
	uint64_t		 pr_emitted;
	uint64_t		 pr_below;
	uint64_t		 pr_refused;
};

struct poller {
	struct role		*p_role;
	struct gitls_runner	*p_runner;
	int64_t			 p_connect_timeout;
	int64_t			 p_timeout;
	uint32_t		 p_concurrency;
	uint32_t		 p_max_tags;
	int			 p_conf_poll;
	struct precipe		**p_tab;	/* sorted by id */
	size_t			 p_ntab;
	uint32_t		 p_gen;
	struct precipe		**p_stage;
	size_t			 p_nstage;
	size_t			 p_stage_want;
	uint32_t		 p_stage_gen;
	int			 p_staging;
	struct waitq		 p_waitq;
	struct waitq		 p_orphans;	/* removed, still running */
	uint32_t		 p_running;
	int			 p_paused;
	struct event		*p_resume;
	uint64_t		 p_rand;
	struct msgbuf		 p_mb;
};

static void		 recipe_free(struct precipe *);
static int		 recipe_same(const struct precipe *,
			    const struct precipe *);
static void		 recipe_take(struct precipe *, struct precipe *);
static int		 recipe_cmp(const void *, const void *);
static struct precipe	*table_find(struct poller *, const char *);
static void		 table_switch(struct poller *);
static void		 table_drop(struct poller *, struct precipe *);
static struct precipe	*table_add(struct poller *, struct precipe *);
static int64_t		 jitter(struct poller *, int64_t);
static void		 schedule(struct precipe *, int64_t);
static void		 schedule_initial(struct precipe *);
static void		 timer_cb(evutil_socket_t, short, void *);
static void		 request(struct poller *, struct precipe *, uint8_t);
static void		 pump(struct poller *);
static void		 poll_start(struct poller *, struct precipe *);
static void		 poll_refuse(struct poller *, struct precipe *,
			    const char *);
static void		 poll_tag(void *, const struct gitls_tag *);
static void		 poll_warn_tag(struct poll_run *, const char *, size_t,
			    const char *);
static void		 poll_trigger(struct poll_run *,
			    const struct gitls_tag *, const char *);
static void		 poll_done(void *, const struct gitls_result *);
static void		 poll_end(struct poller *, struct precipe *);
static void		 run_free(struct poll_run *);
static void		 send_done(struct poller *, const char *, int,
			    const char *, const struct gitls_result *,
			    const struct poll_run *, uint8_t);
static uint32_t		 clamp32(uint64_t);
static void		 flow_check(struct poller *);
static void		 resume_cb(evutil_socket_t, short, void *);
static int		 h_conf_poll(struct peer *, struct msg *);
static void		 stage_clear(struct poller *);
static int		 h_conf_begin(struct peer *, struct msg *);
static int		 h_conf_recipe(struct peer *, struct msg *);
static int		 h_conf_end(struct peer *, struct msg *);
static int		 h_poll_now(struct peer *, struct msg *);
static int		 poller_init(struct role *, struct buf *);
static int		 poller_start(struct role *, struct buf *);
static void		 poller_shutdown(struct role *);
static void		 poller_free(struct poller *);
static int		 read_conf_role(struct role_opts *, char **,
			    struct buf *);

static struct poller	*poller;	/* the role's state (handlers) */

/* ---- recipe table --------------------------------------------------- */

static void
recipe_free(struct precipe *r)
{
	if (r == NULL)
		return;
	if (r->r_timer != NULL)
		event_free(r->r_timer);
	free(r->r_id);
	free(r->r_git);
	free(r->r_pattern);
	free(r->r_min);
	free(r);
}

static int
recipe_same(const struct precipe *a, const struct precipe *b)
{
	return strcmp(a->r_git, b->r_git) == 0 &&
	    strcmp(a->r_pattern, b->r_pattern) == 0 &&
	    strcmp(a->r_min, b->r_min) == 0 &&
	    a->r_revision == b->r_revision &&
	    a->r_interval == b->r_interval && a->r_watched == b->r_watched;
}

/* Move the configuration of `from` into `to` (from is freed). */
static void
recipe_take(struct precipe *to, struct precipe *from)
{
	free(to->r_git);
	free(to->r_pattern);
	free(to->r_min);
	to->r_git = from->r_git;
	to->r_pattern = from->r_pattern;
	to->r_min = from->r_min;
	to->r_revision = from->r_revision;
	to->r_interval = from->r_interval;
	to->r_watched = from->r_watched;
	from->r_git = from->r_pattern = from->r_min = NULL;
	recipe_free(from);
}

static int
recipe_cmp(const void *a, const void *b)
{
	const struct precipe	*const *x = a, *const *y = b;

	return strcmp((*x)->r_id, (*y)->r_id);
}

static struct precipe *
table_find(struct poller *p, const char *id)
{
	struct precipe	 key, *kp = &key, **r;

	if (p->p_ntab == 0)
		return NULL;
	key.r_id = (char *)(uintptr_t)id;
	r = bsearch(&kp, p->p_tab, p->p_ntab, sizeof(*p->p_tab), recipe_cmp);
	return r == NULL ? NULL : *r;
}

/* A recipe leaves the table: now, or when its running poll ends. */
static void
table_drop(struct poller *p, struct precipe *r)
{
	if (r->r_timer != NULL)
		evtimer_del(r->r_timer);
	r->r_again = 0;
	if (r->r_state == R_RUNNING) {
		r->r_removed = 1;
		TAILQ_INSERT_TAIL(&p->p_orphans, r, r_wait);
		return;
	}
	if (r->r_state == R_WAITING)
		TAILQ_REMOVE(&p->p_waitq, r, r_wait);
	recipe_free(r);
}

/* A recipe joins the table; if it left while its poll still runs, that
 * poll is its own again (one listing per recipe id at a time). */
static struct precipe *
table_add(struct poller *p, struct precipe *n)
{
	struct precipe	*o;

	TAILQ_FOREACH(o, &p->p_orphans, r_wait)
		if (strcmp(o->r_id, n->r_id) == 0)
			break;
	if (o == NULL) {
		schedule_initial(n);
		return n;
	}
	TAILQ_REMOVE(&p->p_orphans, o, r_wait);
	o->r_removed = 0;
	recipe_take(o, n);
	return o;
}

/*
 * Switch to the staged table (sorted by id: a merge): unchanged recipes
 * keep their schedule, changed ones take the new settings and start a
 * fresh schedule, new ones are added, missing ones dropped.
 */
static void
table_switch(struct poller *p)
{
	struct precipe	**old = p->p_tab, **nt = p->p_stage, *o, *n;
	size_t		 nold = p->p_ntab, i = 0, j = 0;
	int		 c;

	while (i < nold || j < p->p_nstage) {
		c = i == nold ? 1 : j == p->p_nstage ? -1 :
		    strcmp(old[i]->r_id, nt[j]->r_id);
		if (c < 0) {
			table_drop(p, old[i++]);
			continue;
		}
		if (c > 0) {
			nt[j] = table_add(p, nt[j]);
			j++;
			continue;
		}
		o = old[i++];
		n = nt[j];
		if (!recipe_same(o, n)) {
			recipe_take(o, n);
			if (o->r_state == R_IDLE)
				schedule_initial(o);
			else if (o->r_timer != NULL)
				evtimer_del(o->r_timer);
		} else
			recipe_free(n);
		nt[j++] = o;
	}
	free(old);
	p->p_tab = nt;
	p->p_ntab = p->p_nstage;
	p->p_stage = NULL;
	p->p_nstage = 0;
	p->p_gen = p->p_stage_gen;
}

/* ---- schedule --------------------------------------------------------- */

/* Uniform in [0, max]: xorshift64*, seeded from getrandom at start. */
static int64_t
jitter(struct poller *p, int64_t max)
{
	uint64_t	 x = p->p_rand;

	if (max <= 0)
		return 0;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	p->p_rand = x;
	return (int64_t)((x * UINT64_C(2685821657736338717)) %
	    (uint64_t)(max + 1));
}

static void
schedule(struct precipe *r, int64_t ns)
{
	struct timeval	 tv;

	if (r->r_timer == NULL)
		r->r_timer = evtimer_new(r->r_p->p_role->r_base, timer_cb,
		    r);
	if (r->r_timer == NULL)
		fatalx("evtimer_new failed");
	tv.tv_sec = (time_t)(ns / CLOCK_NS);
	tv.tv_usec = (suseconds_t)(ns % CLOCK_NS / 1000);
	evtimer_add(r->r_timer, &tv);
}

/* A new (or changed) recipe: first poll after a small jitter. */
static void
schedule_initial(struct precipe *r)
{
	int64_t	 max;

	if (r->r_timer != NULL)
		evtimer_del(r->r_timer);
	if (!r->r_watched || r->r_interval <= 0)
		return;
	max = r->r_interval / 10;
	if (max > POLLER_JITTER_MAX)
		max = POLLER_JITTER_MAX;
	schedule(r, jitter(r->r_p, max));
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct precipe	*r = arg;

	request(r->r_p, r, SRC_POLL);
}

/*
 * A poll of r is wanted.  An idle recipe joins the FIFO; a waiting one
 * keeps its place (an explicit source replaces "poll"); a running one
 * remembers one re-poll, unless the request is satisfied by the running
 * poll (start/reload requests, when it started under the current table).
 */
static void
request(struct poller *p, struct precipe *r, uint8_t source)
{
	if (r->r_timer != NULL)
		evtimer_del(r->r_timer);
	switch (r->r_state) {
	case R_IDLE:
		r->r_state = R_WAITING;
		r->r_source = source;
		TAILQ_INSERT_TAIL(&p->p_waitq, r, r_wait);
		pump(p);
		break;
	case R_WAITING:
		if (source != SRC_POLL)
			r->r_source = source;
		break;
	case R_RUNNING:
		if ((source == SRC_START || source == SRC_RELOAD ||
		    source == SRC_POLL) && r->r_gen_started == p->p_gen)
			break;
		if (!r->r_again || source != SRC_POLL)
			r->r_again_source = source;
		r->r_again = 1;
		break;
	}
}

/* Start waiting polls while there is room. */
static void
pump(struct poller *p)
{
	struct precipe	*r;

	while (p->p_running < p->p_concurrency &&
	    (r = TAILQ_FIRST(&p->p_waitq)) != NULL) {
		TAILQ_REMOVE(&p->p_waitq, r, r_wait);
		poll_start(p, r);
	}
}

/* ---- one poll ----------------------------------------------------- */

static void
poll_start(struct poller *p, struct precipe *r)
{
	struct gitls_job_conf	 c;
	struct poll_run		*run;
	struct buf		 err = BUF_INIT;
	struct tagpattern	*tp;

	if (!r->r_watched || r->r_git[0] == '\0' || r->r_pattern[0] == '\0') {
		poll_refuse(p, r, "recipe is not watched");
		goto out;
	}
	if ((tp = tagpattern_compile(r->r_pattern, &err)) == NULL) {
		poll_refuse(p, r, buf_str(&err));
		goto out;
	}
	log_event(LL_INFO, "polling upstream", LKV_S("recipe", r->r_id),
	    LKV_S("git", r->r_git));
	run = xcalloc(1, sizeof(*run));
	run->pr_r = r;
	run->pr_tp = tp;
	run->pr_min = xstrdup(r->r_min);
	run->pr_revision = r->r_revision;
	run->pr_source = r->r_source;
	memset(&c, 0, sizeof(c));
	c.url = r->r_git;
	c.max_tags = p->p_max_tags;
	c.connect_timeout = p->p_connect_timeout;
	c.timeout = p->p_timeout;
	c.tag = poll_tag;
	c.done = poll_done;
	c.arg = run;
	if (gitls_job_start(p->p_runner, &c, &err) == NULL) {
		poll_refuse(p, r, buf_str(&err));
		run_free(run);
		goto out;
	}
	r->r_run = run;
	r->r_state = R_RUNNING;
	r->r_gen_started = p->p_gen;
	p->p_running++;
out:
	buf_free(&err);
}

/* A poll that could not run: WARN, PM_POLL_DONE ok=0, schedule. */
static void
poll_refuse(struct poller *p, struct precipe *r, const char *why)
{
	log_event(LL_WARN, "ls-remote failed", LKV_S("recipe", r->r_id),
	    LKV_S("err", why));
	send_done(p, r->r_id, 0, why, NULL, NULL, r->r_source);
	poll_end(p, r);
}

/* One listed tag: match, validate, then trigger or warn. */
static void
poll_tag(void *arg, const struct gitls_tag *t)
{
	struct poll_run		*run = arg;
	struct tag_match	 m = { NULL, NULL };
	struct buf		 err = BUF_INIT;

	if (t->cut) {
		poll_warn_tag(run, t->name, t->len, "tag name is longer than "
		    "4096 bytes");
		goto out;
	}
	switch (tagpattern_eval(run->pr_tp, t->name, t->len, run->pr_min,
	    run->pr_revision, &m, &err)) {
	case TAG_NOMATCH:
		break;
	case TAG_BELOW_MIN:
		run->pr_below++;
		break;
	case TAG_REFUSED:
		poll_warn_tag(run, t->name, t->len, buf_str(&err));
		break;
	case TAG_MATCH:
		if (gitls_tag_name_check(t->name, t->len, &err) == -1)
			poll_warn_tag(run, t->name, t->len, buf_str(&err));
		else
			poll_trigger(run, t, m.upstream);
		break;
	}
out:
	tag_match_free(&m);
	buf_free(&err);
}

/* WARN `tag refused`, for the first POLLER_WARN_MAX tags of a poll. */
static void
poll_warn_tag(struct poll_run *run, const char *name, size_t len,
    const char *why)
{
	struct buf	 shown = BUF_INIT;

	if (++run->pr_refused > POLLER_WARN_MAX)
		return;
	buf_add(&shown, name, len > POLLER_LOG_TAG_MAX ? POLLER_LOG_TAG_MAX :
	    len);
	if (len > POLLER_LOG_TAG_MAX)
		buf_adds(&shown, "...");
	log_event(LL_WARN, "tag refused", LKV_S("recipe", run->pr_r->r_id),
	    LKV_S("tag", buf_str(&shown)), LKV_S("err", why));
	buf_free(&shown);
}

static void
poll_trigger(struct poll_run *run, const struct gitls_tag *t,
    const char *upstream)
{
	struct msgbuf	*mb = &poller->p_mb;

	msg_init(mb, PM_POLL_TRIGGER, 0);
	msg_put_str(mb, run->pr_r->r_id);
	msg_put_str(mb, t->name);
	msg_put_str(mb, upstream);
	msg_put_fixed(mb, t->oid, GITLS_OID_LEN);
	msg_put_u8(mb, run->pr_source);
	if (role_send(poller->p_role, mb, -1) == -1)
		return;
	run->pr_emitted++;
	flow_check(poller);
}

/* The listing ended (gitls): log, PM_POLL_DONE, what next. */
static void
poll_done(void *arg, const struct gitls_result *res)
{
	struct poll_run	*run = arg;
	struct precipe	*r = run->pr_r;
	struct poller	*p = r->r_p;

	log_event(LL_DEBUG, "listing finished", LKV_S("recipe", r->r_id),
	    LKV_I("ms", res->elapsed_ns / 1000000),
	    LKV_I("max_rss_kib", res->max_rss_kib));
	if (res->ok) {
		if (res->stats.seen > res->stats.listed)
			log_event(LL_WARN, "tag list truncated",
			    LKV_S("recipe", r->r_id),
			    LKV_I("tags", clamp32(res->stats.seen)),
			    LKV_I("max_tags", p->p_max_tags));
		log_event(LL_INFO, "poll complete", LKV_S("recipe", r->r_id),
		    LKV_I("tags_seen", clamp32(res->stats.seen)),
		    LKV_I("matches_emitted", run->pr_emitted),
		    LKV_I("skipped_below_min_version", run->pr_below));
	} else
		log_event(LL_WARN, "ls-remote failed", LKV_S("recipe",
		    r->r_id), LKV_S("err", res->error));
	if (run->pr_refused > POLLER_WARN_MAX)
		log_event(LL_WARN, "tag warnings suppressed", LKV_S("recipe",
		    r->r_id), LKV_I("count", run->pr_refused -
		    POLLER_WARN_MAX));
	send_done(p, r->r_id, res->ok, res->error, res, run, run->pr_source);
	r->r_run = NULL;
	run_free(run);
	p->p_running--;
	poll_end(p, r);
	pump(p);
}

/* r's poll is over: free r if it left the table, else re-poll or
 * schedule the next one.  The caller starts waiting polls. */
static void
poll_end(struct poller *p, struct precipe *r)
{
	r->r_state = R_IDLE;
	if (r->r_removed) {
		TAILQ_REMOVE(&p->p_orphans, r, r_wait);
		recipe_free(r);
	} else if (r->r_again) {
		r->r_again = 0;
		request(p, r, r->r_again_source);
	} else if (r->r_watched && r->r_interval > 0)
		schedule(r, r->r_interval);
}

static void
run_free(struct poll_run *run)
{
	tagpattern_free(run->pr_tp);
	free(run->pr_min);
	free(run);
}

static uint32_t
clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* PM_POLL_DONE: str recipe, u8 ok, str error, u32 tags_seen,
 * u32 matches_emitted, u32 skipped_below_min, i64 finished_at, u8 source */
static void
send_done(struct poller *p, const char *id, int ok, const char *err,
    const struct gitls_result *res, const struct poll_run *run,
    uint8_t source)
{
	struct msgbuf	*mb = &p->p_mb;

	msg_init(mb, PM_POLL_DONE, 0);
	msg_put_str(mb, id);
	msg_put_u8(mb, ok ? 1 : 0);
	msg_put_str(mb, ok ? "" : err);
	msg_put_u32(mb, res == NULL ? 0 : clamp32(res->stats.seen));
	msg_put_u32(mb, run == NULL ? 0 : clamp32(run->pr_emitted));
	msg_put_u32(mb, run == NULL ? 0 : clamp32(run->pr_below));
	msg_put_i64(mb, pm_now());
	msg_put_u8(mb, source);
	(void)role_send(p->p_role, mb, -1);
}

/* Back-pressure: stop reading listings while the channel is backed up
 * (a poll may match millions of tags; the queue to the parent must not
 * overflow, which would end the role). */
static void
flow_check(struct poller *p)
{
	struct timeval	 tv = { 0, POLLER_RESUME_MS * 1000 };

	if (p->p_paused ||
	    p->p_role->r_parent.p_out_bytes < POLLER_OUT_HIGH)
		return;
	p->p_paused = 1;
	gitls_runner_pause(p->p_runner, 1);
	evtimer_add(p->p_resume, &tv);
}

static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct poller	*p = arg;
	struct timeval	 tv = { 0, POLLER_RESUME_MS * 1000 };

	if (p->p_role->r_parent.p_out_bytes >= POLLER_OUT_HIGH / 2 &&
	    !p->p_role->r_parent.p_dead) {
		evtimer_add(p->p_resume, &tv);
		return;
	}
	p->p_paused = 0;
	gitls_runner_pause(p->p_runner, 0);
}

/* ---- messages from the parent ------------------------------------- */

static int
h_conf_poll(struct peer *pe, struct msg *m)
{
	struct poller	*p = poller;
	int64_t		 ct, t;
	uint32_t	 conc, max;

	if (msg_get_i64(m, &ct) == -1 || msg_get_i64(m, &t) == -1 ||
	    msg_get_u32(m, &conc) == -1 || msg_get_u32(m, &max) == -1 ||
	    msg_end(m) == -1)
		return -1;
	if (ct <= 0 || t <= 0 || conc < 1 || conc > POLLER_CONCURRENCY_MAX ||
	    max < 1)
		return msg_reject(m, "bad poll settings");
	p->p_connect_timeout = ct;
	p->p_timeout = t;
	p->p_concurrency = conc;
	p->p_max_tags = max;
	p->p_conf_poll = 1;
	return 0;
}

static void
stage_clear(struct poller *p)
{
	size_t	 i;

	for (i = 0; i < p->p_nstage; i++)
		recipe_free(p->p_stage[i]);
	free(p->p_stage);
	p->p_stage = NULL;
	p->p_nstage = 0;
	p->p_staging = 0;
}

static int
h_conf_begin(struct peer *pe, struct msg *m)
{
	struct poller	*p = poller;
	uint32_t	 n;

	if (msg_get_u32(m, &n) == -1 || msg_end(m) == -1)
		return -1;
	if (n > POLLER_RECIPES_MAX)
		return msg_reject(m, "too many recipes");
	stage_clear(p);
	p->p_stage = xcalloc(n == 0 ? 1 : n, sizeof(*p->p_stage));
	p->p_stage_want = n;
	p->p_stage_gen = m->m_hdr.id;
	p->p_staging = 1;
	return 0;
}

static int
h_conf_recipe(struct peer *pe, struct msg *m)
{
	struct poller	*p = poller;
	struct precipe	*r = xcalloc(1, sizeof(*r));
	uint8_t		 hooks, watched, subm;

	if (!p->p_staging || m->m_hdr.id != p->p_stage_gen ||
	    p->p_nstage == p->p_stage_want) {
		recipe_free(r);
		return msg_reject(m, "PM_CONF_RECIPE outside a table");
	}
	if (msg_get_str(m, &r->r_id, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &r->r_git, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &r->r_pattern, PM_STR_MAX) == -1 ||
	    msg_get_i64(m, &r->r_revision) == -1 ||
	    msg_get_str(m, &r->r_min, PM_STR_MAX) == -1 ||
	    msg_get_i64(m, &r->r_interval) == -1 ||
	    msg_get_u8(m, &hooks) == -1 || msg_get_u8(m, &watched) == -1 ||
	    msg_get_u8(m, &subm) == -1 || msg_end(m) == -1 ||
	    r->r_id[0] == '\0' || r->r_interval < 0) {
		recipe_free(r);
		return msg_reject(m, "bad PM_CONF_RECIPE");
	}
	r->r_watched = watched != 0;
	r->r_p = p;
	p->p_stage[p->p_nstage++] = r;
	return 0;
}

static int
h_conf_end(struct peer *pe, struct msg *m)
{
	struct poller	*p = poller;
	size_t		 i;

	if (msg_end(m) == -1)
		return -1;
	if (!p->p_staging || m->m_hdr.id != p->p_stage_gen ||
	    p->p_nstage != p->p_stage_want || !p->p_conf_poll)
		return msg_reject(m, "PM_CONF_END without its table");
	qsort(p->p_stage, p->p_nstage, sizeof(*p->p_stage), recipe_cmp);
	for (i = 1; i < p->p_nstage; i++)
		if (strcmp(p->p_stage[i - 1]->r_id, p->p_stage[i]->r_id) == 0)
			return msg_reject(m, "duplicate recipe id");
	p->p_staging = 0;
	table_switch(p);
	role_ready(p->p_role);
	return 0;
}

static int
h_poll_now(struct peer *pe, struct msg *m)
{
	struct poller	*p = poller;
	struct precipe	*r;
	char		*id = NULL;
	uint8_t		 src;
	int		 rc = -1;

	if (msg_get_str(m, &id, PM_ID_MAX) == -1 ||
	    msg_get_u8(m, &src) == -1 || msg_end(m) == -1)
		goto out;
	if (src < SRC_POLL || src > SRC_START) {
		msg_reject(m, "bad source");
		goto out;
	}
	rc = 0;
	if ((r = table_find(p, id)) == NULL) {
		log_event(LL_WARN, "poll request for an unknown recipe",
		    LKV_S("recipe", id));
		send_done(p, id, 0, "unknown recipe", NULL, NULL, src);
	} else
		request(p, r, src);
out:
	free(id);
	return rc;
}

/* ---- the role ------------------------------------------------------- */

static const struct msg_handler poller_table[] = {
	{ PM_CONF_POLL, 24, 24, MSG_ONCE, h_conf_poll },
	{ PM_CONF_BEGIN, 4, 4, 0, h_conf_begin },
	{ PM_CONF_RECIPE, 35, PM_PAYLOAD_MAX, 0, h_conf_recipe },
	{ PM_CONF_END, 0, 0, 0, h_conf_end },
	{ PM_POLL_NOW, 5, 5 + PM_ID_MAX, 0, h_poll_now },
	{ 0, 0, 0, 0, NULL }
};

static const struct msg_typename poller_names[] = {
	{ PM_CONF_ROLE, "PM_CONF_ROLE" }, { PM_CONF_POLL, "PM_CONF_POLL" },
	{ PM_CONF_BEGIN, "PM_CONF_BEGIN" },
	{ PM_CONF_RECIPE, "PM_CONF_RECIPE" }, { PM_CONF_END, "PM_CONF_END" },
	{ PM_POLL_NOW, "PM_POLL_NOW" }, { PM_POLL_TRIGGER, "PM_POLL_TRIGGER" },
	{ PM_POLL_DONE, "PM_POLL_DONE" }
};

/*
 * The poller's seccomp list, on top of rolefilter_base (rolefilter.h):
 * listing children (fork only, no threads or namespaces; wait; SIGKILL;
 * the pipe and fd 3), read-only file access (file:// upstreams, CA
 * store, resolv.conf, NSS files) and network clients (TCP, DNS over UDP,
 * netlink for getaddrinfo, the nscd socket).  exec is killed by the
 * deny list.
 */
static const struct rf_rule poller_rules[] = {
	RF_ALLOW_EQ("clone", 0, CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID |
	    SIGCHLD),			/* fork(), nothing else */
	RF_ERRNO("clone3", ENOSYS),	/* glibc then falls back to clone */
	RF_KILL("vfork"), RF_KILL("fork"),
	RF_ALLOW("wait4"), RF_ALLOW("waitid"),
	RF_ALLOW_EQ32("kill", 1, SIGKILL),
	RF_ALLOW("rt_sigaction"), RF_ALLOW("set_robust_list"),
	RF_ALLOW("sigaltstack"),		/* sanitizer builds */
	RF_ALLOW_EQ32("prctl", 0, PR_SET_PDEATHSIG),
	RF_ALLOW("pipe2"), RF_ALLOW("dup2"), RF_ALLOW("dup3"),
	RF_ALLOW("close_range"),
	RF_ALLOW_MASKED("openat", 2, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY),
	RF_ALLOW("statx"), RF_ALLOW("access"), RF_ALLOW("faccessat"),
	RF_ALLOW("faccessat2"), RF_ALLOW("readlink"), RF_ALLOW("readlinkat"),
	RF_ALLOW("getdents64"), RF_ALLOW("lseek"), RF_ALLOW("pread64"),
	RF_ALLOW("getcwd"), RF_ALLOW("getuid"), RF_ALLOW("geteuid"),
	RF_ALLOW("getgid"), RF_ALLOW("getegid"),
	RF_ALLOW("sched_getaffinity"), RF_ALLOW("nanosleep"),
	RF_ALLOW("clock_nanosleep"),
	RF_ALLOW_EQ("prlimit64", 2, 0),		/* getrlimit only */
	RF_ALLOW_EQ32("socket", 0, AF_INET),
	RF_ALLOW_EQ32("socket", 0, AF_INET6),
	RF_ALLOW_EQ32("socket", 0, AF_UNIX),	/* nscd */
	RF_ALLOW_EQ32("socket", 0, AF_NETLINK),	/* getaddrinfo */
	RF_ALLOW("connect"), RF_ALLOW("bind"), RF_ALLOW("getsockname"),
	RF_ALLOW("getpeername"), RF_ALLOW("getsockopt"),
	RF_ALLOW("setsockopt"), RF_ALLOW("sendmmsg"), RF_ALLOW("shutdown"),
	RF_ALLOW_EQ32("ioctl", 1, FIONREAD),	/* the DNS resolver */
};
static const struct rf_list rolefilter_poller = RF_LIST("poller",
    poller_rules);

/* Before the sandbox: libgit2, the CA store and NSS (gitls_init). */
static int
poller_init(struct role *r, struct buf *err)
{
	return gitls_init(err);
}

static int
poller_start(struct role *r, struct buf *err)
{
	struct poller	*p = poller;
	uint64_t	 seed = 0;

	p->p_role = r;
	if ((p->p_runner = gitls_runner_new(r->r_base, err)) == NULL)
		return -1;
	if ((p->p_resume = evtimer_new(r->r_base, resume_cb, p)) == NULL)
		return errf(err, "evtimer_new failed");
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)role_now() ^ (uint64_t)getpid() << 32;
	p->p_rand = seed != 0 ? seed : 1;
	return 0;
}

/* PM_SHUTDOWN: listings are abandoned (killed and reaped). */
static void
poller_shutdown(struct role *r)
{
	gitls_runner_free(poller->p_runner);
	poller->p_runner = NULL;
	role_exit(r, 0);
}

static void
poller_free(struct poller *p)
{
	struct precipe	*r;
	size_t		 i;

	gitls_runner_free(p->p_runner);	/* runs no callbacks */
	while ((r = TAILQ_FIRST(&p->p_waitq)) != NULL)
		TAILQ_REMOVE(&p->p_waitq, r, r_wait);
	while ((r = TAILQ_FIRST(&p->p_orphans)) != NULL) {
		TAILQ_REMOVE(&p->p_orphans, r, r_wait);
		run_free(r->r_run);
		recipe_free(r);
	}
	for (i = 0; i < p->p_ntab; i++) {
		if (p->p_tab[i]->r_run != NULL)
			run_free(p->p_tab[i]->r_run);
		recipe_free(p->p_tab[i]);
	}
	free(p->p_tab);
	stage_clear(p);
	if (p->p_resume != NULL)
		event_free(p->p_resume);
	free(p);
}

static const struct role_def poller_def = {
	.name = "poller",
	.table = poller_table,
	.names = poller_names,
	.nnames = nitems(poller_names),
	.filter = &rolefilter_poller,
	.chroot_empty = 0,
	.init = poller_init,
	.start = poller_start,
	.shutdown = poller_shutdown,
};

/*
 * PM_CONF_ROLE, the first message, read before the role runtime starts:
 * str user, str empty_dir, u8 log level.  The poller never chroots (see
 * the banner), so empty_dir is not used.
 */
static int
read_conf_role(struct role_opts *o, char **user, struct buf *err)
{
	struct msg	*m = xmalloc(sizeof(*m));
	char		*dir = NULL;
	uint8_t		 lvl;
	int		 rc = -1, r;

	*user = NULL;
	if ((r = msg_recv(PM_CHAN_FD, m, err)) != 1) {
		if (r == 0 || r == 2)
			errf(err, "parent channel: no PM_CONF_ROLE");
		goto out;
	}
	if (m->m_hdr.type != PM_CONF_ROLE || m->m_fd != -1 ||
	    msg_get_str(m, user, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &dir, PM_STR_MAX) == -1 ||
	    msg_get_u8(m, &lvl) == -1 || msg_end(m) == -1 || lvl > LL_ERROR) {
		errf(err, "parent channel: expected PM_CONF_ROLE, got %s (%s)",
		    msg_type_name(m->m_hdr.type), m->m_bad != NULL ?
		    m->m_bad : "bad payload");
		goto out;
	}
	o->user = (*user)[0] != '\0' ? *user : NULL;
	o->level = (enum log_level)lvl;
	rc = 0;
out:
	msg_release(m);
	free(m);
	free(dir);
	return rc;
}

/* `peipkg-manager -P poller`: fd 3 is the channel to the parent. */
int
poller_main(void)
{
	struct role_opts	 o;
	struct buf		 err = BUF_INIT;
	char			*user = NULL;
	int			 rc = 1;

	memset(&o, 0, sizeof(o));
	o.level = log_get_level();
	o.target = LOG_TARGET_AUTO;
	o.after_sandbox = poller_after_sandbox;
	if (read_conf_role(&o, &user, &err) == -1) {
		log_event(LL_ERROR, "role start-up failed", LKV_S("err",
		    buf_str(&err)));
		goto out;
	}
	poller = xcalloc(1, sizeof(*poller));
	TAILQ_INIT(&poller->p_waitq);
	TAILQ_INIT(&poller->p_orphans);
	rc = role_run(&poller_def, &o);
	poller_free(poller);
	poller = NULL;
out:
	free(user);
	buf_free(&err);
	return rc;
}
