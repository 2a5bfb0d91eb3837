/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * status.h: the /status JSON document and the /metrics text (Prometheus
 * exposition format 0.0.4), built by the parent from its own state and
 * pushed to the http role (PM_STATUS_DOC) after every change.
 *
 * /status members, in order: farm_id, recipes (roster order),
 * builds_attempted, builds_succeeded, in_flight (the oldest running
 * build, or null), failures (recipe@version sorted -> {failures,
 * next_retry, log}, or null); then our additions: builds_failed,
 * builds_queued, in_flight_all (every running build, oldest first),
 * polls (recipe -> {last_poll, ok, error, last_success}), upload (or
 * null), child_restarts, ipc_protocol_errors.  Pretty-printed with two
 * spaces and HTML-safe escaping; times are RFC 3339 UTC (clock_fmt).
 *
 * Trust: values are the parent's own; strings that came from children
 * (poll errors, upload errors) are escaped by the JSON writer and the
 * metrics label escaper.
 */
#ifndef PM_STATUS_H
#define PM_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "msgtypes.h"
#include "recipe.h"
#include "util.h"

struct sched;

#define STATUS_HISTO_MAX	16

enum status_hook_result {
	HOOKR_ACCEPTED = 0,	/* poll started */
	HOOKR_IGNORED = 1,	/* recipe unknown or opted out */
	HOOKR_BAD_SIGNATURE = 2,
	HOOKR_BAD_REQUEST = 3,
	HOOKR_TOO_LARGE = 4,
	HOOKR_DUPLICATE = 5,
	HOOKR_NUM = 6
};

struct status_histo {
	const double	*h_bounds;	/* upper bounds, ascending */
	size_t		 h_n;
	uint64_t	 h_counts[STATUS_HISTO_MAX];	/* not cumulative */
	uint64_t	 h_count;
	double		 h_sum;
};

struct status_poll {
	int		 p_have;	/* at least one poll finished */
	int64_t		 p_last;	/* ns */
	int		 p_ok;
	char		*p_error;	/* "" when ok */
	int64_t		 p_last_ok;	/* ns; 0: never */
	uint64_t	 p_errors;
};

struct status {
	char		 *farm_id;
	char		**recipes;	/* roster order */
	struct status_poll *polls;	/* parallel to recipes */
	size_t		  nrecipes;
	int		  up_have;	/* a PM_UPLOAD_STATE arrived */
	int		  up_state;	/* enum pm_upload_state */
	char		 *up_error;
	int64_t		  up_next_retry;	/* unix seconds */
	uint64_t	  up_index_version;
	uint64_t	  webhooks[FORGE_NUM][HOOKR_NUM];
	uint64_t	  restarts[ROLE_NUM];
	uint64_t	  ipc_errors;
	uint64_t	  tags_moved;	/* published tags found moved */
	struct status_histo build_dur;	/* seconds */
	struct status_histo publish_dur;
	struct status_histo tag_to_pub;
};

void	 status_init(struct status *, const char *farm_id);
void	 status_free(struct status *);
/* New roster: poll state is kept for ids still present. */
void	 status_set_recipes(struct status *, const char *const *, size_t);
struct status_poll *status_poll(struct status *, const char *recipe);
void	 status_poll_done(struct status *, const char *recipe, int ok,
	    const char *error, int64_t now);
void	 status_observe(struct status_histo *, double);

void	 status_json(const struct status *, const struct sched *,
	    struct buf *);
void	 status_metrics(const struct status *, const struct sched *,
	    int64_t now, struct buf *);

/* Prometheus label value escaping (\\, \", \n). */
void	 status_label(struct buf *, const char *);
const char *status_hook_result_name(enum status_hook_result);
const char *status_forge_name(enum forge);
const char *status_role_name(enum pm_role);

#endif /* PM_STATUS_H */
