/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * poller.c: the poller role (`peipkg-manager -P poller`).  Watches every
 * watched recipe's upstream tags on its schedule and on PM_POLL_NOW,
 * matches them against the recipe's tag_pattern and min_version and
 * sends one PM_POLL_TRIGGER per matching tag (on every poll: the parent
 * de-duplicates), then PM_POLL_DONE.  This file holds the recipe table
 * (switched as a whole when the parent sends a new one), the parent's
 * messages and the role itself; the schedule, the FIFO and the polls
 * are in poller_sched.c.
 *
 * Listings run in forked children (gitls.h), so the poller stays
 * event-driven and enforces the connect and total timeouts that libgit2
 * 1.5 lacks.
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
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "msgtypes.h"
#include "poller_int.h"
#include "proc.h"

#define POLLER_RECIPES_MAX	100000
#define POLLER_CONCURRENCY_MAX	64

/* The entry point (called by peipkg-manager.c, which declares it). */
/* Tests only (tests/poller-role.c): runs right after the sandbox. */
void	(*poller_after_sandbox)(void);

static int		 recipe_same(const struct precipe *,
			    const struct precipe *);
static void		 recipe_take(struct precipe *, struct precipe *);
static int		 recipe_cmp(const void *, const void *);
static struct precipe	*table_find(struct poller *, const char *);
static void		 table_switch(struct poller *);
static void		 table_drop(struct poller *, struct precipe *);
static struct precipe	*table_add(struct poller *, struct precipe *);
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

void
poller_recipe_free(struct precipe *r)
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
	poller_recipe_free(from);
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
	poller_recipe_free(r);
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
		poller_schedule_initial(n);
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
				poller_schedule_initial(o);
			else if (o->r_timer != NULL)
				evtimer_del(o->r_timer);
		} else
			poller_recipe_free(n);
		nt[j++] = o;
	}
	free(old);
	p->p_tab = nt;
	p->p_ntab = p->p_nstage;
	p->p_stage = NULL;
	p->p_nstage = 0;
	p->p_gen = p->p_stage_gen;
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
		poller_recipe_free(p->p_stage[i]);
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
		poller_recipe_free(r);
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
		poller_recipe_free(r);
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
		poller_send_done(p, id, 0, "unknown recipe", NULL, NULL,
		    src);
	} else
		poller_request(p, r, src);
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
	if ((p->p_resume = evtimer_new(r->r_base, poller_resume_cb, p)) == NULL)
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
		poller_run_free(r->r_run);
		poller_recipe_free(r);
	}
	for (i = 0; i < p->p_ntab; i++) {
		if (p->p_tab[i]->r_run != NULL)
			poller_run_free(p->p_tab[i]->r_run);
		poller_recipe_free(p->p_tab[i]);
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
