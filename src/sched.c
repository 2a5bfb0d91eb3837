/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * sched.c: trigger intake, de-duplication, failure back-off and the
 * FIFO build queue of the parent (rules in pmsched.h).
 *
 * Trust: pure bookkeeping over values the parent validated; nothing
 * here does I/O.  Sizes are bounded by the roster, the queue (the
 * poller's tag cap per poll) and the published set.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "pmsched.h"
#include "version.h"

/* A set of (a, b) string pairs, chained hash; each may carry a value. */
struct pair {
	struct pair	*p_next;
	void		*p_val;		/* s_queued: the trigger */
	size_t		 p_alen;
	size_t		 p_len;
	char		 p_key[];	/* a NUL b NUL */
};

struct pairset {
	struct pair	**ps_b;
	size_t		 ps_nb;
	size_t		 ps_n;
};

struct srecipe {
	char		 *id;
	char		 *min_version;
	int64_t		  revision;
	int		  watched;
	char		**pkgs;
	size_t		  npkgs;
};

struct sched {
	int			 s_max;
	int			 s_stopped;
	sched_note_fn		 s_note;
	void			*s_note_arg;
	struct srecipe		*s_r;
	size_t			 s_nr;
	struct sched_queue	 s_queue;
	size_t			 s_nqueued;
	struct pairset		 s_queued;	/* recipe, version */
	struct sched_jobs	 s_jobs;
	size_t			 s_njobs;
	uint32_t		 s_next_id;
	struct pairset		 s_pub;		/* name, version */
	struct pairset		 s_pub_new;	/* set being received */
	int			 s_pub_loading;
	int			 s_pub_ready;
	struct sched_failure	*s_f;		/* sorted by key */
	size_t			 s_nf;
	uint64_t		 s_attempted;
	uint64_t		 s_succeeded;
	uint64_t		 s_failed;
};

static const int64_t backoff_steps[] = {
	1 * DURATION_M, 5 * DURATION_M, 15 * DURATION_M,
	1 * DURATION_H, 6 * DURATION_H, 24 * DURATION_H
};

static uint64_t	 pair_hash(const char *, const char *);
static struct pair **pair_find(const struct pairset *, const char *,
		    const char *);
static void	 pair_grow(struct pairset *);
static int	 pair_add(struct pairset *, const char *, const char *,
		    void *);
static void	 pair_del(struct pairset *, const char *, const char *);
static void	 pair_clear(struct pairset *);
static int	 pair_has(const struct pairset *, const char *, const char *);
static void	 job_free(struct sched_job *);
static void	 recipes_free(struct sched *);
static int	 recipe_cmp(const void *, const void *);
static int	 running(const struct sched *, const char *, const char *);
static struct sched_failure *failure_get(struct sched *, const char *,
		    const char *);
static const struct srecipe *find_recipe(const struct sched *, const char *);
static char	*compose(const struct srecipe *, const char *);
static enum sched_result check_recipe(const struct sched *,
		    const struct sched_trigger *, const struct srecipe **);
static enum sched_result check_state(const struct sched *,
		    const struct sched_trigger *, int64_t);
static void	 note(struct sched *, enum sched_result,
		    const struct sched_trigger *, const char *);
static void	 trigger_free(struct sched_trigger *);
static void	 queue_remove(struct sched *, struct sched_trigger *);
static size_t	 failure_pos(const struct sched *, const char *, int *);
static void	 failure_del(struct sched *, size_t);
static void	 failures_prune_published(struct sched *);

/* ---- pair sets ------------------------------------------------------ */

static uint64_t
pair_hash(const char *a, const char *b)
{
	static const unsigned char	 sep = 0xff;

	return fnv1a(fnv1a(fnv1a(FNV1A_INIT, a, strlen(a)), &sep, 1), b,
	    strlen(b));
}

static struct pair **
pair_find(const struct pairset *ps, const char *a, const char *b)
{
	struct pair	**pp;
	size_t		  alen = strlen(a), blen = strlen(b);

	if (ps->ps_nb == 0)
		return NULL;
	pp = &ps->ps_b[pair_hash(a, b) % ps->ps_nb];
	for (; *pp != NULL; pp = &(*pp)->p_next)
		if ((*pp)->p_alen == alen && (*pp)->p_len == alen + blen + 2 &&
		    memcmp((*pp)->p_key, a, alen) == 0 &&
		    memcmp((*pp)->p_key + alen + 1, b, blen) == 0)
			return pp;
	return NULL;
}

static void
pair_grow(struct pairset *ps)
{
	struct pair	**nb, *p, *next;
	size_t		  n = ps->ps_nb == 0 ? 64 : ps->ps_nb * 2, i, h;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < ps->ps_nb; i++)
		for (p = ps->ps_b[i]; p != NULL; p = next) {
			next = p->p_next;
			h = pair_hash(p->p_key, p->p_key + p->p_alen + 1) % n;
			p->p_next = nb[h];
			nb[h] = p;
		}
	free(ps->ps_b);
	ps->ps_b = nb;
	ps->ps_nb = n;
}

