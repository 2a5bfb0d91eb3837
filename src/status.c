/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * status.c: the /status JSON and /metrics text documents (status.h).
 *
 * Trust: the parent's own state; child-supplied strings (poll and
 * upload errors) only ever pass through the JSON and label escapers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "pmsched.h"
#include "status.h"

static const double build_bounds[] = {
	60, 300, 600, 1200, 1800, 3600, 7200, 14400, 21600
};
static const double publish_bounds[] = {
	0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300
};
static const double tag_bounds[] = {
	60, 300, 900, 1800, 3600, 7200, 21600, 86400
};
static const char *const hook_names[HOOKR_NUM] = {
	"accepted", "ignored", "bad_signature", "bad_request", "too_large",
	"duplicate"
};
static const char *const forge_names[FORGE_NUM] = {
	"github", "gitlab", "gitea"
};
static const char *const role_names[ROLE_NUM] = {
	"parent", "http", "poller", "signer", "publisher", "worker"
};

static void	 json_time(struct jw *, const char *, int64_t);
static void	 json_job(struct jw *, const struct sched_job *, int);
static void	 json_failures(struct jw *, const struct sched *);
static void	 json_polls(struct jw *, const struct status *);
static void	 json_upload(struct jw *, const struct status *);
static void	 json_restarts(struct jw *, const struct status *);
static void	 metric_head(struct buf *, const char *, const char *,
		    const char *);
static void	 metric_u64(struct buf *, const char *, const char *,
		    const char *, uint64_t);
static void	 metrics_polls(struct buf *, const struct status *);
static void	 metrics_hooks(struct buf *, const struct status *);
static void	 metrics_histo(struct buf *, const char *, const char *,
		    const struct status_histo *);
static void	 metrics_restarts(struct buf *, const struct status *);
static void	 fmt_double(struct buf *, double);

const char *
status_hook_result_name(enum status_hook_result r)
{
	return (unsigned)r < HOOKR_NUM ? hook_names[r] : "unknown";
}

const char *
status_forge_name(enum forge f)
{
	return (unsigned)f < FORGE_NUM ? forge_names[f] : "unknown";
}

const char *
status_role_name(enum pm_role r)
{
	return (unsigned)r < ROLE_NUM ? role_names[r] : "unknown";
}

void
status_init(struct status *st, const char *farm_id)
{
	memset(st, 0, sizeof(*st));
	st->farm_id = xstrdup(farm_id);
	st->up_error = xstrdup("");
	st->build_dur.h_bounds = build_bounds;
	st->build_dur.h_n = nitems(build_bounds);
	st->publish_dur.h_bounds = publish_bounds;
	st->publish_dur.h_n = nitems(publish_bounds);
	st->tag_to_pub.h_bounds = tag_bounds;
	st->tag_to_pub.h_n = nitems(tag_bounds);
}

static void
recipes_free(char **r, struct status_poll *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(r[i]);
		free(p[i].p_error);
	}
	free(r);
	free(p);
}

void
status_free(struct status *st)
{
	recipes_free(st->recipes, st->polls, st->nrecipes);
	free(st->farm_id);
	free(st->up_error);
	memset(st, 0, sizeof(*st));
}

void
status_set_recipes(struct status *st, const char *const *ids, size_t n)
{
	struct status_poll	*np, *old;
	char			**nr;
	size_t			 i;

	nr = xcalloc(n + 1, sizeof(*nr));
	np = xcalloc(n + 1, sizeof(*np));
	for (i = 0; i < n; i++) {
		nr[i] = xstrdup(ids[i]);
		if ((old = status_poll(st, ids[i])) != NULL) {
			np[i] = *old;
			old->p_error = NULL;
		}
		if (np[i].p_error == NULL)
			np[i].p_error = xstrdup("");
	}
	recipes_free(st->recipes, st->polls, st->nrecipes);
	st->recipes = nr;
	st->polls = np;
	st->nrecipes = n;
}

struct status_poll *
status_poll(struct status *st, const char *recipe)
{
	size_t	 i;

	for (i = 0; i < st->nrecipes; i++)
		if (strcmp(st->recipes[i], recipe) == 0)
			return &st->polls[i];
	return NULL;
}

void
status_poll_done(struct status *st, const char *recipe, int ok,
    const char *error, int64_t now)
{
	struct status_poll	*p;

	if ((p = status_poll(st, recipe)) == NULL)
		return;
	p->p_have = 1;
	p->p_last = now;
	p->p_ok = ok;
	free(p->p_error);
	p->p_error = xstrdup(ok ? "" : error);
	if (ok)
		p->p_last_ok = now;
	else
		p->p_errors++;
}

void
status_observe(struct status_histo *h, double v)
{
	size_t	 i;

	for (i = 0; i < h->h_n; i++)
		if (v <= h->h_bounds[i])
			break;
	h->h_counts[i]++;	/* i == h_n: the +Inf bucket */
	h->h_count++;
	h->h_sum += v;
}

/* ---- /status ------------------------------------------------------ */

