/*
 * Copyright (c) 2026 The peipkg-manager authors
 * SPDX-License-Identifier: ISC
 *
 * parent_dispatch.c: the messages the role processes send the parent,
 * one dispatch table per role: PM_LOG re-emission (also for workers),
 * readiness and heartbeats, webhooks from the http role, triggers and
 * poll results from the poller, the signer's public keys and answers,
 * and the publisher's signature requests, results, published set and
 * upload state.
 *
 * Trust: every message handled here comes from an unprivileged child
 * and is validated completely before it is acted on; a violation ends
 * the child, never the parent.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "parent.h"
#include "pmconfig.h"
#include "recipe.h"
#include "pmsched.h"
#include "version.h"
#include "webhook.h"

#define KV_MAX		32

static int	 parent_str_clean(const char *);
static int	 key_ok(const char *);
static struct child *peer_role(struct peer *);
static int	 h_log(struct peer *, struct msg *);
static int	 h_ready(struct peer *, struct msg *);
static int	 h_pong(struct peer *, struct msg *);
static int	 h_webhook(struct peer *, struct msg *);
static int	 h_hook_rejected(struct peer *, struct msg *);
static int	 h_trigger(struct peer *, struct msg *);
static int	 h_poll_done(struct peer *, struct msg *);
static int	 h_signer_keys(struct peer *, struct msg *);
static int	 h_sign_ans(struct peer *, struct msg *);
static int	 h_pub_sign(struct peer *, struct msg *);
static int	 h_pub_done(struct peer *, struct msg *);
static int	 h_pub_set(struct peer *, struct msg *);
static int	 h_upload(struct peer *, struct msg *);

#define COMMON_HANDLERS \
	{ PM_LOG, 7, PM_PAYLOAD_MAX, 0, h_log }, \
	{ PM_READY, 0, 0, MSG_ONCE, h_ready }, \
	{ PM_PONG, 8, 8, 0, h_pong }

static const struct msg_handler http_table[] = {
	COMMON_HANDLERS,
	{ PM_WEBHOOK, 9, 1 + 8 + PM_ID_MAX + PM_STR_MAX, 0, h_webhook },
	{ PM_WEBHOOK_REJECTED, 2, 2, 0, h_hook_rejected },
	{ 0, 0, 0, 0, NULL }
};
static const struct msg_handler poller_table[] = {
	COMMON_HANDLERS,
	{ PM_POLL_TRIGGER, 33, PM_PAYLOAD_MAX, 0, h_trigger },
	{ PM_POLL_DONE, 30, PM_PAYLOAD_MAX, 0, h_poll_done },
	{ 0, 0, 0, 0, NULL }
};
static const struct msg_handler signer_table[] = {
	COMMON_HANDLERS,
	{ PM_SIGNER_KEYS, 2, PM_PAYLOAD_MAX, MSG_ONCE, h_signer_keys },
	{ PM_SIGN_ANS, 101, 101 + PM_ERR_MAX, 0, h_sign_ans },
	{ 0, 0, 0, 0, NULL }
};
static const struct msg_handler publisher_table[] = {
	COMMON_HANDLERS,
	{ PM_SIGN_REQ, 41, PM_PAYLOAD_MAX, 0, h_pub_sign },
	{ PM_PUB_DONE, 14, 14 + PM_ERR_MAX, 0, h_pub_done },
	{ PM_PUB_SET, 4, PM_PAYLOAD_MAX, 0, h_pub_set },
	{ PM_UPLOAD_STATE, 21, 21 + PM_ERR_MAX, 0, h_upload },
	{ 0, 0, 0, 0, NULL }
};

static const struct msg_handler *const tables[ROLE_NUM] = {
	NULL, http_table, poller_table, signer_table, publisher_table, NULL
};

const struct msg_handler *
child_table(enum pm_role role)
{
	return tables[role];
}

static struct child *
peer_role(struct peer *pe)
{
	return pe->p_arg;
}

/* ---- handlers: every role ----------------------------------------------- */

/* 1 when s has no control characters (so it cannot fake log lines). */
static int
parent_str_clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
key_ok(const char *k)
{
	size_t	 n = 0;

	for (; k[n] != '\0'; n++)
		if (!isalnum((unsigned char)k[n]) && k[n] != '_' &&
		    k[n] != '.' && k[n] != '-')
			return 0;
	return n >= 1 && n <= 64;
}

