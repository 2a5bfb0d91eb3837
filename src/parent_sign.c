/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_sign.c: the signing relay (doc/PROTOCOL 2.8).  Workers (package
 * and binary signatures) and the publisher (index signatures) send
 * PM_SIGN_REQ; the parent stamps the origin and job from the channel the
 * request came in on, forwards PM_SIGN_RELAY to the signer and routes
 * PM_SIGN_ANS back to the requester with its own request id.  It also
 * tells the signer what it may sign for each job (PM_SIGN_JOB: the
 * recipe's packages and the [[sign]] paths the config grants it).
 *
 * Trust: requests come from hostile workers and the publisher, answers
 * from the signer; all are bounded and validated, the kind of signature
 * must fit the requester and outstanding requests are capped.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "recipe.h"
#include "sign.h"

static void	 relay_answer(struct parent *, struct relay *, int,
		    const uint8_t *, const uint8_t *, const char *);

/* ---- the signing relay -------------------------------------------------- */

int
job_relay(struct parent *p, enum pm_role origin, uint32_t job,
    struct child *r, struct job *j, struct msg *m)
{
	struct msgbuf	*mb;
	struct relay	*rl;
	char		*subject = NULL, *key = NULL;
	uint8_t		 kind, digest[32];
	int		 rv = -1, *count = j != NULL ? &j->j_relays :
			    &r->r_relays;

	if (msg_get_u8(m, &kind) == -1 ||
	    msg_get_str(m, &subject, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &key, PM_ID_MAX) == -1 ||
	    msg_get_fixed(m, digest, sizeof(digest)) == -1 ||
	    msg_end(m) == -1)
		goto out;
	if (origin == ROLE_WORKER ? kind != SIGN_PACKAGE &&
	    kind != SIGN_BINARY : kind != SIGN_INDEX) {
		msg_reject(m, "signature kind not allowed for this process");
		goto out;
	}
	if (*count >= (origin == ROLE_WORKER ? 8 : PARENT_RELAYS_MAX)) {
		msg_reject(m, "too many outstanding signature requests");
		goto out;
	}
	rl = xcalloc(1, sizeof(*rl));
	if (++p->p_next_relay == 0)
		p->p_next_relay = 1;
	rl->rl_id = p->p_next_relay;
	rl->rl_req = m->m_hdr.id;
	rl->rl_origin = origin;
	rl->rl_job = job;
	TAILQ_INSERT_TAIL(&p->p_relays, rl, rl_entry);
	(*count)++;
	mb = xmalloc(sizeof(*mb));
	msg_init(mb, PM_SIGN_RELAY, rl->rl_id);
	msg_put_u8(mb, (uint8_t)origin);
	msg_put_u32(mb, job);
	msg_put_u8(mb, kind);
	msg_put_str(mb, subject);
	msg_put_str(mb, key);
	msg_put_fixed(mb, digest, sizeof(digest));
	if (child_send(&p->p_roles[ROLE_SIGNER], mb, -1) == -1)
		relay_answer(p, rl, 0, NULL, NULL, "the signer is not running");
	free(mb);
	rv = 0;
out:
	free(subject);
	free(key);
	return rv;
}

/* Answer the requester and forget the relay. */
static void
relay_answer(struct parent *p, struct relay *rl, int ok, const uint8_t *sig,
    const uint8_t *pub, const char *err)
{
	static const uint8_t	 zero[64];
	struct msgbuf		 mb;
	struct child		*pubr = &p->p_roles[ROLE_PUBLISHER];
	struct job		*j = NULL;

	msg_init(&mb, PM_SIGN_ANS, rl->rl_req);
	msg_put_u8(&mb, (uint8_t)ok);
	msg_put_fixed(&mb, sig != NULL ? sig : zero, 64);
	msg_put_fixed(&mb, pub != NULL ? pub : zero, 32);
	msg_put_str(&mb, err);
	if (rl->rl_origin == ROLE_WORKER) {
		if ((j = job_by_id(p, rl->rl_job)) != NULL && j->j_peer_up) {
			peer_send(&j->j_peer, &mb, -1);
			j->j_relays--;
		}
	} else if (pubr->r_peer_up) {
		child_send(pubr, &mb, -1);
		pubr->r_relays--;
	}
	TAILQ_REMOVE(&p->p_relays, rl, rl_entry);
	free(rl);
}

int
job_sign_ans(struct parent *p, struct msg *m)
{
	struct relay	*rl;
	char		*err = NULL;
	uint8_t		 ok, sig[64], pub[32];
	int		 rv = -1;

	TAILQ_FOREACH(rl, &p->p_relays, rl_entry)
		if (rl->rl_id == m->m_hdr.id)
			break;
	if (msg_get_u8(m, &ok) == -1 || msg_get_fixed(m, sig, 64) == -1 ||
	    msg_get_fixed(m, pub, 32) == -1 ||
	    msg_get_str(m, &err, PM_ERR_MAX) == -1 || msg_end(m) == -1)
		goto out;
	if (ok > 1) {
		msg_reject(m, "bad ok flag");
		goto out;
	}
	/* A relay of a job that already ended was forgotten: ignore. */
	if (rl == NULL) {
		if (m->m_hdr.id == 0 || m->m_hdr.id > p->p_next_relay)
			msg_reject(m, "answer to a request never relayed");
		else
			rv = 0;
		goto out;
	}
	relay_answer(p, rl, ok, sig, pub, err);
	rv = 0;
out:
	free(err);
	return rv;
}

void
child_signer_lost(struct parent *p)
{
	while (!TAILQ_EMPTY(&p->p_relays))
		relay_answer(p, TAILQ_FIRST(&p->p_relays), 0, NULL, NULL,
		    "the signer exited");
}

/* ---- what the signer may sign for a job ------------------------------- */

/* PM_SIGN_JOB: the packages and granted [[sign]] paths of the job. */
void
job_sign_job(struct parent *p, struct job *j)
{
	const struct recipe	*r = roster_find(p->p_ros, j->j_recipe);
	const struct grant	*g;
	struct msgbuf		*mb;
	size_t			 i, k, n = 0;

	if (r == NULL)
		return;
	g = config_grant(p->p_cfg, r->id);
	mb = xmalloc(sizeof(*mb));
	msg_init(mb, PM_SIGN_JOB, j->j_id);
	msg_put_str(mb, j->j_recipe);
	msg_put_str(mb, j->j_version);
	msg_put_u16(mb, (uint16_t)r->npkgs);
	for (i = 0; i < r->npkgs; i++)
		msg_put_str(mb, r->pkgs[i].name);
	for (i = 0; g != NULL && i < r->nsigns; i++)
		for (k = 0; k < g->nsign; k++)
			if (strcmp(g->sign[k], r->signs[i].key) == 0)
				n++;
	msg_put_u16(mb, (uint16_t)n);
	for (i = 0; g != NULL && i < r->nsigns; i++)
		for (k = 0; k < g->nsign; k++)
			if (strcmp(g->sign[k], r->signs[i].key) == 0) {
				msg_put_str(mb, r->signs[i].path);
				msg_put_str(mb, r->signs[i].key);
			}
	child_send(&p->p_roles[ROLE_SIGNER], mb, -1);
	free(mb);
}

void
job_resend_sign_jobs(struct parent *p)
{
	struct job	*j;

	TAILQ_FOREACH(j, &p->p_jobs, j_entry)
		if (j->j_state == JOB_BUILDING)
			job_sign_job(p, j);
}