/* 1 when added, 0 when present. */
static int
pair_add(struct pairset *ps, const char *a, const char *b, void *val)
{
	struct pair	*p;
	size_t		 alen = strlen(a), blen = strlen(b), h;

	if (pair_find(ps, a, b) != NULL)
		return 0;
	if (ps->ps_n >= ps->ps_nb)
		pair_grow(ps);
	p = xmalloc(sizeof(*p) + alen + blen + 2);
	p->p_alen = alen;
	p->p_len = alen + blen + 2;
	memcpy(p->p_key, a, alen + 1);
	memcpy(p->p_key + alen + 1, b, blen + 1);
	p->p_val = val;
	h = pair_hash(a, b) % ps->ps_nb;
	p->p_next = ps->ps_b[h];
	ps->ps_b[h] = p;
	ps->ps_n++;
	return 1;
}

static void
pair_del(struct pairset *ps, const char *a, const char *b)
{
	struct pair	**pp, *p;

	if ((pp = pair_find(ps, a, b)) == NULL)
		return;
	p = *pp;
	*pp = p->p_next;
	free(p);
	ps->ps_n--;
}

static int
pair_has(const struct pairset *ps, const char *a, const char *b)
{
	return pair_find(ps, a, b) != NULL;
}

static void *
pair_get(const struct pairset *ps, const char *a, const char *b)
{
	struct pair	**pp = pair_find(ps, a, b);

	return pp != NULL ? (*pp)->p_val : NULL;
}

static void
pair_clear(struct pairset *ps)
{
	struct pair	*p, *next;
	size_t		 i;

	for (i = 0; i < ps->ps_nb; i++)
		for (p = ps->ps_b[i]; p != NULL; p = next) {
			next = p->p_next;
			free(p);
		}
	free(ps->ps_b);
	memset(ps, 0, sizeof(*ps));
}

/* ---- life cycle and roster ------------------------------------------ */

struct sched *
sched_new(int max_parallel)
{
	struct sched	*s = xcalloc(1, sizeof(*s));

	s->s_max = max_parallel < 1 ? 1 : max_parallel;
	TAILQ_INIT(&s->s_queue);
	TAILQ_INIT(&s->s_jobs);
	return s;
}

static void
job_free(struct sched_job *j)
{
	free(j->j_recipe);
	free(j->j_tag);
	free(j->j_upstream);
	free(j->j_version);
	free(j);
}

void
sched_free(struct sched *s)
{
	struct sched_job	*j;
	size_t			 i;

	if (s == NULL)
		return;
	sched_stop(s);
	while ((j = TAILQ_FIRST(&s->s_jobs)) != NULL) {
		TAILQ_REMOVE(&s->s_jobs, j, j_entry);
		job_free(j);
	}
	recipes_free(s);
	pair_clear(&s->s_queued);
	pair_clear(&s->s_pub);
	pair_clear(&s->s_pub_new);
	for (i = 0; i < s->s_nf; i++) {
		free(s->s_f[i].f_key);
		free(s->s_f[i].f_recipe);
		free(s->s_f[i].f_version);
		free(s->s_f[i].f_log);
	}
	free(s->s_f);
	free(s);
}

