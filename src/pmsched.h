/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * pmsched.h: the build scheduler of the parent.  Pure: no I/O, no clock
 * (callers pass `now`, unix nanoseconds), no logging (decisions are
 * reported through a note callback which the parent turns into log
 * events).
 *
 * Rules (BEHAVIOUR.md §5.10, with the defects of §8 fixed):
 *  - a trigger (recipe, tag, upstream version) is composed into
 *    version "<upstream>-<peios_revision>" with the CURRENT recipe;
 *  - dropped when the recipe is not in the roster, not watched, or the
 *    upstream version is below its min_version;
 *  - skipped when every package name of the recipe is published at
 *    that version (the published set, not the recipe directory name),
 *    when recipe@version is in its failure back-off window (now not
 *    after next_retry), or when it is already queued or building;
 *  - queued triggers start FIFO, at most max_parallel at a time and one
 *    per recipe, and only once the published set is complete;
 *  - n-th consecutive failure of recipe@version backs off 1m, 5m, 15m,
 *    1h, 6h, then 24h; a success (or the version appearing in the
 *    published set) removes the record;
 *  - a new roster revalidates the queue (removed, unwatched, min_version).
 *
 * Trust: inputs were validated by the caller (parent.c).
 */
#ifndef PM_PMSCHED_H
#define PM_PMSCHED_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A recipe as the scheduler needs it; sched_set_recipes copies it. */
struct sched_recipe {
	const char	 *id;
	const char	 *min_version;	/* "" = no floor */
	int64_t		  revision;	/* >= 1 */
	int		  watched;
	const char *const *pkgs;	/* package names */
	size_t		  npkgs;
};

#define SCHED_OID_LEN	20		/* a SHA-1 git object id */

struct sched_trigger {
	TAILQ_ENTRY(sched_trigger) t_entry;
	char		*t_recipe;
	char		*t_tag;
	char		*t_upstream;
	char		*t_version;	/* composed at intake / revalidation */
	int		 t_source;	/* enum pm_trigger_source */
	int64_t		 t_seen;	/* first seen, ns */
	int		 t_has_oid;
	uint8_t		 t_oid[SCHED_OID_LEN];	/* the commit polled */
};
TAILQ_HEAD(sched_queue, sched_trigger);

/* A running build, from sched_next() to sched_finish(). */
struct sched_job {
	TAILQ_ENTRY(sched_job) j_entry;
	uint32_t	 j_id;
	char		*j_recipe;
	char		*j_tag;
	char		*j_upstream;
	char		*j_version;
	int		 j_source;
	int64_t		 j_seen;	/* trigger first seen, ns */
	int64_t		 j_started;	/* ns */
	int		 j_has_oid;
	uint8_t		 j_oid[SCHED_OID_LEN];	/* the commit to build */
};
TAILQ_HEAD(sched_jobs, sched_job);

struct sched_failure {
	char		*f_key;		/* recipe@version */
	char		*f_recipe;
	char		*f_version;
	unsigned	 f_count;
	int64_t		 f_next_retry;	/* ns */
	char		*f_log;		/* log of the last failure, "" if none */
};

enum sched_result {
	SCHED_QUEUED = 0,
	SCHED_REMOVED,		/* recipe not in the roster */
	SCHED_UNWATCHED,	/* recipe not watched */
	SCHED_BELOW_MIN,	/* upstream < current min_version */
	SCHED_PUBLISHED,	/* every package published at the version */
	SCHED_BACKOFF,		/* in the failure back-off window */
	SCHED_QUEUED_DUP,	/* same recipe@version already queued */
	SCHED_RUNNING_DUP,	/* same recipe@version building */
	SCHED_STOPPED		/* sched_stop() was called */
};

/* Called for every drop/skip with the trigger and, for
 * SCHED_BELOW_MIN, the min_version. */
typedef void (*sched_note_fn)(void *, enum sched_result,
    const struct sched_trigger *, const char *detail);

struct sched;

struct sched	*sched_new(int max_parallel);
void		 sched_free(struct sched *);
void		 sched_set_note(struct sched *, sched_note_fn, void *);
/* Replace the roster (copied) and revalidate the queue. */
void		 sched_set_recipes(struct sched *, const struct sched_recipe *,
		    size_t);
const struct sched_recipe *sched_recipe(const struct sched *, const char *);

enum sched_result sched_trigger(struct sched *, const char *recipe,
		    const char *tag, const char *upstream, int source,
		    int64_t now);
/* The same with the commit the tag pointed to (NULL: unknown).  A
 * trigger for a version already queued under the same tag moves the
 * queued build to the newer commit. */
enum sched_result sched_trigger_oid(struct sched *, const char *recipe,
		    const char *tag, const char *upstream,
		    const uint8_t *oid, int source, int64_t now);

/* The published set (PM_PUB_SET). */
void		 sched_pub_reset(struct sched *);
void		 sched_pub_add(struct sched *, const char *name,
		    const char *version);
void		 sched_pub_final(struct sched *);
/* The set is stale (publisher restarting): hold builds until final. */
void		 sched_pub_invalidate(struct sched *);
int		 sched_pub_ready(const struct sched *);
int		 sched_published(const struct sched *, const char *name,
		    const char *version);
/* 1 when every package of the recipe is published at version. */
int		 sched_recipe_published(const struct sched *,
		    const char *recipe, const char *version);

/* Start the next build that may start now (NULL: none); it moves to
 * the running list and counts as attempted. */
struct sched_job *sched_next(struct sched *, int64_t now);
/*
 * A running build ended.  Success removes its failure record and counts
 * it; failure records it (log: path of its build log, may be NULL) and
 * returns the back-off delay (ns) it got.  The job is freed.
 */
int64_t		 sched_finish(struct sched *, uint32_t id, int ok,
		    const char *log, int64_t now);
struct sched_job *sched_job(const struct sched *, uint32_t id);
int		 sched_recipe_busy(const struct sched *, const char *recipe);

/* Stop taking triggers; drop the queue.  Returns how many were queued. */
size_t		 sched_stop(struct sched *);

/* The n-th consecutive failure's delay (n >= 1), ns. */
int64_t		 sched_backoff(unsigned n);

/* Read-only views for /status and /metrics. */
const struct sched_jobs *sched_running(const struct sched *);	/* oldest first */
const struct sched_queue *sched_queue(const struct sched *);
size_t		 sched_nqueued(const struct sched *);
size_t		 sched_nrunning(const struct sched *);
/* Failure records sorted by key. */
const struct sched_failure *sched_failures(const struct sched *, size_t *n);
uint64_t	 sched_attempted(const struct sched *);
uint64_t	 sched_succeeded(const struct sched *);
uint64_t	 sched_failed(const struct sched *);
/* Records whose next_retry is after now. */
size_t		 sched_in_backoff(const struct sched *, int64_t now);

#endif /* PM_PMSCHED_H */
