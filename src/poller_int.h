/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * poller_int.h: the poller role's private state, shared by poller.c
 * (the recipe table, the parent's messages, the role) and
 * poller_sched.c (the schedule, the FIFO and the polls themselves).
 * Nothing else includes it.
 *
 * Trust: see poller.c.
 */
#ifndef PM_POLLER_INT_H
#define PM_POLLER_INT_H

#include <sys/queue.h>

#include <stdint.h>

#include <event2/util.h>

#include "gitls.h"
#include "msg.h"
#include "role.h"

struct event;
struct tagpattern;

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

/* poller.c */
void	 poller_recipe_free(struct precipe *);

/* poller_sched.c */
void	 poller_schedule_initial(struct precipe *);
void	 poller_request(struct poller *, struct precipe *, uint8_t source);
void	 poller_send_done(struct poller *, const char *, int, const char *,
	    const struct gitls_result *, const struct poll_run *, uint8_t);
void	 poller_run_free(struct poll_run *);
void	 poller_resume_cb(evutil_socket_t, short, void *);

#endif /* PM_POLLER_INT_H */