void
sched_set_note(struct sched *s, sched_note_fn fn, void *arg)
{
	s->s_note = fn;
	s->s_note_arg = arg;
}

static void
recipes_free(struct sched *s)
{
	size_t	 i, j;

	for (i = 0; i < s->s_nr; i++) {
		free(s->s_r[i].id);
		free(s->s_r[i].min_version);
		for (j = 0; j < s->s_r[i].npkgs; j++)
			free(s->s_r[i].pkgs[j]);
		free(s->s_r[i].pkgs);
	}
	free(s->s_r);
	s->s_r = NULL;
	s->s_nr = 0;
}

static int
recipe_cmp(const void *a, const void *b)
{
	return strcmp(((const struct srecipe *)a)->id,
	    ((const struct srecipe *)b)->id);
}

void
sched_set_recipes(struct sched *s, const struct sched_recipe *r, size_t n)
{
	struct sched_trigger	*t, *next;
	const struct srecipe	*sr;
	enum sched_result	 res;
	size_t			 i, j;

	recipes_free(s);
	s->s_r = xcalloc(n == 0 ? 1 : n, sizeof(*s->s_r));
	for (i = 0; i < n; i++) {
		s->s_r[i].id = xstrdup(r[i].id);
		s->s_r[i].min_version = xstrdup(r[i].min_version == NULL ?
		    "" : r[i].min_version);
		s->s_r[i].revision = r[i].revision < 1 ? 1 : r[i].revision;
		s->s_r[i].watched = r[i].watched;
		s->s_r[i].pkgs = xcalloc(r[i].npkgs + 1, sizeof(char *));
		for (j = 0; j < r[i].npkgs; j++)
			s->s_r[i].pkgs[j] = xstrdup(r[i].pkgs[j]);
		s->s_r[i].npkgs = r[i].npkgs;
	}
	s->s_nr = n;
	qsort(s->s_r, n, sizeof(*s->s_r), recipe_cmp);
	for (t = TAILQ_FIRST(&s->s_queue); t != NULL; t = next) {
		next = TAILQ_NEXT(t, t_entry);
		if ((res = check_recipe(s, t, &sr)) != SCHED_QUEUED) {
			note(s, res, t, res == SCHED_BELOW_MIN ?
			    sr->min_version : NULL);
			queue_remove(s, t);
			continue;
		}
		/* The current peios_revision decides the version. */
		pair_del(&s->s_queued, t->t_recipe, t->t_version);
		free(t->t_version);
		t->t_version = compose(sr, t->t_upstream);
		pair_add(&s->s_queued, t->t_recipe, t->t_version, t);
	}
}

static const struct srecipe *
find_recipe(const struct sched *s, const char *id)
{
	struct srecipe	 key;

	if (s->s_nr == 0)
		return NULL;
	key.id = (char *)(uintptr_t)id;
	return bsearch(&key, s->s_r, s->s_nr, sizeof(*s->s_r), recipe_cmp);
}

const struct sched_recipe *
sched_recipe(const struct sched *s, const char *id)
{
	static struct sched_recipe	 out;
	const struct srecipe		*r;

	if ((r = find_recipe(s, id)) == NULL)
		return NULL;
	out.id = r->id;
	out.min_version = r->min_version;
	out.revision = r->revision;
	out.watched = r->watched;
	out.pkgs = (const char *const *)r->pkgs;
	out.npkgs = r->npkgs;
	return &out;
}

static char *
compose(const struct srecipe *r, const char *upstream)
{
	return xasprintf("%s-%lld", upstream, (long long)r->revision);
}

/* ---- intake ----------------------------------------------------------- */

static void
note(struct sched *s, enum sched_result res, const struct sched_trigger *t,
    const char *detail)
{
	if (s->s_note != NULL)
		s->s_note(s->s_note_arg, res, t, detail);
}