/* PM_LOG from a role or a worker: re-emitted as that child. */
int
parent_log_msg(struct msg *m, const char *role, pid_t pid, uint32_t job)
{
	struct lkv	 kv[KV_MAX + 3];
	char		*strs[2 * KV_MAX], *text = NULL;
	uint8_t		 lvl;
	uint16_t	 n, i;
	int		 ns = 0, rc = -1;

	if (msg_get_u8(m, &lvl) == -1 || msg_get_str(m, &text,
	    PM_STR_MAX) == -1 || msg_get_u16(m, &n) == -1)
		goto out;
	if (lvl > LL_ERROR || n > KV_MAX) {
		msg_reject(m, "log level or pair count out of range");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (msg_get_str(m, &strs[ns++], 64) == -1 ||
		    msg_get_str(m, &strs[ns++], PM_ERR_MAX) == -1)
			goto out;
		if (!key_ok(strs[ns - 2])) {
			msg_reject(m, "log key not [A-Za-z0-9_.-]{1,64}");
			goto out;
		}
		kv[i] = LKV_S(strs[ns - 2], strs[ns - 1]);
	}
	if (msg_end(m) == -1)
		goto out;
	kv[i++] = LKV_I("pid", pid);
	if (job != 0)
		kv[i++] = LKV_I("job", job);
	kv[i] = LKV_END;
	log_emit_as(role, (enum log_level)lvl, text, kv);
	rc = 0;
out:
	while (ns > 0)
		free(strs[--ns]);
	free(text);
	return rc;
}

static int
h_log(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);

	return parent_log_msg(m, r->r_name, r->r_pid, 0);
}

static int
h_ready(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);

	r->r_ready = 1;
	log_event(LL_DEBUG, "role ready", LKV_S("role", r->r_name),
	    LKV_I("pid", r->r_pid));
	parent_child_ready(r->r_parent, r);
	return 0;
}

static int
h_pong(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);
	uint64_t	 nonce;

	if (msg_get_u64(m, &nonce) == -1 || msg_end(m) == -1)
		return -1;
	if (nonce > r->r_nonce)
		return msg_reject(m, "pong for a ping never sent");
	if (nonce == r->r_nonce)
		r->r_missed = 0;
	return 0;
}

/* ---- http --------------------------------------------------------------- */

/*
 * Poll `rc` and every other watched recipe tracking the same repository
 * (git URLs compared as webhooks normalise them) with this forge's
 * webhook enabled: several recipes may build from one upstream.  The
 * URLs are the operator's recipe data, not anything from the request.
 */
static void
webhook_polls(struct parent *p, const struct recipe *rc, uint8_t forge,
    const char *delivery)
{
	const struct recipe	*o;
	struct msgbuf		 mb;
	char			 a[WH_URL_MAX + 1], b[WH_URL_MAX + 1];
	size_t			 i;

	if (strlen(rc->git) > WH_URL_MAX)
		return;
	wh_url_normalise(rc->git, strlen(rc->git), a);
	for (i = 0; i < p->p_ros->n; i++) {
		o = p->p_ros->r[i];
		if (!o->watched || !o->webhook[forge] ||
		    strlen(o->git) > WH_URL_MAX)
			continue;
		wh_url_normalise(o->git, strlen(o->git), b);
		if (o != rc && strcmp(a, b) != 0)
			continue;
		log_event(LL_DEBUG, "poll requested by webhook",
		    LKV_S("recipe", o->id), LKV_S("delivery", delivery));
		msg_init(&mb, PM_POLL_NOW, 0);
		msg_put_str(&mb, o->id);
		msg_put_u8(&mb, SRC_WEBHOOK);
		child_send(&p->p_roles[ROLE_POLLER], &mb, -1);
	}
}

static int
h_webhook(struct peer *pe, struct msg *m)
{
	struct child		*r = peer_role(pe);
	struct parent		*p = r->r_parent;
	const struct recipe	*rc;
	struct msgbuf		 mb;
	char			*recipe = NULL, *delivery = NULL;
	uint8_t			 forge, ok = 0;
	int			 rv = -1;

	if (msg_get_u8(m, &forge) == -1 || msg_get_str(m, &recipe,
	    PM_ID_MAX) == -1 || msg_get_str(m, &delivery, PM_STR_MAX) == -1 ||
	    msg_end(m) == -1)
		goto out;
	if (forge >= FORGE_NUM) {
		msg_reject(m, "unknown forge");
		goto out;
	}
	rc = roster_find(p->p_ros, recipe);
	if (!p->p_stopping && rc != NULL && rc->watched && rc->webhook[forge]) {
		ok = 1;
		webhook_polls(p, rc, forge, delivery);
	} else
		log_event(LL_INFO, "webhook for unrecognised or opted-out repo",
		    LKV_S("recipe", recipe), LKV_S("delivery", delivery));
	p->p_st.webhooks[forge][ok ? HOOKR_ACCEPTED : HOOKR_IGNORED]++;
	msg_init(&mb, PM_WEBHOOK_ACK, m->m_hdr.id);
	msg_put_u8(&mb, ok);
	child_send(r, &mb, -1);
	parent_changed(p);
	rv = 0;
out:
	free(recipe);
	free(delivery);
	return rv;
}

