/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * signer_policy.c: the signer's rules (signer_policy.h).
 *
 * Trust: job announcements come from the trusted parent; the kind,
 * subject and key name of a request come from a build worker running
 * hostile code (or from the publisher) and are only compared, never
 * interpreted.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "msgtypes.h"
#include "sign.h"
#include "signer_policy.h"

static const char *const index_subjects[] = {
	"repo.json", "index/active.json", "index/archive.json"
};

static const char *kind_name(int);
static void	 job_free(struct sp_job *);
static int	 check_index(const struct sp_request *, struct buf *);
static int	 check_package(struct sp_job *, const struct sp_request *,
		    struct sp_ticket *, struct buf *);
static int	 check_binary(struct sp_job *, const struct sp_request *,
		    struct sp_ticket *, struct buf *);

/* sign_kind_name() without linking sign.c (this module stays pure). */
static const char *
kind_name(int kind)
{
	return kind == SIGN_PACKAGE ? "package" : kind == SIGN_BINARY ?
	    "binary" : kind == SIGN_INDEX ? "index" : "unknown";
}

void
sp_init(struct signer_policy *sp)
{
	memset(sp, 0, sizeof(*sp));
	TAILQ_INIT(&sp->sp_jobs);
}

static void
job_free(struct sp_job *j)
{
	size_t	 i;

	for (i = 0; i < j->j_npkgs; i++)
		free(j->j_pkgs[i]);
	for (i = 0; i < j->j_ngrants; i++) {
		free(j->j_grants[i].g_path);
		free(j->j_grants[i].g_key);
	}
	free(j->j_pkgs);
	free(j->j_pkg_used);
	free(j->j_grants);
	free(j->j_recipe);
	free(j->j_version);
	free(j);
}

void
sp_free(struct signer_policy *sp)
{
	struct sp_job	*j;

	while ((j = TAILQ_FIRST(&sp->sp_jobs)) != NULL) {
		TAILQ_REMOVE(&sp->sp_jobs, j, j_entry);
		job_free(j);
	}
	sp->sp_njobs = 0;
}

struct sp_job *
sp_job_find(struct signer_policy *sp, uint32_t id)
{
	struct sp_job	*j;

	TAILQ_FOREACH(j, &sp->sp_jobs, j_entry)
		if (j->j_id == id)
			return j;
	return NULL;
}

int
sp_job_add(struct signer_policy *sp, uint32_t id, const char *recipe,
    const char *version, char *const *pkgs, size_t npkgs,
    char *const *paths, char *const *keys, size_t ngrants, struct buf *err)
{
	struct sp_job	*j;
	size_t		 i;

	if (id == 0)
		return errf(err, "job id 0 is not a job");
	if (sp_job_find(sp, id) != NULL)
		return errf(err, "job %u is already announced", id);
	if (sp->sp_njobs >= SP_JOBS_MAX)
		return errf(err, "job %u: more than %d jobs announced", id,
		    SP_JOBS_MAX);
	for (i = 0; i < npkgs; i++)
		if (pkgs[i][0] == '\0')
			return errf(err, "job %u: empty package name", id);
	for (i = 0; i < ngrants; i++)
		if (paths[i][0] == '\0' || keys[i][0] == '\0')
			return errf(err, "job %u: [[sign]] grant %zu has an "
			    "empty path or key name", id, i);
	j = xcalloc(1, sizeof(*j));
	j->j_id = id;
	j->j_recipe = xstrdup(recipe);
	j->j_version = xstrdup(version);
	j->j_pkgs = xcalloc(npkgs + 1, sizeof(*j->j_pkgs));
	j->j_pkg_used = xcalloc(npkgs + 1, sizeof(*j->j_pkg_used));
	for (i = 0; i < npkgs; i++)
		j->j_pkgs[i] = xstrdup(pkgs[i]);
	j->j_npkgs = npkgs;
	j->j_grants = xcalloc(ngrants + 1, sizeof(*j->j_grants));
	for (i = 0; i < ngrants; i++) {
		j->j_grants[i].g_path = xstrdup(paths[i]);
		j->j_grants[i].g_key = xstrdup(keys[i]);
	}
	j->j_ngrants = ngrants;
	TAILQ_INSERT_TAIL(&sp->sp_jobs, j, j_entry);
	sp->sp_njobs++;
	return 0;
}