/* The recipe-dependent rules: presence, watched, min_version. */
static enum sched_result
check_recipe(const struct sched *s, const struct sched_trigger *t,
    const struct srecipe **rp)
{
	const struct srecipe	*r;

	if ((*rp = r = find_recipe(s, t->t_recipe)) == NULL)
		return SCHED_REMOVED;
	if (!r->watched)
		return SCHED_UNWATCHED;
	if (r->min_version[0] != '\0' &&
	    version_cmp_upstream(t->t_upstream, r->min_version) < 0)
		return SCHED_BELOW_MIN;
	return SCHED_QUEUED;
}

/* The state-dependent rules, on a composed version. */
static enum sched_result
check_state(const struct sched *s, const struct sched_trigger *t,
    int64_t now)
{
	char	*key;
	size_t	 i;
	int	 found;

	if (s->s_pub_ready &&
	    sched_recipe_published(s, t->t_recipe, t->t_version))
		return SCHED_PUBLISHED;
	key = xasprintf("%s@%s", t->t_recipe, t->t_version);
	i = failure_pos(s, key, &found);
	free(key);
	if (found && now <= s->s_f[i].f_next_retry)
		return SCHED_BACKOFF;
	return SCHED_QUEUED;
}

static void
trigger_free(struct sched_trigger *t)
{
	free(t->t_recipe);
	free(t->t_tag);
	free(t->t_upstream);
	free(t->t_version);
	free(t);
}

static void
queue_remove(struct sched *s, struct sched_trigger *t)
{
	TAILQ_REMOVE(&s->s_queue, t, t_entry);
	if (t->t_version != NULL)
		pair_del(&s->s_queued, t->t_recipe, t->t_version);
	s->s_nqueued--;
	trigger_free(t);
}

static int
running(const struct sched *s, const char *recipe, const char *version)
{
	struct sched_job	*j;

	TAILQ_FOREACH(j, &s->s_jobs, j_entry)
		if (strcmp(j->j_recipe, recipe) == 0 &&
		    (version == NULL || strcmp(j->j_version, version) == 0))
			return 1;
	return 0;
}

enum sched_result
sched_trigger(struct sched *s, const char *recipe, const char *tag,
    const char *upstream, int source, int64_t now)
{
	return sched_trigger_oid(s, recipe, tag, upstream, NULL, source, now);
}

/* The queued trigger for recipe@version under the same tag takes the
 * newer commit. */
static void
queued_update(struct sched *s, const struct sched_trigger *nt)
{
	struct sched_trigger	*t;

	t = pair_get(&s->s_queued, nt->t_recipe, nt->t_version);
	if (nt->t_has_oid && t != NULL && strcmp(t->t_tag, nt->t_tag) == 0) {
		memcpy(t->t_oid, nt->t_oid, sizeof(t->t_oid));
		t->t_has_oid = 1;
	}
}

enum sched_result
sched_trigger_oid(struct sched *s, const char *recipe, const char *tag,
    const char *upstream, const uint8_t *oid, int source, int64_t now)
{
	struct sched_trigger	*t;
	const struct srecipe	*r;
	enum sched_result	 res;

	t = xcalloc(1, sizeof(*t));
	t->t_recipe = xstrdup(recipe);
	t->t_tag = xstrdup(tag);
	t->t_upstream = xstrdup(upstream);
	t->t_source = source;
	t->t_seen = now;
	if (oid != NULL) {
		memcpy(t->t_oid, oid, sizeof(t->t_oid));
		t->t_has_oid = 1;
	}
	if (s->s_stopped)
		res = SCHED_STOPPED;
	else if ((res = check_recipe(s, t, &r)) == SCHED_QUEUED) {
		t->t_version = compose(r, upstream);
		if ((res = check_state(s, t, now)) != SCHED_QUEUED)
			;
		else if (pair_has(&s->s_queued, recipe, t->t_version)) {
			res = SCHED_QUEUED_DUP;
			queued_update(s, t);
		} else if (running(s, recipe, t->t_version))
			res = SCHED_RUNNING_DUP;
	}
	if (res != SCHED_QUEUED) {
		note(s, res, t, res == SCHED_BELOW_MIN ? r->min_version : NULL);
		trigger_free(t);
		return res;
	}
	TAILQ_INSERT_TAIL(&s->s_queue, t, t_entry);
	pair_add(&s->s_queued, recipe, t->t_version, t);
	s->s_nqueued++;
	return SCHED_QUEUED;
}