static void
json_time(struct jw *w, const char *key, int64_t ns)
{
	char	 t[CLOCK_FMT_MAX];

	clock_fmt(ns, t);
	jw_key(w, key);
	jw_str(w, t);
}

static void
json_job(struct jw *w, const struct sched_job *j, int with_id)
{
	jw_obj_begin(w);
	jw_key(w, "recipe");
	jw_str(w, j->j_recipe);
	jw_key(w, "version");
	jw_str(w, j->j_version);
	json_time(w, "started_at", j->j_started);
	if (with_id) {
		jw_key(w, "tag");
		jw_str(w, j->j_tag);
		jw_key(w, "job");
		jw_uint(w, j->j_id);
	}
	jw_obj_end(w);
}

static void
json_failures(struct jw *w, const struct sched *s)
{
	const struct sched_failure	*f;
	size_t				 i, n;

	f = sched_failures(s, &n);
	jw_key(w, "failures");
	if (n == 0) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	for (i = 0; i < n; i++) {
		jw_key(w, f[i].f_key);
		jw_obj_begin(w);
		jw_key(w, "failures");
		jw_uint(w, f[i].f_count);
		json_time(w, "next_retry", f[i].f_next_retry);
		jw_key(w, "log");
		jw_str(w, f[i].f_log);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void
json_polls(struct jw *w, const struct status *st)
{
	const struct status_poll	*p;
	size_t				 i;

	jw_key(w, "polls");
	jw_obj_begin(w);
	for (i = 0; i < st->nrecipes; i++) {
		p = &st->polls[i];
		if (!p->p_have)
			continue;
		jw_key(w, st->recipes[i]);
		jw_obj_begin(w);
		json_time(w, "last_poll", p->p_last);
		jw_key(w, "ok");
		jw_bool(w, p->p_ok);
		jw_key(w, "error");
		jw_str(w, p->p_error);
		if (p->p_last_ok != 0)
			json_time(w, "last_success", p->p_last_ok);
		else {
			jw_key(w, "last_success");
			jw_null(w);
		}
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void
json_upload(struct jw *w, const struct status *st)
{
	static const char *const states[] = { "idle", "uploading", "failed" };

	jw_key(w, "upload");
	if (!st->up_have) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "state");
	jw_str(w, (unsigned)st->up_state < nitems(states) ?
	    states[st->up_state] : "unknown");
	jw_key(w, "error");
	jw_str(w, st->up_error);
	if (st->up_state == UPLOAD_FAILED)
		json_time(w, "next_retry", st->up_next_retry * CLOCK_NS);
	jw_key(w, "index_version");
	jw_uint(w, st->up_index_version);
	jw_obj_end(w);
}

static void
json_restarts(struct jw *w, const struct status *st)
{
	int	 r;

	jw_key(w, "child_restarts");
	jw_obj_begin(w);
	for (r = ROLE_HTTP; r <= ROLE_PUBLISHER; r++) {
		jw_key(w, role_names[r]);
		jw_uint(w, st->restarts[r]);
	}
	jw_obj_end(w);
}

void
status_json(const struct status *st, const struct sched *s, struct buf *out)
{
	const struct sched_jobs	*jobs = sched_running(s);
	const struct sched_job	*j;
	struct jw		 w;
	size_t			 i;

	jw_init(&w, out, JW_PRETTY | JW_HTML);
	jw_obj_begin(&w);
	jw_key(&w, "farm_id");
	jw_str(&w, st->farm_id);
	jw_key(&w, "recipes");
	jw_arr_begin(&w);
	for (i = 0; i < st->nrecipes; i++)
		jw_str(&w, st->recipes[i]);
	jw_arr_end(&w);
	jw_key(&w, "builds_attempted");
	jw_uint(&w, sched_attempted(s));
	jw_key(&w, "builds_succeeded");
	jw_uint(&w, sched_succeeded(s));
	jw_key(&w, "in_flight");
	if ((j = TAILQ_FIRST(jobs)) != NULL)
		json_job(&w, j, 0);
	else
		jw_null(&w);
	json_failures(&w, s);
	jw_key(&w, "builds_failed");
	jw_uint(&w, sched_failed(s));
	jw_key(&w, "builds_queued");
	jw_uint(&w, sched_nqueued(s));
	jw_key(&w, "in_flight_all");
	jw_arr_begin(&w);
	TAILQ_FOREACH(j, jobs, j_entry)
		json_job(&w, j, 1);
	jw_arr_end(&w);
	json_polls(&w, st);
	json_upload(&w, st);
	json_restarts(&w, st);
	jw_key(&w, "ipc_protocol_errors");
	jw_uint(&w, st->ipc_errors);
	jw_key(&w, "upstream_tags_moved");
	jw_uint(&w, st->tags_moved);
	jw_obj_end(&w);
	jw_end(&w);
}

/* ---- /metrics ----------------------------------------------------- */

void
status_label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_adds(b, "\\\\");
		else if (*s == '"')
			buf_adds(b, "\\\"");
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *s);
	}
}

