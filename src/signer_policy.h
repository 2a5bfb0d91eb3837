/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * signer_policy.h: what the signer process agrees to sign (RELIABILITY.md
 * §0 findings 4-5, §2.4 P3, §2.9 K8).  Pure bookkeeping, no keys and no
 * I/O, so every rule is unit-tested (tests/unit/test_signer_policy.c).
 *
 * The signer signs only for a running build job, which the parent
 * announces with PM_SIGN_JOB (recipe, version, declared package names,
 * granted [[sign]] (path, key) pairs) and revokes with PM_SIGN_JOB_END:
 *   - SIGN_PACKAGE: from a worker, for its own job, with the package key
 *     (key name ""), the subject one of the job's package names, at most
 *     once per package per job;
 *   - SIGN_BINARY: from a worker, for its own job, (subject path, key
 *     name) one of the job's granted pairs, at most once each;
 *   - SIGN_INDEX: from the publisher only (the origin is stamped by the
 *     parent from the channel the request came in on), with the
 *     repository key, the subject one of the three repository documents;
 *     any number of times (every publish signs them afresh).
 * Anything else is refused with a reason naming what was wrong.
 *
 * Trust: the parent (job announcements, origin, job id) is trusted;
 * kind, subject and key name come from the requester and are not.
 */
#ifndef PM_SIGNER_POLICY_H
#define PM_SIGNER_POLICY_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SP_JOBS_MAX	4096	/* announced jobs alive at once */

struct sp_grant {
	char	*g_path;
	char	*g_key;
	int	 g_used;
};

struct sp_job {
	TAILQ_ENTRY(sp_job)	 j_entry;
	uint32_t		 j_id;
	char			*j_recipe;
	char			*j_version;
	char			**j_pkgs;
	int			*j_pkg_used;
	size_t			 j_npkgs;
	struct sp_grant		*j_grants;
	size_t			 j_ngrants;
};

struct signer_policy {
	TAILQ_HEAD(, sp_job)	 sp_jobs;
	size_t			 sp_njobs;
	uint64_t		 sp_issued[4];	/* by enum sign_kind */
	uint64_t		 sp_issued_total;
	uint64_t		 sp_refused;
};

/* One request as relayed by the parent (PM_SIGN_RELAY). */
struct sp_request {
	int		 origin;	/* enum pm_role */
	uint32_t	 job;		/* 0 for the publisher */
	int		 kind;		/* enum sign_kind, unchecked */
	const char	*subject;
	const char	*key;		/* "" = the package/repository key */
};

/* What a granted request will use up once it is signed. */
struct sp_ticket {
	int		*t_used;	/* NULL: nothing (index signatures) */
	int		 t_kind;
};

void	 sp_init(struct signer_policy *);
void	 sp_free(struct signer_policy *);

/*
 * Announce job `id` (PM_SIGN_JOB).  paths[i]/keys[i] are the granted
 * [[sign]] pairs.  -1 with a reason for id 0, a job already announced
 * (its state is kept: announcing it again must not reset "once"), an
 * empty package name or key name, or more than SP_JOBS_MAX jobs.
 */
int	 sp_job_add(struct signer_policy *, uint32_t id, const char *recipe,
	    const char *version, char *const *pkgs, size_t npkgs,
	    char *const *paths, char *const *keys, size_t ngrants,
	    struct buf *err);
/* Revoke job `id` (PM_SIGN_JOB_END): 0, or -1 when it is not known. */
int	 sp_job_end(struct signer_policy *, uint32_t id);
struct sp_job *sp_job_find(struct signer_policy *, uint32_t id);

/*
 * Decide.  0: allowed, *t says what to mark with sp_commit() once the
 * signature is made; -1: refused, one reason appended to `reason`
 * (counted in sp_refused).  Nothing changes on either path until
 * sp_commit(), so a request the signer then cannot serve (its key is
 * not loaded) does not use up the grant.
 */
int	 sp_check(struct signer_policy *, const struct sp_request *,
	    struct sp_ticket *t, struct buf *reason);
void	 sp_commit(struct signer_policy *, const struct sp_ticket *);
/* Count a refusal decided outside sp_check (e.g. key not loaded). */
void	 sp_count_refusal(struct signer_policy *);

/* "repo.json", "index/active.json", "index/archive.json": 1, else 0. */
int	 sp_index_subject(const char *);

/* ---- signer.c: the role process ---------------------------------------- */

struct role_opts;
/* `peipkg-manager -P signer`. */
int	 signer_main(void);
/*
 * The same with test hooks (tests/signer-role.c): o->no_filter and
 * o->after_sandbox are used; user, chroot directory and log level come
 * from PM_CONF_ROLE.
 */
int	 signer_run(const struct role_opts *o);

#endif /* PM_SIGNER_POLICY_H */