/* ---- published set ---------------------------------------------------- */

void
sched_pub_reset(struct sched *s)
{
	pair_clear(&s->s_pub_new);
	s->s_pub_loading = 1;
}

void
sched_pub_add(struct sched *s, const char *name, const char *version)
{
	pair_add(s->s_pub_loading ? &s->s_pub_new : &s->s_pub, name, version,
	    NULL);
}

/* The set is complete: a reset load replaces the old set. */
void
sched_pub_final(struct sched *s)
{
	if (s->s_pub_loading) {
		pair_clear(&s->s_pub);
		s->s_pub = s->s_pub_new;
		memset(&s->s_pub_new, 0, sizeof(s->s_pub_new));
		s->s_pub_loading = 0;
	}
	s->s_pub_ready = 1;
	failures_prune_published(s);
}

void
sched_pub_invalidate(struct sched *s)
{
	s->s_pub_ready = 0;
}

int
sched_pub_ready(const struct sched *s)
{
	return s->s_pub_ready;
}

int
sched_published(const struct sched *s, const char *name, const char *version)
{
	return pair_has(&s->s_pub, name, version);
}

int
sched_recipe_published(const struct sched *s, const char *recipe,
    const char *version)
{
	const struct srecipe	*r;
	size_t			 i;

	if ((r = find_recipe(s, recipe)) == NULL || r->npkgs == 0)
		return 0;
	for (i = 0; i < r->npkgs; i++)
		if (!pair_has(&s->s_pub, r->pkgs[i], version))
			return 0;
	return 1;
}

/* ---- running builds --------------------------------------------------- */

struct sched_job *
sched_next(struct sched *s, int64_t now)
{
	struct sched_trigger	*t, *next;
	struct sched_job	*j;
	enum sched_result	 res;

	if (s->s_stopped || !s->s_pub_ready || s->s_njobs >= (size_t)s->s_max)
		return NULL;
	for (t = TAILQ_FIRST(&s->s_queue); t != NULL; t = next) {
		next = TAILQ_NEXT(t, t_entry);
		if (running(s, t->t_recipe, NULL))
			continue;
		if ((res = check_state(s, t, now)) != SCHED_QUEUED) {
			note(s, res, t, NULL);
			queue_remove(s, t);
			continue;
		}
		j = xcalloc(1, sizeof(*j));
		if (++s->s_next_id == 0)
			s->s_next_id = 1;
		j->j_id = s->s_next_id;
		j->j_recipe = xstrdup(t->t_recipe);
		j->j_tag = xstrdup(t->t_tag);
		j->j_upstream = xstrdup(t->t_upstream);
		j->j_version = xstrdup(t->t_version);
		j->j_source = t->t_source;
		j->j_seen = t->t_seen;
		j->j_started = now;
		j->j_has_oid = t->t_has_oid;
		memcpy(j->j_oid, t->t_oid, sizeof(j->j_oid));
		queue_remove(s, t);
		TAILQ_INSERT_TAIL(&s->s_jobs, j, j_entry);
		s->s_njobs++;
		s->s_attempted++;
		return j;
	}
	return NULL;
}

struct sched_job *
sched_job(const struct sched *s, uint32_t id)
{
	struct sched_job	*j;

	TAILQ_FOREACH(j, &s->s_jobs, j_entry)
		if (j->j_id == id)
			return j;
	return NULL;
}

int
sched_recipe_busy(const struct sched *s, const char *recipe)
{
	return running(s, recipe, NULL);
}

int64_t
sched_backoff(unsigned n)
{
	if (n == 0)
		n = 1;
	if (n > nitems(backoff_steps))
		n = nitems(backoff_steps);
	return backoff_steps[n - 1];
}