static int
h_hook_rejected(struct peer *pe, struct msg *m)
{
	static const int map[HOOK_NUM] = { -1, HOOKR_BAD_SIGNATURE,
	    HOOKR_BAD_REQUEST, HOOKR_TOO_LARGE, HOOKR_DUPLICATE };
	struct parent	*p = peer_role(pe)->r_parent;
	uint8_t		 forge, reason;

	if (msg_get_u8(m, &forge) == -1 || msg_get_u8(m, &reason) == -1 ||
	    msg_end(m) == -1)
		return -1;
	if (forge >= FORGE_NUM || reason == 0 || reason >= HOOK_NUM)
		return msg_reject(m, "unknown forge or reason");
	p->p_st.webhooks[forge][map[reason]]++;
	parent_changed(p);
	return 0;
}

/* ---- poller ----------------------------------------------------------- */

static int
h_trigger(struct peer *pe, struct msg *m)
{
	struct parent	*p = peer_role(pe)->r_parent;
	struct buf	 err = BUF_INIT;
	char		*recipe = NULL, *tag = NULL, *up = NULL;
	uint8_t		 oid[20], src;
	int		 rv = -1;

	if (msg_get_str(m, &recipe, PM_ID_MAX) == -1 ||
	    msg_get_str(m, &tag, PM_STR_MAX) == -1 ||
	    msg_get_str(m, &up, PM_STR_MAX) == -1 ||
	    msg_get_fixed(m, oid, sizeof(oid)) == -1 ||
	    msg_get_u8(m, &src) == -1 || msg_end(m) == -1)
		goto out;
	if (src < SRC_POLL || src > SRC_START || !parent_str_clean(tag) ||
	    tag[0] == '\0' || !parent_str_clean(recipe)) {
		msg_reject(m, "bad source, tag or recipe id");
		goto out;
	}
	if (version_upstream_valid(up, &err) == -1) {
		msg_reject(m, "upstream version invalid");
		goto out;
	}
	rv = 0;
	if (p->p_stopping || (p->p_once && src != SRC_START))
		goto out;
	sched_trigger_oid(p->p_sched, recipe, tag, up, oid, src, pm_now_ns());
	parent_kick(p);
	parent_changed(p);
out:
	buf_free(&err);
	free(recipe);
	free(tag);
	free(up);
	return rv;
}

static void
once_poll_finished(struct parent *p, const char *recipe)
{
	size_t	 i;

	for (i = 0; i < p->p_ros->n; i++)
		if (strcmp(p->p_ros->r[i]->id, recipe) == 0 &&
		    p->p_once_pending[i]) {
			p->p_once_pending[i] = 0;
			p->p_once_polls--;
		}
	parent_check_done(p);
}

static int
h_poll_done(struct peer *pe, struct msg *m)
{
	struct parent	*p = peer_role(pe)->r_parent;
	char		*recipe = NULL, *error = NULL;
	uint32_t	 seen, emitted, skipped;
	int64_t		 finished;
	uint8_t		 ok, src;
	int		 rv = -1;

	if (msg_get_str(m, &recipe, PM_ID_MAX) == -1 ||
	    msg_get_u8(m, &ok) == -1 ||
	    msg_get_str(m, &error, PM_ERR_MAX) == -1 ||
	    msg_get_u32(m, &seen) == -1 || msg_get_u32(m, &emitted) == -1 ||
	    msg_get_u32(m, &skipped) == -1 ||
	    msg_get_i64(m, &finished) == -1 || msg_get_u8(m, &src) == -1 ||
	    msg_end(m) == -1)
		goto out;
	if (ok > 1 || src < SRC_POLL || src > SRC_START) {
		msg_reject(m, "bad ok flag or source");
		goto out;
	}
	status_poll_done(&p->p_st, recipe, ok, error, pm_now_ns());
	if (p->p_once && src == SRC_START)
		once_poll_finished(p, recipe);
	parent_changed(p);
	rv = 0;
out:
	free(recipe);
	free(error);
	return rv;
}

/* ---- signer ----------------------------------------------------------- */

