/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * poller_sched.c: when the poller polls and what one poll does.
 * Periodic polls are timed from the end of the previous poll on the
 * monotonic clock, so they never stack up; a new recipe's first poll
 * waits a random 0 .. min(interval / 10, 30 s).  At most `concurrency`
 * listings run at once and the others wait in a FIFO; a recipe never
 * has two polls at once (requests coalesce; at most one re-poll is
 * remembered).  A poll lists the upstream's tags in a forked child
 * (gitls.h), matches each against the recipe's tag_pattern and
 * min_version, sends one PM_POLL_TRIGGER per matching tag, then
 * PM_POLL_DONE; listings pause while the channel to the parent is
 * backed up.
 *
 * Trust: everything from upstream (through a listing child, which may
 * be compromised) is hostile: tags are matched and validated here, and
 * only a validated tag name and capture leave the process.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "msgtypes.h"
#include "poller_int.h"
#include "tagpattern.h"

#define POLLER_WARN_MAX		20	/* tag warnings per poll */
#define POLLER_LOG_TAG_MAX	200	/* bytes of a tag shown in a log */
#define POLLER_JITTER_MAX	(30 * CLOCK_NS)
#define POLLER_OUT_HIGH		(1024 * 1024)	/* pause listings above */
#define POLLER_RESUME_MS	20

static int64_t		 jitter(struct poller *, int64_t);
static void		 schedule(struct precipe *, int64_t);
static void		 timer_cb(evutil_socket_t, short, void *);
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
static uint32_t		 clamp32(uint64_t);
static void		 flow_check(struct poller *);

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
void
poller_schedule_initial(struct precipe *r)
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

	poller_request(r->r_p, r, SRC_POLL);
}

/*
 * A poll of r is wanted.  An idle recipe joins the FIFO; a waiting one
 * keeps its place (an explicit source replaces "poll"); a running one
 * remembers one re-poll, unless the request is satisfied by the running
 * poll (start/reload requests, when it started under the current table).
 */
void
poller_request(struct poller *p, struct precipe *r, uint8_t source)
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
		poller_run_free(run);
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
	poller_send_done(p, r->r_id, 0, why, NULL, NULL, r->r_source);
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
	struct poller	*p = run->pr_r->r_p;
	struct msgbuf	*mb = &p->p_mb;

	msg_init(mb, PM_POLL_TRIGGER, 0);
	msg_put_str(mb, run->pr_r->r_id);
	msg_put_str(mb, t->name);
	msg_put_str(mb, upstream);
	msg_put_fixed(mb, t->oid, GITLS_OID_LEN);
	msg_put_u8(mb, run->pr_source);
	if (role_send(p->p_role, mb, -1) == -1)
		return;
	run->pr_emitted++;
	flow_check(p);
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
	poller_send_done(p, r->r_id, res->ok, res->error, res, run,
	    run->pr_source);
	r->r_run = NULL;
	poller_run_free(run);
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
		poller_recipe_free(r);
	} else if (r->r_again) {
		r->r_again = 0;
		poller_request(p, r, r->r_again_source);
	} else if (r->r_watched && r->r_interval > 0)
		schedule(r, r->r_interval);
}

void
poller_run_free(struct poll_run *run)
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
void
poller_send_done(struct poller *p, const char *id, int ok,
    const char *err, const struct gitls_result *res,
    const struct poll_run *run, uint8_t source)
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

void
poller_resume_cb(evutil_socket_t fd, short ev, void *arg)
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