/* Index of key in the sorted records, or where it would go. */
static size_t
failure_pos(const struct sched *s, const char *key, int *found)
{
	size_t	 lo = 0, hi = s->s_nf, mid;
	int	 c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(s->s_f[mid].f_key, key)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
failure_del(struct sched *s, size_t i)
{
	free(s->s_f[i].f_key);
	free(s->s_f[i].f_recipe);
	free(s->s_f[i].f_version);
	free(s->s_f[i].f_log);
	memmove(&s->s_f[i], &s->s_f[i + 1], (s->s_nf - i - 1) *
	    sizeof(*s->s_f));
	s->s_nf--;
}

static struct sched_failure *
failure_get(struct sched *s, const char *recipe, const char *version)
{
	struct sched_failure	*f;
	char			*key = xasprintf("%s@%s", recipe, version);
	size_t			 i;
	int			 found;

	i = failure_pos(s, key, &found);
	if (found) {
		free(key);
		return &s->s_f[i];
	}
	s->s_f = xreallocarray(s->s_f, s->s_nf + 1, sizeof(*s->s_f));
	memmove(&s->s_f[i + 1], &s->s_f[i], (s->s_nf - i) * sizeof(*s->s_f));
	s->s_nf++;
	f = &s->s_f[i];
	memset(f, 0, sizeof(*f));
	f->f_key = key;
	f->f_recipe = xstrdup(recipe);
	f->f_version = xstrdup(version);
	f->f_log = xstrdup("");
	return f;
}

/* A version that appeared in the archive needs no retry any more. */
static void
failures_prune_published(struct sched *s)
{
	size_t	 i = 0;

	while (i < s->s_nf) {
		if (sched_recipe_published(s, s->s_f[i].f_recipe,
		    s->s_f[i].f_version))
			failure_del(s, i);
		else
			i++;
	}
}

int64_t
sched_finish(struct sched *s, uint32_t id, int ok, const char *log,
    int64_t now)
{
	struct sched_job	*j;
	struct sched_failure	*f;
	size_t			 i;
	int64_t			 delay = 0;
	int			 found;
	char			*key;

	if ((j = sched_job(s, id)) == NULL)
		return 0;
	TAILQ_REMOVE(&s->s_jobs, j, j_entry);
	s->s_njobs--;
	if (ok) {
		s->s_succeeded++;
		key = xasprintf("%s@%s", j->j_recipe, j->j_version);
		i = failure_pos(s, key, &found);
		free(key);
		if (found)
			failure_del(s, i);
	} else {
		s->s_failed++;
		f = failure_get(s, j->j_recipe, j->j_version);
		f->f_count++;
		delay = sched_backoff(f->f_count);
		f->f_next_retry = now + delay;
		free(f->f_log);
		f->f_log = xstrdup(log == NULL ? "" : log);
	}
	job_free(j);
	return delay;
}

size_t
sched_stop(struct sched *s)
{
	size_t	 n = s->s_nqueued;

	s->s_stopped = 1;
	while (!TAILQ_EMPTY(&s->s_queue))
		queue_remove(s, TAILQ_FIRST(&s->s_queue));
	return n;
}

/* ---- views ------------------------------------------------------------ */

const struct sched_jobs *
sched_running(const struct sched *s)
{
	return &s->s_jobs;
}

const struct sched_queue *
sched_queue(const struct sched *s)
{
	return &s->s_queue;
}

size_t
sched_nqueued(const struct sched *s)
{
	return s->s_nqueued;
}

size_t
sched_nrunning(const struct sched *s)
{
	return s->s_njobs;
}

const struct sched_failure *
sched_failures(const struct sched *s, size_t *n)
{
	*n = s->s_nf;
	return s->s_f;
}

uint64_t
sched_attempted(const struct sched *s)
{
	return s->s_attempted;
}

uint64_t
sched_succeeded(const struct sched *s)
{
	return s->s_succeeded;
}

uint64_t
sched_failed(const struct sched *s)
{
	return s->s_failed;
}

size_t
sched_in_backoff(const struct sched *s, int64_t now)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->s_nf; i++)
		if (s->s_f[i].f_next_retry > now)
			n++;
	return n;
}