static int
h_signer_keys(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);
	struct parent	*p = r->r_parent;
	struct pubkey	*k;
	uint16_t	 n, i;
	int		 have_pkg = 0;

	if (msg_get_u16(m, &n) == -1)
		return -1;
	if (n > p->p_cfg->nkeys + 1)
		return msg_reject(m, "more keys than configured");
	k = xcalloc(n + 1, sizeof(*k));
	for (i = 0; i < n; i++) {
		if (msg_get_str(m, &k[i].k_name, PM_ID_MAX) == -1 ||
		    msg_get_fixed(m, k[i].k_pub, 32) == -1)
			break;
		if (k[i].k_name[0] == '\0')
			have_pkg = 1;
		else if (config_signing_key(p->p_cfg, k[i].k_name) == NULL) {
			msg_reject(m, "unknown key name");
			break;
		}
	}
	if (i < n || msg_end(m) == -1 || (!have_pkg &&
	    msg_reject(m, "no package key") == -1)) {
		for (i = 0; i <= n; i++)
			free(k[i].k_name);
		free(k);
		return -1;
	}
	for (i = 0; i < p->p_nkeys; i++)
		free(p->p_keys[i].k_name);
	free(p->p_keys);
	p->p_keys = k;
	p->p_nkeys = n;
	p->p_have_keys = 1;
	r->r_keys_sent = 1;
	if (p->p_roles[ROLE_PUBLISHER].r_peer_up &&
	    !p->p_roles[ROLE_PUBLISHER].r_keys_sent)
		child_send_publisher_conf(p, &p->p_roles[ROLE_PUBLISHER]);
	job_resend_sign_jobs(p);
	return 0;
}

static int
h_sign_ans(struct peer *pe, struct msg *m)
{
	return job_sign_ans(peer_role(pe)->r_parent, m);
}

/* ---- publisher -------------------------------------------------------- */

static int
h_pub_sign(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);

	return job_relay(r->r_parent, ROLE_PUBLISHER, 0, r, NULL, m);
}

static int
h_pub_done(struct peer *pe, struct msg *m)
{
	struct parent	*p = peer_role(pe)->r_parent;
	char		*err = NULL;
	uint64_t	 iv;
	uint8_t		 ok, clamped;
	int		 rv = -1;

	if (msg_get_u8(m, &ok) == -1 ||
	    msg_get_str(m, &err, PM_ERR_MAX) == -1 ||
	    msg_get_u64(m, &iv) == -1 || msg_get_u8(m, &clamped) == -1 ||
	    msg_end(m) == -1)
		goto out;
	if (ok > 1 || m->m_hdr.id == 0 || m->m_hdr.id > p->p_last_job) {
		msg_reject(m, "bad ok flag or job id never issued");
		goto out;
	}
	if (ok)
		parent_hwm_note(p, (int64_t)iv);
	job_pub_done(p, m->m_hdr.id, ok, err);
	rv = 0;
out:
	free(err);
	return rv;
}

static int
h_pub_set(struct peer *pe, struct msg *m)
{
	struct child	*r = peer_role(pe);
	struct parent	*p = r->r_parent;
	char		*name, *version;
	uint8_t		 final, reset;
	uint16_t	 n, i;

	if (msg_get_u8(m, &final) == -1 || msg_get_u8(m, &reset) == -1 ||
	    msg_get_u16(m, &n) == -1)
		return -1;
	if (final > 1 || reset > 1)
		return msg_reject(m, "bad final/reset flag");
	if (reset)
		sched_pub_reset(p->p_sched);
	for (i = 0; i < n; i++) {
		if (msg_get_str(m, &name, PM_ID_MAX) == -1)
			return -1;
		if (msg_get_str(m, &version, PM_STR_MAX) == -1) {
			free(name);
			return -1;
		}
		if (parent_str_clean(name) && parent_str_clean(version))
			sched_pub_add(p->p_sched, name, version);
		else
			msg_reject(m, "control character in name or version");
		free(name);
		free(version);
		if (m->m_bad != NULL)
			return -1;
	}
	if (msg_end(m) == -1)
		return -1;
	if (final) {
		sched_pub_final(p->p_sched);
		r->r_pubset_done = 1;
		parent_kick(p);
		parent_changed(p);
	}
	return 0;
}

static int
h_upload(struct peer *pe, struct msg *m)
{
	struct parent	*p = peer_role(pe)->r_parent;
	char		*err = NULL;
	uint8_t		 state;
	int64_t		 next;
	uint64_t	 iv;

	if (msg_get_u8(m, &state) == -1 ||
	    msg_get_str(m, &err, PM_ERR_MAX) == -1 ||
	    msg_get_i64(m, &next) == -1 || msg_get_u64(m, &iv) == -1 ||
	    msg_end(m) == -1 || (state > UPLOAD_FAILED &&
	    msg_reject(m, "unknown upload state") == -1)) {
		free(err);
		return -1;
	}
	if (state == UPLOAD_FAILED && p->p_st.up_state != UPLOAD_FAILED)
		log_event(LL_ERROR, "upload failed", LKV_S("err", err));
	p->p_st.up_have = 1;
	p->p_st.up_state = state;
	free(p->p_st.up_error);
	p->p_st.up_error = err;
	p->p_st.up_next_retry = next;
	p->p_st.up_index_version = iv;
	parent_changed(p);
	return 0;
}