static void
fmt_double(struct buf *b, double v)
{
	buf_addf(b, "%.15g", v);
}

static void
metric_head(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metric_u64(struct buf *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	metric_head(b, name, type, help);
	buf_addf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
metrics_polls(struct buf *b, const struct status *st)
{
	size_t	 i;

	metric_head(b, "peipkg_recipe_last_successful_poll_timestamp_seconds",
	    "gauge", "Unix time of the last successful poll of a recipe.");
	for (i = 0; i < st->nrecipes; i++) {
		if (st->polls[i].p_last_ok == 0)
			continue;
		buf_adds(b, "peipkg_recipe_last_successful_poll_timestamp_"
		    "seconds{recipe=\"");
		status_label(b, st->recipes[i]);
		buf_adds(b, "\"} ");
		fmt_double(b, (double)st->polls[i].p_last_ok / CLOCK_NS);
		buf_addc(b, '\n');
	}
	metric_head(b, "peipkg_recipe_poll_errors_total", "counter",
	    "Failed polls of a recipe since the daemon started.");
	for (i = 0; i < st->nrecipes; i++) {
		buf_adds(b, "peipkg_recipe_poll_errors_total{recipe=\"");
		status_label(b, st->recipes[i]);
		buf_addf(b, "\"} %llu\n",
		    (unsigned long long)st->polls[i].p_errors);
	}
}

static void
metrics_hooks(struct buf *b, const struct status *st)
{
	int	 f, r;

	metric_head(b, "peipkg_webhooks_total", "counter",
	    "Webhook requests by endpoint and result.");
	for (f = 0; f < FORGE_NUM; f++)
		for (r = 0; r < HOOKR_NUM; r++)
			buf_addf(b, "peipkg_webhooks_total{endpoint=\"%s\","
			    "result=\"%s\"} %llu\n", forge_names[f],
			    hook_names[r],
			    (unsigned long long)st->webhooks[f][r]);
}

static void
metrics_histo(struct buf *b, const char *name, const char *help,
    const struct status_histo *h)
{
	uint64_t	 cum = 0;
	size_t		 i;

	metric_head(b, name, "histogram", help);
	for (i = 0; i < h->h_n; i++) {
		cum += h->h_counts[i];
		buf_addf(b, "%s_bucket{le=\"", name);
		fmt_double(b, h->h_bounds[i]);
		buf_addf(b, "\"} %llu\n", (unsigned long long)cum);
	}
	buf_addf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->h_count);
	buf_addf(b, "%s_sum ", name);
	fmt_double(b, h->h_sum);
	buf_addf(b, "\n%s_count %llu\n", name, (unsigned long long)h->h_count);
}

static void
metrics_restarts(struct buf *b, const struct status *st)
{
	int	 r;

	metric_head(b, "peipkg_child_restarts_total", "counter",
	    "Restarts of a role process after it died or misbehaved.");
	for (r = ROLE_HTTP; r <= ROLE_PUBLISHER; r++)
		buf_addf(b, "peipkg_child_restarts_total{role=\"%s\"} %llu\n",
		    role_names[r], (unsigned long long)st->restarts[r]);
}

void
status_metrics(const struct status *st, const struct sched *s, int64_t now,
    struct buf *b)
{
	metric_u64(b, "peipkg_builds_attempted_total", "counter",
	    "Builds started since the daemon started.", sched_attempted(s));
	metric_u64(b, "peipkg_builds_succeeded_total", "counter",
	    "Builds that were built and published.", sched_succeeded(s));
	metric_u64(b, "peipkg_builds_failed_total", "counter",
	    "Builds that failed to build or publish.", sched_failed(s));
	metric_u64(b, "peipkg_builds_in_flight", "gauge",
	    "Builds running now.", sched_nrunning(s));
	metric_u64(b, "peipkg_builds_queued", "gauge",
	    "Triggers waiting for a build slot.", sched_nqueued(s));
	metric_u64(b, "peipkg_builds_in_backoff", "gauge",
	    "recipe@version keys waiting out a failure back-off.",
	    sched_in_backoff(s, now));
	metrics_polls(b, st);
	metrics_hooks(b, st);
	metrics_histo(b, "peipkg_build_duration_seconds",
	    "Time from build start to the worker's result.", &st->build_dur);
	metrics_histo(b, "peipkg_publish_duration_seconds",
	    "Time the publisher took for one build's packages.",
	    &st->publish_dur);
	metrics_histo(b, "peipkg_tag_to_published_seconds",
	    "Time from the first trigger for a version to its publication.",
	    &st->tag_to_pub);
	metrics_restarts(b, st);
	metric_u64(b, "peipkg_ipc_protocol_errors_total", "counter",
	    "Child processes dropped for breaking the IPC protocol.",
	    st->ipc_errors);
	metric_u64(b, "peipkg_upstream_tags_moved_total", "counter",
	    "Tags of published versions found pointing at another commit.",
	    st->tags_moved);
}