int
sp_job_end(struct signer_policy *sp, uint32_t id)
{
	struct sp_job	*j;

	if ((j = sp_job_find(sp, id)) == NULL)
		return -1;
	TAILQ_REMOVE(&sp->sp_jobs, j, j_entry);
	sp->sp_njobs--;
	job_free(j);
	return 0;
}

int
sp_index_subject(const char *s)
{
	size_t	 i;

	for (i = 0; i < nitems(index_subjects); i++)
		if (strcmp(s, index_subjects[i]) == 0)
			return 1;
	return 0;
}

static int
check_index(const struct sp_request *rq, struct buf *reason)
{
	if (rq->origin != ROLE_PUBLISHER)
		return errf(reason, "index signing requested by a %s",
		    rq->origin == ROLE_WORKER ? "worker" : "process other "
		    "than the publisher");
	if (rq->key[0] != '\0')
		return errf(reason, "index signatures use the repository key, "
		    "not key \"%s\"", rq->key);
	if (!sp_index_subject(rq->subject))
		return errf(reason, "index subject \"%s\" is not a repository "
		    "document", rq->subject);
	return 0;
}

static int
check_package(struct sp_job *j, const struct sp_request *rq,
    struct sp_ticket *t, struct buf *reason)
{
	size_t	 i;

	if (rq->key[0] != '\0')
		return errf(reason, "package signatures use the package key, "
		    "not key \"%s\"", rq->key);
	for (i = 0; i < j->j_npkgs; i++)
		if (strcmp(j->j_pkgs[i], rq->subject) == 0)
			break;
	if (i == j->j_npkgs)
		return errf(reason, "package \"%s\" not declared by the job",
		    rq->subject);
	if (j->j_pkg_used[i])
		return errf(reason, "package \"%s\" already signed for job %u",
		    rq->subject, j->j_id);
	t->t_used = &j->j_pkg_used[i];
	return 0;
}

static int
check_binary(struct sp_job *j, const struct sp_request *rq,
    struct sp_ticket *t, struct buf *reason)
{
	size_t	 i;

	if (rq->key[0] == '\0')
		return errf(reason, "binary signature for %s without a key "
		    "name", rq->subject);
	for (i = 0; i < j->j_ngrants; i++)
		if (strcmp(j->j_grants[i].g_path, rq->subject) == 0 &&
		    strcmp(j->j_grants[i].g_key, rq->key) == 0)
			break;
	if (i == j->j_ngrants)
		return errf(reason, "key \"%s\" not granted for path %s",
		    rq->key, rq->subject);
	if (j->j_grants[i].g_used)
		return errf(reason, "path %s already signed with key \"%s\" "
		    "for job %u", rq->subject, rq->key, j->j_id);
	t->t_used = &j->j_grants[i].g_used;
	return 0;
}

int
sp_check(struct signer_policy *sp, const struct sp_request *rq,
    struct sp_ticket *t, struct buf *reason)
{
	struct sp_job	*j;
	int		 rc = -1;

	memset(t, 0, sizeof(*t));
	t->t_kind = rq->kind;
	if (rq->kind == SIGN_INDEX)
		rc = check_index(rq, reason);
	else if (rq->kind != SIGN_PACKAGE && rq->kind != SIGN_BINARY)
		errf(reason, "unknown signature kind %d", rq->kind);
	else if (rq->origin != ROLE_WORKER)
		errf(reason, "%s signing requested by a process other than a "
		    "build worker", kind_name(rq->kind));
	else if ((j = sp_job_find(sp, rq->job)) == NULL)
		errf(reason, "no such job %u", rq->job);
	else if (rq->kind == SIGN_PACKAGE)
		rc = check_package(j, rq, t, reason);
	else
		rc = check_binary(j, rq, t, reason);
	if (rc == -1)
		sp->sp_refused++;
	return rc;
}

void
sp_commit(struct signer_policy *sp, const struct sp_ticket *t)
{
	if (t->t_used != NULL)
		*t->t_used = 1;
	if (t->t_kind >= 0 && t->t_kind < (int)nitems(sp->sp_issued))
		sp->sp_issued[t->t_kind]++;
	sp->sp_issued_total++;
}

void
sp_count_refusal(struct signer_policy *sp)
{
	sp->sp_refused++;
}
